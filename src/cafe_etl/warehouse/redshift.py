"""Amazon Redshift: PostgreSQL plus what differs. Each difference cites the page that states it.

- Driver: ``redshift_connector`` (psycopg 3 cannot speak Redshift's client encoding,
  psycopg issue 122). Its interface and operational errors, and a server that ends the
  session (SQLSTATE 08xxx, 57P01), are a lost connection: closed, forgotten and retried, as
  on PostgreSQL. It connects with a timeout; after that, TCP keepalives find a dead peer.
- Bulk load: batches are written as Parquet to an S3 staging prefix, then
  ``COPY … FORMAT AS PARQUET`` with an IAM role. That COPY goes through Redshift Spectrum,
  whose types include TIMESTAMP but not TIMESTAMPTZ
  (https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-columnar.html,
  https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_EXTERNAL_TABLE.html): the ledger,
  whose ``loaded_at`` is TIMESTAMPTZ and which is a few rows a group, goes in as one
  multi-row ``INSERT … VALUES`` instead (no upload, no COPY).
- Upsert: ``MERGE`` in the subset Redshift supports (no target alias)
  (https://docs.aws.amazon.com/redshift/latest/dg/r_MERGE.html).
- Locking: no advisory locks, and ``LOCK`` takes an ACCESS EXCLUSIVE lock that blocks
  readers too (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html): loaders lock
  ``etl_loader_mutex``, a table nothing reads, as the first statement of their transaction.
  The ledger read after it is current: a transaction's snapshot is taken at its first
  query, not at LOCK (https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html).
- Serializable isolation violations (error 1023) are transient and retried (same page;
  clusters created since 2024 default to SNAPSHOT isolation, where concurrent writes to one
  table conflict the same way and the mutex keeps loaders apart).

URL: ``redshift://USER[:PASSWORD]@HOST:5439/DB?iam_role=ARN&staging=s3://BUCKET/PREFIX``
with optional ``region=``, ``connect_timeout=`` (seconds, 10), ``ssl=false`` (a local tunnel
only) and, for IAM authentication instead of a password, ``auth=iam`` with
``cluster_identifier=ID`` (provisioned) or ``workgroup=NAME`` (Serverless): the driver then
asks AWS for temporary credentials with the caller's role
(https://github.com/aws/amazon-redshift-python-driver#connection-parameters,
https://docs.aws.amazon.com/redshift/latest/mgmt/generating-iam-credentials-overview.html).
A password not in the URL comes from the settings (``CAFE_ETL_REDSHIFT_PASSWORD`` or the SSM
SecureString ``CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER``).
"""

import contextlib
import io
import logging
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from cafe_etl.contract import PARQUET_OPTIONS
from cafe_etl.errors import ConfigError, TransientError, WarehouseError
from cafe_etl.warehouse.base import MIGRATIONS_TABLE
from cafe_etl.warehouse.postgres import PostgresWarehouse, _identifier, reporting_grants

log = logging.getLogger(__name__)

LOADER_MUTEX = "etl_loader_mutex"
INSERTED_AS_VALUES = frozenset({"loaded_files"})
"""Tables written with ``INSERT … VALUES``: a TIMESTAMPTZ column COPY of Parquet cannot fill."""
VALUES_ROWS = 500
"""Rows an ``INSERT … VALUES`` statement carries (13 columns: 6,500 bind parameters)."""
CONNECT_TIMEOUT = 10
PASSWORD_CHARACTERS = frozenset(chr(code) for code in range(33, 127)) - set("'\"\\/@")
_LOST_STATES = ("08", "57P")  # connection exceptions; the server shutting the session


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


def values_statement(table_name: str, columns: Sequence[str], rows: int) -> str:
    """A multi-row INSERT with ``?`` placeholders for ``rows`` rows."""
    row = "(" + ", ".join("?" for _ in columns) + ")"
    return f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES " + ", ".join([row] * rows)


