"""What only a server warehouse has: identical results to DuckDB, connection failures that
say what to fix, schema upgrades in place, a read-only reporting role, restarts ridden out."""

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

import postgres_server
from cafe_etl.generate import generate
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.postgres import PostgresWarehouse
from conftest import CONTRACT_TABLES, Cli, Etl

pytestmark = pytest.mark.postgres


def with_parts(url: str, **parts: str) -> str:
    return urlunsplit(urlsplit(url)._replace(**parts))


def test_peer_samples_give_the_same_tables_on_postgresql_as_on_duckdb(
    postgres_url: str, peer_samples: Path, tmp_path: Path
) -> None:
    on_postgres, on_duckdb = Etl(postgres_url), Etl(f"duckdb:///{tmp_path / 'cafe.duckdb'}")
    for etl in (on_postgres, on_duckdb):
        summary = etl.run(peer_samples)
        assert (summary.rows_loaded, summary.rows_rejected) == (2634, 0)
    contract = [(name, on_postgres.snapshot(loaded_at=False)[name]) for name in CONTRACT_TABLES]
    assert contract == [
        (name, on_duckdb.snapshot(loaded_at=False)[name]) for name in CONTRACT_TABLES
    ]
    revenue = (
        "SELECT b.branch_name, t.business_date, SUM(t.total_amount) FROM transactions t"
        " JOIN branches b ON b.branch_id = t.branch_id GROUP BY 1, 2 ORDER BY 1, 2"
    )
    assert on_postgres.query(revenue) == on_duckdb.query(revenue)


def unreachable(url: str) -> str:
    return with_parts(url, netloc="postgres@127.0.0.1:1")


def no_such_user(url: str) -> str:
    return url.replace("postgres@", "nobody@")


def missing_database(url: str) -> str:
    return url + "_missing"


def malformed(url: str) -> str:
    return "postgresql://[bad"


@pytest.mark.parametrize(
    ("break_it", "says"),
    [
        (unreachable, "is the server running"),
        (no_such_user, "check the user name"),
        (missing_database, "create it first"),
        (malformed, "warehouse URL"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_a_bad_server_url_gets_one_line_exit_1_and_the_next_good_run_loads_everything(
    postgres_url: str, peer_samples: Path, break_it: Callable[[str], str], says: str
) -> None:
    bad_url = break_it(postgres_url)
    failed = Cli()("run", peer_samples, "--warehouse", bad_url)
    assert failed.exit_code == 1
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert says in failed.stderr and "Traceback" not in failed.output
    good = Cli()("run", peer_samples, "--warehouse", postgres_url)
    assert good.exit_code == 0, good.output
    assert Etl(postgres_url).scalar("SELECT COUNT(*) FROM transactions") == 2634


def test_a_user_without_privileges_is_told_so_and_nothing_is_loaded(
    postgres_url: str, peer_samples: Path
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE ROLE visitor LOGIN PASSWORD 'visitor'")
    visitor = postgres_url.replace("postgres@", "visitor:visitor@")
    failed = Cli()("run", peer_samples, "--warehouse", visitor)
    assert failed.exit_code == 1
    assert "permission denied" in failed.stderr and "rights" in failed.stderr
    assert "visitor:visitor" not in failed.stderr  # no password in messages
    assert Etl(postgres_url).tables() == []


def test_a_warehouse_of_an_older_schema_version_is_upgraded_keeping_its_rows(
    postgres_url: str, peer_samples: Path
) -> None:
    # GIVEN a warehouse loaded by a version that only knew the common migrations
    class FirstVersion(PostgresWarehouse):
        migration_folders = ("common",)

    etl = Etl(postgres_url)
    etl.run(peer_samples, seams={"warehouse": FirstVersion(postgres_url)})
    assert [v for (v,) in etl.query("SELECT version FROM schema_migrations ORDER BY 1")] == [
        1,
        20,
        21,
    ]
    before = etl.snapshot(loaded_at=False)
    # WHEN this version's init-db runs
    result = Cli()("init-db", "--warehouse", postgres_url)
    # THEN the later migration is applied and recorded, and no row is lost
    assert result.exit_code == 0 and "002_indexes.sql" in result.stdout
    versions = etl.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert versions == [
        (1, "001_contract.sql"),
        (2, "002_indexes.sql"),
        (20, "020_analytics_reference.sql"),
        (21, "021_analytics_views.sql"),
        (40, "040_source_sequencers.sql"),
    ]
    after = etl.snapshot(loaded_at=False)
    assert {t: r for t, r in after.items() if t in before and t != "schema_migrations"} == {
        t: r for t, r in before.items() if t != "schema_migrations"
    }
    assert Cli()("init-db", "--warehouse", postgres_url).stdout.strip() == "schema is up to date"


def test_init_db_creates_a_reporting_role_that_can_read_but_not_write(
    postgres_url: str, peer_samples: Path
) -> None:
    made = Cli()("init-db", "--warehouse", postgres_url, "--reporting-role", "grafana",
                 env={"CAFE_ETL_REPORTING_PASSWORD": "re?d-'only"})  # fmt: skip
    assert made.exit_code == 0, made.output
    assert Cli()("run", peer_samples, "--warehouse", postgres_url).exit_code == 0
    password = quote("re?d-'only", safe="")
    reader = postgres_url.replace("postgres@", f"grafana:{password}@")
    with psycopg.connect(reader, autocommit=True) as connection:
        assert connection.execute("SELECT COUNT(*) FROM transactions").fetchone() == (2634,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM transactions")
    assert connect(postgres_url).execute("SELECT COUNT(*) FROM transactions") == [(2634,)]


def test_a_server_restart_in_the_middle_of_a_run_is_ridden_out(
    landing: Path, tmp_path: Path
) -> None:
    # GIVEN a private server (it is restarted) and a folder of files, one transaction each
    if os.environ.get(postgres_server.ENV) or not postgres_server.server_binaries():
        pytest.skip("needs a throwaway cluster of its own (PostgreSQL server binaries)")
    files = len(generate(landing, branches=3, days=4, start=date(2024, 5, 6), seed=9).files)
    with postgres_server.restartable_cluster() as (server, restart):
        etl = Etl(postgres_server.fresh_database(server))
        begun: list[int] = []

        def restart_in_the_third_transaction(step: str, work: Any, files: Any) -> None:
            if step == "begin":
                begun.append(1)
                if len(begun) == 3:
                    restart()  # every connection dropped, the open transaction lost

        # WHEN a run meets the restart
        summary = etl.run(landing, group_bytes=1, seams={"hook": restart_in_the_third_transaction})

        # THEN it reconnects and loads every file exactly once, as a run without a restart
        assert summary.files("loaded") == files and len(begun) > files
        reference = Etl(f"duckdb:///{tmp_path / 'reference.duckdb'}")
        reference.run(landing)
        columns = "COUNT(*), SUM(total_amount), COUNT(DISTINCT transaction_id)"
        query = f"SELECT {columns} FROM transactions"
        assert etl.query(query) == reference.query(query)
        assert etl.scalar("SELECT COUNT(*) FROM loaded_files") == files
