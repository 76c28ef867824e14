"""The driver port: what every warehouse adapter does, in SQL that DuckDB, PostgreSQL and
Redshift share. An adapter supplies the connection, parameter style and bulk paths (Arrow
insert, COPY); this base supplies transactions and migrations.
"""

import contextlib
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.abc import Traversable
from typing import Any, ClassVar

import pyarrow as pa

from cafe_etl.errors import ConfigError, WarehouseError

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL,"
    " applied_at TIMESTAMP WITH TIME ZONE NOT NULL)"
)
MIGRATION_STEPS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migration_steps ("
    " version INTEGER NOT NULL, step INTEGER NOT NULL)"
)
"""The statements of a migration applied outside a transaction that are already done: a
re-run after a failure starts at the first statement not done."""
NO_TRANSACTION = "-- cafe-etl: no-transaction"
"""A migration file's first line that makes it run outside a transaction, one autocommitted
statement at a time (Redshift cannot ALTER a column inside a transaction block)."""
LEASE_VERSION = 0
"""The ``schema_migrations`` row held while a migration runs outside a transaction: the
migrations lock cannot span autocommitted statements, so a lease row stands in for it."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def transactional(self) -> bool:
        return not self.sql.lstrip().startswith(NO_TRANSACTION)


class Warehouse(ABC):
    """A connection to one warehouse. Connects on first use; ``close()`` when done."""

    scheme: ClassVar[str]
    migration_folders: ClassVar[tuple[str, ...]] = ("common",)
    concurrent_writers: ClassVar[bool] = False
    """True when other loaders may write at the same time (then files are locked)."""
    lease_wait_seconds: float = 600.0
    """How long ``migrate`` waits for another's migration outside a transaction to finish."""

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
        """Apply the migrations this warehouse has not seen, in version order: consecutive
        transactional ones in one transaction, a ``no-transaction`` one statement by statement
        under a lease (see ``NO_TRANSACTION``)."""
        if not self.pending_migrations():  # read-only: a reporting role may open it too
            return []
        applied: list[str] = []
        while True:
            outside = self._apply_transactional(applied)
            if outside is None:
                break
            with self._migration_lease():
                if self._pending_version(outside.version):
                    self._apply_outside_transaction(outside)
                    applied.append(outside.name)
        for name in applied:
            log.info("applied migration %s", name)
        return applied

    def _apply_transactional(self, applied: list[str]) -> Migration | None:
        """Apply pending migrations up to the first that runs outside a transaction; return
        that one (None: nothing left)."""
        with self.transaction():
            self.serialise_migrations()
            self.execute(MIGRATIONS_TABLE)
            done = {row[0] for row in self.execute("SELECT version FROM schema_migrations")}
            for migration in self.migrations():
                if migration.version in done:
                    continue
                if not migration.transactional:
                    return migration
                for statement in split_statements(migration.sql):
                    self.execute(statement)
                self._record_migration(migration)
                applied.append(migration.name)
        return None

    def _apply_outside_transaction(self, migration: Migration) -> None:
        """Each statement autocommitted and recorded, so a re-run skips what is done."""
        self.execute(MIGRATION_STEPS_TABLE)
        done = {
            row[0]
            for row in self.execute(
                "SELECT step FROM schema_migration_steps WHERE version = ?", (migration.version,)
            )
        }
        for step, statement in enumerate(split_statements(migration.sql)):
            if step in done:
                continue
            self.execute(statement)
            self.execute(
                "INSERT INTO schema_migration_steps VALUES (?, ?)", (migration.version, step)
            )
        with self.transaction():
            self._record_migration(migration)
            self.execute(
                "DELETE FROM schema_migration_steps WHERE version = ?", (migration.version,)
            )

    def _record_migration(self, migration: Migration) -> None:
        self.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            (migration.version, migration.name, _now()),
        )

    def _pending_version(self, version: int) -> bool:
        rows = self.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,))
        return not rows

    @contextlib.contextmanager
    def _migration_lease(self) -> Iterator[None]:
        """Hold the lease row for the length of the block; wait while another live session
        holds it; take over one whose session is gone (a killed or timed-out migrator)."""
        holder = f"lease {self.session_id()} {uuid.uuid4().hex}"
        waited_since = time.monotonic()
        while not self._take_lease(holder):
            if time.monotonic() - waited_since > self.lease_wait_seconds:
                raise WarehouseError(
                    "a migration outside a transaction has held the migrations lease for over"
                    f" {self.lease_wait_seconds:.0f} s; if no migration is running, release it"
                    f" with DELETE FROM schema_migrations WHERE version = {LEASE_VERSION}"
                )
            time.sleep(1.0)
        try:
            yield
        finally:
            try:
                self.execute(
                    "DELETE FROM schema_migrations WHERE version = ? AND name = ?",
                    (LEASE_VERSION, holder),
                )
            except WarehouseError as error:  # the next migrator sees the session gone
                log.warning("migrations lease not released: %s", error)

    def _take_lease(self, holder: str) -> bool:
        with self.transaction():
            self.serialise_migrations()
            rows = self.execute(
                "SELECT name FROM schema_migrations WHERE version = ?", (LEASE_VERSION,)
            )
            if rows and self.session_alive(_lease_session(rows[0][0])):
                return False
            if rows:
                log.warning("taking over the migrations lease of a session that ended")
                self.execute("DELETE FROM schema_migrations WHERE version = ?", (LEASE_VERSION,))
            self.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", (LEASE_VERSION, holder, _now())
            )
        return True

    def session_id(self) -> int | None:
        """This connection's server session, if the engine has several (None: embedded)."""
        return None

    def session_alive(self, session: int | None) -> bool:
        """Whether a server session still exists; an embedded engine has one writer, so a
        lease it finds is a dead process's."""
        return False

    def pending_migrations(self) -> list[str]:
        """Migrations not applied yet, without changing anything (a read-only user's check)."""
        tables = self.execute(
            "SELECT COUNT(*) FROM information_schema.tables"
            " WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
        )
        done = set()
        if tables[0][0]:
            done = {row[0] for row in self.execute("SELECT version FROM schema_migrations")}
        return [m.name for m in self.migrations() if m.version not in done]

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

    def migration_dirs(self) -> list[Traversable]:
        """The folders whose ``NNN_name.sql`` files are this warehouse's migrations."""
        root = resources.files("cafe_etl.warehouse") / "migrations"
        return [root / folder for folder in self.migration_folders]

    def migrations(self) -> list[Migration]:
        found = [
            Migration(int(entry.name.split("_")[0]), entry.name, entry.read_text())
            for folder in self.migration_dirs()
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        ]
        return sorted(found, key=lambda migration: migration.version)

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


def _lease_session(name: str) -> int | None:
    """The session id written into a lease's name (``lease <session> <nonce>``)."""
    parts = name.split()
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def split_statements(sql: str) -> list[str]:
    """The statements of a migration file (comment lines dropped, split at semicolons)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _now() -> datetime:
    return datetime.now(UTC)
