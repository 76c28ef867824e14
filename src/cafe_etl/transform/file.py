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
import functools
import io
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from cafe_etl.extract import layout as layouts
from cafe_etl.extract.arrow_rows import arrow_rows
from cafe_etl.extract.bounded import MARKER, BoundedLines
from cafe_etl.extract.csv_rows import csv_rows
from cafe_etl.extract.layout import Layout
from cafe_etl.extract.rows import FIELD_COUNT, FIELDS
from cafe_etl.model import FileBatch, Reason
from cafe_etl.transform.batches import Batcher, FileState
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.check import ROLE_SCHEMA, ROLES
from cafe_etl.transform.redact import Tokeniser

BATCH_ROWS = 100_000


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
    ``cache`` shared across files saves parsing values seen before. The last batch carries
    the file's summary; a file rejected whole (``not_utf8``, ``not_csv``) ends with a batch
    of no rows saying so (``rejected_whole``): drop what its earlier batches held.

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
    buffer = Batcher(tokeniser, cache or ParseCache())
    for file_id, stream in files:
        state = FileState(file_id)
        for part in _records(stream, state, reader, batch_rows):
            buffer.add(state, part)
            if buffer.rows >= batch_rows:
                yield from buffer.flush()
        buffer.finish(state)
    yield from buffer.flush()


def _records(
    stream: BinaryIO, state: FileState, reader: Reader, chunk_rows: int
) -> Iterator[pa.Table]:
    """The file's records in ``ROLE_SCHEMA``; on return its summary holds the file rules'
    verdict (a reason when it is rejected whole, else rows read and variant)."""
    summary = state.summary
    try:
        bounded = BoundedLines(stream)  # memory bounded whatever a line holds
        for number, table in enumerate(reader(io.BufferedReader(bounded), chunk_rows)):
            if number == 0:
                table = _skip_header(table, state)
                if table is None:
                    summary.reason = Reason.NOT_CSV
                    return
            if state.layout is None:
                state.layout = _detect(table, state)
            state.records += table.num_rows
            if table.num_rows:
                yield _roles(table, state, lines_cut=bounded.cut > 0)
    except csv.Error:  # e.g. a field over the csv module's limit
        summary.reason = Reason.NOT_CSV
    except UnicodeDecodeError:
        summary.reason = Reason.NOT_UTF8
    else:
        if state.records and state.layout is None:
            summary.reason = Reason.NOT_CSV  # no line is a record of seven fields


def _skip_header(table: pa.Table, state: FileState) -> pa.Table | None:
    """The records after a header line, if the file has one; None for a header that names
    columns other than the seven known ones. A first record over several lines is data (a
    header's quote left open would hide the lines it took)."""
    if table["span"][0].as_py() > 1:
        return table
    count = table["fields"][0].as_py()
    first = [table[name][0].as_py() for name in FIELDS[:count]]
    if not layouts.is_header(first):
        return table
    state.has_header = True
    state.header = layouts.header_layout(first) if count == FIELD_COUNT else None
    return None if state.header is None else table.slice(1)


def _detect(table: pa.Table, state: FileState) -> Layout | None:
    """The layout from the first complete record, preferring one that looks dated."""
    if table.num_rows and table["fields"][0].as_py() == FIELD_COUNT:
        first = [table[name][0].as_py() for name in FIELDS]
        if state.has_header or layouts.looks_dated(first[0]):  # nearly every file
            return layouts.detect_layout(first, state.header)
    complete = table.filter(pc.equal(table["fields"], FIELD_COUNT))
    if not complete.num_rows:
        return None
    if not state.has_header:
        dated = complete.filter(pc.match_substring_regex(complete["f0"], layouts.LOOKS_DATED))
        complete = dated if dated.num_rows else complete
    record = [complete[name][0].as_py() for name in FIELDS]
    return layouts.detect_layout(record, state.header)


def _roles(table: pa.Table, state: FileState, *, lines_cut: bool) -> pa.Table:
    """The records as ``ROLE_SCHEMA`` columns, by the file's layout (DMY until one is known:
    such rows are all of the wrong length)."""
    place = state.layout or layouts.DMY_LAYOUT
    columns = [table[FIELDS[getattr(place, role)]] for role in ROLES]
    file_ids = pa.repeat(pa.scalar(state.file_id, pa.int64()), table.num_rows)
    return pa.table(
        [
            file_ids,
            table["line"],
            table["span"],
            _swallows(table),
            _counts(table, lines_cut),
            *columns,
        ],
        schema=ROLE_SCHEMA,
    )


def _counts(table: pa.Table, lines_cut: bool) -> pa.Array:
    """Each record's field count; 0 for a line ``BoundedLines`` cut out for its length (looked
    for only once it cut one: a few Arrow calls a file otherwise)."""
    if not lines_cut:
        return table["fields"]
    cut = pc.and_(pc.equal(table["fields"], 1), pc.equal(table["f0"], MARKER))
    if not pc.any(cut).as_py():
        return table["fields"]
    return pc.if_else(cut, pa.scalar(0, pa.int32()), table["fields"])


def _swallows(table: pa.Table) -> pa.Array:
    """Per record: whether a value holds a line starting like a dated record (or one cut out
    for its length), as when a quote left open takes in the lines after it; a name or basket
    over two lines does not. Leading whitespace is whatever ``str.strip`` takes."""
    several = pc.greater(table["span"], 1)
    if not pc.any(several).as_py():
        return pa.repeat(pa.scalar(False), table.num_rows)
    starts = (
        r"[\r\n](?:\x00|[\s\x0b\x1c-\x1f\x85\p{Z}]*" + layouts.DATE_START + ")"
    )  # or a cut line
    found = [pc.match_substring_regex(table[name], starts) for name in FIELDS]
    return pc.and_(several, functools.reduce(pc.or_, found))
