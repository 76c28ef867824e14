"""The driver port: what every warehouse adapter does, in SQL that DuckDB, PostgreSQL and
Redshift share. An adapter supplies the connection, parameter style and bulk paths (Arrow
insert, COPY); this base supplies transactions and migrations.
"""

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any, ClassVar

import pyarrow as pa

from cafe_etl.errors import ConfigError

log = logging.getLogger(__name__)

MIGRATIONS_NAME = "schema_migrations"
MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL,"
    " applied_at TIMESTAMP WITH TIME ZONE NOT NULL)"
)


class Warehouse(ABC):
    """A connection to one warehouse. Connects on first use; ``close()`` when done."""

    scheme: ClassVar[str]
    migration_folders: ClassVar[tuple[str, ...]] = ("common",)
    concurrent_writers: ClassVar[bool] = False
    """True when other loaders may write at the same time (then files are locked)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    @abstractmethod
    def display_name(self) -> str:
        """Where the warehouse is, without credentials."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement with ``?`` placeholders; return its rows (empty if none)."""

    @abstractmethod
    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        """Bulk-append rows whose schema matches the table's columns."""

    @abstractmethod
    def upsert_arrow(self, table_name: str, key: str, rows: pa.Table) -> None:
        """Insert rows, replacing the non-key columns of rows whose key exists."""

    def close(self) -> None:  # noqa: B027 - adapters without resources need nothing
        """Release the connection."""

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply the migrations this warehouse has not seen, in one transaction."""
        if self._up_to_date():  # read-only: a reporting role may open the warehouse too
            return []
        applied = []
        with self.transaction():
            self.serialise_migrations()
            self.execute(MIGRATIONS_TABLE)
            done = {row[0] for row in self.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in self._migrations():
                if version in done:
                    continue
                for statement in _statements(sql):
                    self.execute(statement)
                self.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, _now())
                )
                applied.append(name)
        for name in applied:
            log.info("applied migration %s", name)
        return applied

    def create_reporting_role(self, role: str, password: str | None) -> None:
        """A role that can only read the contract's tables and views (for Grafana, analysts)."""
        raise ConfigError(
            f"{self.scheme} has no roles: open the file read-only instead"
            " (duckdb.connect(path, read_only=True))"
        )

    def prepare_for_analytics(self) -> None:  # noqa: B027 - server engines need nothing
        """Settings for the analytics views' large joins (before the report reads them)."""

    def serialise_migrations(self) -> None:  # noqa: B027 - single-writer engines need nothing
        """Make concurrent ``migrate`` calls wait for each other (inside the transaction)."""

    def _up_to_date(self) -> bool:
        found = self.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?"
            " AND table_schema = current_schema()",
            (MIGRATIONS_NAME,),
        )
        if not found or not found[0][0]:
            return False
        done = {row[0] for row in self.execute(f"SELECT version FROM {MIGRATIONS_NAME}")}
        return {version for version, _, _ in self._migrations()} <= done

    def _migrations(self) -> list[tuple[int, str, str]]:
        found = []
        root = resources.files("cafe_etl.warehouse") / "migrations"
        for folder in self.migration_folders:
            for entry in (root / folder).iterdir():
                if entry.name.endswith(".sql"):
                    found.append((int(entry.name.split("_")[0]), entry.name, entry.read_text()))
        return sorted(found)

    # -- transactions ---------------------------------------------------------------------

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A database transaction that commits on success and rolls back on any error."""
        self.begin()
        try:
            yield
            self.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                self.rollback()
            raise

    def lock(self, *names: str) -> None:  # noqa: B027 - a single-writer engine needs no lock
        """Hold transaction-scoped locks on these names until commit or rollback."""

    def lock_budget(self, jobs: int) -> int | None:
        """Named locks one transaction may hold with ``jobs`` loaders at once (None: any)."""
        return None


def upsert_statement(table_name: str, key: str, columns: Sequence[str]) -> str:
    """Insert the ``staged`` rows, replacing the other columns of rows whose key exists."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table_name} SELECT * FROM staged ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _now() -> datetime:
    return datetime.now(UTC)
