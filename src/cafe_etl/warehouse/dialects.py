"""Redshift's analytics views, generated from the one source DuckDB and PostgreSQL run.

``python -m cafe_etl.warehouse.dialects`` rewrites ``migrations/redshift/NNN_analytics_views.sql``
from ``migrations/common/NNN_analytics_views.sql`` with sqlglot (PostgreSQL in, Redshift out);
a unit test fails when the two drift apart, so the Redshift text is never edited by hand.
"""

from importlib import resources
from pathlib import Path

VIEWS_FILE = "021_analytics_views.sql"
HEADER = (
    "-- GENERATED from common/{name} by `uv run python -m cafe_etl.warehouse.dialects`:\n"
    "-- do not edit; change the common file and run the command again.\n\n"
)


def _split(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def redshift_views(source: str) -> str:
    """The Redshift text of a file of PostgreSQL statements, one statement a paragraph."""
    import sqlglot

    statements = [
        sqlglot.transpile(statement, read="postgres", write="redshift", pretty=True)[0]
        for statement in _split(source)
    ]
    return HEADER.format(name=VIEWS_FILE) + ";\n\n".join(statements) + ";\n"


def migrations_folder() -> Path:
    return Path(str(resources.files("cafe_etl.warehouse") / "migrations"))


def main() -> None:
    folder = migrations_folder()
    source = (folder / "common" / VIEWS_FILE).read_text(encoding="utf-8")
    (folder / "redshift" / VIEWS_FILE).write_text(redshift_views(source), encoding="utf-8")
    print(f"wrote {folder / 'redshift' / VIEWS_FILE}")


if __name__ == "__main__":
    main()
