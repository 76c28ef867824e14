"""The report's review fixes (issue 13), on the hand-made warehouse of ``analytics_fixture``:
what a manager is told when the data cannot support a figure."""

from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest

from cafe_etl.analytics.data import Request, resolve_scope
from cafe_etl.errors import ConfigError
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.base import Warehouse

from .analytics_fixture import M, fill


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = connect(f"duckdb:///{tmp_path}/small.duckdb")
    try:
        warehouse.migrate()
        fill(warehouse)
        yield warehouse
    finally:
        warehouse.close()


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = connect(f"duckdb:///{tmp_path}/empty.duckdb")
    try:
        warehouse.migrate()
        yield warehouse
    finally:
        warehouse.close()


def test_a_warehouse_whose_every_row_was_rejected_says_so(empty: Warehouse) -> None:
    for file_id, reasons in ((1, ["bad_amount", "bad_amount"]), (2, ["total_mismatch"])):
        empty.execute(
            "INSERT INTO loaded_files VALUES"
            " (?, ?, ?, ?, NULL, ?, 'C', 'loaded', NULL, ?, 0, ?, ?)",
            (
                file_id,
                f"f{file_id}.csv",
                f"/landing/f{file_id}.csv",
                "0" * 64,
                M[0],
                len(reasons),
                len(reasons),
                datetime.combine(M[0], time(21, 0)).astimezone(),
            ),
        )
        for line, reason in enumerate(reasons, start=2):
            empty.execute(
                "INSERT INTO rejected_rows VALUES (?, ?, ?, NULL)", (file_id, line, reason)
            )
    with pytest.raises(ConfigError) as raised:
        resolve_scope(empty, Request())
    assert str(raised.value) == (
        "2 files were loaded but all their rows were rejected, most often for bad_amount:"
        " see cafe-etl status"
    )
