"""What every warehouse does, in SQL that DuckDB, PostgreSQL and Redshift share.

An adapter supplies the connection, parameter style and bulk paths (Arrow insert, COPY);
this base supplies migrations, the ledger and the all-or-nothing loader.
"""

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from importlib import resources
from typing import Any, ClassVar

import pyarrow as pa

from cafe_etl import tables
from cafe_etl.errors import ConfigError
from cafe_etl.regions import region_of
from cafe_etl.transform.normalise import Chunk, FactTables, fact_tables
from cafe_etl.transform.validate import Item

log = logging.getLogger(__name__)

LOADED, SUPERSEDED, DUPLICATE, REJECTED, FORGOTTEN = (
    "loaded",
    "superseded",
    "duplicate",
    "rejected",
    "forgotten",
)
TOKEN_FINGERPRINT = "token_key_fingerprint"
MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL,"
    " applied_at TIMESTAMP WITH TIME ZONE NOT NULL)"
)


@dataclass(frozen=True)
class LedgerRow:
    """One row of ``loaded_files``: one version of one raw file, and what became of it."""

    file_id: int
    file_name: str
    source_uri: str
    sha256: str
    branch_id: int | None
    business_date: date | None
    variant: str | None
    status: str
    reason: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    loaded_at: datetime


LEDGER_COLUMNS = ", ".join(f.name for f in fields(LedgerRow))
_IN_LIST = 500
"""Names (and hashes) per ledger query: well within every driver's parameter limit."""


class Warehouse(ABC):
    """A connection to one warehouse. Connects on first use; ``close()`` when done."""

    scheme: ClassVar[str]
    migration_folders: ClassVar[tuple[str, ...]] = ("common",)
    concurrent_writers: ClassVar[bool] = False
    """True when other loaders may write at the same time (then files are locked)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._known_branches: dict[int, tuple[str, str]] | None = None
        self._known_products: set[int] | None = None

    @property
    def known_branches(self) -> dict[int, tuple[str, str]]:
        """Branches the warehouse holds, as committed (read once, then kept up to date)."""
        if self._known_branches is None:
            rows = self.execute("SELECT branch_id, branch_name, region FROM branches")
            self._known_branches = {row[0]: (row[1], row[2]) for row in rows}
        return self._known_branches

    @property
    def known_products(self) -> set[int]:
        if self._known_products is None:
            self._known_products = {
                row[0] for row in self.execute("SELECT product_id FROM products")
            }
        return self._known_products

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

    def serialise_migrations(self) -> None:  # noqa: B027 - single-writer engines need nothing
        """Make concurrent ``migrate`` calls wait for each other (inside the transaction)."""

    def _migrations(self) -> list[tuple[int, str, str]]:
        found = []
        root = resources.files("cafe_etl.warehouse") / "migrations"
        for folder in self.migration_folders:
            for entry in (root / folder).iterdir():
                if entry.name.endswith(".sql"):
                    found.append((int(entry.name.split("_")[0]), entry.name, entry.read_text()))
        return sorted(found)

    # -- transactions ---------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Loader"]:
        """A database transaction that commits on success and rolls back on any error."""
        self.execute("BEGIN")
        loader = Loader(self)
        try:
            yield loader
            loader.flush()
            self.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                self.execute("ROLLBACK")
            raise
        if loader.branches:
            self.known_branches.update(loader.branches)
        if loader.products:
            self.known_products.update(loader.products)

    # -- ledger and settings --------------------------------------------------------------

    def lock(self, *names: str) -> None:  # noqa: B027 - a single-writer engine needs no lock
        """Hold transaction-scoped locks on these names until commit or rollback."""

    def current_files_for(self, names: Sequence[str], hashes: Sequence[str]) -> list[LedgerRow]:
        """The versions that matter to some files: their names', and their contents'."""
        rows: list[tuple[Any, ...]] = []
        for column, values in (("file_name", names), ("sha256", hashes)):
            for start in range(0, len(values), _IN_LIST):
                some = list(values[start : start + _IN_LIST])
                rows += self.execute(
                    f"SELECT {LEDGER_COLUMNS} FROM loaded_files"
                    f" WHERE status <> ? AND {column} IN ({_placeholders(some)})",
                    (SUPERSEDED, *some),
                )
        unique = {row[0]: row for row in rows}  # a file can match by name and by content
        return sorted((LedgerRow(*row) for row in unique.values()), key=lambda r: r.loaded_at)

    def current_files(self) -> list[LedgerRow]:
        """The newest version of every file name the warehouse has seen."""
        rows = self.execute(
            f"SELECT {LEDGER_COLUMNS} FROM loaded_files WHERE status <> ? ORDER BY loaded_at",
            (SUPERSEDED,),
        )
        return [LedgerRow(*row) for row in rows]

    def setting(self, name: str) -> str | None:
        rows = self.execute("SELECT value FROM etl_settings WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def check_token_key(self, fingerprint: str | None) -> None:
        """Refuse a token key other than the one the warehouse's tokens were made with."""
        with self.transaction():
            self.lock(TOKEN_FINGERPRINT)
            stored = self.setting(TOKEN_FINGERPRINT)
            if stored is None and fingerprint is not None:
                self.execute(
                    "INSERT INTO etl_settings VALUES (?, ?)", (TOKEN_FINGERPRINT, fingerprint)
                )
        if stored is None:
            return
        if fingerprint is None:
            raise ConfigError(
                f"this warehouse's customer tokens were made with a key (fingerprint {stored}):"
                " set CAFE_ETL_TOKEN_KEY to that key"
            )
        if fingerprint != stored:
            raise ConfigError(
                f"CAFE_ETL_TOKEN_KEY differs from the key this warehouse was loaded with"
                f" (fingerprint {stored}, given {fingerprint}): set it back to the original key"
            )


