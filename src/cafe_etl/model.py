"""The words every layer shares: file statuses, reason codes, the ledger row, a file's summary
and the batch the transform hands to loading. Imports nothing of ours."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

import pyarrow as pa


class FileStatus(StrEnum):
    """What became of one version of a file. Every value but the last two is a ledger status."""

    LOADED = "loaded"
    SUPERSEDED = "superseded"
    """An older version of a name, replaced by a newer one."""
    DUPLICATE = "duplicate"
    """Identical bytes already loaded under another name."""
    REJECTED = "rejected"
    """The file could not be read at all (``Reason.NOT_UTF8``, ``Reason.NOT_CSV``)."""
    FORGOTTEN = "forgotten"
    """Removed on purpose by ``cafe-etl forget``; not loaded again unless its content changes."""
    UNCHANGED = "unchanged"
    """A run's outcome only, never written: the ledger already holds this version."""
    SKIPPED = "skipped"
    """A run's outcome only, never written: the file could not be read, or its name or
    location cannot be stored; a warning names it, and the next run tries it again."""


class Reason(StrEnum):
    """Why a row (or a whole file) was rejected."""

    FIELD_COUNT = "field_count"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_AMOUNT = "bad_amount"
    BAD_BASKET = "bad_basket"
    BAD_PAYMENT = "bad_payment"
    BAD_BRANCH = "bad_branch"
    TOTAL_MISMATCH = "total_mismatch"
    NOT_UTF8 = "not_utf8"
    NOT_CSV = "not_csv"


ROW_REASONS = tuple(reason for reason in Reason if reason not in (Reason.NOT_UTF8, Reason.NOT_CSV))


class Item(NamedTuple):
    """One basket item as the till printed it: a product and its unit price."""

    name: str
    size: str | None
    flavour: str | None
    pennies: int


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


@dataclass
class FileSummary:
    """What the ledger records about a file: complete once its last batch is out."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    variant: str | None = None
    reason: str | None = None
    """The file-level reason when the file is rejected whole (then every count is 0)."""
    branch_ids: set[int] = field(default_factory=set)
    business_dates: set[date] = field(default_factory=set)
    rejects: Counter[str] = field(default_factory=Counter)

    @property
    def branch_id(self) -> int | None:
        return next(iter(self.branch_ids)) if len(self.branch_ids) == 1 else None

    @property
    def business_date(self) -> date | None:
        return next(iter(self.business_dates)) if len(self.business_dates) == 1 else None


@dataclass(frozen=True)
class FileBatch:
    """Rows of one file, shaped as the contract's tables (``cafe_etl.contract``).

    A file comes as one or more batches; the ``last`` carries its complete ``summary``. A
    file rejected whole ends with a batch of no rows whose summary has a ``reason``: rows of
    its earlier batches must then be dropped.
    """

    file_id: int
    transactions: pa.Table
    basket_items: pa.Table
    rejected_rows: pa.Table
    branch_names: dict[int, str]
    """The branches its transactions name, by key."""
    items: dict[int, Item]
    """The products its basket items name, by key."""
    summary: FileSummary
    last: bool

    @cached_property
    def branches(self) -> pa.Table:
        from cafe_etl.contract import branch_table

        return branch_table(self.branch_names)

    @cached_property
    def products(self) -> pa.Table:
        from cafe_etl.contract import product_table

        return product_table(self.items)

    @property
    def rejected_whole(self) -> bool:
        return self.last and self.summary.reason is not None
