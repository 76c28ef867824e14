"""Exactly once, in effect (DESIGN.md): per name the newest content wins, nothing twice."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cafe_etl.extract.sources import list_folder
from cafe_etl.generate import generate
from cafe_etl.load.unit_of_work import UnitOfWork

from .rawfiles import HEADER, expected, lines, write

if TYPE_CHECKING:
    from conftest import Etl

NAME = "chesterfield_25-08-2021_09-00-00.csv"
LEEDS_NAME = "leeds_25-08-2021_09-00-00.csv"
# First version: 2 good sales (2.15 + 3.75 = 5.90, 3 basket lines) and a total mismatch.
V1 = lines(
    "25/08/2021 09:00,Chesterfield,Ada Byron,Regular Latte - 2.15,2.15,CASH,",
    '25/08/2021 09:05,Chesterfield,Ada Byron,"Large Latte - 2.45, Regular Tea - 1.30",3.75,'
    "CARD,4929000011112222",
    "25/08/2021 09:10,Chesterfield,Ada Byron,Regular Mocha - 2.30,9.99,CASH,",
)
# Corrected version: 4 good sales (2.15 + 3.75 + 2.30 + 2.70 = 10.90, 5 basket lines).
V2 = lines(
    "25/08/2021 09:00,Chesterfield,Ada Byron,Regular Latte - 2.15,2.15,CASH,",
    '25/08/2021 09:05,Chesterfield,Ada Byron,"Large Latte - 2.45, Regular Tea - 1.30",3.75,'
    "CARD,4929000011112222",
    "25/08/2021 09:10,Chesterfield,Ada Byron,Regular Mocha - 2.30,2.30,CASH,",
    "25/08/2021 09:20,Chesterfield,Ada Byron,Large Mocha - 2.70,2.70,CASH,",
)
# Another branch: 2 sales, 2.15 + 2.45 = 4.60.
LEEDS = lines(
    "25/08/2021 09:00,Leeds,Bo Peep,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 10:00,Leeds,Bo Peep,Large Latte - 2.45,2.45,CASH,",
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def loaded_of(etl: Etl, name: str) -> tuple[int, Decimal | None]:
    """Transactions and revenue the warehouse holds for one file name."""
    count, revenue = etl.query(
        "SELECT COUNT(*), SUM(t.total_amount) FROM transactions t"
        " JOIN loaded_files f ON f.file_id = t.file_id WHERE f.file_name = ?",
        (name,),
    )[0]
    return count, revenue


def versions(etl: Etl, name: str) -> dict[str, tuple[str, int, int, int]]:
    """Each ledger version of a name: sha256 -> (status, rows read, loaded, rejected)."""
    return {
        row["sha256"]: (row["status"], row["rows_read"], row["rows_loaded"], row["rows_rejected"])
        for row in etl.ledger()
        if row["file_name"] == name
    }


def test_loading_the_same_files_again_changes_nothing(etl: Etl, landing: Path) -> None:
    write(landing, NAME, V1)
    write(landing, LEEDS_NAME, LEEDS)
    etl.run(landing)
    before = etl.snapshot()

    again = etl.run(landing)

    assert sorted((o.name, o.status) for o in again.outcomes) == [
        (NAME, "unchanged"),
        (LEEDS_NAME, "unchanged"),
    ]
    assert etl.snapshot() == before


def test_a_corrected_file_replaces_exactly_what_its_earlier_version_loaded(
    etl: Etl, landing: Path
) -> None:
    write(landing, NAME, V1, mtime=1_000)
    write(landing, LEEDS_NAME, LEEDS, mtime=1_000)
    etl.run(landing)
    old_id = etl.ledger_row(NAME)["file_id"]
    leeds_before = etl.query("SELECT * FROM transactions WHERE file_id <> ?", (old_id,))
    assert loaded_of(etl, NAME) == (2, Decimal("5.90"))
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 1

    write(landing, NAME, V2, mtime=2_000)
    summary = etl.run(landing)

    outcome = {o.name: o for o in summary.outcomes}
    assert (outcome[NAME].status, outcome[NAME].replaced_older) == ("loaded", True)
    assert outcome[LEEDS_NAME].status == "unchanged"
    assert versions(etl, NAME) == {
        sha(V1): ("superseded", 3, 2, 1),
        sha(V2): ("loaded", 4, 4, 0),
    }
    current = etl.ledger_row(NAME)
    assert etl.query(
        "SELECT DISTINCT file_id FROM transactions WHERE branch_id = ?", (current["branch_id"],)
    ) == [(current["file_id"],)]
    assert loaded_of(etl, NAME) == (4, Decimal("10.90"))
    assert etl.scalar("SELECT SUM(total_amount) FROM transactions") == Decimal("15.50")
    assert etl.scalar("SELECT COUNT(*) FROM basket_items") == 5 + 2
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 0
    leeds_after = etl.query("SELECT * FROM transactions WHERE file_id <> ?", (current["file_id"],))
    assert sorted(leeds_after) == sorted(leeds_before)


def test_a_file_corrected_back_to_its_first_version_holds_the_first_version_again(
    etl: Etl, landing: Path
) -> None:
    for version, mtime in ((V1, 1_000), (V2, 2_000), (V1, 3_000)):
        write(landing, NAME, version, mtime=mtime)
        etl.run(landing)

    assert versions(etl, NAME) == {
        sha(V1): ("loaded", 3, 2, 1),
        sha(V2): ("superseded", 4, 4, 0),
    }
    assert loaded_of(etl, NAME) == (2, Decimal("5.90"))
    assert etl.query("SELECT line_number, reason FROM rejected_rows") == [(3, "total_mismatch")]


@pytest.mark.parametrize("copy_arrives", ["in a later run", "in the same run"])
def test_identical_bytes_under_another_name_are_a_duplicate_loaded_once(
    etl: Etl, landing: Path, copy_arrives: str
) -> None:
    write(landing, LEEDS_NAME, LEEDS, mtime=1_000)
    if copy_arrives == "in a later run":
        etl.run(landing)
    write(landing, "copy of leeds.csv", LEEDS, mtime=2_000)

    summary = etl.run(landing)

    outcome = {o.name: o for o in summary.outcomes}
    assert outcome["copy of leeds.csv"].status == "duplicate"
    copy = etl.ledger_row("copy of leeds.csv")
    assert (copy["status"], copy["sha256"], copy["rows_loaded"]) == ("duplicate", sha(LEEDS), 0)
    assert copy["rows_read"] == copy["rows_loaded"] + copy["rows_rejected"]
    assert etl.ledger_row(LEEDS_NAME)["status"] == "loaded"
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (2, Decimal("4.60"))
    ]


@pytest.mark.parametrize(
    "content", ["", HEADER + "\n", " "], ids=["zero bytes", "header only", "one space"]
)
def test_empty_files_of_different_branches_are_each_loaded_not_duplicates(
    etl: Etl, landing: Path, content: str
) -> None:
    names = [f"{town}_25-08-2021_09-00-00.csv" for town in ("chesterfield", "leeds", "york")]
    write(landing, names[0], content)
    write(landing, names[1], content)
    first = etl.run(landing)
    write(landing, names[2], content)
    second = etl.run(landing)

    assert sorted((o.name, o.status) for o in first.outcomes) == [
        (names[0], "loaded"),
        (names[1], "loaded"),
    ]
    assert [(o.name, o.status) for o in second.outcomes if o.status != "unchanged"] == [
        (names[2], "loaded")
    ]
    assert [
        (row["file_name"], row["status"], row["rows_read"], row["rows_loaded"])
        for row in etl.ledger()
    ] == [(name, "loaded", 0, 0) for name in names]
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 0


@pytest.mark.parametrize("newer", ["a", "b"])
def test_of_two_files_with_one_name_in_two_subfolders_the_newer_wins(
    etl: Etl, landing: Path, newer: str
) -> None:
    older = "b" if newer == "a" else "a"
    write(landing, f"{older}/{NAME}", V1, mtime=1_000)
    newest = write(landing, f"{newer}/{NAME}", V2, mtime=2_000)

    etl.run(landing)

    # only the newer copy counts: the older one in the same listing is never loaded
    assert versions(etl, NAME) == {sha(V2): ("loaded", 4, 4, 0)}
    assert etl.ledger_row(NAME)["source_uri"] == newest.resolve().as_uri()
    assert loaded_of(etl, NAME) == (4, Decimal("10.90"))
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 0


def test_a_second_run_over_one_name_in_two_subfolders_changes_nothing(
    etl: Etl, landing: Path
) -> None:
    write(landing, f"old/{NAME}", V1, mtime=1_000)
    write(landing, f"new/{NAME}", V2, mtime=2_000)
    etl.run(landing)
    before = etl.snapshot()

    again = etl.run(landing)

    assert [o.status for o in again.outcomes] == ["unchanged"]
    assert etl.snapshot() == before


def test_a_pipeline_kept_between_runs_never_reloads_what_another_loader_loaded(
    etl: Etl, landing: Path, tmp_path: Path
) -> None:
    early = write(tmp_path / "early", LEEDS_NAME, LEEDS)
    write(landing, NAME, V2)
    with etl.services() as long_lived:
        long_lived.load.run(list_folder(early.parent))
        etl.run(landing)  # another loader, in between

        long_lived.load.run(list_folder(landing))

    assert etl.ledger_row(NAME)["rows_loaded"] == 4
    assert loaded_of(etl, NAME) == (4, Decimal("10.90"))


def test_small_chunks_and_groups_load_the_same_warehouse_as_one_big_transaction(
    etl: Etl, landing: Path
) -> None:
    files = generate(landing, branches=3, days=2, start=date(2024, 5, 6), seed=3).files
    raw = expected(*files)

    summary = etl.run(landing, chunk_rows=37, group_bytes=60_000)

    assert summary.rows_loaded == raw.transactions
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (raw.transactions, raw.revenue)
    ]
    small = etl.snapshot(loaded_at=False)
    etl.reprocess()
    assert etl.snapshot(loaded_at=False) == small


@pytest.mark.parametrize(
    ("rewritten", "status", "loaded"),
    [
        pytest.param(V2.encode(), "loaded", (4, Decimal("10.90")), id="corrected"),
        pytest.param(V2.replace("Ada Byron", "Zoë").encode("cp1252"), "rejected", (0, None),
                     id="no-longer-utf8"),
    ],
)  # fmt: skip
def test_a_file_rewritten_between_its_check_and_its_load_is_read_again(
    etl: Etl,
    landing: Path,
    rewritten: bytes,
    status: str,
    loaded: tuple[int, Decimal | None],
) -> None:
    # GIVEN a file that a till rewrites in place after cafe-etl hashed it, before it read it
    path = write(landing, NAME, V1)
    write(landing, LEEDS_NAME, LEEDS)
    rewrites = []

    def rewrite_once(step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if step == "begin" and not rewrites:  # the group is hashed, the transaction open
            rewrites.append(path.write_bytes(rewritten))
            os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)

    # WHEN one run loads the folder
    etl.run(landing, seams={"hook": rewrite_once})

    # THEN the ledger holds the bytes that were loaded, nothing of the first version
    assert rewrites
    assert versions(etl, NAME) == {
        hashlib.sha256(rewritten).hexdigest(): (status, *versions_counts(status))
    }
    assert loaded_of(etl, NAME) == loaded
    assert loaded_of(etl, LEEDS_NAME) == (2, Decimal("4.60"))


def versions_counts(status: str) -> tuple[int, int, int]:
    """(rows read, loaded, rejected) of V2 loaded, or of any file rejected whole."""
    return (4, 4, 0) if status == "loaded" else (0, 0, 0)


@pytest.mark.parametrize("corrected", ["", '{"a": 1}\n'], ids=["emptied", "not csv"])
def test_a_copy_of_a_files_old_bytes_is_never_lost_when_that_file_is_replaced(
    etl: Etl, landing: Path, corrected: str
) -> None:
    # GIVEN a loaded file W, then in one run a copy of its bytes under another name (listed
    # first) and W replaced by a version with no rows
    path = write(landing, NAME, V2, mtime=1_000)
    etl.run(landing)
    write(landing, "copy_of_chesterfield.csv", V2, mtime=2_000)
    path.write_text(corrected)
    os.utime(path, (3_000, 3_000))

    # WHEN two runs follow
    etl.run(landing)
    etl.run(landing)

    # THEN the copy's sales are in the warehouse exactly once (the old code loaded the copy
    # on the second run as an orphaned duplicate; it must never be lost)
    assert loaded_of(etl, "copy_of_chesterfield.csv") == (4, Decimal("10.90"))
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 4


def test_a_copy_of_a_files_old_bytes_listed_after_its_replacement_loads_at_once(
    etl: Etl, landing: Path
) -> None:
    path = write(landing, NAME, V2, mtime=1_000)
    etl.run(landing)
    path.write_text(V1)
    os.utime(path, (2_000, 2_000))
    write(landing, "copy_of_chesterfield.csv", V2, mtime=3_000)

    summary = etl.run(landing)

    statuses = {o.name: o.status for o in summary.outcomes}
    assert statuses == {NAME: "loaded", "copy_of_chesterfield.csv": "loaded"}
    assert loaded_of(etl, "copy_of_chesterfield.csv") == (4, Decimal("10.90"))
