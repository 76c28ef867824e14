"""One raw file in, warehouse rows out: validation, redaction and normalisation together.

``FileTransform`` streams a file in chunks, so memory stays flat whatever the file size.
Every distinct timestamp, total, item and basket string is parsed once per file (or chunk),
not once per row: a day's till export repeats them thousands of times.
"""

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Generic, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from cafe_etl import formats, keys, tables
from cafe_etl.formats import Layout, Record
from cafe_etl.transform import validate as v
from cafe_etl.transform.redact import Tokeniser

T = TypeVar("T")
NOT_CSV = "not_csv"
NOT_UTF8 = "not_utf8"
_EPOCH = datetime(1970, 1, 1)
_LOOKS_DATED = re.compile(r"\s*\d{1,4}[-/]\d{1,2}[-/]\d{1,4}")
_TWO_DECIMALS = re.compile(r"\s*\d+\.\d\d\s*")
VARIANT_ROWS = 1_000
"""A file is variant B if the totals of its first this many records all have two decimals."""


class Memo(Generic[T]):
    """Remembers a parser's result, rejection included, for each distinct raw string.

    Hot loops read ``values.get`` directly and call the memo only on a miss.
    """

    def __init__(self, parse: Callable[[str], T], limit: int = 200_000) -> None:
        self._parse = parse
        self._limit = limit
        self.values: dict[str, T] = {}
        self._rejections: dict[str, tuple[str, str]] = {}
        """(reason, detail): a fresh exception each time, so no traceback (and none of the
        frames and rows it would hold) outlives the row it was raised for."""

    def __call__(self, raw: str) -> T:
        if raw in self.values:
            return self.values[raw]
        if raw in self._rejections:
            raise v.Rejected(*self._rejections[raw])
        if len(self.values) + len(self._rejections) >= self._limit:
            self.values.clear()
            self._rejections.clear()
        try:
            value = self.values[raw] = self._parse(raw)
        except v.Rejected as rejected:
            self._rejections[raw] = (rejected.reason, rejected.detail)
            raise
        return value


@dataclass(frozen=True)
class FactTables:
    """The fact rows of one or more chunks, shaped as in ``cafe_etl.tables``."""

    transactions: pa.Table
    basket_items: pa.Table
    rejected_rows: pa.Table


@dataclass(frozen=True)
class Chunk:
    """Rows of one file ready to load, shaped as in ``cafe_etl.tables``.

    Kept as plain columns until read: a loader builds one Arrow batch from many chunks
    (``fact_tables``), since a few dozen Arrow calls per small file cost more than its rows.
    """

    file_id: int
    rows: "_Rows"
    baskets: "_Basket"
    rejects: "_Rejects"

    @property
    def row_count(self) -> int:
        return len(self.rows.lines) + len(self.rejects.lines)

    @property
    def transactions(self) -> pa.Table:
        return self.tables.transactions

    @property
    def basket_items(self) -> pa.Table:
        return self.tables.basket_items

    @property
    def rejected_rows(self) -> pa.Table:
        return self.tables.rejected_rows

    @cached_property
    def tables(self) -> FactTables:
        return fact_tables([self])


