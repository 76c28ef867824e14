"""The raw till-export variants A-D: record reading and per-file layout detection.

Every variant is comma-separated UTF-8 with seven fields a record. They differ in the
timestamp, the position of payment and total, and the basket notation:

- A (Feb 2021): ``2021-02-23 09:01:45``, payment before total, flat ``size,name,price``
  triples, card ``"visa16,4924515776335673"`` or ``None``, CRLF.
- B (Mar 2021): ``23/03/2021 08:00``, total before payment, ``Regular Latte - 2.15, ...``,
  totals always with two decimals.
- C (2021 on): as B, totals printed like ``5.2``.
- D (2025): as C with a header line.
"""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

FIELD_COUNT = 7
_BOM = "\ufeff"
_HEADER_FIRST_FIELDS = {"timestamp", "date", "datetime", "date_time", "time"}
_ISO_TIMESTAMP = re.compile(r"\s*\d{4}-\d{2}-\d{2}[ T]")


@dataclass(frozen=True)
class Layout:
    """Where each field sits in a record of one variant."""

    payment: int
    total: int
    flat_basket: bool


DMY_LAYOUT = Layout(payment=5, total=4, flat_basket=False)
ISO_LAYOUT = Layout(payment=4, total=5, flat_basket=True)
TIMESTAMP, BRANCH, BASKET, CARD = 0, 1, 3, 6


Record = tuple[int, list[str]]
"""A record's 1-based starting line number and its raw fields."""


def read_records(text: TextIO) -> Iterator[Record]:
    """Yield every record of a text stream opened with ``newline=""``.

    Blank and whitespace-only lines are skipped; the line number is the 1-based physical
    line on which the record starts, so a quoted field spanning lines keeps its start.
    """
    reader = csv.reader(text, strict=False)
    next_line = 1
    for fields in reader:
        if next_line == 1 and fields and fields[0].startswith(_BOM):
            fields[0] = fields[0].removeprefix(_BOM)
        line_number, next_line = next_line, reader.line_num + 1
        if len(fields) <= 1 and not "".join(fields).strip():
            continue
        yield line_number, fields


def is_header(record: Record) -> bool:
    return record[1][0].strip().lower() in _HEADER_FIRST_FIELDS


def detect_layout(record: Record) -> Layout:
    """The layout of a file, judged from its first data record."""
    return ISO_LAYOUT if _ISO_TIMESTAMP.match(record[1][TIMESTAMP]) else DMY_LAYOUT


def variant_name(layout: Layout, *, header: bool, totals_two_decimals: bool) -> str:
    """The DESIGN.md variant letter of a file that has been read whole."""
    if layout is ISO_LAYOUT:
        return "A"
    if header:
        return "D"
    return "B" if totals_two_decimals else "C"
