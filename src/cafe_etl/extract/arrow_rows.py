"""Records read with Arrow's CSV parser: the fast path for plain files, the csv module for
the rest of a file from the first piece Arrow cannot read as the csv module would.

The stream is cut into pieces of about 1 MiB that end at a line ending. Arrow parses each
piece; it is taken only if every record in it is one physical line of seven fields, blank
lines only at its end, and no value holds a line ending (a quote left open at the cut). Then
line numbers run on from the piece before, exactly as the csv module counts them. Arrow's
messages quote the row: they are never logged.
"""

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pcsv

from cafe_etl.extract import rows
from cafe_etl.extract.csv_rows import csv_rows

_BOM = b"\xef\xbb\xbf"
PIECE_BYTES = 1 << 20
"""Arrow holds a piece and its parse buffers at once: larger pieces raise peak memory."""
_READ = pcsv.ReadOptions(column_names=list(rows.FIELDS), use_threads=False)
_CONVERT = pcsv.ConvertOptions(
    column_types=dict.fromkeys(rows.FIELDS, pa.string()),
    strings_can_be_null=False,
    quoted_strings_can_be_null=False,
)


def arrow_rows(
    stream: BinaryIO,
    *,
    chunk_rows: int = 100_000,
    piece_bytes: int = PIECE_BYTES,
    fallback: Callable[..., Iterator[pa.Table]] = csv_rows,
) -> Iterator[pa.Table]:
    """Tables in the ``extract.rows`` shape; raises as ``csv_rows`` (the ``fallback``) does
    where it takes over."""
    line = 1
    pieces = _Pieces(stream, piece_bytes)
    for piece, final in pieces:
        lines = _lines(piece)
        table = None if _stray_bom(piece, line) else _parse(piece, lines, final)
        if table is None:
            rest = _Chain([piece, *pieces.unread()], stream)
            encoding = "utf-8-sig" if line == 1 else "utf-8"
            text = io.TextIOWrapper(io.BufferedReader(rest), encoding=encoding, newline="")
            yield from fallback(text, first_line=line, chunk_rows=chunk_rows)
            return
        if table.num_rows:
            yield rows.from_fields(line, table)
        line += lines


class _Pieces:
    """Pieces of a stream ending at a line ending (the last may not), each with whether it is
    the last; ``unread()``: what was read past the piece last given."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self._stream = stream
        self._size = size
        self._rest = b""
        self._ahead = b""

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        held: list[bytes] = []  # blocks of a line longer than a piece, joined once it ends
        block = self._stream.read(self._size)
        while block:
            self._ahead = self._stream.read(self._size)  # so the last piece is known as such
            if self._ahead and _cut(block) == 0:
                held.append(block)
                block, self._ahead = self._ahead, b""
                continue
            data = b"".join([self._rest, *held, block])
            held = []
            cut = _cut(data) if self._ahead else len(data)
            self._rest = data[cut:]
            if cut:
                yield data[:cut], not self._ahead
            block, self._ahead = self._ahead, b""

    def unread(self) -> tuple[bytes, bytes]:
        return self._rest, self._ahead


def _cut(data: bytes) -> int:
    """Just past the last line ending (not between the CR and LF of a CRLF), or 0."""
    return max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1


def _parse(piece: bytes, lines: int, final: bool) -> pa.Table | None:
    """The piece's records as seven string columns, or None where the csv module must read."""
    if not piece.isascii() and not _utf8(piece):
        return None  # Arrow's row handler cannot take such text: the csv module rejects it
    blank_rows: list[int] = []

    def skip_blank(row: pcsv.InvalidRow) -> str:
        if row.text.strip():
            return "error"
        blank_rows.append(row.number)
        return "skip"

    options = pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip_blank)
    try:
        table = pcsv.read_csv(pa.py_buffer(piece), _READ, options, _CONVERT)
    except pa.ArrowInvalid:  # a record of another length, bytes not UTF-8
        return None
    records = table.num_rows
    one_a_line = lines == records + len(blank_rows)
    if not one_a_line or any(row <= records for row in blank_rows):
        return None  # a blank line between records, a quoted value over two lines
    if records and not final and _open_at_end(table):
        return None
    return table


def _stray_bom(piece: bytes, line: int) -> bool:
    """Whether a piece starts with a byte-order mark Arrow would drop but the csv module
    keeps: any after the file's first line, or a second one at its start."""
    return piece.startswith(_BOM * 2 if line == 1 else _BOM)


def _utf8(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _lines(piece: bytes) -> int:
    """Physical lines as the csv module counts them: ``\\n``, ``\\r\\n`` or a lone ``\\r``
    ends one; the last may have no ending."""
    lf, cr = piece.count(b"\n"), piece.count(b"\r")
    endings = lf + cr - (piece.count(b"\r\n") if lf and cr else 0)  # CRLF is one ending
    return endings + (piece[-1:] not in (b"\n", b"\r"))


def _open_at_end(table: pa.Table) -> bool:
    """Whether the last record holds a line ending: a quote the cut left open."""
    last = table.slice(table.num_rows - 1).to_pylist()[0].values()
    return any("\n" in value or "\r" in value for value in last)


class _Chain(io.RawIOBase):
    """Bytes already read, then the rest of the stream."""

    def __init__(self, read: list[bytes], stream: BinaryIO) -> None:
        self._parts = [memoryview(part) for part in read if part]
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._parts:
            data = self._stream.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        part = self._parts[0]
        size = min(len(part), len(buffer))
        buffer[:size] = part[:size]
        if size == len(part):
            self._parts.pop(0)
        else:
            self._parts[0] = part[size:]  # a view: no copy of what is left
        return size