@dataclass
class FileSummary:
    """What the ledger records about a file once it has been read whole."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    variant: str | None = None
    reason: str | None = None
    branch_ids: set[int] = field(default_factory=set)
    business_dates: set[date] = field(default_factory=set)
    rejects: Counter[str] = field(default_factory=Counter)

    @property
    def branch_id(self) -> int | None:
        return next(iter(self.branch_ids)) if len(self.branch_ids) == 1 else None

    @property
    def business_date(self) -> date | None:
        return next(iter(self.business_dates)) if len(self.business_dates) == 1 else None


Line = tuple[int, int]
"""A basket line before aggregation: (product_id, unit price in pennies)."""


class ParseCache:
    """Parsed values of distinct raw strings, shared by every file of a run.

    Also the registry of every branch and product seen, by key.
    """

    def __init__(self) -> None:
        self.timestamp = Memo(_epoch_seconds)
        self.total = Memo(v.parse_pennies)
        self.payment = Memo(v.parse_payment)
        self.branch = Memo(self._branch_id)
        self.item = Memo(lambda raw: self.register(v.parse_item(raw)))
        self.branches: dict[int, str] = {}
        self.products: dict[int, v.Item] = {}

    def register(self, item: v.Item) -> Line:
        product_id = keys.product_key(item.name, item.size, item.flavour)
        self.products.setdefault(product_id, item)
        return product_id, item.pennies

    def basket(self, raw: str) -> list[Line]:
        """A basket of variant B, C or D: comma-separated items, each parsed once per run."""
        known, parse = self.item.values.get, self.item
        return v.parse_basket(raw, lambda part: known(part) or parse(part))

    def flat_basket(self, raw: str) -> list[Line]:
        return [self.register(item) for item in v.parse_flat_basket(raw)]

    def _branch_id(self, raw: str) -> int:
        name = v.parse_branch(raw)
        branch_id = keys.branch_key(name)
        self.branches[branch_id] = name
        return branch_id


class _Basket:
    """The distinct baskets of one chunk, each turned once into aggregated line items."""

    def __init__(self, parse: Callable[[str], list[Line]]) -> None:
        self._parse = parse
        self.codes: dict[str, tuple[int, int]] = {}
        self.offsets = [0]
        self.product_ids: list[int] = []
        self.prices: list[int] = []
        self.quantities: list[int] = []

    def code(self, raw: str) -> tuple[int, int]:
        """(basket code, basket sum in pennies); raises ``Rejected`` for a bad basket."""
        lines = self._parse(raw)
        counted = Counter(lines) if len(set(lines)) < len(lines) else dict.fromkeys(lines, 1)
        for (product_id, pennies), quantity in counted.items():
            self.product_ids.append(product_id)
            self.prices.append(pennies)
            self.quantities.append(quantity)
        self.offsets.append(len(self.product_ids))
        found = self.codes[raw] = (len(self.offsets) - 2, sum(price for _, price in lines))
        return found

    def sold(self, codes: list[int]) -> set[int]:
        """Products in the baskets of accepted rows (a rejected row's basket sold nothing)."""
        used = set(codes)
        if len(used) == len(self.offsets) - 1:
            return set(self.product_ids)
        offsets, product_ids = self.offsets, self.product_ids
        return {p for code in used for p in product_ids[offsets[code] : offsets[code + 1]]}


class FileTransform:
    """Turns the records of one raw file into chunks of warehouse rows.

    >>> transform = FileTransform(file_id=1, tokeniser=Tokeniser(None))
    >>> chunks = list(transform.chunks(records))        # doctest: +SKIP
    >>> transform.summary.rows_loaded, transform.branches  # doctest: +SKIP
    """

    def __init__(
        self,
        file_id: int,
        tokeniser: Tokeniser,
        chunk_rows: int = 100_000,
        cache: ParseCache | None = None,
        layout: Layout | None = None,
    ) -> None:
        self.file_id = file_id
        self.summary = FileSummary()
        self.branches: dict[int, str] = {}
        self.products: dict[int, v.Item] = {}
        self._tokenise = tokeniser
        self._chunk_rows = chunk_rows
        self._cache = cache or ParseCache()
        self._layout = layout
        self._header = False
        self._header_layout: Layout | None = None
        self._two_decimal_totals = True
        self._totals_seen = 0

    def chunks(self, records: Iterable[Record]) -> Iterator[Chunk]:
        """Yield chunks of at most ``chunk_rows`` records; fills ``summary`` when exhausted.

        A header line whose columns are not the seven known ones makes the file ``not_csv``:
        guessing positions could load a customer name as a branch.
        """
        remaining = iter(records)
        first = next(remaining, None)
        if first is not None:
            self._header = formats.is_header(first)
            if not self._header:
                remaining = itertools.chain([first], remaining)
            elif (header := formats.header_layout(first)) is None:
                self.summary.reason = NOT_CSV
                return
            else:
                self._header_layout = header
        while batch := list(itertools.islice(remaining, self._chunk_rows)):
            yield self.chunk(batch)
        self._finish()

    def _finish(self) -> None:
        summary = self.summary
        if summary.rows_read and self._layout is None:
            summary.reason = NOT_CSV
            summary.rows_read = summary.rows_loaded = summary.rows_rejected = 0
            summary.rejects.clear()
            return
        if self._layout is not None:
            summary.variant = formats.variant_name(
                self._layout, header=self._header, totals_two_decimals=self._two_decimal_totals
            )

    def _detect(self, records: list[Record]) -> None:
        """The layout, from the first complete record (preferring one with a timestamp)."""
        complete = [r for r in records if len(r[1]) == formats.FIELD_COUNT]
        if not complete:
            return
        dated = (r for r in complete if looks_dated(r[1][0]) or self._header)
        self._layout = formats.detect_layout(next(dated, complete[0]), self._header_layout)

    def _note_totals(self, records: list[Record]) -> None:
        """Variant B prints every total with two decimals: judged on the file's first
        ``VARIANT_ROWS`` complete records, whatever the chunk size."""
        if self._layout is None or self._totals_seen >= VARIANT_ROWS:
            return
        total_at, wanted = self._layout.total, VARIANT_ROWS - self._totals_seen
        totals = [fields[total_at] for _, fields in records if len(fields) == formats.FIELD_COUNT]
        self._totals_seen += len(totals[:wanted])
        self._two_decimal_totals = self._two_decimal_totals and all(
            map(two_decimals, totals[:wanted])
        )

    def chunk(self, records: list[Record]) -> Chunk:
        """The rows of some records, checked one by one; the file's layout comes from the
        first records seen (or the ``layout`` given)."""
        if self._layout is None:
            self._detect(records)
        self._note_totals(records)
        layout = self._layout or formats.DMY_LAYOUT
        cache = self._cache
        baskets = _Basket(cache.flat_basket if layout.flat_basket else cache.basket)
        rows, rejects = _Rows(), _Rejects()
        timestamp, known_timestamp = cache.timestamp, cache.timestamp.values.get
        branch, known_branch = cache.branch, cache.branch.values.get
        total_of, known_total = cache.total, cache.total.values.get
        payment_of, known_payment = cache.payment, cache.payment.values.get
        known_basket, tokenise = baskets.codes.get, self._tokenise
        time_at, branch_at, basket_at = layout.timestamp, layout.branch, layout.basket
        total_at, payment_at, card_at = layout.total, layout.payment, layout.card
        add_row = rows.add
        for line_number, fields in records:
            if len(fields) != formats.FIELD_COUNT:
                rejects.add(
                    line_number,
                    v.FIELD_COUNT,
                    f"expected {formats.FIELD_COUNT} fields, found {len(fields)}",
                )
                continue
            ts_raw, branch_raw, basket_raw = fields[time_at], fields[branch_at], fields[basket_at]
            total_raw, payment_raw = fields[total_at], fields[payment_at]
            try:
                occurred_at = known_timestamp(ts_raw)
                if occurred_at is None:
                    occurred_at = timestamp(ts_raw)
                branch_id = known_branch(branch_raw)
                if branch_id is None:
                    branch_id = branch(branch_raw)
                total = known_total(total_raw)
                if total is None:
                    total = total_of(total_raw)
                basket = known_basket(basket_raw)
                if basket is None:
                    basket = baskets.code(basket_raw)
                payment = known_payment(payment_raw)
                if payment is None:
                    payment = payment_of(payment_raw)
                if basket[1] != total:
                    raise v.Rejected(
                        v.TOTAL_MISMATCH,
                        f"items sum to {_pounds(basket[1])}, total is {_pounds(total)}",
                    )
            except v.Rejected as rejected:
                rejects.add(line_number, rejected.reason, rejected.detail)
                continue
            token = tokenise(fields[card_at]) if payment == "CARD" else None
            add_row(line_number, branch_id, occurred_at, payment, total, token, basket[0])
        self._count(rows, rejects)
        self.products.update((k, cache.products[k]) for k in baskets.sold(rows.baskets))
        return Chunk(self.file_id, rows, baskets, rejects)

    def _count(self, rows: "_Rows", rejects: "_Rejects") -> None:
        summary = self.summary
        summary.rows_read += len(rows.lines) + len(rejects.lines)
        summary.rows_loaded += len(rows.lines)
        summary.rows_rejected += len(rejects.lines)
        summary.rejects.update(rejects.reasons)
        summary.branch_ids.update(rows.branch_ids)
        self.branches.update((k, self._cache.branches[k]) for k in summary.branch_ids)
        days = {moment // 86_400 for moment in rows.occurred_at}
        summary.business_dates.update(_EPOCH.date() + timedelta(days=day) for day in days)


def looks_dated(field: str) -> bool:
    """Whether a record's first field starts like a date (a data row, not a title line)."""
    return _LOOKS_DATED.match(field) is not None


def two_decimals(total: str) -> bool:
    """Whether a raw total is printed with two decimals (variant B), unlike C's ``5.2``."""
    return _TWO_DECIMALS.fullmatch(total) is not None


def _epoch_seconds(raw: str) -> int:
    return int((v.parse_timestamp(raw) - _EPOCH).total_seconds())


def _pounds(pennies: int) -> str:
    return f"{pennies // 100}.{pennies % 100:02d}"


@dataclass
class _Rows:
    lines: list[int] = field(default_factory=list)
    branch_ids: list[int] = field(default_factory=list)
    occurred_at: list[int] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)
    baskets: list[int] = field(default_factory=list)

    def add(
        self,
        line: int,
        branch_id: int,
        occurred_at: int,
        payment: str,
        total: int,
        token: str | None,
        basket: int,
    ) -> None:
        self.lines.append(line)
        self.branch_ids.append(branch_id)
        self.occurred_at.append(occurred_at)
        self.payments.append(payment)
        self.totals.append(total)
        self.tokens.append(token)
        self.baskets.append(basket)


@dataclass
class _Rejects:
    lines: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def add(self, line: int, reason: str, detail: str) -> None:
        self.lines.append(line)
        self.reasons.append(reason)
        self.details.append(detail)


def fact_tables(chunks: Sequence[Chunk]) -> FactTables:
    """One Arrow table per fact table from many chunks: a few dozen Arrow calls in all."""
    every = itertools.chain.from_iterable
    counts = [len(chunk.rows.lines) for chunk in chunks]
    file_ids = repeated([chunk.file_id for chunk in chunks], counts, pa.int64())
    lines = pa.array(list(every(chunk.rows.lines for chunk in chunks)), pa.int64())
    occurred_at = pa.array(list(every(c.rows.occurred_at for c in chunks)), pa.int64())
    occurred_at = occurred_at.cast(pa.timestamp("s"))
    transactions = pa.table(
        [
            keys.row_keys(file_ids, lines),
            pa.array(list(every(c.rows.branch_ids for c in chunks)), pa.int64()),
            occurred_at,
            occurred_at.cast(pa.date32()),
            pa.array(list(every(c.rows.payments for c in chunks)), pa.string()),
            tables.money(pa.array(list(every(c.rows.totals for c in chunks)), pa.int64())),
            pa.array(list(every(c.rows.tokens for c in chunks)), pa.string()),
            file_ids,
        ],
        schema=tables.TRANSACTIONS,
    )
    return FactTables(
        transactions,
        _basket_items(chunks, counts, transactions["transaction_id"]),
        _rejected_rows(chunks),
    )


def _basket_items(
    chunks: Sequence[Chunk], counts: list[int], transaction_ids: pa.ChunkedArray
) -> pa.Table:
    """Explode each transaction's basket code into its aggregated line items, column-wise.

    Every chunk numbers its baskets and their items from 0: shift them past the chunks
    before it, then one list ``take`` does every row of every chunk.
    """
    every = itertools.chain.from_iterable
    baskets = [chunk.baskets for chunk in chunks]
    basket_counts = [len(b.offsets) - 1 for b in baskets]
    basket_base = list(itertools.accumulate(basket_counts, initial=0))[:-1]
    item_base = list(itertools.accumulate((len(b.product_ids) for b in baskets), initial=0))[:-1]
    codes = pc.add(
        pa.array(list(every(chunk.rows.baskets for chunk in chunks)), pa.int32()),
        repeated(basket_base, counts, pa.int32()),
    )
    ends = pc.add(
        pa.array(list(every(b.offsets[1:] for b in baskets)), pa.int32()),
        repeated(item_base, basket_counts, pa.int32()),
    )
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), ends])
    item_count = sum(len(b.product_ids) for b in baskets)
    per_basket = pa.ListArray.from_arrays(offsets, pa.array(range(item_count), pa.int32()))
    per_row = per_basket.take(codes)
    items = per_row.flatten()
    return pa.table(
        [
            transaction_ids.combine_chunks().take(pc.list_parent_indices(per_row)),
            pa.array(list(every(b.product_ids for b in baskets)), pa.int64()).take(items),
            tables.money(pa.array(list(every(b.prices for b in baskets)), pa.int64()).take(items)),
            pa.array(list(every(b.quantities for b in baskets)), pa.int32()).take(items),
        ],
        schema=tables.BASKET_ITEMS,
    )


def repeated(values: list[int], counts: list[int], kind: pa.DataType) -> pa.Array:
    """``values[i]`` ``counts[i]`` times over, as one array (cheaply when they are all one)."""
    if len(set(values)) <= 1:
        return pa.repeat(pa.scalar(values[0] if values else 0, kind), sum(counts))
    runs = ([value] * count for value, count in zip(values, counts, strict=True))
    return pa.array(list(itertools.chain.from_iterable(runs)), kind)


def _rejected_rows(chunks: Sequence[Chunk]) -> pa.Table:
    rejects = [chunk.rejects for chunk in chunks if chunk.rejects.lines]
    if not rejects:
        return tables.REJECTED_ROWS.empty_table()
    every = itertools.chain.from_iterable
    file_ids = [chunk.file_id for chunk in chunks if chunk.rejects.lines]
    return pa.table(
        [
            repeated(file_ids, [len(r.lines) for r in rejects], pa.int64()),
            pa.array(list(every(r.lines for r in rejects)), pa.int64()),
            pa.array(list(every(r.reasons for r in rejects)), pa.string()),
            pa.array(list(every(r.details for r in rejects)), pa.string()),
        ],
        schema=tables.REJECTED_ROWS,
    )
