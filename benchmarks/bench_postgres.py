"""Benchmark ``cafe-etl run`` into PostgreSQL against the two bounds that matter.

Loads case (b) of bench.py (about 3,000 branch-day files, 1,000,000 transactions) as a fresh
process, token key set, with one loader process and with ``--jobs 2``, into an empty database
and into one already holding 30 days, and compares it with, in the same run:

- the physical limit of the schema: a plain COPY of the same output rows into empty tables
  of the same definitions (keys and indexes included), in one transaction, basket items in
  key order (the order their index fills fastest);
- a naive loader: one ``execute`` per row and a commit per file, timed on a sample of files
  into the same kind of database (empty, or holding 30 days) and extrapolated to the whole
  volume.

Each timing, the naive loader's included, is the median of ``--repeat`` runs (3 by default):
this machine's figures vary by 10-20 % from run to run.

    uv run python benchmarks/bench_postgres.py [--scale 0.1] [--sample-files 40] [--repeat 3]

Uses the server named by CAFE_ETL_TEST_POSTGRES, else starts a throwaway cluster.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "tests")]

from bench import TOKEN_KEY, cache_bytecode, cli_command, load_inputs  # noqa: E402

import postgres_server  # noqa: E402
from cafe_etl import keys  # noqa: E402
from cafe_etl.transform.file import transform_file  # noqa: E402
from cafe_etl.transform.redact import Tokeniser  # noqa: E402
from cafe_etl.warehouse import connect  # noqa: E402

PRELOADED = "bench_preloaded"
TABLES = ("branches", "products", "loaded_files", "transactions", "basket_items", "rejected_rows")


def database(server: str, name: str, template: str | None = None) -> str:
    """A fresh database; the checkpoint after it keeps the WAL of the setup (a template is
    copied block by block into the WAL) out of the next measurement."""
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(
            f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        )
        connection.execute("CHECKPOINT")
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def run_cli(source: Path, url: str, jobs: int = 1) -> float:
    env = {**os.environ, "CAFE_ETL_TOKEN_KEY": TOKEN_KEY}
    started = time.perf_counter()
    result = subprocess.run([cli_command(), "run", str(source), "-w", url, "--jobs", str(jobs)],
                            env=env, capture_output=True)  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(result.stderr.decode()[-2000:])
    return time.perf_counter() - started


def export(url: str) -> dict[str, bytes]:
    """Every contract table's rows as COPY text."""
    out = {}
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for table in TABLES:
            buffer = io.BytesIO()
            order = " ORDER BY transaction_id" if table == "basket_items" else ""
            with cursor.copy(f"COPY (SELECT * FROM {table}{order}) TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            out[table] = buffer.getvalue()
    return out


def plain_copy(url: str, rows: dict[str, bytes]) -> float:
    """Seconds to COPY the same rows into freshly migrated, empty tables."""
    warehouse = connect(url)
    warehouse.migrate()
    warehouse.close()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        for table, data in rows.items():
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(data)
        connection.commit()
        return time.perf_counter() - started


def row_by_row(url: str, files: list[Path]) -> tuple[float, int]:
    """A naive loader over a sample: one execute per row, a commit per file."""
    warehouse = connect(url)
    warehouse.migrate()
    warehouse.close()
    tokeniser, loaded = Tokeniser(TOKEN_KEY.encode()), 0
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        for path in files:
            file_id = keys.file_key(path.name, path.name)
            with path.open("rb") as raw:
                for chunk in transform_file(raw, file_id, tokeniser):
                    for row in chunk.transactions.to_pylist():
                        cursor.execute("INSERT INTO transactions VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                                       list(row.values()))  # fmt: skip
                        loaded += 1
                    for row in chunk.basket_items.to_pylist():
                        cursor.execute("INSERT INTO basket_items VALUES (%s,%s,%s,%s)",
                                       list(row.values()))  # fmt: skip
            connection.commit()
        return time.perf_counter() - started, loaded


def median_of(repeat: int, measure: Callable[..., float], *args: object) -> float:
    return statistics.median(measure(*args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sample-files", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    cache_bytecode(args.out)
    inputs = load_inputs(args.out, args.scale)
    many = next(case for case in inputs.cases if case.key == "b")
    source = inputs.source(many)
    runs = (("empty database", 1, None), ("empty database", 2, None),
            ("database holding 30 days", 2, PRELOADED))  # fmt: skip
    seconds, naive = {}, {}
    with postgres_server.server() as server:
        run_cli(inputs.folder / "preload", database(server, PRELOADED))
        for label, jobs, template in runs:
            seconds[label, jobs] = median_of(args.repeat, fresh_run, server, source, jobs, template)
        rows = export(run_url(server, source))
        copy_seconds = median_of(args.repeat, fresh_copy, server, rows)
        sample = sorted(source.iterdir())[: args.sample_files]
        for label, _, template in runs[1:]:  # into the same kind of database as cafe-etl
            per_row = median_of(args.repeat, fresh_row_by_row, server, sample, template)
            naive[label] = per_row * many.transactions
    print(f"\nPostgreSQL, {many.transactions:,} transactions in {many.files:,} files"
          f" (token key set; median of {args.repeat})\n")  # fmt: skip
    print("| load | seconds | transactions/s | vs plain COPY | vs one execute per row |")
    print("|---|---:|---:|---:|---:|")
    for (label, jobs), taken in seconds.items():
        print(f"| cafe-etl run --jobs {jobs}, {label} | {taken:.1f} |"
              f" {many.transactions / taken:,.0f} | {taken / copy_seconds:.1f}x |"
              f" {naive[label] / taken:.0f}x faster |")  # fmt: skip
    print(f"| plain COPY of the same rows into empty tables, same schema | {copy_seconds:.1f} |"
          f" {many.transactions / copy_seconds:,.0f} | 1.0x | |")  # fmt: skip
    for label, total in naive.items():
        print(f"| one execute per row, commit per file, {label} ({len(sample)} files measured,"
              f" extrapolated) | {total:.0f} | {many.transactions / total:,.0f} |"
              f" {total / copy_seconds:.0f}x | 1x |")  # fmt: skip
    print("\nTargets: at most 3x the plain COPY; at least 50x faster than one execute per row.")


def fresh_run(server: str, source: Path, jobs: int, template: str | None) -> float:
    return run_cli(source, database(server, "bench_run", template), jobs)


def fresh_row_by_row(server: str, sample: list[Path], template: str | None) -> float:
    """Seconds per transaction of the naive loader over the sample, into a fresh database."""
    taken, loaded = row_by_row(database(server, "bench_naive", template), sample)
    return taken / loaded


def fresh_copy(server: str, rows: dict[str, bytes]) -> float:
    return plain_copy(database(server, "bench_copy"), rows)


def run_url(server: str, source: Path) -> str:
    """A database loaded once by cafe-etl, whose rows the plain COPY replays."""
    url = database(server, "bench_rows")
    run_cli(source, url, jobs=2)
    return url


if __name__ == "__main__":
    main()
