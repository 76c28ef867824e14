"""One database transaction of loading: batches, ledger rows and removals in; it rolls back
unless told to commit, so a file is wholly in the warehouse or not at all."""

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import astuple
from datetime import date
from types import TracebackType

import pyarrow as pa

from cafe_etl import contract
from cafe_etl.model import FileBatch, FileSummary, Item, LedgerRow
from cafe_etl.regions import region_of
from cafe_etl.warehouse.base import Warehouse

Hook = Callable[[str, "UnitOfWork", Sequence[str]], None]
"""Called at each step with its name, the unit of work and the file names it concerns:
``"begin"`` (the transaction is open, no file named), ``"record"`` (a file's ledger row is
taken, its rows may still be buffered) and ``"commit"`` (everything written, not committed).
A seam for tests: a hook that raises makes that step fail."""


class KnownDimensions:
    """Branches and products the warehouse holds, as committed: rows already there unchanged
    are not written again (read once, then kept current)."""

    def __init__(self) -> None:
        self.branches: dict[int, tuple[str, str]] | None = None
        self.products: set[int] | None = None

    def read(self, warehouse: Warehouse) -> tuple[dict[int, tuple[str, str]], set[int]]:
        if self.branches is None:
            rows = warehouse.execute("SELECT branch_id, branch_name, region FROM branches")
            self.branches = {row[0]: (row[1], row[2]) for row in rows}
        if self.products is None:
            self.products = {row[0] for row in warehouse.execute("SELECT product_id FROM products")}
        return self.branches, self.products

    def update(self, branches: dict[int, tuple[str, str]], products: dict[int, Item]) -> None:
        """Add what a transaction committed (only once the warehouse was read)."""
        if self.branches is not None and self.products is not None:
            self.branches.update(branches)
            self.products.update(products)


