"""The analytics views on Redshift, checked on their text (no Redshift here): generated from
the one source DuckDB and PostgreSQL run, and free of what Redshift cannot run."""

import re

import sqlglot

from cafe_etl.warehouse.dialects import VIEWS_FILE, migrations_folder, redshift_views

FOLDER = migrations_folder()


def views(text: str) -> list[str]:
    return re.findall(r"CREATE VIEW (\w+)", text)


def redshift_text() -> str:
    return (FOLDER / "redshift" / VIEWS_FILE).read_text()


def code(path: str) -> str:
    """A migration without its comment lines."""
    lines = (FOLDER / path).read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--"))


def test_the_redshift_views_are_generated_from_the_common_source_unedited() -> None:
    source = (FOLDER / "common" / VIEWS_FILE).read_text()
    assert redshift_text() == redshift_views(source), (
        "run: uv run python -m cafe_etl.warehouse.dialects"
    )
    assert views(redshift_text()) == views(source) and len(views(source)) == 14


def test_every_redshift_statement_parses_as_redshift() -> None:
    statements = sqlglot.parse(redshift_text(), read="redshift")
    assert len([s for s in statements if s is not None]) == 14


def test_the_redshift_views_use_nothing_redshift_lacks() -> None:
    text = code(f"redshift/{VIEWS_FILE}").upper()
    assert "GENERATE_SERIES" not in text  # leader node only: the calendar table instead
    assert "FILTER (" not in text  # no FILTER clause on aggregates
    assert "::" not in text and "ISODOW" not in text
    # an aggregate over a window with ORDER BY needs a frame clause on Redshift: only
    # ranking functions order a window here
    for function in re.findall(r"(\w+)\([^()]*\)\s+OVER\s*\((?:[^()]|\([^()]*\))*ORDER BY", text):
        assert function in {"ROW_NUMBER", "RANK", "DENSE_RANK"}, function


def test_both_calendars_hold_the_same_days_built_without_generate_series() -> None:
    common = code("common/020_analytics_reference.sql")
    redshift = code("redshift/020_analytics_reference.sql")
    assert "DATEADD(day" in redshift and "generate_series" not in (common + redshift).lower()
    assert "< 36525" in common and "< 36525" in redshift
    assert "DISTSTYLE ALL" in redshift
