"""Warehouse adapters behind one interface, chosen by URL."""

from cafe_etl.errors import ConfigError
from cafe_etl.warehouse.base import Warehouse

SCHEMES = ("duckdb", "postgresql", "redshift")


def connect(url: str, *, create: bool = True, password: str | None = None) -> Warehouse:
    """The warehouse for a URL (``duckdb:///…``, a ``.duckdb`` path, ``postgresql://…``).

    With ``create=False`` a DuckDB file that does not exist yet is an error, not a new file;
    ``password`` is for Redshift when its URL holds none (see ``Settings.warehouse_password``).
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else "duckdb"
    if scheme == "duckdb":
        from cafe_etl.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(url, create=create)
    if scheme in ("postgresql", "postgres"):
        from cafe_etl.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(url)
    if scheme == "redshift":
        from cafe_etl.warehouse.redshift import RedshiftWarehouse

        return RedshiftWarehouse(url, password=password)
    raise ConfigError(
        f"warehouse URL {url.split('://')[0]}://…: unknown kind {scheme!r}; use one of "
        + ", ".join(f"{s}://" for s in SCHEMES)
    )
