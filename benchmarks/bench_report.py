"""Benchmark ``cafe-etl report`` and the analytics views on DuckDB and PostgreSQL.

Generates ``--days`` (90) days of ``--branches`` (120) branches with the synthetic generator
(about 3.5 M transactions), loads them once into each warehouse (kept under ``--out`` for
the next run), then measures, median of ``--repeat`` runs:

- the whole report as a user runs it: ``cafe-etl report`` in a fresh process, startup
  included, and the file size;
- each view on its own, every row computed and none sent to the client
  (``CREATE TEMP TABLE … AS SELECT * FROM view``, dropped after).

Targets: the report under 5 s on DuckDB and 15 s on PostgreSQL; every view under 1 s on
DuckDB; the file under 5 MB.

    uv run python benchmarks/bench_report.py [--branches 120] [--days 90] [--repeat 3]

Uses the server named by CAFE_ETL_TEST_POSTGRES, else starts a throwaway cluster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "tests")]

from bench import TOKEN_KEY, cli_command  # noqa: E402
from bench_postgres import database  # noqa: E402

import postgres_server  # noqa: E402
from cafe_etl.generate import generate  # noqa: E402
from cafe_etl.warehouse import connect  # noqa: E402
from cafe_etl.warehouse.dialects import view_names  # noqa: E402

VIEWS = view_names()
LAST_DAY = date(2026, 11, 22)


def landing(out: Path, branches: int, days: int) -> Path:
    folder = out / f"report_{branches}x{days}"
    if not (folder / ".complete").exists():
        print(f"generating {branches} branches x {days} days into {folder} ...", flush=True)
        generate(folder, branches=branches, days=days, start=LAST_DAY - timedelta(days=days - 1))
        (folder / ".complete").write_text("")
    return folder


def load(url: str, folder: Path, marker: Path | None) -> None:
    """Load the folder once (a DuckDB file is kept between runs: ``marker`` says it is)."""
    if marker is not None and marker.exists():
        return
    print(f"loading into {url.split('@')[-1]} ...", flush=True)
    command = [*cli_command().split(), "run", str(folder), "-w", url]
    jobs = ["--jobs", "2"] if url.startswith("postgresql") else []
    env = {**os.environ, "CAFE_ETL_TOKEN_KEY": TOKEN_KEY}
    subprocess.run([*command, *jobs], check=True, env=env, stdout=subprocess.DEVNULL)
    if marker is not None:
        marker.write_text("")


def time_report(url: str, out: Path, repeat: int) -> tuple[float, int]:
    runs = []
    report = out / "bench_report.html"
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([*cli_command().split(), "report", "-w", url, "--out", str(report)],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), report.stat().st_size


def time_views(url: str, repeat: int) -> dict[str, float]:
    warehouse = connect(url)
    warehouse.prepare_for_analytics()
    timings = {}
    try:
        for view in VIEWS:
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                warehouse.execute(f"CREATE TEMP TABLE bench_view AS SELECT * FROM {view}")
                runs.append(time.perf_counter() - started)
                warehouse.execute("DROP TABLE bench_view")
            timings[view] = statistics.median(runs)
    finally:
        warehouse.close()
    return timings


def counts(url: str) -> tuple[int, int]:
    warehouse = connect(url)
    try:
        return warehouse.execute("SELECT COUNT(*), COUNT(DISTINCT branch_id) FROM transactions")[0]  # type: ignore[return-value]
    finally:
        warehouse.close()


def report_rows(name: str, url: str, out: Path, repeat: int, target: float) -> list[str]:
    transactions, branches = counts(url)
    seconds, size = time_report(url, out, repeat)
    views = time_views(url, repeat)
    slowest = max(views, key=lambda v: views[v])
    lines = [
        f"{name}: {transactions:,} transactions, {branches} branches",
        f"  cafe-etl report: {seconds:.2f} s (target < {target:.0f} s:"
        f" {'met' if seconds < target else 'MISSED'}), file {size / 1e6:.2f} MB"
        f" ({'met' if size < 5e6 else 'MISSED'} < 5 MB)",
        f"  slowest view: {slowest} {views[slowest]:.2f} s",
    ]
    lines += [f"    {view:28} {views[view]:6.2f} s" for view in VIEWS]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=120)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = landing(args.out, args.branches, args.days)
    duck = args.out / f"report_{args.branches}x{args.days}.duckdb"
    load(f"duckdb:///{duck}", folder, duck.with_suffix(".loaded"))
    lines = report_rows("DuckDB", f"duckdb:///{duck}", args.out, args.repeat, 5)
    if not args.skip_postgres:
        with postgres_server.server() as server:
            url = database(server, f"bench_report_{args.branches}x{args.days}")
            load(url, folder, None)  # a throwaway server: loaded each time
            lines += report_rows("PostgreSQL", url, args.out, args.repeat, 15)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
