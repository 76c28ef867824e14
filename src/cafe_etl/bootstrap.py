"""The one place that wires: settings in; warehouse, tokeniser and services out.

The CLI, the Lambda handlers and the tests all start here; leaving the context closes what
it opened. Nothing connects at import.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cafe_etl.analytics.data import Request
from cafe_etl.analytics.reference import BranchRow, apply_branch_reference, read_branch_file
from cafe_etl.analytics.report import write_report
from cafe_etl.config import Settings
from cafe_etl.extract import sources
from cafe_etl.extract.sources import Source
from cafe_etl.load.unit_of_work import Hook
from cafe_etl.service.load_files import LoadFiles
from cafe_etl.service.maintenance import Maintenance
from cafe_etl.service.parallel import ParallelRun, Run, start_run
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
        """The raw files below ``folder`` (the landing folder by default), oldest first."""
        return sources.list_folder(Path(folder) if folder else self.settings.landing)

    def start_run(self, files: list[Source], *, force: bool = False) -> Run | ParallelRun:
        """A run over ``files`` with the configured loader processes; ``wait()`` for it."""
        return start_run(self.load, files, self.settings.jobs, force=force)

    def report(self, request: Request, out: Path | None = None, fmt: str = "html") -> Path:
        """Write the manager's report (or its tables as csv/json); return where."""
        return write_report(self.warehouse, request, out, fmt)

    def apply_branch_reference(self) -> int:
        """Regions and opening dates from the branch file (or the shipped regions); the
        number of regions changed."""
        return apply_branch_reference(self.warehouse, self.branch_rows)


@contextmanager
def bootstrap(
    settings: Settings,
    *,
    create: bool = False,
    loading: bool = False,
    warehouse: Warehouse | None = None,
    hook: Hook | None = None,
    reader: Reader = arrow_first,
) -> Iterator[Services]:
    """Services on a migrated warehouse, closed on leaving.

    ``create``: a DuckDB file may be created (only ``run``, ``demo`` and ``init-db`` do);
    ``loading``: refuse a token key other than the warehouse's. Seams for tests: a
    ``warehouse`` adapter instead of the one the settings name, a ``hook`` on each step of a
    ``UnitOfWork``, the ``reader`` that parses files.
    """
    branch_rows = read_branch_file(settings.branches_file) if settings.branches_file else []
    if warehouse is None:
        password = settings.warehouse_password()
        warehouse = connect(settings.warehouse, create=create, password=password)
    try:
        applied = warehouse.migrate()
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
