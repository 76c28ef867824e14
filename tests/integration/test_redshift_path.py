"""The Redshift adapter's whole load path, run against the real PostgreSQL server.

Everything the Redshift path shares with PostgreSQL runs for real: the ledger, deletes,
``LOCK loaded_files``, temporary staging tables and Redshift's MERGE subset (PostgreSQL 15
runs it too). Batches are staged as Parquet on (moto) S3 exactly as for Redshift; only the
``COPY … FROM 's3://…' FORMAT AS PARQUET`` statement itself, which PostgreSQL lacks, is
played by reading that Parquet object back and COPYing it in.
"""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cafe_etl.bootstrap import bootstrap
from cafe_etl.config import load_settings
from cafe_etl.extract.sources import list_folder
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.postgres import PostgresWarehouse
from cafe_etl.warehouse.redshift import RedshiftWarehouse, merge_statement

pytestmark = pytest.mark.postgres
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "peer-samples"
ROLE = "arn:aws:iam::123456789012:role/cafe-etl-copy"
COPY = re.compile(r"COPY (\w+) FROM '(s3://[^']+)' IAM_ROLE '[^']+' FORMAT AS PARQUET")


class RedshiftOnPostgres(RedshiftWarehouse):
    """The Redshift adapter with PostgreSQL's connection and DDL, and COPY played locally."""

    migration_folders = PostgresWarehouse.migration_folders
    connection = PostgresWarehouse.connection

    def __init__(self, url: str, postgres_url: str) -> None:
        super().__init__(url)
        self.url = postgres_url  # the connection goes to PostgreSQL
        self.statements: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.statements.append(sql)
        copy = COPY.fullmatch(sql)
        if copy is None:
            return PostgresWarehouse.execute(self, sql, params)
        bucket, _, key = copy[2].removeprefix("s3://").partition("/")
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        PostgresWarehouse._copy(self, copy[1], pq.read_table(pa.BufferReader(body)))
        return []


@pytest.fixture
def redshift(postgres_url: str, aws: None) -> RedshiftOnPostgres:
    redshift_url = f"redshift://etl@cluster.example.com:5439/cafe?iam_role={ROLE}&staging=s3://cafe-clean/staging"
    return RedshiftOnPostgres(redshift_url, postgres_url)


def contents(warehouse: Any) -> dict[str, list[tuple[Any, ...]]]:
    order = {"branches": "1", "products": "1", "transactions": "1", "basket_items": "1, 2, 3",
             "rejected_rows": "1, 2", "loaded_files": "1"}  # fmt: skip
    columns = {"loaded_files": "file_id, file_name, sha256, branch_id, business_date, variant,"
               " status, reason, rows_read, rows_loaded, rows_rejected"}  # fmt: skip
    return {
        table: warehouse.execute(f"SELECT {columns.get(table, '*')} FROM {table} ORDER BY {by}")
        for table, by in order.items()
    }


def test_the_redshift_path_loads_the_peer_samples_like_duckdb(
    redshift: RedshiftOnPostgres, tmp_path: Path
) -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/data/peer-samples is not beside the repository")
    # GIVEN the six real exports, loaded through the Redshift adapter and through DuckDB
    settings = load_settings(warehouse="duckdb:///unused", token_key="k")
    with bootstrap(settings, loading=True, warehouse=redshift) as services:
        summary = services.load.run(list_folder(SHARED))
    reference = connect(f"duckdb:///{tmp_path / 'reference.duckdb'}")
    with bootstrap(settings, loading=True, warehouse=reference) as services:
        services.load.run(list_folder(SHARED))
    # THEN every row matches, and every bulk write went through S3 as Parquet, then MERGE
    assert summary.rows_loaded == 2634 and summary.rows_rejected == 0
    assert contents(redshift) == contents(reference)
    copies = [s for s in redshift.statements if COPY.fullmatch(s)]
    assert {COPY.fullmatch(s)[1] for s in copies} >= {"transactions", "basket_items", "staged"}  # type: ignore[index]
    assert any(s.startswith("MERGE INTO branches USING staged") for s in redshift.statements)
    assert "LOCK loaded_files" in redshift.statements
    staged = boto3.client("s3").list_objects_v2(Bucket="cafe-clean").get("KeyCount", 0)
    assert staged == 0, "staged objects are removed after COPY"
    # AND a second run changes nothing
    with bootstrap(settings, loading=True, warehouse=redshift) as services:
        again = services.load.run(list_folder(SHARED))
    assert {o.status for o in again.outcomes} == {"unchanged"}


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
