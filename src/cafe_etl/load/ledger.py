"""Exactly once, in effect: what to do with a file, given what the warehouse has seen.

Per name the newest content wins; identical bytes under another name are a duplicate
(only for files with data rows: every empty file has the same checksum). A duplicate whose
original has since been forgotten or replaced is loaded after all, so no day goes missing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum, auto
from typing import Any

from cafe_etl.model import FileStatus, LedgerRow
from cafe_etl.warehouse.base import Warehouse

LEDGER_COLUMNS = ", ".join(f.name for f in fields(LedgerRow))
_IN_LIST = 500
"""Names (and hashes) per ledger query: well within every driver's parameter limit."""


class Action(Enum):
    """What to do with a version of a file."""

    UNCHANGED = auto()
    DUPLICATE = auto()
    LOAD = auto()


@dataclass(frozen=True)
class Decision:
    action: Action
    replaces: LedgerRow | None = None
    duplicate_of: str | None = None


class Ledger:
    """The newest version of every name, kept current as a run records files."""

    def __init__(self, rows: list[LedgerRow]) -> None:
        self._by_name: dict[str, LedgerRow] = {}
        self._loaded_by_sha: dict[str, set[str]] = {}
        for row in rows:
            self.record(row)

    def current(self, name: str) -> LedgerRow | None:
        return self._by_name.get(name)

    def decide(self, name: str, sha256: str, *, force: bool = False) -> Decision:
        current = self._by_name.get(name)
        original = self._loaded_elsewhere(name, sha256)
        if current is not None and current.sha256 == sha256 and not force:
            orphaned = current.status == FileStatus.DUPLICATE and original is None
            if not orphaned:
                return Decision(Action.UNCHANGED)
        if original is not None:
            return Decision(Action.DUPLICATE, replaces=current, duplicate_of=original)
        return Decision(Action.LOAD, replaces=current)

    def refresh(self, names: list[str], hashes: list[str], rows: list[LedgerRow]) -> None:
        """Replace what is known of these names and contents with the warehouse's rows."""
        for name in names:
            self._by_name.pop(name, None)
        for sha256 in hashes:
            self._loaded_by_sha.pop(sha256, None)
        for row in rows:
            self.record(row)

    def loading(self, name: str, sha256: str) -> None:
        """Note content being loaded now under ``name``, as its ``record`` will: a copy of it
        decided before then is a duplicate of it, and the name's older content no longer
        counts as loaded under it."""
        older = self._by_name.get(name)
        if older is not None:
            self._loaded_by_sha.get(older.sha256, set()).discard(name)
        self._loaded_by_sha.setdefault(sha256, set()).add(name)

    def record(self, row: LedgerRow) -> None:
        """Make ``row`` the newest version of its name."""
        for older in (self._by_name.get(row.file_name), row):
            if older is not None:
                self._loaded_by_sha.get(older.sha256, set()).discard(older.file_name)
        self._by_name[row.file_name] = row
        if row.status == FileStatus.LOADED and row.rows_read > 0:
            self._loaded_by_sha.setdefault(row.sha256, set()).add(row.file_name)

    def _loaded_elsewhere(self, name: str, sha256: str) -> str | None:
        others = sorted(self._loaded_by_sha.get(sha256, set()) - {name})
        return others[0] if others else None


def current_files(warehouse: Warehouse) -> list[LedgerRow]:
    """The newest version of every file name the warehouse has seen."""
    rows = warehouse.execute(
        f"SELECT {LEDGER_COLUMNS} FROM loaded_files WHERE status <> ? ORDER BY loaded_at",
        (FileStatus.SUPERSEDED.value,),
    )
    return [LedgerRow(*row) for row in rows]


def current_files_for(
    warehouse: Warehouse, names: Sequence[str], hashes: Sequence[str]
) -> list[LedgerRow]:
    """The versions that matter to some files: their names', and their contents'."""
    rows: list[tuple[Any, ...]] = []
    for column, values in (("file_name", names), ("sha256", hashes)):
        for start in range(0, len(values), _IN_LIST):
            some = list(values[start : start + _IN_LIST])
            rows += warehouse.execute(
                f"SELECT {LEDGER_COLUMNS} FROM loaded_files"
                f" WHERE status <> ? AND {column} IN ({', '.join('?' for _ in some)})",
                (FileStatus.SUPERSEDED.value, *some),
            )
    unique = {row[0]: row for row in rows}  # a file can match by name and by content
    return sorted((LedgerRow(*row) for row in unique.values()), key=lambda r: r.loaded_at)


def versions_of(warehouse: Warehouse, name: str) -> list[LedgerRow]:
    """Every version of a name not superseded, oldest first."""
    rows = warehouse.execute(
        f"SELECT {LEDGER_COLUMNS} FROM loaded_files"
        " WHERE file_name = ? AND status <> ? ORDER BY loaded_at",
        (name, FileStatus.SUPERSEDED.value),
    )
    return [LedgerRow(*row) for row in rows]
