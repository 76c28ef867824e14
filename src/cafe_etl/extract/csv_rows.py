"""Records read with Python's csv module: any file it can read, line numbers exact even
where a quoted field spans lines or blank lines sit between records."""

import csv
from collections.abc import Iterator
from typing import TextIO

import pyarrow as pa

from cafe_etl.extract import rows

_BOM = "\ufeff"
FIELD_LIMIT = 16 << 20
"""Characters the csv module reads into one field. Its default, 131,072, would make a long
basket the whole file's fault (the checker rejects such a row instead); a field beyond this
one can only be a quote left open over megabytes of lines, and bounds memory (the file is
then ``not_csv``). Lines themselves are at most 1 MiB (``extract.bounded``). Process-wide."""
csv.field_size_limit(FIELD_LIMIT)
CHUNK_RECORDS = 10_000
"""Records held as Python strings at once (a few MB); Arrow holds the rest."""


def csv_rows(text: TextIO, *, first_line: int = 1, chunk_rows: int = 100_000) -> Iterator[pa.Table]:
    """Tables of at most ``chunk_rows`` records (``extract.rows`` shape) from a text stream
    opened with ``newline=""``; ``first_line`` is the line the stream starts at.

    Raises ``csv.Error`` for what the module cannot read and ``UnicodeDecodeError`` for
    bytes that are not UTF-8: the file, not a row, is then at fault.
    """
    reader = csv.reader(text, strict=False)
    next_line = first_line
    lines: list[int] = []
    spans: list[int] = []
    records: list[list[str]] = []
    for fields in reader:
        if next_line == 1 and fields and fields[0].startswith(_BOM):
            fields[0] = fields[0].removeprefix(_BOM)
        line_number, next_line = next_line, first_line + reader.line_num
        if len(fields) <= 1 and not "".join(fields).strip():
            continue
        lines.append(line_number)
        spans.append(next_line - line_number)
        records.append(fields)
        if len(records) >= min(chunk_rows, CHUNK_RECORDS):
            yield rows.from_records(lines, records, spans)
            lines, spans, records = [], [], []
    if records:
        yield rows.from_records(lines, records, spans)
