"""The fast path: many files' rows checked and normalised at once, column by column, in Arrow.

Arrow's CSV reader parses each file; ``ColumnarBatch`` then turns the rows of many files into
fact tables with a few dozen vectorised calls, looking each *distinct* raw value up once in
the run's ``ParseCache`` (a day's export repeats its timestamps, totals and items thousands
of times). It takes a file only where Arrow reads exactly what the row reader
(``formats.read_records`` + ``FileTransform``) reads: seven fields a record, one record a
physical line, a header (if any) naming our columns, variants B-D. Any other file is handed
back to the row reader whole. Any row that is not plainly good (a value never seen, or
rejected; a basket that does not add up) goes through ``FileTransform`` itself, so reject
reasons, details and line numbers are the row reader's, whichever path a file takes.
"""

import contextlib
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cafe_etl import formats, keys, tables
from cafe_etl.formats import Layout
from cafe_etl.transform import validate as v
from cafe_etl.transform.normalise import (
    VARIANT_ROWS,
    FactTables,
    FileSummary,
    FileTransform,
    Memo,
    ParseCache,
    T,
    looks_dated,
    repeated,
    two_decimals,
)
from cafe_etl.transform.redact import Tokeniser

if TYPE_CHECKING:
    from cafe_etl.warehouse.base import Loader

_RAW = [f"field{i}" for i in range(formats.FIELD_COUNT)]
_ROLES = ("timestamp", "branch", "basket", "total", "payment", "card")
_READ = pcsv.ReadOptions(column_names=_RAW, use_threads=False, block_size=1 << 20)
"""1 MiB blocks: the reader holds a few blocks and their parse buffers (16 MiB ones cost 330 MB)."""
_CONVERT = pcsv.ConvertOptions(
    column_types=dict.fromkeys(_RAW, pa.string()),
    strings_can_be_null=False,
    quoted_strings_can_be_null=False,
)


@dataclass
class _File:
    """What the batch knows of one file it has taken."""

    layout: Layout
    header: bool
    summary: FileSummary = field(default_factory=FileSummary)
    sent: bool = False
    """Whether rows of the file were already turned into fact rows for the loader."""
    two_decimals: bool = True


@dataclass(frozen=True)
class _Part:
    """Consecutive rows of one file: ``table`` has the ``_ROLES`` columns, raw strings."""

    file_id: int
    first_row: int
    """Data rows of the file before this part (its line is this + 1, + 1 after a header)."""
    table: pa.Table


