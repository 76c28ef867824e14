"""Shared helpers for the unit tests: run one hand-written raw file through the transform."""

import io
from collections.abc import Callable

import pyarrow as pa
import pytest

from cafe_etl import tables
from cafe_etl.formats import read_records
from cafe_etl.transform.normalise import Chunk, FileTransform
from cafe_etl.transform.redact import Tokeniser

TransformText = Callable[..., tuple[FileTransform, Chunk]]


def _concat(pieces: list[pa.Table], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables(pieces) if pieces else schema.empty_table()


def _transform_text(
    text: str | io.TextIOBase,
    *,
    file_id: int = 1,
    key: bytes | None = None,
    chunk_rows: int = 100_000,
) -> tuple[FileTransform, Chunk]:
    """Transform a whole raw file; return the transform (summary, dimensions) and all rows."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    transform = FileTransform(file_id, Tokeniser(key), chunk_rows=chunk_rows)
    chunks = list(transform.chunks(read_records(stream)))
    merged = Chunk(
        transactions=_concat([c.transactions for c in chunks], tables.TRANSACTIONS),
        basket_items=_concat([c.basket_items for c in chunks], tables.BASKET_ITEMS),
        rejected_rows=_concat([c.rejected_rows for c in chunks], tables.REJECTED_ROWS),
    )
    return transform, merged


@pytest.fixture(scope="session")
def transform_text() -> TransformText:
    """``transform_text(text, file_id=..., key=..., chunk_rows=...) -> (transform, chunk)``.

    Session-scoped (it holds no state) so hypothesis tests may use it too.
    """
    return _transform_text
