"""Migrations that must run outside a transaction (Redshift cannot ALTER a column inside
one): autocommitted a statement at a time, under a lease, and re-runnable after a failure."""

from pathlib import Path
from typing import Any

import psycopg
import pytest

from cafe_etl.errors import WarehouseError
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.base import LEASE_VERSION, Warehouse
from redshift_on_postgres import RedshiftOnPostgres, redshift_url
from redshift_wire import RedshiftWire

OUTSIDE = """-- cafe-etl: no-transaction
-- neither statement can run twice: a re-run must start where the last one stopped
CREATE TABLE extra (a INTEGER);
ALTER TABLE extra RENAME COLUMN a TO b;
INSERT INTO extra SELECT n FROM needed_later;
"""


def extended(url: str, folder: Path) -> Warehouse:
    """The warehouse of ``url`` (redshift:// is the Redshift adapter on PostgreSQL) with one
    more migrations folder."""
    base = RedshiftOnPostgres if url.startswith("redshift:") else type(connect(url))

    class Extended(base):  # type: ignore[misc,valid-type]
        def migration_dirs(self) -> list[Any]:
            return [*super().migration_dirs(), folder]

    return Extended(url)  # type: ignore[no-any-return]


def test_a_failed_migration_outside_a_transaction_resumes_at_the_failed_statement(
    warehouse_url: str, tmp_path: Path
) -> None:
    resumes_at_the_failed_statement(warehouse_url, tmp_path)


@pytest.mark.postgres
def test_on_redshift_a_failed_migration_outside_a_transaction_resumes_too(
    postgres_url: str, wire: RedshiftWire, aws: None, tmp_path: Path
) -> None:
    resumes_at_the_failed_statement(redshift_url(postgres_url, wire.port), tmp_path)


def resumes_at_the_failed_statement(url: str, tmp_path: Path) -> None:
    (tmp_path / "100_outside.sql").write_text(OUTSIDE)
    warehouse = extended(url, tmp_path)
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


def test_a_lease_left_by_a_session_that_ended_is_taken_over(
    warehouse_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "100_outside.sql").write_text("-- cafe-etl: no-transaction\nSELECT 1;\n")
    plain = connect(warehouse_url)
    plain.migrate()
    # a migrator killed mid-migration (a Lambda timeout) left its lease behind
    plain.execute(
        "INSERT INTO schema_migrations VALUES (?, 'lease 999999 0abc', CURRENT_TIMESTAMP)",
        (LEASE_VERSION,),
    )
    plain.close()
    warehouse = extended(warehouse_url, tmp_path)
    assert warehouse.migrate() == ["100_outside.sql"]
    assert "taking over the migrations lease of a session that ended" in caplog.text
    assert warehouse.execute(
        "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", (LEASE_VERSION,)
    ) == [(0,)]
    warehouse.close()


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql", "redshift"])
def test_a_lease_held_by_a_live_session_makes_others_wait_then_say_how_to_release_it(
    postgres_url: str, tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "100_outside.sql").write_text("-- cafe-etl: no-transaction\nSELECT 1;\n")
    url = postgres_url
    if engine == "redshift":
        request.getfixturevalue("aws")
        wire = request.getfixturevalue("wire")
        url = redshift_url(postgres_url, wire.port)
    warehouse = extended(url, tmp_path)
    warehouse.lease_wait_seconds = 0.5
    with psycopg.connect(postgres_url, autocommit=True) as other:  # a live migrator
        pid = other.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        connect(postgres_url).migrate()
        other.execute(
            "INSERT INTO schema_migrations VALUES (%s, %s, CURRENT_TIMESTAMP)",
            (LEASE_VERSION, f"lease {pid} 0abc"),
        )
        with pytest.raises(WarehouseError, match="DELETE FROM schema_migrations WHERE version = 0"):
            warehouse.migrate()
    warehouse.close()
