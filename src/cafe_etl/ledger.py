"""Exactly once, in effect: what to do with a file, given what the warehouse has seen.

Per name the newest content wins; identical bytes under another name are a duplicate
(only for files with data rows: every empty file has the same checksum). A duplicate whose
original has since been forgotten or replaced is loaded after all, so no day goes missing.
"""

from dataclasses import dataclass
from enum import Enum

from cafe_etl.warehouse.base import DUPLICATE, LOADED, LedgerRow


class Action(Enum):
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    LOAD = "load"


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
            orphaned = current.status == DUPLICATE and original is None
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

    def record(self, row: LedgerRow) -> None:
        """Make ``row`` the newest version of its name."""
        previous = self._by_name.get(row.file_name)
        if previous is not None:
            self._loaded_by_sha.get(previous.sha256, set()).discard(previous.file_name)
        self._by_name[row.file_name] = row
        if row.status == LOADED and row.rows_read > 0:
            self._loaded_by_sha.setdefault(row.sha256, set()).add(row.file_name)

    def _loaded_elsewhere(self, name: str, sha256: str) -> str | None:
        others = sorted(self._loaded_by_sha.get(sha256, set()) - {name})
        return others[0] if others else None
