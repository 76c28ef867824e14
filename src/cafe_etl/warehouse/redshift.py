"""Amazon Redshift: PostgreSQL plus what differs.

- Driver: ``redshift_connector`` (psycopg 3 cannot speak Redshift's client encoding,
  psycopg issue 122).
- Bulk load: batches are written as Parquet to an S3 staging prefix, then
  ``COPY … FORMAT AS PARQUET`` with an IAM role
  (https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-columnar.html).
- Upsert: ``MERGE`` in the subset Redshift supports (no target alias)
  (https://docs.aws.amazon.com/redshift/latest/dg/r_MERGE.html).
- Locking: no advisory locks; ``LOCK loaded_files`` serialises loaders
  (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html).
- Serializable isolation violations (error 1023) are transient and retried
  (https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html).

URL: ``redshift://USER[:PASSWORD]@HOST:5439/DB?iam_role=ARN&staging=s3://BUCKET/PREFIX``
with optional ``region=``; a password not in the URL comes from the settings
(``CAFE_ETL_REDSHIFT_PASSWORD`` or the SSM SecureString ``CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER``).
"""

import contextlib
import io
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from cafe_etl.errors import ConfigError, TransientError, WarehouseError
from cafe_etl.warehouse.base import MIGRATIONS_TABLE
from cafe_etl.warehouse.postgres import (
    PostgresWarehouse,
    _identifier,
    reporting_grants,
)


def copy_statement(table_name: str, uri: str, iam_role: str) -> str:
    return f"COPY {table_name} FROM '{uri}' IAM_ROLE '{iam_role}' FORMAT AS PARQUET"


def merge_statement(table_name: str, key: str, columns: Sequence[str], source: str) -> str:
    """Upsert from ``source``: Redshift's MERGE subset, which PostgreSQL 15 also runs."""
    updates = ", ".join(f"{c} = {source}.{c}" for c in columns if c != key)
    values = ", ".join(f"{source}.{c}" for c in columns)
    return (
        f"MERGE INTO {table_name} USING {source} ON {table_name}.{key} = {source}.{key}"
        f" WHEN MATCHED THEN UPDATE SET {updates}"
        f" WHEN NOT MATCHED THEN INSERT ({', '.join(columns)}) VALUES ({values})"
    )