class Loader:
    """Writes files inside one open transaction. Rows are buffered and bulk-inserted.

    Dimension rows the warehouse already holds unchanged are not written again, so a run of
    thousands of small files costs a handful of statements per buffer, not per file.
    """

    def __init__(self, warehouse: Warehouse, buffer_rows: int = 200_000) -> None:
        self._warehouse = warehouse
        self._buffer_rows = buffer_rows
        self._chunks: list[Chunk] = []
        self._facts: list[FactTables] = []
        self._fact_rows = 0
        self._ledger: dict[int, LedgerRow] = {}
        self.branches: dict[int, tuple[str, str]] = {}
        self.products: dict[int, tuple[str, str | None, str | None]] = {}

    def append(self, chunk: Chunk) -> None:
        self._chunks.append(chunk)
        self._fact_rows += chunk.row_count
        if self._fact_rows >= self._buffer_rows:
            self._flush_facts()

    def append_facts(self, facts: FactTables) -> None:
        """Fact rows already in Arrow (``ColumnarBatch``): written with the next flush."""
        self._facts.append(facts)
        self._fact_rows += facts.transactions.num_rows + facts.rejected_rows.num_rows
        if self._fact_rows >= self._buffer_rows:
            self._flush_facts()

    def add_branches(self, names: dict[int, str]) -> None:
        """Branches by key and name; each row gets its region (``regions.csv``)."""
        known = self._warehouse.known_branches
        rows = {k: (name, region_of(name)) for k, name in names.items()}
        self.branches.update((k, row) for k, row in rows.items() if known.get(k) != row)

    def add_products(self, products: dict[int, Item]) -> None:
        known = self._warehouse.known_products
        self.products.update(
            (k, (p.name, p.size, p.flavour)) for k, p in products.items() if k not in known
        )

    def record(self, row: LedgerRow) -> None:
        """Write a file's ledger row, replacing an earlier row of the same version."""
        self._ledger[row.file_id] = row

    def remove_file(self, file_id: int) -> None:
        """Delete every row one file version loaded (its ledger row stays)."""
        self._flush_facts()
        execute = self._warehouse.execute
        execute(
            "DELETE FROM basket_items WHERE transaction_id IN"
            " (SELECT transaction_id FROM transactions WHERE file_id = ?)",
            (file_id,),
        )
        execute("DELETE FROM transactions WHERE file_id = ?", (file_id,))
        execute("DELETE FROM rejected_rows WHERE file_id = ?", (file_id,))

    def set_status(self, file_id: int, status: str) -> None:
        self._flush_ledger()
        self._warehouse.execute(
            "UPDATE loaded_files SET status = ? WHERE file_id = ?", (status, file_id)
        )

    def flush(self) -> None:
        """Write everything buffered so far (still inside the transaction)."""
        self._flush_facts()
        self._flush_dimensions()
        self._flush_ledger()

    def _flush_facts(self) -> None:
        batches = [fact_tables(self._chunks), *self._facts] if self._chunks else self._facts
        for name in tables.FACT_TABLES:
            parts = [rows for batch in batches if (rows := getattr(batch, name)).num_rows]
            if parts:
                self._warehouse.insert_arrow(name, pa.concat_tables(parts))
        self._chunks, self._facts, self._fact_rows = [], [], 0

    def _flush_dimensions(self) -> None:
        if self.branches:
            names, regions = zip(*self.branches.values(), strict=True)
            rows = pa.table([list(self.branches), names, regions], schema=tables.BRANCHES)
            self._warehouse.upsert_arrow("branches", "branch_id", rows)
        if self.products:
            names, sizes, flavours = zip(*self.products.values(), strict=True)
            rows = pa.table([list(self.products), names, sizes, flavours], schema=tables.PRODUCTS)
            self._warehouse.upsert_arrow("products", "product_id", rows)

    def _flush_ledger(self) -> None:
        if not self._ledger:
            return
        ids = list(self._ledger)
        self._warehouse.execute(
            f"DELETE FROM loaded_files WHERE file_id IN ({_placeholders(ids)})", ids
        )
        rows = [astuple(row) for row in self._ledger.values()]
        columns = list(zip(*rows, strict=True))
        self._warehouse.insert_arrow("loaded_files", pa.table(columns, schema=tables.LOADED_FILES))
        self._ledger = {}


def upsert_statement(table_name: str, key: str, columns: Sequence[str]) -> str:
    """Insert the ``staged`` rows, replacing the other columns of rows whose key exists."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table_name} SELECT * FROM staged ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
