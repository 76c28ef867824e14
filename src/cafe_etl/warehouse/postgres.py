"""PostgreSQL: bulk COPY of Arrow batches (binary for the big fact tables, else CSV) through
psycopg 3.

Concurrent loaders serialise per file name and per content hash with transaction-scoped
advisory locks, and re-read the ledger under the lock; a deadlock or serialization failure
surfaces as ``TransientError`` so the pipeline retries it.
"""

import io
import re
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.csv as pa_csv

from cafe_etl import keys
from cafe_etl.errors import ConfigError, TransientError, WarehouseError
from cafe_etl.warehouse import pgbinary
from cafe_etl.warehouse.base import Warehouse, upsert_statement

LOCK_BUDGET = 1_000
"""Advisory locks all loaders of a run may hold at once: a small share of PostgreSQL's shared
lock table (64 x max_connections, 6,400 by default)."""
_TRANSIENT_STATES = {"40001", "40P01", "53200"}  # serialization failure, deadlock, lock table full
_COPY_BLOCK = 1 << 20
_BINARY = {"transactions", "basket_items"}
"""The big fact tables go in COPY's binary format (``pgbinary``), which the server reads
about a quarter faster than text; the small tables go as CSV."""


class PostgresWarehouse(Warehouse):
    scheme = "postgresql"
    migration_folders: ClassVar[tuple[str, ...]] = ("common", "postgresql")
    concurrent_writers = True

    def __init__(self, url: str) -> None:
        super().__init__(url)
        try:
            urlsplit(url).port  # noqa: B018 - parses host and port, raising on nonsense
        except ValueError:
            raise ConfigError(
                f"warehouse URL is malformed: write {self.scheme}://USER@HOST:PORT/DB"
            ) from None
        self._connection: Any = None
        self._connected_once = False

    @property
    def display_name(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"

    @property
    def connection(self) -> Any:
        if self._connection is None:
            import psycopg

            url = self.url.replace("postgres://", "postgresql://", 1)
            try:
                self._connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
            except psycopg.Error as error:
                # Once connected, a refusal is a server restarting: retried. Before, it is a
                # setting to fix: reported at once.
                kind = TransientError if self._connected_once else WarehouseError
                raise kind(
                    f"cannot connect to {self.display_name}: {_reason(error)}{_hint(error)}"
                ) from None
            self._connected_once = True
        return self._connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            statement = sql.replace("?", "%s") if params else sql  # no params: SQL as written
            cursor = self.connection.execute(statement, list(params) or None)
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            raise self._translate(error) from error

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        self._copy(table_name, rows)

    def upsert_arrow(self, table_name: str, key: str, rows: pa.Table) -> None:
        rows = rows.sort_by(key)  # one lock order for every loader: no deadlock between them
        self.execute(f"CREATE TEMP TABLE staged (LIKE {table_name}) ON COMMIT DROP")
        self._copy("staged", rows)
        self.execute(upsert_statement(table_name, key, rows.column_names))
        self.execute("DROP TABLE staged")

    def serialise_migrations(self) -> None:
        self.lock("schema_migrations")

    def session_id(self) -> int | None:
        return int(self.execute("SELECT pg_backend_pid()")[0][0])

    def session_alive(self, session: int | None) -> bool:
        return bool(self.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ?", (session,)))

    def prepare_for_analytics(self) -> None:
        # The views hash-join and group every sale with its items: at the default 4MB of
        # work_mem they spill to disk. Redshift (a subclass) has no work_mem: it keeps its own.
        if self.scheme == "postgresql":
            self.execute("SET work_mem = '256MB'")

    def create_reporting_role(self, role: str, password: str | None) -> None:
        from psycopg import sql

        name = _identifier(role)
        login = "NOLOGIN"
        if password:
            login = sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password)).as_string()
        with self.transaction():
            if not self.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)):
                self.execute(f"CREATE ROLE {name} {login}")
            for statement in reporting_grants(name):
                self.execute(statement)

    def lock(self, *names: str) -> None:
        """One statement; every loader takes its locks in key order, so none deadlock."""
        lock_keys = sorted({keys.natural_key("lock", name) for name in names})
        self.execute(
            "SELECT pg_advisory_xact_lock(k) FROM"
            " (SELECT k FROM unnest(?::bigint[]) AS u(k) ORDER BY k OFFSET 0) AS ordered",
            (lock_keys,),
        )

    def lock_budget(self, jobs: int) -> int | None:
        return max(1, LOCK_BUDGET // jobs)

    def _copy(self, table_name: str, rows: pa.Table) -> None:
        import psycopg

        if table_name in _BINARY and pgbinary.supports(rows):
            blocks, options = pgbinary.encode(rows), "FORMAT binary"
        else:
            blocks, options = _csv(rows), "FORMAT csv"
        columns = ", ".join(rows.column_names)
        try:
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY {table_name} ({columns}) FROM STDIN ({options})") as copy,
            ):
                for block in blocks:
                    view = memoryview(block)
                    for start in range(0, len(view), _COPY_BLOCK):
                        copy.write(view[start : start + _COPY_BLOCK])
        except psycopg.Error as error:
            raise self._translate(error) from error

    def _translate(self, error: Exception) -> WarehouseError:
        state = getattr(error, "sqlstate", None) or ""
        lost = (
            state.startswith("08")
            or state == "57P01"
            or bool(self._connection is not None and self._connection.closed)
        )
        if lost:  # reconnect on the retry instead of reusing a dead connection
            self.close()
        kind = TransientError if lost or state in _TRANSIENT_STATES else WarehouseError
        return kind(f"PostgreSQL {self.display_name}: {_reason(error)}{_hint(error)}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def reporting_grants(role: str) -> list[str]:
    """Read-only access to every table and view of the schema, now and later."""
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}",
    ]


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ConfigError(f"role name {name!r}: use lower-case letters, digits and _")
    return name


_HINTS = (
    (("Connection refused",), "is the server running, and are host and port right?"),
    (("timeout expired",), "is the host reachable from here?"),
    (("could not translate host name",), "check the host name in the URL"),
    (("password authentication failed",), "check the user and password in the URL"),
    (("role", "does not exist"), "check the user name in the URL"),
    (("database", "does not exist"), "create it first (createdb NAME) or fix its name"),
    (("permission denied",), "this user needs the rights to create and write the tables"),
)


def _hint(error: Exception) -> str:
    text = str(error)
    for needles, hint in _HINTS:
        if all(needle in text for needle in needles):
            return f" ({hint})"
    return ""


def _csv(rows: pa.Table) -> Iterator[bytes]:
    buffer = io.BytesIO()
    pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
    yield buffer.getvalue()


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