def quote_literal(text: str) -> str:
    """A string literal as QUOTE_LITERAL writes it: quotes and backslashes doubled
    (https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def check_password(password: str) -> None:
    """Redshift's rules for a clear-text password, checked before it is sent, so a bad one
    gets a line naming the rule and not a server error that may echo the statement
    (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html)."""
    rules = (
        (8 <= len(password) <= 64, "be 8 to 64 characters long"),
        (any("A" <= c <= "Z" for c in password), "contain an upper-case letter"),
        (any("a" <= c <= "z" for c in password), "contain a lower-case letter"),
        (any("0" <= c <= "9" for c in password), "contain a digit"),
        (
            set(password) <= PASSWORD_CHARACTERS,
            "use only printable ASCII other than ' \" \\ / @ and space",
        ),
    )
    for holds, rule in rules:
        if not holds:
            raise ConfigError(f"CAFE_ETL_REPORTING_PASSWORD: a Redshift password must {rule}")


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
        self.iam_auth = options.get("auth", "password") == "iam"
        self.cluster_identifier = options.get("cluster_identifier")
        self.workgroup = options.get("workgroup")
        self.ssl = options.get("ssl", "true").lower() != "false"
        self.connect_timeout = _seconds(options.get("connect_timeout"), self.display_name)
        self._s3_client: Any = None
        if not self.iam_role or not self.staging.startswith("s3://"):
            raise ConfigError(
                f"warehouse URL {self.display_name}: add ?iam_role=ARN&staging=s3://BUCKET/PREFIX"
                " (the role Redshift uses to COPY, and where batches are staged)"
            )
        if self.iam_auth and not self.ssl:
            raise ConfigError(
                f"warehouse URL {self.display_name}: auth=iam needs TLS; remove ssl=false"
            )
        if self.iam_auth and not (self.region and (self.cluster_identifier or self.workgroup)):
            raise ConfigError(
                f"warehouse URL {self.display_name}: auth=iam needs region= and"
                " cluster_identifier= (provisioned) or workgroup= (Serverless)"
            )

    @property
    def connection(self) -> Any:
        if self._connection is None:
            import redshift_connector
            import redshift_connector.error as driver
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                connection = redshift_connector.connect(**self.connect_arguments())
            except (driver.Error, OSError, BotoCoreError, ClientError) as error:
                # Once connected, a refusal is the cluster restarting or resizing: retried.
                # The driver reads its socket directly: a silent host is a bare TimeoutError.
                kind = TransientError if self._connected_once else WarehouseError
                raise kind(f"cannot connect to {self.display_name}: {_message(error)}") from None
            # The connect timeout stays on the driver's socket for every read after it, so
            # a long COPY or a wait for the loader mutex would count as a lost connection:
            # lift it once connected (keepalives find a dead peer instead).
            with contextlib.suppress(AttributeError, OSError):
                connection._usock.settimeout(None)
            connection.autocommit = True
            self._connection, self._connected_once = connection, True
        return self._connection

    def connect_arguments(self) -> dict[str, Any]:
        parts = urlsplit(self.url)
        user = unquote(parts.username or "")
        arguments: dict[str, Any] = {
            "host": parts.hostname, "port": parts.port or 5439,
            "database": parts.path.lstrip("/") or "dev", "ssl": self.ssl,
            "timeout": self.connect_timeout, "tcp_keepalive": True,
            "tcp_keepalive_idle": 60, "tcp_keepalive_interval": 10, "tcp_keepalive_count": 6,
        }  # fmt: skip
        if not self.iam_auth:
            return arguments | {"user": user, "password": self._password()}
        arguments |= {"iam": True, "db_user": user, "region": self.region}
        if self.workgroup:
            return arguments | {"is_serverless": True, "serverless_work_group": self.workgroup}
        return arguments | {"cluster_identifier": self.cluster_identifier}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import redshift_connector.error as driver

        try:
            cursor = self.connection.cursor()
        except (driver.Error, OSError) as error:
            raise self._translate(error) from error
        try:
            statement = sql.replace("?", "%s") if params else sql
            cursor.execute(statement, list(params) or None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        except (driver.Error, OSError) as error:
            raise self._translate(error) from error
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def _translate(self, error: Exception) -> WarehouseError:
        import redshift_connector.error as driver

        state, message = _state(error), _message(error)
        # The driver reads and writes its socket directly: a reset, a broken pipe or a
        # keepalive timeout surfaces as a bare OSError, not as one of its own errors.
        lost = isinstance(
            error, OSError | driver.InterfaceError | driver.OperationalError
        ) or state.startswith(_LOST_STATES)
        if lost:  # reconnect on the retry instead of reusing a dead connection
            self.close()
        serial = "serializable isolation violation" in message.lower()
        kind = TransientError if lost or serial else WarehouseError
        return kind(f"Redshift {self.display_name}: {message}")

    def close(self) -> None:
        self._s3_client = None  # boto3 clients are not fork-safe: --jobs forks after close()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a dead socket cannot say goodbye
                connection.close()

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        if table_name in INSERTED_AS_VALUES:
            self._insert_values(table_name, rows)
        else:
            self._copy(table_name, rows)

    def _insert_values(self, table_name: str, rows: pa.Table) -> None:
        for start in range(0, rows.num_rows, VALUES_ROWS):
            part = rows.slice(start, VALUES_ROWS)
            params = [value for row in part.to_pylist() for value in row.values()]
            self.execute(values_statement(table_name, part.column_names, part.num_rows), params)

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

    def session_alive(self, session: int | None) -> bool:
        """Sessions are listed in STV_SESSIONS, not pg_stat_activity
        (https://docs.aws.amazon.com/redshift/latest/dg/r_STV_SESSIONS.html)."""
        return bool(self.execute("SELECT 1 FROM stv_sessions WHERE process = ?", (session,)))

    def create_reporting_role(self, role: str, password: str | None) -> None:
        """A Redshift user that can only read (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html).

        Without a password the user can only sign in with IAM credentials (PASSWORD DISABLE),
        which only a superuser may set (r_CREATE_USER)."""
        name = _identifier(role)
        if password:
            check_password(password)
        with self.transaction():
            if not self.execute("SELECT 1 FROM pg_user WHERE usename = ?", (role,)):
                if not password and not self._is_superuser():
                    raise ConfigError(
                        "CAFE_ETL_REPORTING_PASSWORD: set a password for the reporting user;"
                        " creating it without one (PASSWORD DISABLE) needs a Redshift superuser"
                    )
                secret = f"PASSWORD {quote_literal(password)}" if password else "PASSWORD DISABLE"
                self.execute(f"CREATE USER {name} {secret}")
            for statement in reporting_grants(name):
                self.execute(statement)

    def _is_superuser(self) -> bool:
        rows = self.execute("SELECT usesuper FROM pg_user WHERE usename = current_user")
        return bool(rows and rows[0][0])

    def lock(self, *names: str) -> None:
        """Every loader takes the one mutex (Redshift has no per-name locks)."""
        self.execute(f"LOCK {LOADER_MUTEX}")

    def lock_budget(self, jobs: int) -> None:
        return None  # one lock whatever the group's size

    def _copy(self, table_name: str, rows: pa.Table) -> None:
        uri = self.stage(table_name, rows)
        try:
            self.execute(copy_statement(table_name, uri, self.iam_role))
        finally:
            self._unstage(uri)

    def stage(self, table_name: str, rows: pa.Table) -> str:
        """Write rows as one Parquet object under the staging prefix; return its URI."""
        buffer = io.BytesIO()
        pq.write_table(rows, buffer, **PARQUET_OPTIONS)
        bucket, _, prefix = self.staging.removeprefix("s3://").partition("/")
        key = "/".join(p for p in (prefix, uuid.uuid4().hex, f"{table_name}.parquet") if p)
        with _aws_errors(f"cannot stage a batch in {self.staging}"):
            self.s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        return f"s3://{bucket}/{key}"

    def _unstage(self, uri: str) -> None:
        """Remove a staged object; a failure is logged, never raised over the COPY's own
        outcome (the staging prefix's expiry rule removes what is left)."""
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            self.s3.delete_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            log.warning("staged %s not removed (the prefix's expiry rule will): %s", uri, error)

    @property
    def s3(self) -> Any:
        """One S3 client for the warehouse's life (a client costs ~50 ms and its own pool)."""
        if self._s3_client is None:
            import boto3

            self._s3_client = boto3.client("s3", region_name=self.region)
        return self._s3_client

    def _password(self) -> str:
        password = self._given_password or unquote(urlsplit(self.url).password or "")
        if not password:
            raise ConfigError(
                f"no password for {self.display_name}: set CAFE_ETL_REDSHIFT_PASSWORD,"
                " CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER (an SSM SecureString name) or"
                " auth=iam in the URL"
            )
        return password


def _fields(error: Exception) -> dict[str, object]:
    """The server's error fields (the driver passes them as a dict; empty for its own)."""
    return error.args[0] if error.args and isinstance(error.args[0], dict) else {}


def _state(error: Exception) -> str:
    """The SQLSTATE of a server error."""
    return str(_fields(error).get("C", ""))


def _message(error: Exception) -> str:
    return str(_fields(error).get("M", "")) or str(error) or type(error).__name__


def _seconds(text: str | None, where: str) -> float:
    if text is None:
        return CONNECT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"warehouse URL {where}: connect_timeout must be a number of seconds")
    return value


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
    warehouse: RedshiftWarehouse, table_name: str, objects: Sequence[tuple[str, int]]
) -> None:
    """One COPY of every listed Parquet object into ``table_name``: the manifest is written
    under the warehouse's staging prefix and removed afterwards (a failed removal is logged,
    never raised over the COPY's own outcome)."""
    bucket, _, prefix = warehouse.staging.removeprefix("s3://").partition("/")
    key = "/".join(p for p in (prefix, uuid.uuid4().hex, f"{table_name}.manifest") if p)
    with _aws_errors(f"cannot write a COPY manifest in {warehouse.staging}"):
        warehouse.s3.put_object(Bucket=bucket, Key=key, Body=parquet_manifest(objects))
    uri = f"s3://{bucket}/{key}"
    try:
        warehouse.execute(manifest_copy_statement(table_name, uri, warehouse.iam_role))
    finally:
        warehouse._unstage(uri)
