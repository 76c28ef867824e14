"""What the warehouse holds, for ``cafe-etl status``: plain SQL over the contract tables."""

from dataclasses import dataclass
from typing import Any

from cafe_etl.model import FileStatus
from cafe_etl.regions import UNASSIGNED
from cafe_etl.warehouse.base import Warehouse

FILES_BY_STATUS = "SELECT status, COUNT(*) FROM loaded_files GROUP BY status ORDER BY status"
REJECTS_BY_REASON = """
SELECT r.reason, COUNT(*) FROM rejected_rows r
JOIN loaded_files f ON f.file_id = r.file_id AND f.status = ?
GROUP BY r.reason ORDER BY COUNT(*) DESC, r.reason
"""
FILES_REJECTED_BY_REASON = """
SELECT reason, COUNT(*) FROM loaded_files WHERE status = ?
GROUP BY reason ORDER BY reason
"""
PER_DAY = """
SELECT f.business_date, COUNT(DISTINCT f.branch_id), COUNT(*),
       SUM(f.rows_loaded), SUM(f.rows_rejected),
       (SELECT SUM(t.total_amount) FROM transactions t WHERE t.business_date = f.business_date)
FROM loaded_files f WHERE f.status = ? AND f.business_date IS NOT NULL
GROUP BY f.business_date ORDER BY f.business_date
"""
PER_BRANCH_DAY = """
SELECT b.branch_name, b.region, f.business_date, f.rows_loaded, f.rows_rejected, f.file_name
FROM loaded_files f JOIN branches b ON b.branch_id = f.branch_id
WHERE f.status = ? ORDER BY b.branch_name, f.business_date
"""
MISSING_BRANCH_DAYS = """
WITH days AS (SELECT DISTINCT business_date FROM loaded_files WHERE status = ?
                AND business_date IS NOT NULL),
     active AS (SELECT DISTINCT branch_id FROM loaded_files WHERE status = ?
                AND branch_id IS NOT NULL)
SELECT b.branch_name, d.business_date
FROM active a JOIN branches b ON b.branch_id = a.branch_id CROSS JOIN days d
WHERE NOT EXISTS (SELECT 1 FROM loaded_files f WHERE f.status = ?
                  AND f.branch_id = a.branch_id AND f.business_date = d.business_date)
ORDER BY d.business_date, b.branch_name
"""
UNASSIGNED_BRANCHES = "SELECT branch_name FROM branches WHERE region = ? ORDER BY branch_name"


@dataclass(frozen=True)
class Status:
    files_by_status: list[tuple[Any, ...]]
    files_rejected_by_reason: list[tuple[Any, ...]]
    rejects_by_reason: list[tuple[Any, ...]]
    per_day: list[tuple[Any, ...]]
    per_branch_day: list[tuple[Any, ...]]
    missing_branch_days: list[tuple[Any, ...]]
    unassigned: list[str]


def read_status(warehouse: Warehouse) -> Status:
    query = warehouse.execute
    loaded, rejected = FileStatus.LOADED.value, FileStatus.REJECTED.value
    return Status(
        files_by_status=query(FILES_BY_STATUS),
        files_rejected_by_reason=query(FILES_REJECTED_BY_REASON, (rejected,)),
        rejects_by_reason=query(REJECTS_BY_REASON, (loaded,)),
        per_day=query(PER_DAY, (loaded,)),
        per_branch_day=query(PER_BRANCH_DAY, (loaded,)),
        missing_branch_days=query(MISSING_BRANCH_DAYS, (loaded,) * 3),
        unassigned=[row[0] for row in query(UNASSIGNED_BRANCHES, (UNASSIGNED,))],
    )
