"""Shared helpers for the unit tests: run one hand-written raw file through the transform."""

import io
from collections.abc import Callable

import pytest

from cafe_etl.formats import read_records
from cafe_etl.transform.normalise import FactTables, FileTransform, fact_tables
from cafe_etl.transform.redact import Tokeniser

TransformText = Callable[..., tuple[FileTransform, FactTables]]


def _transform_text(
    text: str | io.TextIOBase,
    *,
    file_id: int = 1,
    key: bytes | None = None,
    chunk_rows: int = 100_000,
) -> tuple[FileTransform, FactTables]:
    """Transform a whole raw file; return the transform (summary, dimensions) and all rows."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    transform = FileTransform(file_id, Tokeniser(key), chunk_rows=chunk_rows)
    chunks = list(transform.chunks(read_records(stream)))
    return transform, fact_tables(chunks)  # one batch from every chunk, as a loader builds it


@pytest.fixture(scope="session")
def transform_text() -> TransformText:
    """``transform_text(text, file_id=..., key=..., chunk_rows=...) -> (transform, chunk)``.

    Session-scoped (it holds no state) so hypothesis tests may use it too.
    """
    return _transform_text
