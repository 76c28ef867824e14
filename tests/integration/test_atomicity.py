"""Atomic per file: whatever fails between a file's rows and its ledger row, all or nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cafe_etl.errors import TransientError, WarehouseError
from cafe_etl.extract.sources import list_folder
from cafe_etl.generate import generate
from cafe_etl.load.unit_of_work import UnitOfWork

from .rawfiles import expected, lines, moment, records, write

if TYPE_CHECKING:
    from conftest import Cli, Etl

NAME = "chesterfield_25-08-2021_09-00-00.csv"
V1 = lines(
    "25/08/2021 09:00,Chesterfield,Ada Byron,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 09:10,Chesterfield,Ada Byron,Regular Mocha - 2.30,9.99,CASH,",
)  # 1 sale (2.15), 1 total mismatch
V2 = lines(
    "25/08/2021 09:00,Chesterfield,Ada Byron,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 09:10,Chesterfield,Ada Byron,Regular Mocha - 2.30,2.30,CASH,",
    "25/08/2021 09:20,Chesterfield,Ada Byron,Large Mocha - 2.70,2.70,CASH,",
)  # 3 sales, 7.15
LEEDS_NAME = "leeds_25-08-2021_09-00-00.csv"
LEEDS = lines("25/08/2021 09:00,Leeds,Bo Peep,Large Latte - 2.45,2.45,CASH,")
FAULT = "injected fault: connection to the warehouse lost"


class Fault:
    """A ``UnitOfWork`` hook that fails writing ``name``'s ledger row, after its rows are in
    the transaction, until disarmed."""

    def __init__(self, name: str, point: str) -> None:
        self.name, self.point, self.armed = name, point, True

    def __call__(self, step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if not self.armed or self.name not in files:
            return
        if self.point == "ledger write at commit" and step == "commit":
            raise WarehouseError(FAULT)  # every row and ledger row written, not committed
        if self.point == "ledger row recorded" and step == "record":
            work.flush()  # the file's rows are written, only its ledger row is not
            raise WarehouseError(FAULT)


FAULT_POINTS = ["ledger row recorded", "ledger write at commit"]


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_failure_before_a_files_ledger_row_leaves_the_warehouse_exactly_as_it_was(
    etl: Etl, landing: Path, point: str
) -> None:
    write(landing, NAME, V1, mtime=1_000)
    write(landing, LEEDS_NAME, LEEDS, mtime=1_000)
    etl.run(landing)
    before = etl.snapshot()
    write(landing, NAME, V2, mtime=2_000)  # a correction: superseding V1 is part of the load
    fault = Fault(NAME, point)

    with etl.services(seams={"hook": fault}) as services:
        with pytest.raises(WarehouseError, match="injected fault"):
            services.load.run(list_folder(landing))
        assert etl.snapshot() == before

        fault.armed = False
        summary = services.load.run(list_folder(landing))

    assert [(o.name, o.status) for o in summary.outcomes if o.status != "unchanged"] == [
        (NAME, "loaded")
    ]
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (3 + 1, Decimal("7.15") + Decimal("2.45"))
    ]
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 0
    assert sorted((row["file_name"], row["status"]) for row in etl.ledger()) == [
        (NAME, "loaded"),
        (NAME, "superseded"),
        (LEEDS_NAME, "loaded"),
    ]


def generated_week(folder: Path) -> list[Path]:
    """Generated files (3 branches, 2 days, one skipped), oldest first by modification time."""
    files = list(generate(folder, branches=3, days=2, start=date(2024, 5, 6), seed=11).files)
    for index, path in enumerate(files):
        os.utime(path, (1_000 + index, 1_000 + index))
    return files


def state_of(etl: Etl, path: Path) -> str:
    """'whole' when a generated file's ledger row and every sale are in; 'absent' when none is."""
    first = records(path)[0]
    sales = etl.scalar(
        "SELECT COUNT(*) FROM transactions t JOIN branches b USING (branch_id)"
        " WHERE b.branch_name = ? AND t.business_date = ?",
        (first[1], moment(first[0]).date()),
    )
    ledger = [row for row in etl.ledger() if row["file_name"] == path.name]
    if not ledger and sales == 0:
        return "absent"
    if [row["status"] for row in ledger] == ["loaded"] and sales == expected(path).transactions:
        return "whole"
    return f"partial: ledger {ledger}, {sales} sales"


@pytest.mark.parametrize("failing", [-1, 2], ids=["last file", "middle file"])
@pytest.mark.parametrize("point", FAULT_POINTS)
def test_when_one_file_of_a_group_fails_every_file_stays_all_or_nothing(
    etl: Etl, landing: Path, point: str, failing: int
) -> None:
    files = generated_week(landing)

    with pytest.raises(WarehouseError, match="injected fault"):
        etl.run(landing, seams={"hook": Fault(files[failing].name, point)})

    states = {path.name: state_of(etl, path) for path in files}
    assert states[files[failing].name] == "absent"
    assert [states[path.name] for path in files[:failing]] == ["whole"] * len(files[:failing])
    assert set(states.values()) <= {"whole", "absent"}, states

    etl.run(landing)

    assert [state_of(etl, path) for path in files] == ["whole"] * len(files)
    raw = expected(*files)
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (raw.transactions, raw.revenue)
    ]


def test_the_cli_reports_a_failed_load_in_one_line_with_exit_code_1(
    cli: Cli, etl: Etl, landing: Path
) -> None:
    write(landing, LEEDS_NAME, LEEDS)

    result = cli("run", landing, seams={"hook": Fault(LEEDS_NAME, "ledger write at commit")})

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"error: {FAULT}"]
    assert "Traceback" not in result.output
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 0
    assert etl.ledger() == []


def test_a_transient_failure_is_retried_until_it_passes_within_the_retry_time(
    etl: Etl, landing: Path
) -> None:
    write(landing, LEEDS_NAME, LEEDS)
    failures: list[int] = []

    def lost_twice(step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if step == "begin" and len(failures) < 2:
            failures.append(1)
            raise TransientError("injected fault: connection lost")

    summary = etl.run(landing, retry_seconds=30, seams={"hook": lost_twice})

    assert len(failures) == 2 and summary.files("loaded") == 1


def test_a_failure_that_outlasts_the_retry_time_ends_the_run_and_loads_nothing(
    etl: Etl, landing: Path
) -> None:
    write(landing, LEEDS_NAME, LEEDS)
    attempts: list[float] = []

    def lost_for_good(step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if step == "begin":
            attempts.append(time.monotonic())
            raise TransientError("injected fault: connection lost")

    with pytest.raises(TransientError, match="injected fault"):
        etl.run(landing, retry_seconds=0.5, seams={"hook": lost_for_good})

    assert len(attempts) > 2 and attempts[-1] - attempts[0] < 5
    assert etl.ledger() == []
