"""The ``cafe-etl`` command: parse options, call the library, print, exit with a code.

Exit codes: 0 every file processed; 2 at least one whole file rejected; 1 an operational
failure (a setting, a path, the warehouse), reported in one line.
"""

import atexit
import functools
import gc
import logging
import shutil
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from cafe_etl import bootstrap as wiring
from cafe_etl.bootstrap import Services
from cafe_etl.config import Settings, load_settings
from cafe_etl.errors import CafeEtlError
from cafe_etl.extract.sources import Source
from cafe_etl.service.load_files import RunSummary

app = typer.Typer(
    help="Load T2 Cafe branch till exports into a clean warehouse, exactly once.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console() if sys.stdout.isatty() else Console(width=200)
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

WarehouseOption = Annotated[
    str | None,
    typer.Option(
        "--warehouse", "-w",
        help="Warehouse URL: duckdb:///FILE, postgresql://USER@HOST/DB or redshift://…"
        " [default: duckdb:///cafe.duckdb; env CAFE_ETL_WAREHOUSE].",
        show_default=False,
    ),
]  # fmt: skip
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j",
        help="Loader processes, for a PostgreSQL or Redshift warehouse"
        " [default: 1; env CAFE_ETL_JOBS].",
        show_default=False,
    ),
]  # fmt: skip
FromOption = Annotated[
    str | None,
    typer.Option("--from", help="First day, YYYY-MM-DD [default: 27 days before --to].",
                 show_default=False),
]  # fmt: skip
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last day, YYYY-MM-DD [default: the last day with sales].",
                 show_default=False),
]  # fmt: skip
OutOption = Annotated[
    Path | None,
    typer.Option(help="Where to write [default: report.html, report.json, or the folder"
                 " report/ for csv].", show_default=False),
]  # fmt: skip
FormatOption = Annotated[
    str, typer.Option("--format", help="html, or csv / json for the underlying tables.")
]
DEMO_MARKER = ".cafe-etl-demo"
DEMO_LAST_DAY = date(2026, 11, 22)
REPORTING_PASSWORD_ENV = "CAFE_ETL_REPORTING_PASSWORD"  # read by config.Settings


