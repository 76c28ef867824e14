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
from dataclasses import dataclass, replace
from typing import TextIO

FIELD_COUNT = 7
"""Fields in every record of every variant."""
_BOM = "\ufeff"
_ISO_TIMESTAMP = re.compile(r"\s*\d{4}-\d{2}-\d{2}[ T]")


@dataclass(frozen=True)
class Layout:
    """Where each field sits in a record of one variant (the name's position is never read)."""

    timestamp: int
    branch: int
    basket: int
    total: int
    payment: int
    card: int
    flat_basket: bool


DMY_LAYOUT = Layout(timestamp=0, branch=1, basket=3, total=4, payment=5, card=6, flat_basket=False)
ISO_LAYOUT = Layout(timestamp=0, branch=1, basket=3, total=5, payment=4, card=6, flat_basket=True)
_HEADER_NAMES = {
    "timestamp": {"timestamp", "date", "datetime", "time", "transactiontime"},
    "branch": {"location", "branch", "branchname", "store", "shop"},
    "name": {"customername", "customer", "name"},
    "basket": {"itemsordered", "items", "basket", "order", "products"},
    "total": {"totalamount", "total", "amount", "price", "totalprice"},
    "payment": {"paymentmethod", "payment", "method", "paymenttype"},
    "card": {"cardnumber", "card", "cardno", "cardnumbers"},
}


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


def _column(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())


def is_header(record: Record) -> bool:
    return _column(record[1][0]) in _HEADER_NAMES["timestamp"]


def header_layout(record: Record) -> Layout | None:
    """Field positions named by a header line, or None if its columns are not ours."""
    columns = [_column(field) for field in record[1]]
    positions = {}
    for role, names in _HEADER_NAMES.items():
        found = [index for index, column in enumerate(columns) if column in names]
        if len(found) != 1:
            return None
        positions[role] = found[0]
    if len(columns) != FIELD_COUNT or len(set(positions.values())) != FIELD_COUNT:
        return None
    del positions["name"]
    return Layout(**positions, flat_basket=False)


def detect_layout(record: Record, header: Layout | None = None) -> Layout:
    """The layout of a file, from its header (if any) and its first data record.

    Variant A (ISO timestamps) puts payment before total and writes flat baskets.
    """
    base = header or DMY_LAYOUT
    iso = bool(_ISO_TIMESTAMP.match(record[1][base.timestamp]))
    if header is None:
        return ISO_LAYOUT if iso else DMY_LAYOUT
    return replace(header, flat_basket=iso)


def variant_name(layout: Layout, *, header: bool, totals_two_decimals: bool) -> str:
    """The DESIGN.md variant letter of a file that has been read whole."""
    if layout.flat_basket:
        return "A"
    if header:
        return "D"
    return "B" if totals_two_decimals else "C"
