"""The report's review fixes (issue 13), on the hand-made warehouse of ``analytics_fixture``:
what a manager is told when the data cannot support a figure."""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from cafe_etl.analytics.data import Request, collect, resolve_scope
from cafe_etl.analytics.findings import sections
from cafe_etl.analytics.wording import Section
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


def _sections(warehouse: Warehouse, request: Request) -> dict[str, Section]:
    return {section.key: section for section in sections(collect(warehouse, request))}


def test_no_change_is_measured_against_a_partly_loaded_previous_period(small: Warehouse) -> None:
    # 10 Sep to 7 Oct: the previous 28 days end 9 Sep, and the data begins 7 Sep (3 days)
    said = _sections(small, Request(first=date(2026, 9, 10), last=date(2026, 10, 7)))
    headline, league = said["headline"], said["league"]
    assert "previous period" not in headline.caption and "%" not in headline.caption
    assert "the previous 28 days are only partly loaded (3 of 28 days)" in headline.caption
    assert headline.table is not None and "change" not in headline.table.columns
    assert league.table is not None and "change" not in league.table.columns
    assert any("only partly loaded (3 of 28 days)" in note for note in league.notes)


def test_a_fully_loaded_previous_period_gives_the_change(small: Warehouse) -> None:
    # the week of M4 (Leeds, 99) against that of M3 (Leeds 101, Bristol 50, Hull 10: 161)
    said = _sections(small, Request(first=M[4], last=M[4] + timedelta(days=6)))
    assert "down 38.5 % on the previous period" in said["headline"].caption
    league = said["league"].table
    assert league is not None and league.columns[-1] == "change"
    assert league.rows[0][0] == "Leeds" and league.rows[0][-1] == "-2.0 %"


def test_signals_on_too_little_history_say_they_cannot_judge(small: Warehouse) -> None:
    # the first three Mondays: no branch-day has the 4 weeks of files or 4 earlier weekdays
    said = _sections(small, Request(first=M[0], last=M[2]))
    assert said["missing_reports"].caption == (
        "Not enough history yet to judge missing reports (needs 4 weeks of files)."
    )
    assert said["unusual_days"].caption == (
        "Not enough history yet to judge unusual days (needs at least 4 earlier same weekdays)."
    )


def test_signals_with_enough_history_and_nothing_found_say_so(small: Warehouse) -> None:
    # M7: Leeds has 7 earlier Mondays and sold 97 (usual 100); Bristol and Hull stopped at M3
    said = _sections(small, Request(first=M[7], last=M[7]))
    assert said["missing_reports"].caption == (
        "Every branch sent a report for every day it usually trades."
    )
    assert said["unusual_days"].caption == (
        "No branch had a day far outside its usual range for that weekday."
    )


def test_a_from_after_the_last_day_with_sales_names_that_day(small: Warehouse) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_scope(small, Request(first=M[8] + timedelta(days=1)))
    assert str(raised.value) == "--from 2026-11-03 is after the last day with sales (2026-11-02)"


def test_a_from_after_a_given_to_says_swap_them(small: Warehouse) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_scope(small, Request(first=M[2], last=M[1]))
    assert str(raised.value) == "--from 2026-09-21 is after --to 2026-09-14: swap them"


def test_a_branch_outside_the_region_says_where_it_is(small: Warehouse) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_scope(small, Request(region="South West", branch="Leeds"))
    assert str(raised.value) == "Leeds is in Yorkshire and The Humber, not South West"


def test_risers_and_fallers_count_only_weeks_wholly_inside_the_period(small: Warehouse) -> None:
    # to the Tuesday after M8: the week of M8 runs past --to, so only M7's week counts
    # (Leeds 97 after 103); M8's 200 must not turn Leeds into a riser
    said = _sections(small, Request(first=M[7], last=M[8] + timedelta(days=1)))
    section = said["risers_fallers"]
    assert section.caption.startswith("Like for like, Leeds fell 5.8 % in the week of 26 October")
    assert section.table is not None and section.table.rows == [
        ("Leeds", "Yorkshire and The Humber", 1, "-5.8 %")
    ]


def test_risers_and_fallers_on_less_than_a_whole_week_say_so(small: Warehouse) -> None:
    said = _sections(small, Request(first=M[8], last=M[8] + timedelta(days=1)))
    assert said["risers_fallers"].caption == (
        "The period holds no whole week (Monday to Sunday), so there is no"
        " week-on-week change to show."
    )