def _reports_errors(command: F) -> F:
    """Turn an operational failure into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CafeEtlError as error:
            errors.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each file.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # At exit, take every object out of the cycle collector: the interpreter's shutdown
    # would otherwise run collections over all of pyarrow's, numpy's and psycopg's objects
    # only to free memory the process is about to return. Every command closes its
    # warehouse itself (``bootstrap``), so no cleanup waits on them.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def bootstrap(
    ctx: typer.Context, settings: Settings, **options: Any
) -> AbstractContextManager[Services]:
    """``bootstrap.bootstrap`` with the seams a caller passed as the context object
    (``CliRunner().invoke(app, args, obj={"hook": ...})``: tests inject faults so)."""
    return wiring.bootstrap(settings, **options, **(ctx.obj or {}))


def _load(services: Services, sources: list[Source], force: bool = False) -> RunSummary:
    """Load with a progress bar (forked loaders start first: no thread exists yet)."""
    from cafe_etl.entrypoints.render import progress_bar, summary_table

    run = services.start_run(sources, force=force)
    with progress_bar(console, len(sources)) as progress:
        summary = run.wait(progress)
    console.print(summary_table(summary))
    services.apply_branch_reference()
    return summary


@app.command()
@_reports_errors
def run(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(
            help="Folder searched recursively for *.csv, or s3://BUCKET/PREFIX"
            " [default: data/landing; env CAFE_ETL_LANDING].",
            show_default=False,
        ),
    ] = None,
    warehouse: WarehouseOption = None,
    jobs: JobsOption = None,
) -> None:
    """Load every raw file whose name or content is new."""
    settings = load_settings(warehouse=warehouse, landing=source, jobs=jobs)
    with bootstrap(ctx, settings, loading=True, create=True) as services:
        summary = _load(services, services.sources())
    raise typer.Exit(summary.exit_code)


@app.command()
@_reports_errors
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    branches: Annotated[int, typer.Option(min=1, help="Number of branches.")] = 120,
    days: Annotated[int, typer.Option(min=1, help="Number of trading days.")] = 7,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 42,
    variant: Annotated[str, typer.Option(help="Raw format: A, B, C or D.")] = "C",
) -> None:
    """Write realistic synthetic till exports (one CSV per branch and day)."""
    from cafe_etl.generate import generate as write_files

    first_day = _parse_date(start) if start else date.today() - timedelta(days=days)
    try:
        result = write_files(out, branches=branches, days=days, start=first_day, seed=seed,
                             variant=variant.upper())  # fmt: skip
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    console.print(
        f"wrote {len(result.files):,} files, {result.transactions:,} transactions, into {out}"
    )


@app.command()
@_reports_errors
def demo(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option("--dir", help="Fresh folder for the demo.")] = Path(
        "demo"
    ),
    weeks: Annotated[int, typer.Option(min=1, max=52, help="Weeks of sales to generate.")] = 8,
) -> None:
    """Generate weeks of sales at 120 branches, load them into DuckDB, write the report."""
    from cafe_etl.analytics.data import Request
    from cafe_etl.entrypoints.render import demo_epilogue
    from cafe_etl.generate import generate as write_files

    _fresh_demo_folder(folder)
    landing = folder / "landing"
    start = DEMO_LAST_DAY - timedelta(days=7 * weeks - 1)
    result = write_files(landing, branches=120, days=7 * weeks, start=start, seed=42)
    console.print(f"generated {len(result.files):,} till exports in {landing}")
    warehouse_path = folder / "cafe.duckdb"
    settings = load_settings(warehouse=f"duckdb:///{warehouse_path}", landing=str(landing), jobs=1)
    if settings.token_key is None:
        settings = settings.model_copy(update={"token_key": _demo_key()})
    with bootstrap(ctx, settings, loading=True, create=True) as services:
        summary = _load(services, services.sources())
        report = services.report(Request(), folder / "report.html")
    console.print(demo_epilogue(warehouse_path, result.signals), highlight=False, soft_wrap=True)
    console.print(f"The manager's report: [bold]{report}[/] (open it in any browser)")
    raise typer.Exit(summary.exit_code)


@app.command()
@_reports_errors
def status(
    ctx: typer.Context,
    warehouse: WarehouseOption = None,
    by_branch: Annotated[
        bool, typer.Option("--by-branch", help="Also list every branch-day.")
    ] = False,
) -> None:
    """Show what the warehouse holds: files, branch-days, rows and rejects."""
    from cafe_etl.analytics.status import read_status
    from cafe_etl.entrypoints.render import status_tables

    with bootstrap(ctx, load_settings(warehouse=warehouse), migrate=False) as services:
        for table in status_tables(read_status(services.warehouse), by_branch=by_branch):
            console.print(table)
        _say_if_regions_out_of_date(services)


@app.command()
@_reports_errors
def report(
    ctx: typer.Context,
    warehouse: WarehouseOption = None,
    first: FromOption = None,
    last: ToOption = None,
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
    branch: Annotated[str | None, typer.Option(help="Only this branch.")] = None,
    out: OutOption = None,
    fmt: FormatOption = "html",
) -> None:
    """Write the franchise manager's report: one HTML file that opens offline."""
    from cafe_etl.analytics.data import Request

    request = Request(_optional_date(first), _optional_date(last), region, branch)
    with bootstrap(ctx, load_settings(warehouse=warehouse)) as services:
        _say_if_regions_out_of_date(services)
        written = services.report(request, out, fmt)
    console.print(f"wrote {written}", highlight=False, soft_wrap=True)


def _say_if_regions_out_of_date(services: Services) -> None:
    if stale := services.regions_out_of_date():
        console.print(
            f"note: {', '.join(stale[:3])}{', …' if len(stale) > 3 else ''}"
            f" ({len(stale)} {'branch has' if len(stale) == 1 else 'branches have'} another"
            " region in CAFE_ETL_BRANCHES_FILE than in the warehouse): the file applies at"
            " the next cafe-etl run",
            highlight=False, soft_wrap=True,
        )  # fmt: skip


@app.command()
@_reports_errors
def forget(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="File name as in the ledger (no folders).")],
    warehouse: WarehouseOption = None,
) -> None:
    """Remove everything one file loaded and mark it forgotten in the ledger."""
    with bootstrap(ctx, load_settings(warehouse=warehouse)) as services:
        row = services.maintenance.forget(name)
    console.print(
        f"forgot {name}: removed {_plural(row.rows_loaded, 'transaction')}"
        f" and {_plural(row.rows_rejected, 'rejected row')}"
    )


