"""One bad file is a skipped file, never a blocked run: a name that is not UTF-8, a location
longer than the ledger holds, a file that cannot be read. Each is named in a warning, the
other files load, the exit code says something needs attention, and the next run tries it
again."""

import errno
import logging
import os
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pytest

from cafe_etl.extract.sources import list_folder
from conftest import Cli, Etl

from .rawfiles import lines, write

GOOD = lines("25/08/2021 09:00,Leeds,Ann Other,Regular Latte - 2.15,2.15,CASH,")
LATE = "zz_leeds_25-08-2021_09-00-00.csv"  # sorted after every bad file


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning_and_the_run_goes_on(
    etl: Etl, landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a file copied from a Windows share (its name in cp1252), then a good file
    with open(os.path.join(os.fsencode(landing), b"caf\xe9_25-08-2021.csv"), "wb") as raw:
        raw.write(GOOD.encode())
    write(landing, LATE, GOOD)

    summary = etl.run(landing)

    statuses = {o.name: (o.status, o.reason) for o in summary.outcomes}
    assert statuses[LATE] == ("loaded", None)
    assert statuses["caf\\xe9_25-08-2021.csv"][0] == "skipped"
    assert "not UTF-8" in str(statuses["caf\\xe9_25-08-2021.csv"][1])
    assert summary.exit_code == 2
    assert "caf%E9_25-08-2021.csv skipped: its name is not UTF-8" in caplog.text
    assert [row["file_name"] for row in etl.ledger()] == [LATE]


def test_a_location_longer_than_the_ledger_holds_is_skipped_and_the_run_goes_on(
    etl: Etl, landing: Path
) -> None:
    # GIVEN a file nested in folders whose location, as a file:// URI, passes 4,096 bytes
    deep = landing.joinpath(*["\u00e9" * 100] * 7)
    write(deep, "leeds_25-08-2021_09-00-00.csv", GOOD)
    write(landing, LATE, GOOD)
    assert len((deep / "leeds_25-08-2021_09-00-00.csv").as_uri()) > 4096

    summary = etl.run(landing)

    assert {o.name: o.status for o in summary.outcomes} == {
        "leeds_25-08-2021_09-00-00.csv": "skipped",
        LATE: "loaded",
    }
    assert summary.exit_code == 2


def test_a_file_that_cannot_be_read_is_skipped_and_loads_on_the_next_run(
    etl: Etl, landing: Path
) -> None:
    # GIVEN a listing whose first file refuses to open (as a file without read permission
    # does; the tests run as root, so a fake source plays it), then a good file
    path = write(landing, "leeds_25-08-2021_09-00-00.csv", GOOD)
    write(landing, LATE, GOOD.replace("Leeds", "York"))

    def refused() -> BinaryIO:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    listing = list_folder(landing)
    locked = [replace(s, open=refused) if s.name == path.name else s for s in listing]
    with etl.services() as services:
        first = services.load.run(locked)
        second = services.load.run(list_folder(landing))

    assert {o.name: (o.status, o.reason) for o in first.outcomes} == {
        path.name: ("skipped", "it cannot be read: Permission denied"),
        LATE: ("loaded", None),
    }
    assert first.exit_code == 2
    assert {o.name: o.status for o in second.outcomes} == {path.name: "loaded", LATE: "unchanged"}
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2


def test_the_cli_lists_a_skipped_file_and_exits_2(
    cli: Cli, landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with open(os.path.join(os.fsencode(landing), b"caf\xe9_25-08-2021.csv"), "wb") as raw:
        raw.write(GOOD.encode())
    write(landing, LATE, GOOD)

    result = cli("run", landing)

    assert result.exit_code == 2
    assert "files skipped" in result.output and "caf\\xe9_25-08-2021.csv" in result.output
    assert "Traceback" not in result.output


def test_a_file_named_with_a_card_number_is_skipped_and_never_printed(
    tmp_path: Path,
) -> None:
    from cafe_etl.generate import generate

    landing = tmp_path / "landing"
    (good,) = generate(landing, branches=1, days=1, start=date(2024, 5, 6), seed=3).files
    card = "4111111111111111"
    good.rename(landing / f"leeds_{card}.csv")
    generate(landing, branches=1, days=1, start=date(2024, 5, 7), seed=3)
    warehouse = f"duckdb:///{tmp_path}/cafe.duckdb"
    result = Cli()("run", landing, "--warehouse", warehouse)
    assert result.exit_code == 2, result.output
    assert card not in result.output and "#" * len(card) in result.output
    assert "a number as long as a card's" in result.output
    etl = Etl(warehouse)
    assert [row["file_name"] for row in etl.ledger()] == ["chesterfield_07-05-2024_09-00-00.csv"]
    assert card not in etl.all_text()
