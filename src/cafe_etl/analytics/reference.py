"""Branch reference data: each branch's region, and the dates it opened or closed.

The shipped ``data/regions.csv`` gives the region of every known town; a user's own branch
file (``CAFE_ETL_BRANCHES_FILE``) overrides it, one branch a row::

    branch,region,opened,closed
    Leeds,Yorkshire and The Humber,,
    York,Yorkshire and The Humber,2026-10-01,
    Hull,Yorkshire and The Humber,2019-05-01,2026-09-30

``opened`` is the first trading day, ``closed`` the first day it no longer trades; both may be
empty. A branch in neither file is ``Unassigned``. ``apply_branch_reference`` writes the
result into ``branches.region`` and ``branch_dates``, which the analytics views read.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cafe_etl import keys
from cafe_etl.errors import ConfigError
from cafe_etl.regions import region_of
from cafe_etl.warehouse.base import Warehouse

COLUMNS = ("branch", "region", "opened", "closed")


@dataclass(frozen=True)
class BranchRow:
    """One row of a user's branch file."""

    branch: str
    region: str
    opened: date | None = None
    closed: date | None = None


def read_branch_file(path: Path) -> list[BranchRow]:
    """The rows of a branch file; a bad row is a one-line ``ConfigError`` naming its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"branch file {path}: cannot read it ({error})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if not {"branch", "region"} <= set(header) or not set(header) <= set(COLUMNS):
        raise ConfigError(
            f"branch file {path}: the first line must name the columns branch,region"
            " and optionally opened,closed"
        )
    reader.fieldnames = header
    rows: list[BranchRow] = []
    seen: set[str] = set()
    for line, record in enumerate(reader, start=2):
        row = _row(record, f"branch file {path} line {line}")
        if row.branch.casefold() in seen:
            raise ConfigError(f"branch file {path} line {line}: {row.branch} is listed twice")
        seen.add(row.branch.casefold())
        rows.append(row)
    return rows


def _row(record: dict[str, str | None], where: str) -> BranchRow:
    if None in record:
        raise ConfigError(f"{where}: more fields than the header names")
    value = {name: (record.get(name) or "").strip() for name in COLUMNS}
    if not value["branch"] or not value["region"]:
        raise ConfigError(f"{where}: a branch and its region are both needed")
    opened, closed = _date(value["opened"], where), _date(value["closed"], where)
    if opened and closed and closed <= opened:
        raise ConfigError(f"{where}: closed ({closed}) must come after opened ({opened})")
    return BranchRow(value["branch"], value["region"], opened, closed)


def _date(text: str, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a date like 2026-11-16") from None


def apply_branch_reference(warehouse: Warehouse, rows: list[BranchRow]) -> int:
    """Set every branch's region (the user's file first, then the shipped one) and replace
    the opening dates; return how many regions changed."""
    own = {row.branch.casefold(): row for row in rows}
    changed = 0
    with warehouse.transaction():
        known = warehouse.execute("SELECT branch_id, branch_name, region FROM branches")
        ids = {name.casefold(): branch_id for branch_id, name, _ in known}
        for branch_id, name, region in known:
            mine = own.get(name.casefold())
            wanted = mine.region if mine else region_of(name)
            if wanted != region:
                warehouse.execute(
                    "UPDATE branches SET region = ? WHERE branch_id = ?", (wanted, branch_id)
                )
                changed += 1
        warehouse.execute("DELETE FROM branch_dates")
        for row in rows:
            if row.opened or row.closed:
                branch_id = ids.get(row.branch.casefold(), keys.branch_key(row.branch))
                warehouse.execute(
                    "INSERT INTO branch_dates VALUES (?, ?, ?)", (branch_id, row.opened, row.closed)
                )
    return changed


def regions_out_of_date(warehouse: Warehouse, rows: list[BranchRow]) -> list[str]:
    """Branches whose region in the warehouse is not the branch file's (read only: commands
    that only read say so rather than write; ``cafe-etl run`` applies the file)."""
    own = {row.branch.casefold(): row.region for row in rows}
    known = warehouse.execute("SELECT branch_name, region FROM branches ORDER BY branch_name")
    return [name for name, region in known if own.get(name.casefold(), region) != region]
