"""The Redshift adapter's whole load path, with its real driver, against the tests' PostgreSQL
server (see tests/redshift_on_postgres.py for what is played and how)."""

import re
import socket
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import psycopg
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cafe_etl.bootstrap import bootstrap
from cafe_etl.config import load_settings
from cafe_etl.entrypoints.cli import app
from cafe_etl.errors import ConfigError, WarehouseError
from cafe_etl.extract.sources import list_folder
from cafe_etl.generate import generate
from cafe_etl.load.unit_of_work import UnitOfWork
from cafe_etl.model import FileStatus
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.redshift import LOADER_MUTEX, merge_statement
from redshift_on_postgres import COPY, RedshiftOnPostgres, redshift_url
from redshift_wire import RedshiftWire

pytestmark = pytest.mark.postgres
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "peer-samples"


@pytest.fixture
def redshift(postgres_url: str, wire: RedshiftWire, aws: None) -> Iterator[RedshiftOnPostgres]:
    warehouse = RedshiftOnPostgres(redshift_url(postgres_url, wire.port))
    yield warehouse
    warehouse.close()


def load(warehouse: Any, folder: Path, hook: Any = None, **settings: Any) -> Any:
    options = load_settings(warehouse="duckdb:///unused", token_key="k", **settings)
    with bootstrap(options, loading=True, warehouse=warehouse, hook=hook) as services:
        return services.load.run(list_folder(folder))


def contents(warehouse: Any) -> dict[str, list[tuple[Any, ...]]]:
    order = {"branches": "1", "products": "1", "transactions": "1", "basket_items": "1, 2, 3",
             "rejected_rows": "1, 2", "loaded_files": "1"}  # fmt: skip
    columns = {"loaded_files": "file_id, file_name, sha256, branch_id, business_date, variant,"
               " status, reason, rows_read, rows_loaded, rows_rejected"}  # fmt: skip
    return {
        table: warehouse.execute(f"SELECT {columns.get(table, '*')} FROM {table} ORDER BY {by}")
        for table, by in order.items()
    }


