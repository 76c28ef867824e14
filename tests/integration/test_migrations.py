"""Migrations that must run outside a transaction (Redshift cannot ALTER a column inside
one): autocommitted a statement at a time, under a lease, and re-runnable after a failure."""

from pathlib import Path
from typing import Any

import pytest

from cafe_etl.errors import WarehouseError
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.base import LEASE_VERSION, Warehouse

OUTSIDE = """-- cafe-etl: no-transaction
-- neither statement can run twice: a re-run must start where the last one stopped
CREATE TABLE extra (a INTEGER);
ALTER TABLE extra RENAME COLUMN a TO b;
INSERT INTO extra SELECT n FROM needed_later;
"""


def extended(url: str, folder: Path) -> Warehouse:
    """The warehouse of ``url`` with one more migrations folder."""

    class Extended(type(connect(url))):  # type: ignore[misc]
        def migration_dirs(self) -> list[Any]:
            return [*super().migration_dirs(), folder]

    return Extended(url)  # type: ignore[no-any-return]


def test_a_failed_migration_outside_a_transaction_resumes_at_the_failed_statement(
    warehouse_url: str, tmp_path: Path
) -> None:
    (tmp_path / "100_outside.sql").write_text(OUTSIDE)
    warehouse = extended(warehouse_url, tmp_path)
    # WHEN its third statement fails
    with pytest.raises(WarehouseError, match="needed_later"):
        warehouse.migrate()
    # THEN the first two stay done and recorded, and the migration is not applied
    assert warehouse.execute("SELECT step FROM schema_migration_steps ORDER BY step") == [
        (0,),
        (1,),
    ]
    assert warehouse.execute("SELECT version FROM schema_migrations WHERE version >= 100") == []
    # WHEN what it needs exists and it runs again
    warehouse.execute("CREATE TABLE needed_later (n INTEGER)")
    warehouse.execute("INSERT INTO needed_later VALUES (7)")
    applied = warehouse.migrate()
    # THEN only the failed statement ran, and the migration is recorded once, lease released
    assert applied == ["100_outside.sql"]
    assert warehouse.execute("SELECT b FROM extra") == [(7,)]
    versions = warehouse.execute("SELECT version FROM schema_migrations ORDER BY version")
    assert (100,) in versions and (LEASE_VERSION,) not in versions
    assert warehouse.execute("SELECT COUNT(*) FROM schema_migration_steps") == [(0,)]
    assert warehouse.migrate() == []
    warehouse.close()


@pytest.mark.postgres
def test_a_no_transaction_migration_runs_what_a_transaction_block_refuses(
    postgres_url: str, tmp_path: Path
) -> None:
    (tmp_path / "101_index.sql").write_text(
        "-- cafe-etl: no-transaction\n"
        "CREATE INDEX CONCURRENTLY transactions_branch ON transactions (branch_id);\n"
    )
    (tmp_path / "102_after.sql").write_text("CREATE TABLE after_it (x INTEGER);\n")
    warehouse = extended(postgres_url, tmp_path)
    applied = warehouse.migrate()
    assert applied[-2:] == ["101_index.sql", "102_after.sql"]
    index = "SELECT 1 FROM pg_indexes WHERE indexname = 'transactions_branch'"
    assert warehouse.execute(index) == [(1,)]
    warehouse.close()


def test_a_lease_left_by_a_crashed_migration_is_one_line_saying_how_to_release_it(
    warehouse_url: str, tmp_path: Path
) -> None:
    (tmp_path / "100_outside.sql").write_text("-- cafe-etl: no-transaction\nSELECT 1;\n")
    warehouse = extended(warehouse_url, tmp_path)
    warehouse.lease_wait_seconds = 0.5
    plain = connect(warehouse_url)
    plain.migrate()
    plain.close()
    warehouse.execute(
        "INSERT INTO schema_migrations VALUES (?, 'lease crashed', CURRENT_TIMESTAMP)",
        (LEASE_VERSION,),
    )
    with pytest.raises(WarehouseError, match=r"DELETE FROM schema_migrations WHERE version = 0"):
        warehouse.migrate()
    warehouse.close()
