"""The load side of the serverless flow on the Redshift adapter: a batch of staged files goes
in one ``COPY … FORMAT AS PARQUET MANIFEST`` per table (played on the real PostgreSQL server
by reading the manifest and its objects back, as ``test_redshift_path`` plays plain COPY),
and the warehouse ends as the CLI leaves it."""

import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cafe_etl.extract.s3 import S3Location, S3Storage
from cafe_etl.generate import generate
from cafe_etl.service.load_staged import LoadStaged
from cafe_etl.service.stage_files import StageFiles
from cafe_etl.transform.redact import Tokeniser
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.postgres import PostgresWarehouse
from conftest import Etl
from redshift_on_postgres import RedshiftOnPostgres, redshift_url
from redshift_wire import RedshiftWire

from .test_redshift_path import contents

pytestmark = pytest.mark.postgres
KEY = "staged-load-key"
MANIFEST = re.compile(r"COPY (\w+) FROM '(s3://[^']+)' IAM_ROLE '[^']+' FORMAT AS PARQUET MANIFEST")


class ManifestOnPostgres(RedshiftOnPostgres):
    """Plays Redshift's manifest COPY: every entry read back (its content_length checked)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        copy = MANIFEST.fullmatch(sql)
        if copy is None:
            return super().execute(sql, params)
        self.statements.append((sql, tuple(params)))
        s3 = boto3.client("s3")
        manifest = json.loads(_get(s3, copy[2]))
        parts = []
        for entry in manifest["entries"]:
            body = _get(s3, entry["url"])
            assert entry["mandatory"] and entry["meta"]["content_length"] == len(body)
            parts.append(pq.read_table(pa.BufferReader(body)))
        self._copy_in(copy[1], pa.concat_tables(parts))
        return []


def _get(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_a_batch_of_staged_files_loads_with_one_manifest_copy_per_table(
    aws: None, postgres_url: str, tmp_path: Path, postgres_server_url: str, wire: RedshiftWire
) -> None:
    import postgres_server

    # GIVEN four branch files in a versioned raw bucket, staged by the transform side
    files = generate(tmp_path / "landing", branches=4, days=1, start=date(2026, 12, 4)).files
    s3 = boto3.client("s3")
    s3.create_bucket(
        Bucket="cafe-raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    s3.put_bucket_versioning(Bucket="cafe-raw", VersioningConfiguration={"Status": "Enabled"})
    stage = StageFiles(S3Storage(), "cafe-clean", Tokeniser(KEY.encode()), token_key=KEY.encode())
    staged = []
    for path in files:
        put = s3.put_object(Bucket="cafe-raw", Key=f"in/{path.name}", Body=path.read_bytes())
        where = S3Location("cafe-raw", f"in/{path.name}", put["VersionId"])
        staged.append(stage.stage(where, "00AA"))
    # WHEN the load side takes them as one batch on the Redshift adapter
    url = redshift_url(postgres_url, wire.port, staging="s3://cafe-clean/manifests")
    warehouse = ManifestOnPostgres(url)
    warehouse.migrate()
    run = LoadStaged(warehouse, S3Storage()).load([s for s in staged if s])
    # THEN every file loaded in one manifest COPY per fact table, each listing all four
    assert run.failed == {} and [o.status for o in run.outcomes] == ["loaded"] * 4
    copies = [MANIFEST.fullmatch(s) for s, _ in warehouse.statements if MANIFEST.fullmatch(s)]
    assert sorted(c[1] for c in copies if c) == ["basket_items", "transactions"]
    assert not s3.list_objects_v2(Bucket="cafe-clean", Prefix="manifests/").get("KeyCount")
    # AND the warehouse holds what the CLI makes of the same files
    reference = Etl(postgres_server.fresh_database(postgres_server_url), token_key=KEY)
    reference.run(tmp_path / "landing")
    assert contents(warehouse) == contents(connect(reference.url))
    # AND the same batch again changes nothing
    again = LoadStaged(warehouse, S3Storage()).load([s for s in staged if s])
    assert [o.status for o in again.outcomes] == ["unchanged"] * 4
    assert contents(warehouse) == contents(connect(reference.url))
    warehouse.close()


def test_versions_of_one_key_in_one_batch_load_only_the_newest_whatever_their_order(
    aws: None, postgres_url: str, tmp_path: Path
) -> None:
    # GIVEN two versions of one key, the second a correction, staged with their sequencers
    path = generate(tmp_path / "in", branches=1, days=1, start=date(2026, 12, 4)).files[0]
    corrected = b"".join(path.read_bytes().splitlines(keepends=True)[:-3])
    s3 = boto3.client("s3")
    region = {"LocationConstraint": "eu-west-2"}
    s3.create_bucket(Bucket="cafe-raw", CreateBucketConfiguration=region)
    s3.put_bucket_versioning(Bucket="cafe-raw", VersioningConfiguration={"Status": "Enabled"})
    stage = StageFiles(S3Storage(), "cafe-clean", Tokeniser(None))
    versions = []
    for body, sequencer in ((path.read_bytes(), "0062A1"), (corrected, "0062A2")):
        put = s3.put_object(Bucket="cafe-raw", Key=path.name, Body=body)
        where = S3Location("cafe-raw", path.name, put["VersionId"])
        versions.append(stage.stage(where, sequencer))
    newest, oldest = versions[1], versions[0]
    assert newest and oldest
    # WHEN they arrive in one batch, the correction first
    warehouse = PostgresWarehouse(postgres_url)
    warehouse.migrate()
    run = LoadStaged(warehouse, S3Storage()).load([newest, oldest])
    # THEN the correction is loaded and the original recorded as superseded, loading nothing
    assert sorted(o.status for o in run.outcomes) == ["loaded", "superseded"]
    ledger = dict(warehouse.execute("SELECT sha256, status FROM loaded_files"))
    assert ledger == {newest.sha256: "loaded", oldest.sha256: "superseded"}
    count = warehouse.execute("SELECT COUNT(*) FROM transactions")[0][0]
    assert count == newest.summary.rows_loaded < oldest.summary.rows_loaded
    warehouse.close()