class ColumnarBatch:
    """Files of one transaction read by Arrow; their rows go to ``loader`` many at a time.

    >>> batch = ColumnarBatch(loader, tokeniser, cache)      # doctest: +SKIP
    >>> batch.read(file_id, stream)   # False: not taken, read it with FileTransform
    >>> summaries = batch.finish()    # file_id -> FileSummary, every row sent to the loader
    """

    def __init__(
        self, loader: "Loader", tokeniser: Tokeniser, cache: ParseCache, batch_rows: int = 100_000
    ) -> None:
        self._loader = loader
        self._tokenise = tokeniser
        self._cache = cache
        self._batch_rows = batch_rows
        self._files: dict[int, _File] = {}
        self._parts: list[_Part] = []
        self._rows = 0

    def rows_read(self, file_id: int) -> int:
        return self._files[file_id].summary.rows_read

    def read(self, file_id: int, stream: BinaryIO) -> bool:
        """Take a whole file; False if it is not one Arrow reads as the row reader does.

        A file given back leaves no fact rows behind: rows of it already sent are removed
        again (branches and products they named stay; the row reader names the same ones).
        """
        source = _RawFile(stream)
        taken = self._read(file_id, source)
        known = self._files.get(file_id)
        if taken and known and source.one_record_a_line(known.summary.rows_read + known.header):
            return True
        self._discard(file_id)  # e.g. a blank line between rows, a value over two lines
        return False

    def finish(self) -> dict[int, FileSummary]:
        """Send every row still held to the loader; each taken file's summary."""
        self._send()
        summaries = {}
        for file_id, state in self._files.items():
            state.summary.variant = formats.variant_name(
                state.layout, header=state.header, totals_two_decimals=state.two_decimals
            )
            summaries[file_id] = state.summary
        self._files = {}
        return summaries

    def _read(self, file_id: int, source: "_RawFile") -> bool:
        first_row = 0
        for batch in source.batches():
            if batch is None:
                return False
            table = pa.Table.from_batches([batch])
            limit = csv.field_size_limit()
            if source.size > limit and _longest_field(table) > limit:
                return False  # the row reader refuses such a file: let it say so
            if file_id not in self._files:
                if self._start(file_id, table) is None:
                    return False
                table = table.slice(int(self._files[file_id].header))
            state = self._files[file_id]
            if table.num_rows:
                roles = table.select([_RAW[getattr(state.layout, role)] for role in _ROLES])
                self._parts.append(_Part(file_id, first_row, roles.rename_columns(list(_ROLES))))
                self._rows += table.num_rows
                first_row += table.num_rows
                state.summary.rows_read = first_row
            if self._rows >= self._batch_rows:
                self._send()
        return first_row > 0  # a file of no rows: the row reader's summary

    def _start(self, file_id: int, table: pa.Table) -> _File | None:
        """The file's layout from its first records, as ``FileTransform`` decides it, or None
        where the row reader must decide (no data record first, variant A's flat baskets)."""
        first = [[row[name] for name in _RAW] for row in table.slice(0, 2).to_pylist()]
        header = bool(first) and formats.is_header((1, first[0]))
        data = first[1:] if header else first
        if not data or not (header or looks_dated(data[0][0])):
            return None
        named = formats.header_layout((1, first[0])) if header else None
        if header and named is None:
            return None
        layout = formats.detect_layout((1 + header, data[0]), named)
        if layout.flat_basket:
            return None
        self._files[file_id] = state = _File(layout, header)
        return state

    def _discard(self, file_id: int) -> None:
        state = self._files.pop(file_id, None)
        self._parts = [part for part in self._parts if part.file_id != file_id]
        self._rows = sum(part.table.num_rows for part in self._parts)
        if state is not None and state.sent:
            self._loader.remove_file(file_id)

    def _send(self) -> None:
        """Turn every part held into fact rows for the loader."""
        if not self._parts:
            return
        parts, self._parts, self._rows = self._parts, [], 0
        facts, suspects = self._facts(parts)
        self._loader.append_facts(facts)
        for file_id, rows in suspects.items():
            self._check_one_by_one(file_id, rows)
        for part in parts:
            self._files[part.file_id].sent = True

    def _facts(self, parts: list[_Part]) -> tuple[FactTables, dict[int, list[formats.Record]]]:
        cache, counts = self._cache, [part.table.num_rows for part in parts]
        table = pa.concat_tables(part.table for part in parts)
        raw = {role: table.column(role).combine_chunks() for role in _ROLES}
        file_ids = repeated([part.file_id for part in parts], counts, pa.int64())
        first_lines = [p.first_row + 1 + self._files[p.file_id].header for p in parts]
        lines = pa.concat_arrays(
            [
                pa.array(range(first, first + n), pa.int64())
                for first, n in zip(first_lines, counts, strict=True)
            ]
        )
        occurred_at = _lookup(raw["timestamp"], cache.timestamp, pa.int64())
        branch_ids = _lookup(raw["branch"], cache.branch, pa.int64())
        totals = _lookup(raw["total"], cache.total, pa.int64())
        payments = _lookup(raw["payment"], cache.payment, pa.string())
        items = _Items(raw["basket"], cache)
        good = pc.and_kleene(
            pc.and_kleene(pc.is_valid(occurred_at), pc.is_valid(branch_ids)),
            pc.and_kleene(pc.is_valid(payments), pc.equal(items.sums, totals)),
        )
        good = pc.fill_null(pc.and_(good, items.all_known), False)
        self._note_variants(parts, raw["total"])
        suspects = self._suspects(pc.invert(good), file_ids, lines, raw)
        when = occurred_at.filter(good).cast(pa.timestamp("s"))
        methods = payments.filter(good)
        cards = pc.if_else(
            pc.equal(methods, "CARD"), raw["card"].filter(good), pa.scalar(None, pa.string())
        )
        transaction_ids = keys.row_keys(file_ids, lines)
        transactions = pa.table(
            [
                transaction_ids.filter(good),
                branch_ids.filter(good),
                when,
                when.cast(pa.date32()),
                methods,
                tables.money(totals.filter(good)),
                _tokens(self._tokenise, cards),
                file_ids.filter(good),
            ],
            schema=tables.TRANSACTIONS,
        )
        basket_items = items.table(good, transaction_ids)
        self._note_accepted(transactions, basket_items)
        return FactTables(transactions, basket_items, tables.REJECTED_ROWS.empty_table()), suspects

    def _note_variants(self, parts: list[_Part], totals: pa.Array) -> None:
        """Clear ``two_decimals`` of files whose first rows hold a total like ``5.2``."""
        offset = 0
        for part in parts:
            rows = part.table.num_rows
            if part.first_row < VARIANT_ROWS:
                head = totals.slice(offset, min(rows, VARIANT_ROWS - part.first_row))
                state = self._files[part.file_id]
                state.two_decimals = state.two_decimals and all(
                    map(two_decimals, pc.unique(head).to_pylist())
                )
            offset += rows

    def _suspects(
        self, bad: pa.Array, file_ids: pa.Array, lines: pa.Array, raw: dict[str, pa.Array]
    ) -> dict[int, list[formats.Record]]:
        """The rows not plainly good, as records in their file's layout, by file."""
        rows = pa.table({"file_id": file_ids, "line": lines, **{r: raw[r] for r in _ROLES}}).filter(
            bad
        )
        found: dict[int, list[formats.Record]] = {}
        for row in rows.to_pylist():
            layout = self._files[row["file_id"]].layout
            fields = [""] * formats.FIELD_COUNT  # the name is never read
            for role in _ROLES:
                fields[getattr(layout, role)] = row[role]
            found.setdefault(row["file_id"], []).append((row["line"], fields))
        return found

    def _check_one_by_one(self, file_id: int, records: list[formats.Record]) -> None:
        state = self._files[file_id]
        transform = FileTransform(file_id, self._tokenise, cache=self._cache, layout=state.layout)
        self._loader.append(transform.chunk(records))
        checked, summary = transform.summary, state.summary
        summary.rows_loaded += checked.rows_loaded
        summary.rows_rejected += checked.rows_rejected
        summary.rejects.update(checked.rejects)
        summary.branch_ids.update(checked.branch_ids)
        summary.business_dates.update(checked.business_dates)
        self._loader.add_branches(transform.branches)
        self._loader.add_products(transform.products)

    def _note_accepted(self, transactions: pa.Table, basket_items: pa.Table) -> None:
        """Each file's loaded rows, branches and days; the branches and products sold."""
        per_file = transactions.group_by(
            ["file_id", "branch_id", "business_date"], use_threads=False
        )
        for group in per_file.aggregate([([], "count_all")]).to_pylist():
            summary = self._files[group["file_id"]].summary
            summary.rows_loaded += group["count_all"]
            summary.branch_ids.add(group["branch_id"])
            summary.business_dates.add(group["business_date"])
        cache = self._cache
        branches = pc.unique(transactions["branch_id"]).to_pylist()
        self._loader.add_branches({k: cache.branches[k] for k in branches})
        products = pc.unique(basket_items["product_id"]).to_pylist()
        self._loader.add_products({k: cache.products[k] for k in products})


