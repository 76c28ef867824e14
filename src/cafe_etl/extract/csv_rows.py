"""Records read with Python's csv module: any file it can read, line numbers exact even
where a quoted field spans lines or blank lines sit between records."""

import csv
from collections.abc import Iterator
from typing import TextIO

import pyarrow as pa

from cafe_etl.extract import rows

_BOM = "\ufeff"


def csv_rows(text: TextIO, *, first_line: int = 1, chunk_rows: int = 100_000) -> Iterator[pa.Table]:
    """Tables of at most ``chunk_rows`` records (``extract.rows`` shape) from a text stream
    opened with ``newline=""``; ``first_line`` is the line the stream starts at.

    Raises ``csv.Error`` for what the module cannot read and ``UnicodeDecodeError`` for
    bytes that are not UTF-8: the file, not a row, is then at fault.
    """
    reader = csv.reader(text, strict=False)
    next_line = first_line
    lines: list[int] = []
    records: list[list[str]] = []
    for fields in reader:
        if next_line == 1 and fields and fields[0].startswith(_BOM):
            fields[0] = fields[0].removeprefix(_BOM)
        line_number, next_line = next_line, first_line + reader.line_num
        if len(fields) <= 1 and not "".join(fields).strip():
            continue
        lines.append(line_number)
        records.append(fields)
        if len(records) >= chunk_rows:
            yield rows.from_records(lines, records)
            lines, records = [], []
    if records:
        yield rows.from_records(lines, records)
