"""The embedded default: one DuckDB file, loaded from Arrow without copying.

``duckdb:///cafe.duckdb?memory_limit=2GB`` raises DuckDB's memory cap (96MB by default:
an uncommitted file beyond it spills to disk, so loading a huge file stays flat in memory;
a larger cap is filled by a file that big, on top of everything else: see
benchmarks/README.md).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa

from cafe_etl.errors import ConfigError, WarehouseError
from cafe_etl.warehouse.base import Warehouse, upsert_statement

DEFAULT_MEMORY_LIMIT = "96MB"
ANALYTICS_MEMORY_LIMIT = "1GB"
"""The views join every sale with its items: at 96MB they spill and run 5x slower (a cap,
not an allocation; a memory_limit in the URL wins)."""


def path_from_url(url: str) -> Path:
    """``duckdb:///cafe.duckdb`` (relative), ``duckdb:////srv/cafe.duckdb`` or a bare path."""
    url = url.partition("?")[0]
    if url.startswith("duckdb://"):
        rest = url.removeprefix("duckdb://")
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(f"warehouse URL {url!r}: write duckdb:///FILE or duckdb:////ABS/FILE")
        return Path(rest[1:])
    return Path(url)


class DuckDBWarehouse(Warehouse):
    scheme = "duckdb"

    def __init__(self, url: str, *, create: bool = True) -> None:
        super().__init__(url)
        self.path = path_from_url(url)
        options = parse_qs(urlsplit(url).query) if url.startswith("duckdb:") else {}
        self.memory_limit = options.get("memory_limit", [DEFAULT_MEMORY_LIMIT])[-1]
        self._memory_limit_given = "memory_limit" in options
        self._create = create
        self._connection: Any = None

    @property
    def display_name(self) -> str:
        return str(self.path)

    @property
    def connection(self) -> Any:
        if self._connection is None:
            import duckdb

            if not self._create and not self.path.exists():
                raise ConfigError(
                    f"no warehouse at {self.path}: check --warehouse, or load files first"
                    " with cafe-etl run"
                )
            if not self.path.parent.is_dir():
                raise ConfigError(
                    f"warehouse folder {self.path.parent} does not exist: create it or choose"
                    " another --warehouse"
                )
            try:
                connection = duckdb.connect(
                    str(self.path), config={"memory_limit": self.memory_limit}
                )
            except duckdb.Error as error:
                hint = ""
                if self._memory_limit_given and isinstance(error, duckdb.ParserException):
                    hint = f" (memory_limit={self.memory_limit} in the URL: write e.g. 2GB)"
                raise WarehouseError(
                    f"cannot open DuckDB warehouse {self.path}: {_first_line(error)}{hint}"
                ) from None
            self._connection = _persistent(connection, self.path)
        return self._connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import duckdb

        try:
            result = self.connection.execute(sql, list(params))
            return list(result.fetchall()) if result.description else []
        except duckdb.Error as error:
            raise WarehouseError(f"DuckDB {self.path}: {_first_line(error)}") from error

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        # A relation, not register(): a registered view stays alive until COMMIT, which
        # would hold every chunk of a big file in memory.
        try:
            self.connection.from_arrow(rows).insert_into(table_name)
        except self._errors() as error:
            raise WarehouseError(f"DuckDB {self.path}: {_first_line(error)}") from error

    def upsert_arrow(self, table_name: str, key: str, rows: pa.Table) -> None:
        self.connection.register("staged", rows)  # dimensions only: a few rows
        try:
            self.execute(upsert_statement(table_name, key, rows.column_names))
        finally:
            self.connection.unregister("staged")

    def prepare_for_analytics(self) -> None:
        if not self._memory_limit_given:
            self.execute(f"SET memory_limit = '{ANALYTICS_MEMORY_LIMIT}'")
        self.execute("SET enable_progress_bar = false")

    @staticmethod
    def _errors() -> type[Exception]:
        import duckdb

        return duckdb.Error

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _persistent(connection: Any, path: Path) -> Any:
    """The connection, if its database lives in the file; DuckDB opens an existing data file
    (``.csv``, ``.json``, ``.parquet``…) as an in-memory database over it, which would keep
    nothing a run loads."""
    found = connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if found and found[0][0]:
        return connection
    connection.close()
    raise ConfigError(
        f"warehouse {path} is a data file DuckDB would read, not a database it keeps:"
        " choose a new file name ending in .duckdb"
    )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
