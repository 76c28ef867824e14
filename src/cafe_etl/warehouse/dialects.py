"""Redshift's analytics views, generated from the one source DuckDB and PostgreSQL run.

``python -m cafe_etl.warehouse.dialects`` rewrites ``migrations/redshift/NNN_analytics_views.sql``
from ``migrations/common/NNN_analytics_views.sql`` with sqlglot (PostgreSQL in, Redshift out);
a unit test fails when the two drift apart, so the Redshift text is never edited by hand.
"""

import re
from importlib import resources
from pathlib import Path

from cafe_etl.warehouse.base import split_statements

VIEWS_FILE = "021_analytics_views.sql"
HEADER = (
    "-- GENERATED from common/{name} by `uv run python -m cafe_etl.warehouse.dialects`:\n"
    "-- do not edit; change the common file and run the command again.\n\n"
)


def view_names() -> list[str]:
    """The analytics views, in the order the migration creates them."""
    source = (migrations_folder() / "common" / VIEWS_FILE).read_text(encoding="utf-8")
    return re.findall(r"^CREATE VIEW (\w+)", source, flags=re.MULTILINE)


def redshift_views(source: str) -> str:
    """The Redshift text of a file of PostgreSQL statements, one statement a paragraph."""
    import sqlglot

    statements = [
        sqlglot.transpile(statement, read="postgres", write="redshift", pretty=True)[0]
        for statement in split_statements(source)
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
