"""Every SQL of the Grafana dashboards (panels and variables) runs against a PostgreSQL
warehouse of generated data, as the read-only reporting role, with Grafana's time macros and
variables replaced by real values: a broken panel fails here, not in front of a manager."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlglot
import yaml
from sqlglot import exp

import postgres_server
from cafe_etl.warehouse import connect
from conftest import Cli, Etl

from .conftest import Planted

GRAFANA = Path(__file__).resolve().parents[2] / "dashboards" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
FIRST, LAST = "2026-10-05T00:00:00Z", "2026-11-01T23:59:59Z"

pytestmark = pytest.mark.postgres


def panels() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, SQL) for every panel target."""
    found = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel["targets"]:
                found.append((path.stem, panel["title"], target["rawSql"]))
    return found


def variables() -> list[tuple[str, str, str]]:
    found = []
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            found.append((path.stem, variable["name"], variable["query"]))
    return found


def quoted(values: list[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def expand(sql: str, regions: list[str], branches: list[str]) -> str:
    """Grafana's PostgreSQL macros and multi-value variables, as Grafana expands them."""
    sql = re.sub(r"\$__timeFilter\(([\w.]+)\)", rf"\1 BETWEEN '{FIRST}' AND '{LAST}'", sql)
    sql = sql.replace("$__timeFrom()", f"'{FIRST}'").replace("$__timeTo()", f"'{LAST}'")
    sql = sql.replace("$region", quoted(regions)).replace("$branch", quoted(branches))
    assert "$" not in sql, sql
    return sql


@pytest.fixture(scope="module")
def reporting_url(
    planted: Planted, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The planted data in PostgreSQL plus a file with rejected rows (a new branch, so
    Unassigned), and a URL for the read-only role Grafana uses."""
    url = postgres_server.fresh_database(postgres_server_url)
    Etl(url).run(planted.folder)
    damaged = tmp_path_factory.mktemp("damaged")
    (damaged / "testville_12-10-2026_09-00-00.csv").write_text(
        "12/10/2026 09:00,Testville,Ann Example,Regular Latte - 2.15,2.15,CASH,\n"
        "12/10/2026 09:05,Testville,Ann Example,Regular Latte - 2.15,2.755,CASH,\n"
        "12/10/2026 09:07,Testville,Ann Example,Regular Latte - 2.15,3.15,CASH,\n"
    )
    Etl(url).run(damaged)
    owner = connect(url)
    try:
        owner.create_reporting_role("grafana_reader", "reader-secret")
    finally:
        owner.close()
    parts = urlsplit(url)
    netloc = f"grafana_reader:reader-secret@{parts.hostname}:{parts.port}"
    yield urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture(scope="module")
def reader(reporting_url: str) -> Iterator[Any]:
    warehouse = connect(reporting_url)
    yield warehouse
    warehouse.close()


def test_the_dashboards_hold_the_panels_the_manager_and_the_operators_need() -> None:
    titles = {(board, title) for board, title, _ in panels()}
    assert {
        ("sales", "Risers and fallers, week on week (like for like)"),
        ("sales", "Missing reports"),
        ("operations", "Rows rejected by reason"),
        ("operations", "Load lag: hours from 20:00 on the trading day to loaded"),
        ("operations", "Files loaded per day"),
    } <= titles
    assert [(board, name) for board, name, _ in variables()] == [
        ("sales", "region"),
        ("sales", "branch"),
    ]


def test_the_datasource_comes_from_the_environment_with_the_reporting_role() -> None:
    config = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "cafe-warehouse.yaml").read_text()
    )
    [source] = config["datasources"]
    assert source["uid"] == "cafe-warehouse" and source["type"] == "grafana-postgresql-datasource"
    assert source["user"] == "${CAFE_GRAFANA_DB_USER}"
    assert source["secureJsonData"]["password"] == "${CAFE_GRAFANA_DB_PASSWORD}"
    assert {
        p["datasource"]["uid"] for b in DASHBOARDS for p in json.loads(b.read_text())["panels"]
    } == {"cafe-warehouse"}


@pytest.mark.parametrize(
    ("board", "title", "sql"), panels(), ids=[f"{b}: {t}" for b, t, _ in panels()]
)
def test_every_panel_runs_as_the_reporting_role_and_shows_rows(
    reader: Any, board: str, title: str, sql: str
) -> None:
    regions = [row[0] for row in reader.execute(variables()[0][2])]
    branches = [row[0] for row in reader.execute(expand(variables()[1][2], regions, []))]
    assert len(regions) == 7 and len(branches) == 7
    rows = reader.execute(expand(sql, regions, branches))
    if title != "Files rejected whole":  # the generated data has none
        assert rows, title
    # and the same text is valid Redshift, for a Redshift data source
    assert postgres_only(expand(sql, regions, branches)) == []


def postgres_only(sql: str) -> list[str]:
    """The PostgreSQL-only constructs of ``sql`` (read as PostgreSQL) that Redshift does not
    run, after checking that its Redshift transpilation parses back as Redshift."""
    tree = sqlglot.parse_one(sql, read="postgres")
    # a Redshift parse error raises: the transpiled text must read back as Redshift
    sqlglot.parse_one(tree.sql(dialect="redshift"), read="redshift")
    found = [node.key for node in tree.find_all(*POSTGRES_ONLY)]
    found += [
        "cast to interval"
        for cast in tree.find_all(exp.Cast)
        if cast.to.is_type(exp.DataType.Type.INTERVAL)
    ]
    found += ["distinct on" for d in tree.find_all(exp.Distinct) if d.args.get("on")]
    return found


# Redshift lists GENERATE_SERIES, STRING_AGG, ARRAY_AGG and IS DISTINCT FROM as unsupported:
# https://docs.aws.amazon.com/redshift/latest/dg/c_unsupported-postgresql-functions.html
# and its aggregates take no FILTER (WHERE ...) clause
POSTGRES_ONLY = (
    exp.GenerateSeries,
    exp.ExplodingGenerateSeries,
    exp.GroupConcat,
    exp.ArrayAgg,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.Filter,
)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT x FROM generate_series(1, 3) AS g(x)", ["explodinggenerateseries"]),
        ("SELECT CURRENT_DATE - '7 days'::interval", ["cast to interval"]),
        ("SELECT COUNT(*) FILTER (WHERE a > 1) FROM t", ["filter"]),
        ("SELECT DISTINCT ON (a) a, b FROM t", ["distinct on"]),
        (
            "SELECT STRING_AGG(a, ',') FROM t WHERE a IS DISTINCT FROM b",
            ["groupconcat", "nullsafeneq"],
        ),
        ("SELECT DATE_TRUNC('week', d) - INTERVAL '7 days' FROM t", []),
    ],
)
def test_the_redshift_check_finds_postgresql_only_sql(sql: str, expected: list[str]) -> None:
    assert postgres_only(sql) == expected


def test_a_region_variable_narrows_the_panels(reader: Any) -> None:
    [sql] = [s for _, t, s in panels() if t == "Branch league"]
    rows = reader.execute(expand(sql, ["London"], ["London Brixton"]))
    assert [row[0] for row in rows] == ["London Brixton"]


def test_the_reporting_role_can_write_the_report_too(reporting_url: str, tmp_path: Path) -> None:
    # a read-only role opens an up-to-date warehouse without touching its schema
    result = Cli()("report", "-w", reporting_url, "--out", tmp_path / "report.html")
    assert result.exit_code == 0, result.output
    assert "London Brixton sent no report" in (tmp_path / "report.html").read_text()