class UnitOfWork:
    """Writes files inside one open transaction. Rows are buffered and bulk-inserted.

    >>> with UnitOfWork(warehouse) as work:        # doctest: +SKIP
    ...     work.remove(older.file_id)             # what the name's older version loaded
    ...     for batch in transform_file(raw, file_id, tokeniser):
    ...         work.add(batch)
    ...     work.record(ledger_row)
    ...     work.commit()                          # without it, everything rolls back
    """

    def __init__(
        self,
        warehouse: Warehouse,
        known: KnownDimensions | None = None,
        *,
        hook: Hook | None = None,
        buffer_rows: int = 200_000,
    ) -> None:
        self._warehouse = warehouse
        self._known = known or KnownDimensions()
        self._hook = hook
        self._buffer_rows = buffer_rows
        self._batches: list[FileBatch] = []
        self._buffered = 0
        self._written: dict[int, FileSummary] = {}
        """Files with rows written in this transaction, with their summary so far."""
        self._ledger: dict[int, LedgerRow] = {}
        self._branches: dict[int, tuple[str, str]] = {}
        self._products: dict[int, Item] = {}
        self._named: dict[int, tuple[dict[int, str], dict[int, Item]]] = {}
        """Branches and products named by files whose last batch has not come: written only
        if the file is not rejected whole."""
        self._committed = False

    def __enter__(self) -> "UnitOfWork":
        self._warehouse.begin()
        try:
            self._step("begin", [])
        except BaseException:
            self.__exit__(None, None, None)  # no with-block runs to roll it back
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            with contextlib.suppress(Exception):
                self._warehouse.rollback()

    def add(self, batch: FileBatch) -> None:
        """Take a batch of a file; a file's last batch saying it is rejected whole drops the
        rows of its earlier batches."""
        if batch.rejected_whole:
            self.discard(batch.file_id)
            return
        self._batches.append(batch)
        self._buffered += batch.transactions.num_rows + batch.rejected_rows.num_rows
        names, items = self._named.setdefault(batch.file_id, ({}, {}))
        names.update(batch.branch_names)
        items.update(batch.items)
        if batch.last:
            self._take_dimensions(*self._named.pop(batch.file_id))
        if self._buffered >= self._buffer_rows:
            self._flush_facts()

    def _take_dimensions(self, names: dict[int, str], items: dict[int, Item]) -> None:
        branches, products = self._known.read(self._warehouse)
        for key, name in names.items():
            row = (name, region_of(name))
            if branches.get(key) != row:
                self._branches[key] = row
        for key, item in items.items():
            if key not in products:
                self._products[key] = item

    def discard(self, file_id: int) -> None:
        """Drop every row taken for a file in this transaction."""
        self._batches = [batch for batch in self._batches if batch.file_id != file_id]
        self._named.pop(file_id, None)
        if file_id in self._written:
            self.remove(file_id, self._written.pop(file_id).business_date)

    def remove(self, file_id: int, business_date: date | None = None) -> None:
        """Delete every row one file version loaded (its ledger row stays).

        Each delete names what the tables are sorted by, so Redshift, which has no indexes,
        reads only the blocks that can hold the file's rows: ``transactions`` by the file's
        business date (its sort key's first column) and ``basket_items`` by the file's range
        of transaction keys (consecutive: see ``keys.row_keys``). A file with no single date
        (none accepted, or several) is deleted by ``file_id`` alone.
        https://docs.aws.amazon.com/redshift/latest/dg/t_Sorting_data.html
        """
        self._flush_facts()
        execute = self._warehouse.execute
        dated = business_date is not None
        day = " AND business_date = ?" if dated else ""
        day_params = (business_date,) if dated else ()
        rows = execute(
            f"SELECT MIN(transaction_id), MAX(transaction_id) FROM transactions"
            f" WHERE file_id = ?{day}",
            (file_id, *day_params),
        )
        low, high = rows[0] if rows else (None, None)
        if low is not None:
            execute(
                "DELETE FROM basket_items WHERE transaction_id BETWEEN ? AND ?"
                " AND transaction_id IN"
                f" (SELECT transaction_id FROM transactions WHERE file_id = ?{day})",
                (low, high, file_id, *day_params),
            )
            execute(f"DELETE FROM transactions WHERE file_id = ?{day}", (file_id, *day_params))
        execute("DELETE FROM rejected_rows WHERE file_id = ?", (file_id,))

    def record(self, row: LedgerRow) -> None:
        """Write a file's ledger row, replacing an earlier row of the same version."""
        self._ledger[row.file_id] = row
        self._step("record", [row.file_name])

    def set_status(self, file_id: int, status: str) -> None:
        self._flush_ledger()
        self._warehouse.execute(
            "UPDATE loaded_files SET status = ? WHERE file_id = ?", (status, file_id)
        )

    def flush(self) -> None:
        """Write everything taken so far (still inside the transaction)."""
        self._flush_facts()
        self._flush_dimensions()
        self._flush_ledger()

    def commit(self) -> None:
        names = [row.file_name for row in self._ledger.values()]
        self.flush()
        self._step("commit", names)
        self._warehouse.commit()
        self._committed = True
        self._known.update(self._branches, self._products)

    def _step(self, name: str, files: Sequence[str]) -> None:
        if self._hook is not None:
            self._hook(name, self, files)

    def _flush_facts(self) -> None:
        batches, self._batches, self._buffered = self._batches, [], 0
        for name in contract.FACT_TABLES:
            parts = [rows for batch in batches if (rows := getattr(batch, name)).num_rows]
            if parts:  # one chunk a column: engines insert thousands of small ones slower
                self._warehouse.insert_arrow(name, pa.concat_tables(parts).combine_chunks())
        for batch in batches:
            self._written[batch.file_id] = batch.summary

    def _flush_dimensions(self) -> None:
        if self._branches:
            names, regions = zip(*self._branches.values(), strict=True)
            rows = pa.table([list(self._branches), names, regions], schema=contract.BRANCHES)
            self._warehouse.upsert_arrow("branches", "branch_id", rows)
        if self._products:
            self._warehouse.upsert_arrow(
                "products", "product_id", contract.product_table(self._products)
            )

    def _flush_ledger(self) -> None:
        if not self._ledger:
            return
        ids = list(self._ledger)
        self._warehouse.execute(
            f"DELETE FROM loaded_files WHERE file_id IN ({', '.join('?' for _ in ids)})", ids
        )
        rows = [astuple(row) for row in self._ledger.values()]
        columns = list(zip(*rows, strict=True))
        table = pa.table(columns, schema=contract.LOADED_FILES)
        self._warehouse.insert_arrow("loaded_files", table)
        self._ledger = {}
