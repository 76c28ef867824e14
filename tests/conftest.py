"""Fixtures every test may use: the warehouses to run on, and a thin harness around the core.

Behaviour tests take ``warehouse_url`` (or the ``etl`` / ``cli`` harness built on it) and are
written once; each warehouse kind is one parameter of ``warehouse_url``, with a readable id.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cafe_etl.bootstrap import Services, bootstrap
from cafe_etl.config import Settings, load_settings
from cafe_etl.entrypoints.cli import app
from cafe_etl.extract.sources import list_folder
from cafe_etl.model import LedgerRow
from cafe_etl.service.load_files import RunSummary
from cafe_etl.warehouse import connect

pytest_plugins = ["postgres_fixtures"]

TOKEN_KEY = "integration-test-token-key"
"""The token key the harnesses use unless a test says otherwise."""

CONTRACT_TABLES = (
    "basket_items",
    "branches",
    "loaded_files",
    "products",
    "rejected_rows",
    "transactions",
)

Rows = list[tuple[Any, ...]]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS with fake credentials and an empty ``cafe-clean`` bucket."""
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket="cafe-clean", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        yield


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own CAFE_ETL_* settings (warehouse, token key...) never reach a test."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"CAFE_ETL_{name.upper()}", raising=False)


@pytest.fixture(
    params=[
        pytest.param("duckdb", id="duckdb"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty warehouse of each kind; add a kind as another param (and branch here)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/cafe.duckdb"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    raise ValueError(f"no warehouse fixture for {request.param!r}")


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, "" if value is None else str(value)) for value in row)


@dataclass
class Etl:
    """Runs the core the way every entry point does, and reads the warehouse back."""

    url: str
    token_key: str | None = TOKEN_KEY

    def settings(self, *, token_key: str | EllipsisType | None = ..., **overrides: Any) -> Settings:
        key = self.token_key if token_key is ... else token_key
        return load_settings(warehouse=self.url, token_key=key, **overrides)

    @contextmanager
    def services(
        self,
        *,
        token_key: str | EllipsisType | None = ...,
        check_token_key: bool = True,
        seams: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Iterator[Services]:
        """The services every entry point uses, on a new connection, closed afterwards;
        ``seams`` go to ``bootstrap`` (``hook``, ``reader``, ``warehouse``)."""
        settings = self.settings(token_key=token_key, **overrides)
        with bootstrap(settings, create=True, loading=check_token_key, **(seams or {})) as done:
            yield done

    def run(
        self,
        folder: Path,
        *,
        force: bool = False,
        token_key: str | EllipsisType | None = ...,
        seams: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> RunSummary:
        with self.services(token_key=token_key, seams=seams, **overrides) as services:
            return services.load.run(list_folder(folder), force=force)

    def forget(self, name: str) -> LedgerRow:
        with self.services(check_token_key=False) as services:
            return services.maintenance.forget(name)

    def reprocess(self, names: list[str] | None = None) -> RunSummary:
        with self.services() as services:
            files = services.maintenance.sources_to_reprocess(names)
            return services.load.run(files, force=True)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        warehouse = connect(self.url)
        try:
            return warehouse.execute(sql, params)
        finally:
            warehouse.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(sql, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def tables(self) -> list[str]:
        """Every table of the warehouse's schema (the contract's and the pipeline's own), but
        not the views (derived from them) nor the static calendar of 36,525 days."""
        rows = self.query(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name <> 'calendar' ORDER BY table_name"
        )
        return [row[0] for row in rows]

    def snapshot(self, *, loaded_at: bool = True) -> dict[str, Rows]:
        """The full contents of every table, sorted; ``loaded_at=False`` drops that column."""
        contents = {}
        for table in self.tables():
            if table == "loaded_files" and not loaded_at:
                columns = [c for c in self.columns(table) if c != "loaded_at"]
                rows = self.query(f"SELECT {', '.join(columns)} FROM loaded_files")
            else:
                rows = self.query(f"SELECT * FROM {table}")
            contents[table] = sorted(rows, key=_sort_key)
        return contents

    def columns(self, table: str) -> list[str]:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in rows]

    def ledger(self) -> list[dict[str, Any]]:
        """``loaded_files`` as dicts, by file name then load time."""
        columns = self.columns("loaded_files")
        rows = self.query("SELECT * FROM loaded_files ORDER BY file_name, loaded_at")
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def ledger_row(self, name: str) -> dict[str, Any]:
        """The one ledger row of a name that is not ``superseded``."""
        rows = [row for row in self.ledger() if row["file_name"] == name]
        current = [row for row in rows if row["status"] != "superseded"]
        assert len(current) == 1, rows
        return current[0]

    def all_text(self) -> str:
        """Every value of every column of every table, as text, one row a line."""
        lines = []
        for table, rows in self.snapshot().items():
            lines.extend(f"{table}: " + " | ".join(map(str, row)) for row in rows)
        return "\n".join(lines)


@pytest.fixture
def etl(warehouse_url: str) -> Etl:
    """The core on a fresh warehouse, with the test token key."""
    return Etl(warehouse_url)


@dataclass
class Cli:
    """Invokes ``cafe-etl`` in-process with CAFE_ETL_* settings in the environment."""

    env: dict[str, str | None] = field(default_factory=dict)

    def __call__(
        self,
        *args: object,
        env: dict[str, str | None] | None = None,
        seams: dict[str, Any] | None = None,
    ) -> Result:
        """``seams`` reach ``bootstrap`` as the command's context object."""
        return CliRunner().invoke(
            app, [str(arg) for arg in args], env={**self.env, **(env or {})}, obj=seams
        )


@pytest.fixture
def cli(warehouse_url: str) -> Cli:
    """``cafe-etl`` pointed at the fresh warehouse, with the test token key."""
    return Cli({"CAFE_ETL_WAREHOUSE": warehouse_url, "CAFE_ETL_TOKEN_KEY": TOKEN_KEY})