class _Items:
    """The baskets of variants B-D split into items, each distinct item parsed once per run.

    Items parsing to the same (product, unit price) share a ``kind`` number, so counting a
    basket's repeats is counting one integer key per item: ``row * kinds + kind``.
    """

    def __init__(self, baskets: pa.Array, cache: ParseCache) -> None:
        self.per_row = pc.split_pattern(baskets, ",")
        items = pc.dictionary_encode(self.per_row.flatten())
        self.kinds: dict[tuple[int, int], int] = {}
        kind_of_item: list[int | None] = []
        for raw in items.dictionary.to_pylist():
            try:
                parsed = cache.item(raw)
            except v.Rejected:
                kind_of_item.append(None)
            else:
                kind_of_item.append(self.kinds.setdefault(parsed, len(self.kinds)))
        self.kind = pa.array(kind_of_item, pa.int64()).take(items.indices)
        product_ids, prices = zip(*self.kinds, strict=True) if self.kinds else ((), ())
        self.product_ids = pa.array(product_ids, pa.int64())
        self.prices = pa.array(prices, pa.int64())
        offsets = self.per_row.offsets
        self.sums = _per_row(pc.fill_null(self.prices.take(self.kind), 0), offsets)
        unknown = pc.cast(pc.is_null(self.kind), pa.int64())
        self.all_known = pc.equal(_per_row(unknown, offsets), 0)

    def table(self, good: pa.Array, transaction_ids: pa.Array) -> pa.Table:
        """Basket items of the good rows, one row per distinct (product, unit price) each."""
        rows = pc.list_parent_indices(self.per_row).cast(pa.int64())
        keep = good.take(rows)
        width = pa.scalar(max(len(self.kinds), 1), pa.int64())
        counted = pc.value_counts(
            pc.add(pc.multiply(rows.filter(keep), width), self.kind.filter(keep))
        )
        found = counted.field("values")
        row = pc.divide(found, width)  # integer division: both are integers
        kind = pc.subtract(found, pc.multiply(row, width))
        return pa.table(
            [
                transaction_ids.take(row),
                self.product_ids.take(kind),
                tables.money(self.prices.take(kind)),
                counted.field("counts").cast(pa.int32()),
            ],
            schema=tables.BASKET_ITEMS,
        )


