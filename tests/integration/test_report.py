"""The report on generated data: the planted signals found by the views and named in the
captions, the page drawn by a real headless Chromium, no personal data in any output."""

import html
import re
from decimal import Decimal
from pathlib import Path

import pytest

import postgres_server
from cafe_etl.analytics.data import Request
from cafe_etl.analytics.report import write_report
from cafe_etl.analytics.wording import day_name
from cafe_etl.warehouse import connect
from conftest import Etl

from .conftest import Planted


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def planted_url(
    request: pytest.FixtureRequest, planted: Planted, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if request.param == "duckdb":
        return str(request.getfixturevalue("planted_duckdb"))
    url = postgres_server.fresh_database(request.getfixturevalue("postgres_server_url"))
    Etl(url).run(planted.folder)
    return url


def captions(page: str) -> dict[str, str]:
    found = re.findall(r'<section id="(\w+)">.*?<p class="finding">(.*?)</p>', page, re.S)
    return {key: html.unescape(text) for key, text in found}


def test_the_views_find_every_planted_signal(planted: Planted, planted_url: str) -> None:
    signals, etl = planted.result.signals, Etl(planted_url)
    means = etl.query(
        "SELECT branch_name, AVG(CAST(change_pct AS NUMERIC(10, 2))) FROM branch_week_change"
        " GROUP BY branch_name ORDER BY 2 DESC"
    )
    assert (means[0][0], means[-1][0]) == (signals.rising_branch, signals.falling_branch)
    assert Decimal(means[0][1]) > 6 and Decimal(means[-1][1]) < -6
    assert etl.query("SELECT business_date, branch_name FROM missing_reports") == [
        (signals.skipped_day, signals.skipped_branch)
    ]
    assert etl.query(
        "SELECT product_name, size, first_sold FROM product_lifecycle WHERE status = 'new'"
        " ORDER BY size"
    ) == [(signals.launched_product, s, signals.launch_day) for s in ("Large", "Regular")]
    unusual = etl.query(
        "SELECT business_date, branch_name, direction FROM unusual_days"
        " ORDER BY ABS(deviation) DESC"
    )
    assert unusual[0] == (signals.unusual_day, signals.unusual_branch, "high")
    identified, repeats = etl.query(
        "SELECT SUM(identified_transactions), SUM(repeat_transactions) FROM repeat_visits"
    )[0]
    assert Decimal("0.2") < Decimal(repeats) / Decimal(identified) < Decimal("0.4")


def test_the_report_names_every_planted_signal_in_its_captions(
    planted: Planted, planted_url: str, tmp_path: Path
) -> None:
    signals = planted.result.signals
    connection = connect(planted_url)
    try:
        out = write_report(connection, Request(), tmp_path / "report.html")
    finally:
        connection.close()
    said = captions(out.read_text())
    assert said["risers_fallers"].startswith(f"Like for like, {signals.rising_branch} grew")
    assert f"; {signals.falling_branch} fell" in said["risers_fallers"]
    assert said["missing_reports"].startswith(
        f"{signals.skipped_branch} sent no report on {day_name(signals.skipped_day)}"
    )
    assert said["new_products"].startswith(
        f"New this period: {signals.launched_product}, first sold on {day_name(signals.launch_day)}"
    )
    assert said["unusual_days"].startswith(
        f"{signals.unusual_branch} on {day_name(signals.unusual_day)} sold"
    )
    assert "came from returning customers" in said["repeat_visits"]
    assert len(said) == 12 and all(text.endswith(".") for text in said.values())