def reference(folder: Path, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    warehouse = connect(f"duckdb:///{tmp_path / 'reference.duckdb'}")
    load(warehouse, folder)
    try:
        return contents(warehouse)
    finally:
        warehouse.close()


def test_the_redshift_path_loads_the_peer_samples_like_duckdb(
    redshift: RedshiftOnPostgres, tmp_path: Path
) -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/data/peer-samples is not beside the repository")
    # GIVEN the six real exports, loaded through the Redshift adapter and through DuckDB
    summary = load(redshift, SHARED)
    # THEN every row matches
    assert summary.rows_loaded == 2634 and summary.rows_rejected == 0
    assert contents(redshift) == reference(SHARED, tmp_path)
    # AND the facts went through S3 as Parquet, the dimensions by MERGE, the ledger by VALUES
    copied = {COPY.fullmatch(sql)[1] for sql, _ in redshift.statements if COPY.fullmatch(sql)}  # type: ignore[index]
    assert copied == {"transactions", "basket_items", "staged"}
    assert redshift.executed("MERGE INTO branches USING staged")
    assert redshift.executed("INSERT INTO loaded_files (file_id, file_name")
    assert boto3.client("s3").list_objects_v2(Bucket="cafe-clean").get("KeyCount", 0) == 0
    # AND a second run changes nothing
    again = load(redshift, SHARED)
    assert {o.status for o in again.outcomes} == {"unchanged"}


def test_loaders_lock_the_mutex_first_and_never_a_table_readers_use(
    redshift: RedshiftOnPostgres, tmp_path: Path
) -> None:
    generate(tmp_path / "in", branches=2, days=1, start=date(2024, 5, 6), seed=2)
    load(redshift, tmp_path / "in")
    statements = [sql for sql, _ in redshift.statements]
    locks = [sql for sql in statements if sql.startswith("LOCK")]
    # only the mutex, and schema_migrations, which only migrations read
    assert locks and set(locks) == {f"LOCK {LOADER_MUTEX}", "LOCK schema_migrations"}
    # each group's lock is the first statement after its BEGIN (after the migrations' own)
    groups = [i for i, sql in enumerate(statements) if sql == f"LOCK {LOADER_MUTEX}"]
    assert all(statements[i - 1] == "BEGIN" for i in groups)


def test_status_runs_while_a_loader_holds_its_lock(
    redshift: RedshiftOnPostgres, postgres_url: str, wire: RedshiftWire, tmp_path: Path
) -> None:
    generate(tmp_path / "in", branches=2, days=1, start=date(2024, 5, 6), seed=2)
    load(redshift, tmp_path / "in")  # something for status to show
    generate(tmp_path / "more", branches=3, days=2, start=date(2024, 5, 7), seed=2)
    # readers that give up after 3 s of waiting for any lock, instead of hanging: the
    # Redshift adapter itself (over the wire), and a PostgreSQL client such as Grafana
    impatient = f"{postgres_url}?options=-c%20lock_timeout%3D3000"
    through_redshift = redshift_url(postgres_url, wire.port)
    database = urlsplit(postgres_url).path.lstrip("/")
    seen: list[Any] = []

    def status_while_locked(step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if step == "record" and not seen:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(f"ALTER DATABASE {database} SET lock_timeout = 3000")
            for url in (through_redshift, impatient):
                seen.append(CliRunner().invoke(app, ["status", "--warehouse", url]))

    # WHEN status runs while a loader is inside its transaction, holding the mutex
    load(redshift, tmp_path / "more", hook=status_while_locked)
    # THEN both answered, with the files committed before
    assert len(seen) == 2
    for result in seen:
        assert result.exit_code == 0, result.output
        assert re.search(r"loaded\s*│\s*2\s*│", result.output), result.output
    # AND locking the ledger itself, as before, would have made it wait and fail
    with psycopg.connect(postgres_url) as holder:
        holder.execute("LOCK loaded_files")
        blocked = CliRunner().invoke(app, ["status", "--warehouse", impatient])
    assert blocked.exit_code != 0 and "lock timeout" in blocked.output.lower(), blocked.output


def test_a_connection_closed_by_the_server_mid_group_is_retried_and_loads_once(
    redshift: RedshiftOnPostgres, postgres_url: str, tmp_path: Path
) -> None:
    files = generate(tmp_path / "in", branches=3, days=2, start=date(2024, 5, 6), seed=4).files
    killed: list[int] = []

    def kill_the_loaders_session(step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if step == "record" and not killed:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
            killed.append(len(rows))

    summary = load(redshift, tmp_path / "in", hook=kill_the_loaders_session)
    assert killed and killed[0] >= 1
    assert summary.exit_code == 0 and summary.files(FileStatus.LOADED) == len(files)
    assert contents(redshift) == reference(tmp_path / "in", tmp_path)


@pytest.mark.parametrize("how", ["closed", "reset"])
def test_a_network_cut_mid_group_is_retried_and_loads_once(
    redshift: RedshiftOnPostgres,
    wire: RedshiftWire,
    tmp_path: Path,
    how: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    files = generate(tmp_path / "in", branches=2, days=2, start=date(2024, 5, 6), seed=6).files
    cuts: list[str] = []

    def cut(step: str, work: UnitOfWork, names: Sequence[str]) -> None:
        if step == "commit" and not cuts:
            cuts.append(step)
            wire.drop_all() if how == "closed" else wire.reset_all()

    summary = load(redshift, tmp_path / "in", hook=cut)
    assert cuts and "retrying" in caplog.text  # the commit failed, and was tried again
    assert summary.files(FileStatus.LOADED) == len(files)
    assert contents(redshift) == reference(tmp_path / "in", tmp_path)


def test_a_cluster_that_accepts_but_never_answers_times_out_in_one_line(
    postgres_url: str,
) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody replies
    try:
        port = silent.getsockname()[1]
        dead = RedshiftOnPostgres(redshift_url(postgres_url, port, connect_timeout="1"))
        with pytest.raises(WarehouseError, match=r"cannot connect to redshift://postgres@127"):
            dead.execute("SELECT 1")
    finally:
        silent.close()


def test_replacing_a_file_deletes_by_what_the_sort_keys_prune(
    redshift: RedshiftOnPostgres, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (path,) = generate(folder, branches=1, days=1, start=date(2024, 5, 6), seed=8).files
    load(redshift, folder)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))  # corrected
    redshift.statements.clear()
    load(redshift, folder)
    deletes = {sql.split()[2]: (sql, params) for sql, params in redshift.executed("DELETE FROM")}
    # the plan of each delete filters on the table's leading sort key column
    plans = {
        table: "\n".join(row[0] for row in redshift.execute(f"EXPLAIN {sql}", params))
        for table, (sql, params) in deletes.items()
        if table in ("transactions", "basket_items")
    }
    assert "business_date = " in plans["transactions"], plans["transactions"]
    assert "transaction_id >= " in plans["basket_items"], plans["basket_items"]
    assert "transaction_id <= " in plans["basket_items"], plans["basket_items"]
    # AND the old version's rows are gone, exactly as if only the corrected one was loaded
    ours, theirs = contents(redshift), reference(folder, tmp_path)
    assert {t: r for t, r in ours.items() if t != "loaded_files"} == {
        t: r for t, r in theirs.items() if t != "loaded_files"
    }
    assert sorted(row[6] for row in ours["loaded_files"]) == ["loaded", "superseded"]


def test_the_reporting_user_needs_a_password_unless_a_superuser_creates_it(
    postgres_url: str, wire: RedshiftWire, aws: None
) -> None:
    # roles are the server's, not the database's: names of this test's own
    suffix = urlsplit(postgres_url).path.rsplit("_", 1)[-1]
    loader, reporter = f"etl_{suffix}", f"grafana_{suffix}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {loader} LOGIN CREATEROLE")
        admin.execute(f"GRANT ALL ON SCHEMA public TO {loader}")
    url = redshift_url(postgres_url, wire.port).replace("postgres:unused@", f"{loader}:unused@")
    warehouse = RedshiftOnPostgres(url)
    warehouse.migrate()
    with pytest.raises(ConfigError, match="needs a Redshift superuser"):
        warehouse.create_reporting_role(reporter, None)
    with pytest.raises(ConfigError, match="contain a digit"):
        warehouse.create_reporting_role(reporter, "NoDigitsHere")
    # a password with characters that SQL quoting and URLs care about
    password = "Read0nly;$%&*`~"
    warehouse.create_reporting_role(reporter, password)
    warehouse.close()
    reader = postgres_url.replace("postgres@", f"{reporter}:{quote(password)}@")
    with psycopg.connect(reader) as connection:
        assert connection.execute("SELECT COUNT(*) FROM loaded_files").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM loaded_files")


def test_redshift_merge_updates_matches_and_inserts_the_rest_on_postgresql(
    postgres_url: str,
) -> None:
    warehouse = connect(postgres_url)
    warehouse.migrate()
    warehouse.execute("INSERT INTO branches VALUES (1, 'Leeds', 'Unassigned')")
    warehouse.execute("CREATE TEMP TABLE staged (LIKE branches)")
    warehouse.execute(
        "INSERT INTO staged VALUES (1, 'Leeds', 'Yorkshire and The Humber'), (2, 'Hull', 'North')"
    )
    warehouse.execute(
        merge_statement("branches", "branch_id", ["branch_id", "branch_name", "region"], "staged")
    )
    assert warehouse.execute("SELECT * FROM branches ORDER BY branch_id") == [
        (1, "Leeds", "Yorkshire and The Humber"),
        (2, "Hull", "North"),
    ]
    warehouse.close()


def test_two_loaders_take_turns_on_the_mutex(
    redshift: RedshiftOnPostgres, postgres_url: str, wire: RedshiftWire, tmp_path: Path
) -> None:
    files = generate(tmp_path / "in", branches=3, days=2, start=date(2024, 5, 6), seed=9).files
    redshift.migrate()
    other = RedshiftOnPostgres(redshift_url(postgres_url, wire.port))
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda w=w: results.append(load(w, tmp_path / "in")))
        for w in (redshift, other)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    other.close()
    assert sum(r.files(FileStatus.LOADED) for r in results) == len(files)
    assert contents(redshift) == reference(tmp_path / "in", tmp_path)


def test_a_failed_clean_up_is_logged_and_never_hides_the_copy_error(
    redshift: RedshiftOnPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    redshift.migrate()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DeleteObject")

    redshift.s3.meta.events.register("before-call.s3.DeleteObject", refuse)
    wrong = pa.table({"transaction_id": [1], "branch_id": [2]})  # 2 columns of 8
    with pytest.raises(WarehouseError, match="the Parquet has 2 columns, the table 8"):
        redshift.insert_arrow("transactions", wrong)
    assert "not removed (the prefix's expiry rule will)" in caplog.text
    assert "AccessDenied" in caplog.text
