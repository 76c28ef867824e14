"""Which branches have sent no file for a trading day, by the ledger: the check the
EventBridge Scheduler runs after the evening's deadline."""

from datetime import date, timedelta

from cafe_etl.model import FileStatus
from cafe_etl.warehouse.base import Warehouse


def missing_branches(warehouse: Warehouse, day: date, within_days: int) -> list[str]:
    """Branches that loaded a file within ``within_days`` before ``day`` but none for ``day``
    (a file for it in any status but ``superseded`` counts: a rejected file did arrive)."""
    expected = warehouse.execute(
        "SELECT DISTINCT b.branch_name FROM loaded_files f"
        " JOIN branches b ON b.branch_id = f.branch_id"
        " WHERE f.status = ? AND f.business_date >= ? AND f.business_date < ?",
        (FileStatus.LOADED.value, day - timedelta(days=within_days), day),
    )
    arrived = warehouse.execute(
        "SELECT DISTINCT b.branch_name FROM loaded_files f"
        " JOIN branches b ON b.branch_id = f.branch_id"
        " WHERE f.status <> ? AND f.business_date = ?",
        (FileStatus.SUPERSEDED.value, day),
    )
    return sorted({row[0] for row in expected} - {row[0] for row in arrived})
