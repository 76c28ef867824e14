"""Rich output for the CLI: progress, the run summary and the status tables."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cafe_etl.analytics.status import Status
from cafe_etl.generate.dataset import Signals
from cafe_etl.model import ROW_REASONS, FileStatus
from cafe_etl.service.load_files import Progress as ProgressCallback
from cafe_etl.service.load_files import RunSummary


@contextmanager
def progress_bar(console: Console, total_files: int) -> Iterator[ProgressCallback]:
    """A bar of files done, with rows read per second."""
    columns = (
        TextColumn("[bold]loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("load", total=total_files, rate="")

        def update(files: int, rows: int) -> None:
            rate = rows / max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=files, rate=f"{rate:,.0f} rows/s")

        yield update


def summary_table(summary: RunSummary) -> Table:
    table = Table(title="cafe-etl run", show_header=True, header_style="bold")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    for label, value in (
        ("files loaded", summary.files(FileStatus.LOADED)),
        ("files unchanged", summary.files(FileStatus.UNCHANGED)),
        ("files superseded", summary.superseded),
        ("files duplicate", summary.files(FileStatus.DUPLICATE)),
        ("files rejected", summary.files(FileStatus.REJECTED)),
        ("files skipped", summary.files(FileStatus.SKIPPED)),
        ("rows read", summary.rows_read),
        ("rows loaded", summary.rows_loaded),
        ("rows rejected", summary.rows_rejected),
    ):
        table.add_row(label, f"{value:,}")
    rejects = summary.rejects
    for reason in (*ROW_REASONS, *sorted(set(rejects) - set(ROW_REASONS))):
        if rejects[reason]:
            table.add_row(f"  rejected: {reason}", f"{rejects[reason]:,}")
    for outcome in summary.outcomes:
        if outcome.status == FileStatus.REJECTED:
            table.add_row(f"  file rejected ({outcome.reason})", outcome.name, style="red")
        elif outcome.status == FileStatus.SKIPPED:
            table.add_row(f"  file skipped: {outcome.reason}", outcome.name, style="red")
    return table


def demo_epilogue(warehouse_path: Path, signals: Signals) -> str:
    """How to query the demo's warehouse, and what it planted to find."""
    query = (
        "SELECT b.region, SUM(t.total_amount) AS revenue FROM transactions t "
        "JOIN branches b USING (branch_id) GROUP BY 1 ORDER BY 2 DESC"
    )
    return (
        f"\nThe warehouse is [bold]{warehouse_path}[/]. Query it with Python:\n"
        f"  uv run python -c \"import duckdb; duckdb.connect('{warehouse_path}',"
        f" read_only=True).sql('{query}').show()\"\n"
        f"or see what it holds: uv run cafe-etl status -w duckdb:///{warehouse_path}\n"
        f"Planted signals to find: {signals.rising_branch} rises and {signals.falling_branch}"
        f" falls week on week; {signals.skipped_branch} sent no file on {signals.skipped_day};"
        f" {signals.launched_product} launched on {signals.launch_day}"
        + (
            f"; {signals.unusual_branch} had an unusual day on {signals.unusual_day}."
            if signals.unusual_branch
            else "."
        )
    )


def status_tables(status: Status, *, by_branch: bool) -> list[Table]:
    files = _table("files in the ledger", "status", "files")
    for state, count in status.files_by_status:
        files.add_row(state, f"{count:,}")
    for reason, count in status.files_rejected_by_reason:
        files.add_row(f"  rejected: {reason}", f"{count:,}")
    rejects = _table("rejected rows of loaded files", "reason", "rows")
    for reason, count in status.rejects_by_reason:
        rejects.add_row(reason, f"{count:,}")
    days = _table("per business day", "date", "branches", "files", "transactions",
                  "rejected rows", "revenue")  # fmt: skip
    for day, branches, count, loaded, rejected, revenue in status.per_day:
        days.add_row(str(day), str(branches), str(count), f"{loaded:,}", f"{rejected:,}",
                     f"£{revenue or 0:,.2f}")  # fmt: skip
    out = [files, _or_none(rejects), days]
    missing = _table("branch-days with no file", "branch", "date")
    for branch, day in status.missing_branch_days:
        missing.add_row(branch, str(day))
    out.append(_or_none(missing))
    if by_branch:
        detail = _table("per branch and day", "branch", "region", "date", "transactions",
                        "rejected rows", "file")  # fmt: skip
        for branch, region, day, loaded, rejected, name in status.per_branch_day:
            detail.add_row(branch, region, str(day), f"{loaded:,}", f"{rejected:,}", name)
        out.append(detail)
    unassigned = _table("branches with no region (Unassigned)", "branch")
    for name in status.unassigned:
        unassigned.add_row(name)
    out.append(_or_none(unassigned))
    return out


def _or_none(table: Table) -> Table:
    if not table.row_count:
        table.add_row("none", *("" for _ in table.columns[1:]))
    return table


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, header_style="bold", title_justify="left", min_width=len(title))
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table
