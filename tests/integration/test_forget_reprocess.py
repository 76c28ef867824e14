"""``forget`` removes exactly one file; ``reprocess`` loads files again from their raw copies."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cafe_etl.errors import ConfigError

from .rawfiles import lines, write

if TYPE_CHECKING:
    from conftest import Cli, Etl

NAME = "chesterfield_25-08-2021_09-00-00.csv"
CHESTERFIELD = lines(
    "25/08/2021 09:00,Chesterfield,Ada Byron,Regular Latte - 2.15,2.15,CASH,",
    '25/08/2021 09:05,Chesterfield,Ada Byron,"Large Latte - 2.45, Regular Tea - 1.30",3.75,'
    "CARD,4929000011112222",
    "25/08/2021 09:10,Chesterfield,Ada Byron,Regular Mocha - 2.30,9.99,CASH,",
)  # 2 sales (5.90), 1 rejected
LEEDS = lines(
    "25/08/2021 09:00,Leeds,Bo Peep,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 10:00,Leeds,Bo Peep,Large Latte - 2.45,2.45,CARD,4929000011112222",
)  # 2 sales (4.60)


@pytest.fixture
def loaded(etl: Etl, landing: Path) -> dict[str, Any]:
    """Chesterfield, Leeds, a copy of Leeds and an unreadable file, loaded once."""
    write(landing, NAME, CHESTERFIELD, mtime=1_000)
    write(landing, "leeds_25-08-2021_09-00-00.csv", LEEDS, mtime=1_000)
    write(landing, "copy/leeds copy.csv", LEEDS, mtime=2_000)
    write(landing, "york_25-08-2021_09-00-00.csv", b"Zo\xeb\n", mtime=1_000)
    etl.run(landing)
    return etl.snapshot()


def without_file(snapshot: dict[str, Any], file_id: int) -> dict[str, Any]:
    """What a snapshot holds once one file's rows are gone and its ledger row forgotten."""
    gone = {row[0] for row in snapshot["transactions"] if row[-1] == file_id}
    expected = dict(snapshot)
    expected["transactions"] = [r for r in snapshot["transactions"] if r[-1] != file_id]
    expected["basket_items"] = [r for r in snapshot["basket_items"] if r[0] not in gone]
    expected["rejected_rows"] = [r for r in snapshot["rejected_rows"] if r[0] != file_id]
    expected["loaded_files"] = sorted(
        ((*r[:7], "forgotten", *r[8:]) if r[0] == file_id else r) for r in snapshot["loaded_files"]
    )
    return expected


def test_forget_removes_exactly_that_files_rows_and_marks_it_forgotten(
    etl: Etl, loaded: dict[str, Any]
) -> None:
    file_id = etl.ledger_row(NAME)["file_id"]
    assert etl.columns("transactions")[-1] == "file_id"
    assert etl.columns("loaded_files")[7] == "status"

    forgotten = etl.forget(NAME)

    assert (forgotten.file_name, forgotten.rows_loaded, forgotten.rows_rejected) == (NAME, 2, 1)
    after = etl.snapshot()
    assert {table: sorted(rows) for table, rows in after.items()} == {
        table: sorted(rows) for table, rows in without_file(loaded, file_id).items()
    }
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (2, Decimal("4.60"))
    ]


def test_a_forgotten_file_is_not_loaded_again_by_a_later_run(
    etl: Etl, landing: Path, loaded: dict[str, Any]
) -> None:
    etl.forget(NAME)
    forgotten = etl.snapshot()

    summary = etl.run(landing)

    assert {o.status for o in summary.outcomes} == {"unchanged"}
    assert etl.ledger_row(NAME)["status"] == "forgotten"
    assert etl.snapshot() == forgotten


def test_reprocess_of_a_forgotten_name_loads_it_again(
    etl: Etl, landing: Path, loaded: dict[str, Any]
) -> None:
    before = etl.snapshot(loaded_at=False)
    etl.forget(NAME)

    summary = etl.reprocess([NAME])

    assert [(o.name, o.status, o.rows_loaded) for o in summary.outcomes] == [(NAME, "loaded", 2)]
    assert etl.snapshot(loaded_at=False) == before


def test_reprocess_all_reloads_every_file_with_identical_contents(
    etl: Etl, loaded: dict[str, Any]
) -> None:
    before = etl.snapshot(loaded_at=False)

    summary = etl.reprocess()

    assert sorted((o.name, o.status) for o in summary.outcomes) == [
        (NAME, "loaded"),
        ("leeds copy.csv", "duplicate"),
        ("leeds_25-08-2021_09-00-00.csv", "loaded"),
        ("york_25-08-2021_09-00-00.csv", "rejected"),
    ]
    assert etl.snapshot(loaded_at=False) == before


def test_reprocess_all_leaves_a_forgotten_file_forgotten(etl: Etl, loaded: dict[str, Any]) -> None:
    etl.forget(NAME)
    forgotten = etl.snapshot(loaded_at=False)

    summary = etl.reprocess()

    assert NAME not in {o.name for o in summary.outcomes}
    assert etl.snapshot(loaded_at=False) == forgotten


def test_forgetting_a_name_the_ledger_does_not_hold_is_refused(
    etl: Etl, loaded: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match=re.escape("no-such-file.csv")):
        etl.forget("no-such-file.csv")
    etl.forget(NAME)
    with pytest.raises(ConfigError, match=re.escape(NAME)):
        etl.forget(NAME)
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2


def test_the_cli_forgets_and_reprocesses_by_name(
    cli: Cli, etl: Etl, loaded: dict[str, Any]
) -> None:
    before = etl.snapshot(loaded_at=False)

    forgot = cli("forget", NAME)
    assert etl.ledger_row(NAME)["status"] == "forgotten"
    again = cli("reprocess", NAME)

    assert forgot.exit_code == 0, forgot.output
    message = " ".join(forgot.stdout.split())
    assert message == f"forgot {NAME}: removed 2 transactions and 1 rejected row"
    assert again.exit_code == 0, again.output
    assert etl.snapshot(loaded_at=False) == before


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["forget", "no-such-file.csv"], "no-such-file.csv"),
        (["reprocess", "no-such-file.csv"], "no-such-file.csv"),
        (["reprocess", NAME], NAME),
    ],
    ids=["forget an unknown name", "reprocess an unknown name", "reprocess a deleted raw file"],
)
def test_the_cli_refuses_what_it_cannot_forget_or_reprocess_in_one_line(
    cli: Cli, landing: Path, loaded: dict[str, Any], args: list[str], names: str
) -> None:
    (landing / NAME).unlink()

    result = cli(*args)

    assert result.exit_code == 1
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("error: ") and names in message
    assert "Traceback" not in result.output


def test_a_duplicate_is_loaded_once_its_original_is_forgotten(etl: Etl, landing: Path) -> None:
    content = "25/08/2021 09:00,Leeds,Ada Byron,Regular Latte - 2.15,2.15,CASH,\n"
    write(landing, "a/leeds_25-08-2021_09-00-00.csv", content, mtime=1_000)
    write(landing, "b/leeds_copy_25-08-2021_09-00-00.csv", content, mtime=2_000)
    first = etl.run(landing)
    assert [o.status for o in first.outcomes] == ["loaded", "duplicate"]

    etl.forget("leeds_25-08-2021_09-00-00.csv")
    again = etl.run(landing)

    assert [o.status for o in again.outcomes] == ["unchanged", "loaded"]
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 1