def _longest_field(table: pa.Table) -> int:
    """Bytes of the longest value in a batch (the row reader's limit counts characters)."""
    lengths = (pc.max(pc.binary_length(column)).as_py() or 0 for column in table.columns)
    return max(lengths, default=0)


def _tokens(tokenise: Tokeniser, cards: pa.Array) -> pa.Array:
    """``tokenise`` of each card field (null stays null). Fields of 12-19 digits and nothing
    else, nearly all of them, are hashed straight from their bytes."""
    tokens = pa.nulls(len(cards), pa.string())
    if not tokenise.enabled:
        return tokens
    plain = pc.fill_null(pc.match_substring_regex(cards, "^[0-9]{12,19}$"), False)
    digits = cards.filter(plain).cast(pa.binary()).to_pylist()
    tokens = pc.replace_with_mask(tokens, plain, pa.array(tokenise.of_digits(digits), pa.string()))
    other = pc.and_(pc.is_valid(cards), pc.invert(plain))
    if pc.any(other).as_py():
        others = [tokenise(card) for card in cards.filter(other).to_pylist()]
        tokens = pc.replace_with_mask(tokens, other, pa.array(others, pa.string()))
    return tokens


def _per_row(values: pa.Array, offsets: pa.Array) -> pa.Array:
    """Sums of ``values`` over each list's slice ``offsets[i]:offsets[i+1]``."""
    running = pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(values)])
    return pc.subtract(running.take(offsets[1:]), running.take(offsets[:-1]))


def _lookup(column: pa.Array, memo: Memo[T], kind: pa.DataType) -> pa.Array:
    """Each row's parsed value (null where rejected), parsing each distinct value once."""
    encoded = pc.dictionary_encode(column)
    known, values = memo.values.get, []
    for raw in encoded.dictionary.to_pylist():
        value = known(raw)
        if value is None:
            with contextlib.suppress(v.Rejected):
                value = memo(raw)
        values.append(value)
    return pa.array(values, kind).take(encoded.indices)


class _RawFile:
    """A raw file as Arrow reads it, counting its physical lines as Python's csv does
    (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends one; the last may have no ending) and the
    whitespace-only lines Arrow skips (the row reader skips them too)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._endings = 0
        self._after_cr = False
        self._last = b"\n"
        self._blank_rows: list[int] = []
        self.size = 0
        """Bytes read so far."""
        self.closed = False

    def batches(self) -> Iterator[pa.RecordBatch | None]:
        """Arrow's record batches, then None if Arrow cannot read the rest as seven string
        fields a record (e.g. a record of six fields, bytes not UTF-8, no bytes at all).

        Arrow's messages quote the row: they are never logged. Only reading is guarded here,
        so an error while turning rows already read into facts is never taken for a bad file.
        """
        parse = pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=self._skip_blank)
        try:
            reader = pcsv.open_csv(self, _READ, parse, _CONVERT)
            while True:
                try:
                    yield reader.read_next_batch()
                except StopIteration:
                    return
        except pa.ArrowInvalid:
            yield None

    def one_record_a_line(self, records: int) -> bool:
        """Whether each record read was one physical line, and the whitespace-only lines
        skipped all came after the last of them (so line numbers run on unbroken)."""
        lines = self._endings + (self._last not in b"\r\n")
        skipped = self._blank_rows
        return lines == records + len(skipped) and all(row > records for row in skipped)

    def _skip_blank(self, row: pcsv.InvalidRow) -> str:
        if row.text.strip():
            return "error"
        self._blank_rows.append(row.number)  # the record count so far: one a line, if so
        return "skip"

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.size += len(data)
        if data:
            crlf = data.count(b"\r\n") + (self._after_cr and data[:1] == b"\n")
            self._endings += data.count(b"\n") + data.count(b"\r") - crlf
            self._after_cr = data[-1:] == b"\r"
            self._last = data[-1:]
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True
