"""The one place that wires: settings in; warehouse, tokeniser and services out.

The CLI, the Lambda handlers and the tests all start here; leaving the context closes what
it opened. Nothing connects at import.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cafe_etl.analytics.data import Request
from cafe_etl.analytics.reference import (
    BranchRow,
    apply_branch_reference,
    read_branch_file,
    regions_out_of_date,
)
from cafe_etl.analytics.report import write_report
from cafe_etl.config import Settings
from cafe_etl.errors import ConfigError
from cafe_etl.extract import sources
from cafe_etl.extract.s3 import S3Storage
from cafe_etl.extract.sources import Source
from cafe_etl.load.unit_of_work import Hook
from cafe_etl.service.load_files import LoadFiles
from cafe_etl.service.load_staged import LoadStaged
from cafe_etl.service.maintenance import Maintenance
from cafe_etl.service.parallel import ParallelRun, Run, start_run
from cafe_etl.service.stage_files import StageFiles
from cafe_etl.service.staged import StagedFile
from cafe_etl.service.token_key import check_token_key
from cafe_etl.transform.file import Reader, arrow_first
from cafe_etl.transform.redact import Tokeniser, key_fingerprint
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.base import Warehouse


@dataclass(frozen=True)
class Services:
    """Everything a command needs, wired from one ``Settings``."""

    settings: Settings
    warehouse: Warehouse
    load: LoadFiles
    maintenance: Maintenance
    applied_migrations: list[str]
    """Migrations this start applied (none when the schema was up to date)."""
    branch_rows: list[BranchRow] = field(default_factory=list)
    """The user's branch file, read (and checked) before anything else."""

    def sources(self, folder: Path | str | None = None) -> list[Source]:
        """The raw files below ``folder`` or ``s3://bucket/prefix`` (the landing folder by
        default), oldest first."""
        location = str(folder) if folder else self.settings.landing
        if location.startswith("s3://"):
            from cafe_etl.extract.s3 import S3Storage

            return S3Storage().list(location)
        return sources.list_folder(Path(location))

    def start_run(self, files: list[Source], *, force: bool = False) -> Run | ParallelRun:
        """A run over ``files`` with the configured loader processes; ``wait()`` for it."""
        return start_run(self.load, files, self.settings.jobs, force=force)

    def report(self, request: Request, out: Path | None = None, fmt: str = "html") -> Path:
        """Write the manager's report (or its tables as csv/json); return where."""
        return write_report(self.warehouse, request, out, fmt)

    def regions_out_of_date(self) -> list[str]:
        """Branches whose region differs from the branch file's (none without a file)."""
        return regions_out_of_date(self.warehouse, self.branch_rows) if self.branch_rows else []

    def apply_branch_reference(self) -> int:
        """Regions and opening dates from the branch file (or the shipped regions); the
        number of regions changed."""
        return apply_branch_reference(self.warehouse, self.branch_rows)


def _check_schema(warehouse: Warehouse) -> list[str]:
    pending = warehouse.pending_migrations()
    if pending and len(pending) == len(warehouse.migrations()):
        raise ConfigError(
            f"no cafe-etl tables in {warehouse.display_name}: load files first (cafe-etl run)"
            " or create them (cafe-etl init-db)"
        )
    if pending:
        raise ConfigError(
            f"{warehouse.display_name} is older than this cafe-etl ({len(pending)} migrations"
            " pending): run cafe-etl init-db as the loading user"
        )
    return []


@contextmanager
def bootstrap(
    settings: Settings,
    *,
    create: bool = False,
    loading: bool = False,
    migrate: bool = True,
    warehouse: Warehouse | None = None,
    hook: Hook | None = None,
    reader: Reader = arrow_first,
) -> Iterator[Services]:
    """Services on a migrated warehouse, closed on leaving.

    ``create``: a DuckDB file may be created (only ``run``, ``demo`` and ``init-db`` do);
    ``loading``: refuse a token key other than the warehouse's; ``migrate=False`` (commands
    that only read, which a read-only user may run): never change the schema, and say so if
    it is missing or older than this version. Seams for tests: a
    ``warehouse`` adapter instead of the one the settings name, a ``hook`` on each step of a
    ``UnitOfWork``, the ``reader`` that parses files.
    """
    branch_rows = read_branch_file(settings.branches_file) if settings.branches_file else []
    if warehouse is None:
        password = settings.warehouse_password()
        warehouse = connect(settings.warehouse, create=create, password=password)
    try:
        applied = warehouse.migrate() if migrate else _check_schema(warehouse)
        key = settings.token_key_bytes
        if loading:
            check_token_key(warehouse, key_fingerprint(key) if key else None)
        load = LoadFiles(
            warehouse, Tokeniser(key), jobs=settings.jobs, group_bytes=settings.group_bytes,
            batch_rows=settings.chunk_rows, retry_seconds=settings.retry_seconds, hook=hook,
            reader=reader,
        )  # fmt: skip
        maintenance = Maintenance(warehouse, hook=hook)
        yield Services(settings, warehouse, load, maintenance, applied, branch_rows)
    finally:
        warehouse.close()


# -- the serverless flow (issue 12): what the Lambda handlers start from ---------------------


@dataclass(frozen=True)
class TransformWiring:
    """The transform handler's services: stage a raw object, send its message."""

    stage: StageFiles
    queue_url: str
    sqs: Any

    def send(self, staged: StagedFile) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=staged.to_json())


def transform_wiring(settings: Settings) -> TransformWiring:
    """Clean bucket, clean queue and token key from the settings (the key from SSM when
    ``CAFE_ETL_TOKEN_KEY_PARAMETER`` names it); a missing one fails naming it."""
    import boto3

    settings.required("clean_bucket", "clean_queue_url")
    key = settings.token_key_bytes
    stage = StageFiles(
        S3Storage(), str(settings.clean_bucket), Tokeniser(key), token_key=key,
        prefix=settings.clean_prefix, batch_rows=settings.chunk_rows,
    )  # fmt: skip
    return TransformWiring(stage, str(settings.clean_queue_url), boto3.client("sqs"))


def load_wiring(
    settings: Settings, *, warehouse: Warehouse | None = None, hook: Hook | None = None
) -> LoadStaged:
    """The load handler's service on a migrated warehouse, kept open between invocations
    (a lost connection is made again on next use); ``close()`` its warehouse when done."""
    if warehouse is None:
        password = settings.warehouse_password()
        warehouse = connect(settings.warehouse, create=False, password=password)
    try:
        warehouse.migrate()
    except BaseException:
        warehouse.close()
        raise
    return LoadStaged(warehouse, S3Storage(), hook=hook)
