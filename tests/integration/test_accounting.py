"""Every line of a damaged export is accounted for in the warehouse, on every warehouse and
with both parsers: the ledger's counts match the rows stored, and no run fails."""

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cafe_etl.transform.file import arrow_first, csv_only
from conftest import Etl
from unit.test_accounting_properties import damage, damaged, export

from .rawfiles import write

NUMBERS = itertools.count()


@pytest.mark.parametrize("reader", [arrow_first, csv_only], ids=["arrow first", "csv only"])
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(variant=st.sampled_from("ABCD"), seed=st.integers(0, 3), edits=damage)
def test_the_ledger_accounts_for_every_row_of_a_damaged_file(
    etl: Etl, tmp_path: Path, reader: object, variant: str, seed: int,
    edits: list[tuple[float, str, bytes, int]],
) -> None:  # fmt: skip
    # GIVEN a damaged export and a good one after it, in a folder of their own
    number = next(NUMBERS)
    folder = tmp_path / f"landing{number}"
    name = f"damaged_{folder.name}.csv"
    write(folder, name, damaged(export(variant, seed), edits))
    write(folder, f"zz_{folder.name}.csv", export("C", 100 + number).replace(b"Leeds", b"York"))

    # WHEN it is loaded
    summary = etl.run(folder, seams={"reader": reader})

    # THEN the good file loads, and the damaged one's ledger row matches its stored rows
    assert {o.name: o.status for o in summary.outcomes}[f"zz_{folder.name}.csv"] == "loaded"
    row = etl.ledger_row(name)
    stored = etl.query(
        "SELECT (SELECT COUNT(*) FROM transactions WHERE file_id = ?),"
        " (SELECT COUNT(*) FROM rejected_rows WHERE file_id = ?)",
        (row["file_id"], row["file_id"]),
    )
    assert stored == [(row["rows_loaded"], row["rows_rejected"])]
    assert row["rows_read"] == row["rows_loaded"] + row["rows_rejected"]
    if row["status"] == "rejected":
        assert row["reason"] in ("not_utf8", "not_csv") and row["rows_read"] == 0
