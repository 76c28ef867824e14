"""Shared helpers for the unit tests: run one hand-written raw file through the transform."""

import io
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pytest

from cafe_etl.model import FileSummary, Item
from cafe_etl.transform.file import Reader, arrow_first, csv_only, transform_file
from cafe_etl.transform.redact import Tokeniser


@dataclass(frozen=True)
class Transformed:
    """Everything the transform gave for one file, its batches put together."""

    summary: FileSummary
    branches: dict[int, str]
    products: dict[int, Item]
    transactions: pa.Table
    basket_items: pa.Table
    rejected_rows: pa.Table


TransformText = Callable[..., Transformed]


def _transform_text(
    text: str | bytes,
    *,
    file_id: int = 1,
    key: bytes | None = None,
    chunk_rows: int = 100_000,
    reader: Reader = arrow_first,
) -> Transformed:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    batches = list(transform_file(io.BytesIO(raw), file_id, Tokeniser(key),
                                  batch_rows=chunk_rows, reader=reader))  # fmt: skip
    assert batches and batches[-1].last and not any(batch.last for batch in batches[:-1])
    branches = {k: v for batch in batches for k, v in batch.branch_names.items()}
    return Transformed(
        batches[-1].summary,
        branches,
        {k: v for batch in batches for k, v in batch.items.items()},
        *(pa.concat_tables(getattr(batch, name) for batch in batches)
          for name in ("transactions", "basket_items", "rejected_rows")),
    )  # fmt: skip


@pytest.fixture(scope="session", params=[arrow_first, csv_only], ids=["arrow first", "csv only"])
def transform_text(request: pytest.FixtureRequest) -> TransformText:
    """``transform_text(text_or_bytes, file_id=..., key=..., chunk_rows=...) -> Transformed``,
    once with each reader (Arrow's where it reads the file, and the csv module's only).

    Session-scoped (it holds no state) so hypothesis tests may use it too.
    """
    reader = request.param

    def with_reader(text: str | bytes, **options: object) -> Transformed:
        return _transform_text(text, reader=reader, **options)  # type: ignore[arg-type]

    return with_reader
