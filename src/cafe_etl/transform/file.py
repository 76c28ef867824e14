"""Raw files in, batches of the contract's tables out: the file rules, and the flow that feeds
the row rules (``check``) many rows at a time.

File rules: a header line is read by its column names (one naming other columns makes the
file ``not_csv``: guessing could load a customer name as a branch); the layout comes from
the header and the first complete record (the first dated one, if any); the variant is B
when the totals of the first ``VARIANT_ROWS`` records all have two decimals; UTF-8 text in
which no line is a seven-field record is ``not_csv``, bytes that are not UTF-8 ``not_utf8``.

Pure: no warehouse, no connection, no environment, no clock.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from cafe_etl import contract
from cafe_etl.extract import layout as layouts
from cafe_etl.extract.arrow_rows import arrow_rows
from cafe_etl.extract.csv_rows import csv_rows
from cafe_etl.extract.layout import Layout
from cafe_etl.extract.rows import FIELD_COUNT, FIELDS
from cafe_etl.model import FileBatch, FileSummary, Reason
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.check import ROLE_SCHEMA, ROLES, Checked, accepted_offsets, check
from cafe_etl.transform.redact import Tokeniser

BATCH_ROWS = 100_000
_TWO_DECIMALS = r"^\s*[0-9]+\.[0-9][0-9]\s*$"


Reader = Callable[[BinaryIO, int], Iterator[pa.Table]]
"""Reads a binary stream into tables of at most N records in the ``extract.rows`` shape."""


def arrow_first(stream: BinaryIO, chunk_rows: int) -> Iterator[pa.Table]:
    """Arrow's parser wherever it reads as the csv module would (nearly every export), the
    csv module for the rest: the default."""
    return arrow_rows(stream, chunk_rows=chunk_rows)


def csv_only(stream: BinaryIO, chunk_rows: int) -> Iterator[pa.Table]:
    """The csv module for every file (slower; to compare the two)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from csv_rows(text, chunk_rows=chunk_rows)
    finally:
        text.detach()  # the stream stays open: its owner closes it


def transform_file(
    stream: BinaryIO,
    file_id: int,
    tokeniser: Tokeniser,
    *,
    cache: ParseCache | None = None,
    batch_rows: int = BATCH_ROWS,
    reader: Reader = arrow_first,
) -> Iterator[FileBatch]:
    """The batches of one raw file, read from an open binary stream.

    ``file_id`` (``keys.file_key`` of its name and checksum) keys its transactions; a
    ``cache`` shared across files saves parsing values seen before.

    >>> with open("leeds_01-01-2020_09-00-00.csv", "rb") as raw:  # doctest: +SKIP
    ...     for batch in transform_file(raw, file_id, Tokeniser(key)):
    ...         write(batch.transactions, batch.basket_items, batch.rejected_rows)
    >>> batch.summary.rows_read, batch.summary.variant                # doctest: +SKIP
    """
    return transform_files([(file_id, stream)], tokeniser, cache=cache,
                           batch_rows=batch_rows, reader=reader)  # fmt: skip


def transform_files(
    files: Iterable[tuple[int, BinaryIO]],
    tokeniser: Tokeniser,
    *,
    cache: ParseCache | None = None,
    batch_rows: int = BATCH_ROWS,
    reader: Reader = arrow_first,
) -> Iterator[FileBatch]:
    """``transform_file`` for many files, their rows checked together ``batch_rows`` at a
    time: a few dozen Arrow calls a batch, which for small files are most of the cost.

    Batches come in file order; each stream is read to its end before the next is taken.
    """
    buffer = _Buffer(tokeniser, cache or ParseCache())
    for file_id, stream in files:
        state = _File(file_id)
        for part in _records(stream, state, reader, batch_rows):
            buffer.add(state, part)
            if buffer.rows >= batch_rows:
                yield from buffer.flush()
        buffer.finish(state)
    yield from buffer.flush()