class RedshiftWarehouse(PostgresWarehouse):
    scheme = "redshift"
    migration_folders: ClassVar[tuple[str, ...]] = ("redshift",)

    def __init__(self, url: str, *, password: str | None = None) -> None:
        super().__init__(url)
        self._given_password = password
        options = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        self.iam_role = options.get("iam_role", "")
        self.staging = options.get("staging", "").rstrip("/")
        self.region = options.get("region")
        if not self.iam_role or not self.staging.startswith("s3://"):
            raise ConfigError(
                f"warehouse URL {self.display_name}: add ?iam_role=ARN&staging=s3://BUCKET/PREFIX"
                " (the role Redshift uses to COPY, and where batches are staged)"
            )

    @property
    def connection(self) -> Any:
        if self._connection is None:
            import redshift_connector
            import redshift_connector.error

            parts = urlsplit(self.url)
            try:
                self._connection = redshift_connector.connect(
                    host=parts.hostname, port=parts.port or 5439,
                    database=parts.path.lstrip("/") or "dev",
                    user=unquote(parts.username or ""), password=self._password(),
                )  # fmt: skip
            except redshift_connector.error.Error as error:
                raise WarehouseError(f"cannot connect to {self.display_name}: {error}") from None
            self._connection.autocommit = True
        return self._connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import redshift_connector.error

        cursor = self.connection.cursor()
        try:
            statement = sql.replace("?", "%s") if params else sql
            cursor.execute(statement, list(params) or None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        except redshift_connector.error.Error as error:
            transient = "serializable isolation violation" in str(error).lower()
            kind = TransientError if transient else WarehouseError
            raise kind(f"Redshift {self.display_name}: {error}") from error
        finally:
            cursor.close()

    def upsert_arrow(self, table_name: str, key: str, rows: pa.Table) -> None:
        self.execute(f"CREATE TEMP TABLE staged (LIKE {table_name})")
        self._copy("staged", rows)
        self.execute(merge_statement(table_name, key, rows.column_names, "staged"))
        self.execute("DROP TABLE staged")

    def serialise_migrations(self) -> None:
        self.execute("COMMIT")
        self.execute(MIGRATIONS_TABLE)
        self.execute("BEGIN")
        self.execute("LOCK schema_migrations")

    def create_reporting_role(self, role: str, password: str | None) -> None:
        """A Redshift user that can only read (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html)."""
        name = _identifier(role)
        with self.transaction():
            if not self.execute("SELECT 1 FROM pg_user WHERE usename = ?", (role,)):
                secret = f"PASSWORD {_literal(password)}" if password else "PASSWORD DISABLE"
                self.execute(f"CREATE USER {name} {secret}")
            for statement in reporting_grants(name):
                self.execute(statement)

    def lock(self, *names: str) -> None:
        self.execute("LOCK loaded_files")

    def _copy(self, table_name: str, rows: pa.Table) -> None:
        uri = self.stage(table_name, rows)
        try:
            self.execute(copy_statement(table_name, uri, self.iam_role))
        finally:
            self._unstage(uri)

    def stage(self, table_name: str, rows: pa.Table) -> str:
        """Write rows as one Parquet object under the staging prefix; return its URI."""
        buffer = io.BytesIO()
        pq.write_table(rows, buffer, compression="snappy", coerce_timestamps="us")
        bucket, _, prefix = self.staging.removeprefix("s3://").partition("/")
        key = "/".join(p for p in (prefix, uuid.uuid4().hex, f"{table_name}.parquet") if p)
        with _aws_errors(f"cannot stage a batch in {self.staging}"):
            self._s3().put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        return f"s3://{bucket}/{key}"

    def _unstage(self, uri: str) -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        with _aws_errors(f"cannot remove staged {uri}"):
            self._s3().delete_object(Bucket=bucket, Key=key)

    def _s3(self) -> Any:
        import boto3

        return boto3.client("s3", region_name=self.region)

    def _password(self) -> str:
        password = self._given_password or unquote(urlsplit(self.url).password or "")
        if not password:
            raise ConfigError(
                f"no password for {self.display_name}: set CAFE_ETL_REDSHIFT_PASSWORD or"
                " CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER (an SSM SecureString name)"
            )
        return password


def _literal(text: str) -> str:
    """A SQL string literal (CREATE USER takes no bind parameters)."""
    return "'" + text.replace("'", "''") + "'"


@contextlib.contextmanager
def _aws_errors(doing: str) -> Iterator[None]:
    """An AWS failure as one line naming what was being done."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise WarehouseError(f"{doing}: {error}") from None


# -- the serverless load path (issue 12): one COPY per table for a whole queue batch -------


def parquet_manifest(objects: Sequence[tuple[str, int]]) -> bytes:
    """A COPY manifest listing Parquet objects: each ``mandatory`` (a missing object fails the
    COPY rather than loading the batch short) with the ``content_length`` in bytes that a
    manifest of columnar files requires
    (https://docs.aws.amazon.com/redshift/latest/dg/loading-data-files-using-manifest.html)."""
    import json

    entries = [
        {"url": uri, "mandatory": True, "meta": {"content_length": size}} for uri, size in objects
    ]
    return json.dumps({"entries": entries}).encode()


def manifest_copy_statement(table_name: str, manifest_uri: str, iam_role: str) -> str:
    return (
        f"COPY {table_name} FROM '{manifest_uri}' IAM_ROLE '{iam_role}' FORMAT AS PARQUET MANIFEST"
    )


def copy_manifest(
    warehouse: RedshiftWarehouse, table_name: str, objects: Sequence[tuple[str, int]], s3: Any
) -> None:
    """One COPY of every listed Parquet object into ``table_name``: the manifest is written
    under the warehouse's staging prefix with the ``s3`` client, and removed afterwards."""
    bucket, _, prefix = warehouse.staging.removeprefix("s3://").partition("/")
    key = "/".join(p for p in (prefix, uuid.uuid4().hex, f"{table_name}.manifest") if p)
    with _aws_errors(f"cannot write a COPY manifest in {warehouse.staging}"):
        s3.put_object(Bucket=bucket, Key=key, Body=parquet_manifest(objects))
    try:
        warehouse.execute(manifest_copy_statement(table_name, f"s3://{bucket}/{key}",
                                                  warehouse.iam_role))  # fmt: skip
    finally:
        with _aws_errors(f"cannot remove the COPY manifest s3://{bucket}/{key}"):
            s3.delete_object(Bucket=bucket, Key=key)
