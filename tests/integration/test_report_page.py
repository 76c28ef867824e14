"""The report page in a real headless Chromium, its exports, personal data, and bad input."""

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cafe_etl.analytics.data import Request
from cafe_etl.analytics.report import write_report
from cafe_etl.warehouse import connect
from conftest import TOKEN_KEY, Cli

from .analytics_fixture import fill
from .conftest import Planted

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
cli = Cli({"CAFE_ETL_TOKEN_KEY": TOKEN_KEY})


@pytest.fixture(scope="module")
def outputs(planted_duckdb: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report and both exports of the planted data."""
    folder = tmp_path_factory.mktemp("report")
    warehouse = connect(planted_duckdb)
    try:
        return {
            fmt: write_report(warehouse, Request(), folder / name, fmt)
            for fmt, name in (("html", "report.html"), ("json", "report.json"), ("csv", "csv"))
        }
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def test_the_page_draws_every_chart_offline_without_errors_or_requests(
    outputs: dict[str, Path], browser: Any
) -> None:
    page = browser.new_page(viewport=PHONE)
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    url = outputs["html"].resolve().as_uri()

    page.goto(url)
    page.wait_for_function("document.body.dataset.charts !== undefined", timeout=60_000)

    assert page.evaluate("document.body.dataset.charts") == "drawn"
    charts = page.evaluate(
        "[...document.querySelectorAll('.chart')].map(d => [d.dataset.drawn,"
        " d.querySelectorAll('.main-svg').length, d.getBoundingClientRect().width])"
    )
    assert len(charts) == 8
    assert all(
        drawn == "yes" and svgs > 0 and 300 < width <= PHONE["width"]
        for drawn, svgs, width in charts
    )
    # phone-readable: nothing but the tables' own scroll boxes is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert problems == []
    assert requests == [url]
    page.close()


def test_no_customer_name_or_card_number_reaches_the_report_or_the_exports(
    planted: Planted, outputs: dict[str, Path]
) -> None:
    names, cards = set(), set()
    for path in planted.result.files:
        for row in csv.reader(path.read_text().splitlines()):
            if len(row) == 7:
                names.add(row[2])
                if row[6]:
                    cards.add(row[6])
    assert len(names) > 100 and len(cards) > 100
    texts = [outputs["html"].read_text(), outputs["json"].read_text()]
    texts += [p.read_text() for p in outputs["csv"].glob("*.csv")]
    any_name = re.compile("|".join(re.escape(name) for name in sorted(names)))
    assert any_name.search(f"x {min(names)} x")  # the matcher finds a name where one is
    for text in texts:
        assert any_name.search(text) is None
        # every card is 12-19 digits: look for them only inside runs of 12 digits or more
        runs = re.findall(r"\d{12,}", text)
        assert not [card for card in cards for run in runs if card in run]


def test_the_exports_hold_the_figures_the_page_states(outputs: dict[str, Path]) -> None:
    tables = json.loads(outputs["json"].read_text())
    headline = tables["headline"][0]
    page = outputs["html"].read_text()
    assert f"from {int(headline['transactions']):,} transactions" in page
    with (outputs["csv"] / "headline.csv").open() as fp:
        assert next(csv.DictReader(fp))["transactions"] == str(headline["transactions"])
    assert set(tables) >= {"region_daily", "branches", "week_change", "missing_reports"}


def test_a_report_names_the_branches_without_a_region(tmp_path: Path) -> None:
    warehouse = connect(f"duckdb:///{tmp_path}/small.duckdb")
    try:
        warehouse.migrate()
        fill(warehouse)
        out = write_report(warehouse, Request(), tmp_path / "small.html")
    finally:
        warehouse.close()
    assert "No region for: Hull (Unassigned): add them to the branch file." in out.read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--region", "Atlantis"], "unknown region 'Atlantis': choose one of"),
        (["--branch", "Atlantis"], "unknown branch 'Atlantis': choose one of"),
        (["--from", "2020-01-01", "--to", "2020-01-31"], "no sales for all branches, 01 Jan 2020"),
        (["--from", "2026-10-02", "--to", "2026-10-01"], "--from 2026-10-02 is after --to"),
        (["--from", "2030-01-01"], "--from 2030-01-01 is after the last day with sales ("),
        (["--format", "pdf"], "--format 'pdf': choose one of html, csv, json"),
    ],
)
def test_a_bad_request_is_one_line_naming_what_to_fix(
    planted_duckdb: str, tmp_path: Path, args: list[str], expected: str
) -> None:
    result = cli("report", "-w", planted_duckdb, "--out", str(tmp_path / "r.html"), *args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("error: ") and expected in message
    assert not (tmp_path / "r.html").exists()


def test_an_empty_warehouse_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path}/empty.duckdb"
    assert cli("init-db", "-w", url).exit_code == 0
    result = cli("report", "-w", url, "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the warehouse holds no sales yet: load till exports first (cafe-etl run)"
    )


def test_a_bad_branch_file_row_is_one_line_naming_its_line(tmp_path: Path) -> None:
    branches = tmp_path / "branches.csv"
    branches.write_text("branch,region,opened,closed\nLeeds,North,,\nYork,North,2026-31-01,\n")
    result = cli(
        "init-db",
        "-w",
        f"duckdb:///{tmp_path}/w.duckdb",
        env={"CAFE_ETL_BRANCHES_FILE": str(branches)},
    )
    assert result.exit_code == 1
    assert re.fullmatch(
        rf"error: branch file {re.escape(str(branches))} line 3: '2026-31-01' is not a date"
        r" like 2026-11-16\n",
        result.stderr,
    )


def test_an_output_path_that_cannot_be_written_is_one_line(
    planted_duckdb: str, tmp_path: Path
) -> None:
    result = cli("report", "-w", planted_duckdb, "--out", tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == f"error: cannot write {tmp_path}: Is a directory"


def test_a_one_day_report_shows_its_point_on_the_sales_over_time_chart(
    tmp_path: Path, browser: Any
) -> None:
    warehouse = connect(f"duckdb:///{tmp_path}/small.duckdb")
    try:
        warehouse.migrate()
        fill(warehouse)
        day = warehouse.execute("SELECT MAX(business_date) FROM transactions")[0][0]
        out = write_report(warehouse, Request(first=day, last=day), tmp_path / "day.html")
    finally:
        warehouse.close()
    page = browser.new_page(viewport=PHONE)
    page.goto(out.resolve().as_uri())
    page.wait_for_function("document.body.dataset.charts !== undefined", timeout=60_000)
    # a scatter trace's markers are drawn as .point paths: one day, one visible point
    points = page.evaluate(
        "[...document.querySelectorAll('#regions .scatterlayer .point')]"
        ".map(p => p.getBoundingClientRect().width)"
    )
    page.close()
    assert len(points) == 1 and points[0] > 0