@app.command()
@_reports_errors
def reprocess(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="File names to load again.")] = None,
    all_files: Annotated[bool, typer.Option("--all", help="Every file not forgotten.")] = False,
    warehouse: WarehouseOption = None,
    jobs: JobsOption = None,
) -> None:
    """Load files again from their raw copies (after a rule or reference-data change)."""
    if bool(names) == all_files:
        raise CafeEtlError("reprocess: name one or more files, or pass --all (not both)")
    settings = load_settings(warehouse=warehouse, jobs=jobs)
    with bootstrap(ctx, settings, loading=True) as services:
        sources = services.maintenance.sources_to_reprocess(None if all_files else names)
        summary = _load(services, sources, force=True)
    raise typer.Exit(summary.exit_code)


@app.command("init-db")
@_reports_errors
def init_db(
    ctx: typer.Context,
    warehouse: WarehouseOption = None,
    reporting_role: Annotated[
        str | None,
        typer.Option(
            help="Also create this read-only role (password from env"
            f" {REPORTING_PASSWORD_ENV}; without it the role cannot log in)."
        ),
    ] = None,
) -> None:
    """Create or upgrade the warehouse schema; optionally a read-only reporting role."""
    settings = load_settings(warehouse=warehouse)
    with bootstrap(ctx, settings, create=True) as services:
        applied = services.applied_migrations
        console.print(f"applied {', '.join(applied)}" if applied else "schema is up to date")
        if reporting_role:
            password = settings.reporting_password
            services.warehouse.create_reporting_role(
                reporting_role, password.get_secret_value() if password else None
            )
            console.print(f"role {reporting_role} can read every table and view")


@app.command("local-aws")
@_reports_errors
def local_aws(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Folder whose *.csv files are uploaded.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Run the serverless flow on an emulated AWS (moto on 127.0.0.1, built from
    infra/template.yaml): upload SOURCE's files to the raw bucket, run both handlers until
    the queues are empty, show what the warehouse holds (PostgreSQL stands in for Redshift)."""
    from cafe_etl.analytics.status import read_status
    from cafe_etl.entrypoints.render import status_tables

    settings = load_settings(warehouse=warehouse)
    if not settings.warehouse.startswith(("postgresql://", "postgres://")):
        raise CafeEtlError(
            "local-aws: give a PostgreSQL warehouse (-w postgresql://…), Redshift's stand-in"
        )
    if settings.token_key is None:
        raise CafeEtlError(
            "local-aws: set CAFE_ETL_TOKEN_KEY (the functions read the token key from SSM;"
            " the emulation stores it there)"
        )
    dead = _emulate(settings, source)
    with bootstrap(ctx, settings) as services:
        for table in status_tables(read_status(services.warehouse), by_branch=False):
            console.print(table)
    if dead:
        raise typer.Exit(1)  # a message dead-lettered is a file not loaded


def _emulate(settings: Settings, source: Path) -> int:
    """Run the flow; return how many messages ended in a dead-letter queue."""
    from cafe_etl.entrypoints.local_aws import LocalAws

    key = settings.token_key.get_secret_value() if settings.token_key else None
    emulated = LocalAws(settings.warehouse, token_key=key)
    dead_letters = 0
    try:
        uploaded = emulated.upload_folder(source)
        batches = emulated.pump(rounds=10_000)
        console.print(f"uploaded {uploaded:,} files; {batches:,} handler batches")
        for name in ("RawEventsDeadLetterQueue", "CleanEventsDeadLetterQueue"):
            if dead := len(list(emulated.messages(name))):
                console.print(f"[red]{dead} messages in {name}: see the log lines above[/]")
                dead_letters += dead
    finally:
        emulated.close()
    return dead_letters


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _optional_date(text: str | None) -> date | None:
    return _parse_date(text) if text else None


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-16") from None


def _fresh_demo_folder(folder: Path) -> None:
    if folder.exists():
        if not (folder / DEMO_MARKER).exists():
            raise CafeEtlError(f"{folder} exists and is not a demo folder: pass --dir NEW_FOLDER")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("created by cafe-etl demo; safe to delete\n")


def _demo_key() -> Any:
    from pydantic import SecretStr

    return SecretStr("demo-only-token-key")
