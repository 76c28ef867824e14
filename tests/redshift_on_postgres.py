"""The Redshift adapter run against the tests' PostgreSQL server, with its real driver.

What runs for real: ``redshift_connector`` (through ``redshift_wire``, which drops its
Redshift-only startup parameters), the adapter's statements, its error handling, the loader
mutex, MERGE (PostgreSQL 15 runs Redshift's subset), multi-row INSERTs, and the Redshift
migrations themselves after ``translate_ddl``. What is played: only ``COPY … FROM 's3://…'
FORMAT AS PARQUET``, which PostgreSQL lacks: the staged object is read back from (moto) S3
and inserted *by position*, so, as on Redshift, the Parquet's columns must be the table's,
as many and in its order.
"""

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from cafe_etl.errors import WarehouseError
from cafe_etl.warehouse.base import Migration
from cafe_etl.warehouse.redshift import VALUES_ROWS, RedshiftWarehouse

ROLE = "arn:aws:iam::123456789012:role/cafe-etl-copy"
STAGING = "s3://cafe-clean/staging"
COPY = re.compile(r"COPY (\w+) FROM '(s3://[^']+)' IAM_ROLE '[^']+' FORMAT AS PARQUET")

REDSHIFT_ONLY = [
    r"\bDISTSTYLE\s+(ALL|EVEN|KEY|AUTO)\b",
    r"\bDISTKEY\s*\([^)]*\)",
    r"\b(COMPOUND\s+|INTERLEAVED\s+)?SORTKEY\s*\([^)]*\)",
    r"\bENCODE\s+\w+",
]
"""The clauses Redshift's CREATE TABLE has and PostgreSQL's lacks; they set physical layout
only (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html), so removing
them leaves the same tables, columns, types and constraints."""


DATEADD_DAYS = re.compile(r"DATEADD\(day,\s*([^,]+),\s*([^)]+)\)", re.IGNORECASE)
"""Redshift's ``DATEADD(day, n, d)``, which PostgreSQL writes ``d + n`` (a date plus whole
days: https://docs.aws.amazon.com/redshift/latest/dg/r_DATEADD_function.html)."""


def translate_ddl(sql: str) -> str:
    """Redshift DDL as PostgreSQL runs it: the physical-layout clauses removed and day
    arithmetic respelled, nothing else (so a wrong column list or type still fails)."""
    for pattern in REDSHIFT_ONLY:
        sql = re.sub(pattern, "", sql, flags=re.IGNORECASE)
    return DATEADD_DAYS.sub(r"(\2 + (\1))", sql)


def redshift_url(postgres_url: str, wire_port: int, **options: str) -> str:
    """A redshift:// URL reaching the PostgreSQL database of ``postgres_url`` via the wire."""
    parts = urlsplit(postgres_url)
    query = "&".join(
        f"{k}={v}" for k, v in ({"iam_role": ROLE, "staging": STAGING, "ssl": "false"}
                                | options).items()
    )  # fmt: skip
    password = parts.password or "unused"  # the server's own, if it asks for one
    return f"redshift://{parts.username}:{password}@127.0.0.1:{wire_port}{parts.path}?{query}"


class RedshiftOnPostgres(RedshiftWarehouse):
    """The Redshift adapter, its migrations translated and its Parquet COPY played."""

    def __init__(self, url: str, *, password: str | None = None) -> None:
        super().__init__(url, password=password)
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def migrations(self) -> list[Migration]:
        return [Migration(m.version, m.name, translate_ddl(m.sql)) for m in super().migrations()]

    def session_alive(self, session: int | None) -> bool:
        """STV_SESSIONS is Redshift's pg_stat_activity (the one catalog view swapped)."""
        return bool(self.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ?", (session,)))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.statements.append((sql, tuple(params)))
        copy = COPY.fullmatch(sql)
        if copy is None:
            return super().execute(sql, params)
        bucket, _, key = copy[2].removeprefix("s3://").partition("/")
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        self._copy_in(copy[1], pq.read_table(pa.BufferReader(body)))
        return []

    def _copy_in(self, table_name: str, rows: pa.Table) -> None:
        """COPY's effect, by position as COPY of Parquet maps columns (the driver cannot
        send ``COPY … FROM STDIN``: Redshift has none)."""
        width = self.execute(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = ?", (table_name,)
        )[0][0]
        if width != rows.num_columns:
            raise WarehouseError(
                f"COPY {table_name}: the Parquet has {rows.num_columns} columns, the table {width}"
            )
        for start in range(0, rows.num_rows, VALUES_ROWS):
            part = rows.slice(start, VALUES_ROWS)
            placeholders = ", ".join(
                ["(" + ", ".join("?" * rows.num_columns) + ")"] * part.num_rows
            )
            params = [value for row in part.to_pylist() for value in row.values()]
            super().execute(f"INSERT INTO {table_name} VALUES {placeholders}", params)

    def executed(self, prefix: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [(sql, params) for sql, params in self.statements if sql.startswith(prefix)]
