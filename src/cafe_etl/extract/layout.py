"""The raw till-export variants A-D: where each field sits, detected per file.

Every variant is comma-separated UTF-8 with seven fields a record. They differ in the
timestamp, the position of payment and total, and the basket notation:

- A (Feb 2021): ``2021-02-23 09:01:45``, payment before total, flat ``size,name,price``
  triples, card ``"visa16,4924515776335673"`` or ``None``, CRLF.
- B (Mar 2021): ``23/03/2021 08:00``, total before payment, ``Regular Latte - 2.15, ...``,
  totals always with two decimals.
- C (2021 on): as B, totals printed like ``5.2``.
- D (2025): as C with a header line.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cafe_etl.extract.rows import FIELD_COUNT

_ISO_TIMESTAMP = re.compile(r"\s*\d{4}-\d{2}-\d{2}[ T]")
DATE_START = r"[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}"
LOOKS_DATED = r"^\s*" + DATE_START
"""A record's first field starting like a date: a data row, not a title line."""
TWO_DECIMALS = r"^\s*[0-9]+\.[0-9][0-9]\s*$"
"""A total printed with two decimals (variant B), unlike C's ``5.2``."""
VARIANT_ROWS = 1_000
"""A file is variant B if the totals of its first this many records all have two decimals."""


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


def _column(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())


def is_header(fields: Sequence[str]) -> bool:
    """Whether a file's first record is a header line (its first column names a time)."""
    return bool(fields) and _column(fields[0]) in _HEADER_NAMES["timestamp"]


def header_layout(fields: Sequence[str]) -> Layout | None:
    """Field positions named by a header line, or None if its columns are not ours: guessing
    positions could load a customer name as a branch."""
    columns = [_column(field) for field in fields]
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


def detect_layout(fields: Sequence[str], header: Layout | None = None) -> Layout:
    """The layout of a file, from its header (if any) and its first complete data record
    (the first that ``looks_dated``, if any does).

    Variant A (ISO timestamps) puts payment before total and writes flat baskets.
    """
    base = header or DMY_LAYOUT
    iso = bool(_ISO_TIMESTAMP.match(fields[base.timestamp]))
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


def looks_dated(field: str) -> bool:
    return re.match(LOOKS_DATED, field) is not None
