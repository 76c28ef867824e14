"""Raw till exports for tests, and an independent reading of them to derive expectations.

The oracle here uses only the standard library, never cafe_etl, so a test's expected counts
and sums come from the input it wrote, not from the code under test.
"""

import csv
import io
import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PEER_SAMPLES = SHARED / "data" / "peer-samples"

HEADER = "Timestamp,Location,Customer Name,Items Ordered,Total Amount,Payment Method,Card Number"


def lines(*rows: str, end: str = "\n") -> str:
    """Rows of a raw file, each ended by ``end``."""
    return "".join(row + end for row in rows)


def write(folder: Path, name: str, content: str | bytes, *, mtime: float | None = None) -> Path:
    """Write a raw file byte for byte (text as UTF-8, newlines untouched)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def file_states(folder: Path) -> dict[Path, tuple[bytes, int]]:
    """Bytes and modification time of every file below a folder."""
    return {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass(frozen=True)
class Expected:
    """What a well-formed raw file holds, read independently of cafe_etl."""

    transactions: int
    revenue: Decimal
    names: frozenset[str]
    cards: frozenset[str]


def records(path: Path) -> list[list[str]]:
    """Data records of a raw file: no header, blank or whitespace-only lines."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if "".join(row).strip()]
    if rows and rows[0][0].strip().lower() == "timestamp":
        rows = rows[1:]
    return rows


def expected(*paths: Path) -> Expected:
    """Transactions, revenue, customer names and card digits of well-formed raw files."""
    count, revenue, names, cards = 0, Decimal(0), set(), set()
    for path in paths:
        for row in records(path):
            assert len(row) == 7, (path, row)
            iso = row[0][4:5] == "-"
            count += 1
            revenue += Decimal(row[5] if iso else row[4])
            names.add(row[2].strip())
            digits = row[6].rpartition(",")[2].strip()
            if digits.isdigit():
                cards.add(digits)
    return Expected(count, revenue, frozenset(names), frozenset(cards))


def moment(text: str) -> datetime:
    """A till timestamp as the warehouse stores it (naive wall-clock time)."""
    for layout in ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(text)