@dataclass
class _File:
    """What is known of one file as it is read."""

    file_id: int
    summary: FileSummary = field(default_factory=FileSummary)
    header: Layout | None = None
    layout: Layout | None = None
    has_header: bool = False
    two_decimals: bool = True
    totals_seen: int = 0


def _records(stream: BinaryIO, state: _File, reader: Reader, chunk_rows: int) -> Iterator[pa.Table]:
    """The file's records in ``ROLE_SCHEMA``; on return its summary holds the file rules'
    verdict (a reason when it is rejected whole, else rows read and variant)."""
    summary = state.summary
    try:
        for number, table in enumerate(reader(stream, chunk_rows)):
            if number == 0:
                table = _skip_header(table, state)
                if table is None:
                    summary.reason = Reason.NOT_CSV
                    return
            if state.layout is None:
                state.layout = _detect(table, state)
            summary.rows_read += table.num_rows
            if table.num_rows:
                yield _roles(table, state)
    except csv.Error:  # e.g. a field over the csv module's limit
        summary.reason = Reason.NOT_CSV
    except UnicodeDecodeError:
        summary.reason = Reason.NOT_UTF8
    else:
        if summary.rows_read and state.layout is None:
            summary.reason = Reason.NOT_CSV  # no line is a record of seven fields
        elif state.layout is not None:
            summary.variant = layouts.variant_name(state.layout, header=state.has_header,
                                                   totals_two_decimals=state.two_decimals)  # fmt: skip


def _skip_header(table: pa.Table, state: _File) -> pa.Table | None:
    """The records after a header line, if the file has one; None for a header that names
    columns other than the seven known ones."""
    count = table["fields"][0].as_py()
    first = [table[name][0].as_py() for name in FIELDS[:count]]
    if not layouts.is_header(first):
        return table
    state.has_header = True
    state.header = layouts.header_layout(first) if count == FIELD_COUNT else None
    return None if state.header is None else table.slice(1)


def _detect(table: pa.Table, state: _File) -> Layout | None:
    """The layout from the first complete record, preferring one that looks dated."""
    complete = table.filter(pc.equal(table["fields"], FIELD_COUNT))
    if not complete.num_rows:
        return None
    if not state.has_header:
        dated = complete.filter(pc.match_substring_regex(complete["f0"], layouts.LOOKS_DATED))
        complete = dated if dated.num_rows else complete
    record = [complete[name][0].as_py() for name in FIELDS]
    return layouts.detect_layout(record, state.header)


def _roles(table: pa.Table, state: _File) -> pa.Table:
    """The records as ``ROLE_SCHEMA`` columns, by the file's layout (DMY until one is known:
    such rows are all of the wrong length); notes the totals the variant is judged on."""
    place = state.layout or layouts.DMY_LAYOUT
    columns = [table[FIELDS[getattr(place, role)]] for role in ROLES]
    if state.layout is not None and state.totals_seen < layouts.VARIANT_ROWS:
        complete = pc.equal(table["fields"], FIELD_COUNT)
        totals = columns[ROLES.index("total")].filter(complete)
        head = totals.slice(0, layouts.VARIANT_ROWS - state.totals_seen)
        state.totals_seen += len(head)
        if state.two_decimals and len(head):
            state.two_decimals = pc.all(pc.match_substring_regex(head, _TWO_DECIMALS)).as_py()
    file_ids = pa.repeat(pa.scalar(state.file_id, pa.int64()), table.num_rows)
    return pa.table([file_ids, table["line"], table["fields"], *columns], schema=ROLE_SCHEMA)


@dataclass
class _Part:
    """Rows of one file waiting to be checked (none: the file's end)."""

    state: _File
    table: pa.Table | None
    flat: bool
    last: bool = False


class _Buffer:
    """Rows of one or more files, checked together, handed out again file by file."""

    def __init__(self, tokeniser: Tokeniser, cache: ParseCache) -> None:
        self._tokeniser = tokeniser
        self._cache = cache
        self._parts: list[_Part] = []
        self.rows = 0

    def add(self, state: _File, table: pa.Table) -> None:
        flat = state.layout is not None and state.layout.flat_basket
        previous = self._parts[-1] if self._parts else None
        same_file = previous is not None and previous.state is state and previous.flat == flat
        if same_file and previous.table is not None:
            previous.table = pa.concat_tables([previous.table, table])
        else:
            self._parts.append(_Part(state, table, flat))
        self.rows += table.num_rows

    def finish(self, state: _File) -> None:
        """The file is read whole: its last part (or an empty one) ends it."""
        if state.summary.reason:  # rejected whole: it counts no rows
            state.summary = FileSummary(reason=state.summary.reason)
            self._parts = [part for part in self._parts if part.state is not state]
            self.rows = sum(part.table.num_rows for part in self._parts if part.table is not None)
        previous = self._parts[-1] if self._parts else None
        if previous and previous.state is state:
            previous.last = True
        else:
            self._parts.append(_Part(state, None, False, last=True))

    def flush(self) -> Iterator[FileBatch]:
        parts, self._parts, self.rows = self._parts, [], 0
        slices: dict[int, tuple[pa.Table, pa.Table, pa.Table]] = {}
        for flat in (False, True):
            group = [i for i, p in enumerate(parts) if p.table is not None and p.flat == flat]
            if group:
                slices.update(zip(group, self._check([parts[i] for i in group], flat), strict=True))
        for index, part in enumerate(parts):
            found = slices.get(index)
            yield self._batch(part, *found) if found else self._empty(part)

    def _check(self, parts: list[_Part], flat: bool) -> Iterator[tuple[pa.Table, ...]]:
        rows = pa.concat_tables(part.table for part in parts if part.table is not None)
        checked = check(rows, flat_baskets=flat, cache=self._cache, tokenise=self._tokeniser)
        bounds = [0]
        for part in parts:
            bounds.append(bounds[-1] + (part.table.num_rows if part.table is not None else 0))
        starts = list(accepted_offsets(checked, bounds))
        for begin, end in zip(starts, starts[1:], strict=False):
            yield _slices(checked, begin, end)

    def _batch(
        self, part: _Part, transactions: pa.Table, items: pa.Table, rejected: pa.Table
    ) -> FileBatch:
        summary = part.state.summary
        summary.rows_loaded += transactions.num_rows
        summary.rows_rejected += rejected.num_rows
        if rejected.num_rows:
            summary.rejects.update(rejected["reason"].to_pylist())
        branch_ids = pc.unique(transactions["branch_id"]).to_pylist()
        summary.branch_ids.update(branch_ids)
        summary.business_dates.update(_dates(transactions))
        products = pc.unique(items["product_id"]).to_pylist()
        cache = self._cache
        return FileBatch(
            part.state.file_id, transactions, items, rejected,
            {k: cache.branches[k] for k in branch_ids},
            {k: cache.products[k] for k in products},
            summary, part.last,
        )  # fmt: skip

    @staticmethod
    def _empty(part: _Part) -> FileBatch:
        empty = contract.TRANSACTIONS.empty_table()
        return FileBatch(part.state.file_id, empty, contract.BASKET_ITEMS.empty_table(),
                         contract.REJECTED_ROWS.empty_table(), {}, {},
                         part.state.summary, part.last)  # fmt: skip


def _slices(
    checked: Checked, begin: tuple[int, int, int], end: tuple[int, int, int]
) -> tuple[pa.Table, pa.Table, pa.Table]:
    tables = (checked.transactions, checked.basket_items, checked.rejected_rows)
    return tuple(  # type: ignore[return-value]
        table.slice(start, stop - start)
        for table, start, stop in zip(tables, begin, end, strict=True)
    )


def _dates(transactions: pa.Table) -> list[date]:
    return pc.unique(transactions["business_date"]).to_pylist()  # type: ignore[no-any-return]
