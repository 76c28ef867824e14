"""Benchmark ``cafe-etl run``: a fresh process per measurement, over files on disk.

Cases (full scale): (a) one file of 1,000,000 transactions; (b) about the same volume as
3,000 branch-day files of 333 transactions (120 branches x 25 days); (c) one file of
4,000,000 transactions, whose peak memory must stay within 20% of (a)'s (streaming). Each
runs into an empty warehouse and into a copy of one already holding 30 days of 120 branches.

    uv run python benchmarks/bench.py [--scale 0.1] [--out benchmarks/out] [--repeat 3]

Inputs are generated once into ``OUT/inputs-scale<S>/`` and reused; warehouses and the
command's output go to ``OUT/runs/``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from cafe_etl.generate import branch_profile, file_name, generate, towns, write_branch_day
from cafe_etl.generate.writer import new_card, new_name

TOKEN_KEY = "cafe-etl-benchmark-token-key"
BRANCHES = 120
PRELOAD_START, PRELOAD_DAYS = date(2026, 1, 5), 30
BENCH_START = date(2026, 3, 2)  # after every pre-loaded day: all benchmark files are new
PER_FILE, MANY_DAYS = 333, 25
MAX_RSS_MB = 1536
STREAMING_SLACK = 1.20
STATES = ("empty", "30 days")


@dataclass(frozen=True)
class Case:
    key: str
    transactions: int
    files: int
    target_seconds: float | None


@dataclass(frozen=True)
class Measurement:
    case: Case
    state: str
    seconds: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Inputs:
    folder: Path
    cases: tuple[Case, ...]
    preloaded: Path
    preloaded_rows: int

    def source(self, case: Case) -> Path:
        return self.folder / case.key


# --- inputs -----------------------------------------------------------------------------


def write_file(folder: Path, town: str, day: date, transactions: int, seed: str) -> None:
    """One till export (variant C) with 120 regular customers whose cards recur."""
    rng = random.Random(seed)
    regulars = [(new_name(rng), new_card(rng)) for _ in range(120)]
    hours = branch_profile(town, "").hours
    with (folder / file_name(town, day, hours[0])).open("wb") as fp:
        write_branch_day(fp, branch=town, day=day, transactions=transactions, rng=rng,
                         hours=hours, regulars=regulars)  # fmt: skip


def write_big_file(folder: Path, transactions: int, day: date) -> Case:
    folder.mkdir(parents=True)
    write_file(folder, "Leeds", day, transactions, seed=f"bench:{folder.name}")
    return Case(folder.name, transactions, 1, None)


def write_many_files(folder: Path, days: int) -> Case:
    folder.mkdir(parents=True)
    for town, _ in towns()[:BRANCHES]:
        for offset in range(days):
            day = BENCH_START + timedelta(days=2 + offset)
            write_file(folder, town, day, PER_FILE, seed=f"bench:b:{town}:{day}")
    return Case(folder.name, BRANCHES * days * PER_FILE, BRANCHES * days, None)


def scaled_days(days: int, scale: float) -> int:
    return max(1, round(days * scale))


def build_inputs(folder: Path, scale: float) -> dict[str, object]:
    """Write every case's files and the pre-loaded warehouse; return what ``ready.json`` holds."""
    shutil.rmtree(folder, ignore_errors=True)
    cases = [
        write_big_file(folder / "a", round(1_000_000 * scale), BENCH_START),
        write_many_files(folder / "b", scaled_days(MANY_DAYS, scale)),
        write_big_file(folder / "c", round(4_000_000 * scale), BENCH_START + timedelta(days=1)),
    ]
    preload = folder / "preload"
    generate(preload, branches=BRANCHES, days=scaled_days(PRELOAD_DAYS, scale),
             start=PRELOAD_START, seed=7)  # fmt: skip
    run_cli(preload, folder / "preloaded.duckdb", folder / "preload.log")
    rows = count_rows(folder / "preloaded.duckdb")
    return {"cases": [vars(case) for case in cases], "preloaded_rows": rows}


def load_inputs(out: Path, scale: float) -> Inputs:
    """The cached inputs for this scale, generating them first if missing or incomplete."""
    folder = out / f"inputs-scale{scale:g}"
    ready = folder / "ready.json"
    if not ready.exists():
        print(f"generating inputs into {folder} (once) ...", flush=True)
        built = build_inputs(folder, scale)
        ready.write_text(json.dumps(built, indent=2))
    saved = json.loads(ready.read_text())
    cases = tuple(Case(**case) for case in saved["cases"])
    return Inputs(folder, cases, folder / "preloaded.duckdb", saved["preloaded_rows"])


# --- measuring --------------------------------------------------------------------------


def cli_command() -> str:
    """The venv's ``cafe-etl`` console script (a fresh interpreter, as users run it)."""
    script = Path(sys.executable).parent / "cafe-etl"
    found = str(script) if script.exists() else shutil.which("cafe-etl")
    if found is None:
        raise SystemExit("cafe-etl is not installed: run this with `uv run python ...`")
    return found


def run_cli(source: Path, warehouse: Path, log: Path) -> tuple[float, float]:
    """Run ``cafe-etl run`` as a child; return its wall seconds and peak RSS (MB)."""
    return run_url(source, f"duckdb:///{warehouse.resolve()}", log)


def run_url(
    source: Path, url: str, log: Path, exit_codes: tuple[int, ...] = (0,)
) -> tuple[float, float]:
    """``cafe-etl run`` into a warehouse URL as a child; its wall seconds and peak RSS (MB)."""
    env = {**os.environ, "CAFE_ETL_TOKEN_KEY": TOKEN_KEY}
    with log.open("wb") as output:
        started = time.perf_counter()
        child = subprocess.Popen([cli_command(), "run", str(source), "--warehouse", url],
                                 stdout=output, stderr=subprocess.STDOUT, env=env)  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in exit_codes:
        raise SystemExit(f"cafe-etl run {source} exited {child.returncode}; see {log}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def count_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute("SELECT COUNT(*) FROM transactions").fetchone()
    return int(row[0]) if row else 0


def fresh_warehouse(runs: Path, name: str, start_from: Path | None) -> Path:
    """A warehouse path holding nothing, or a copy of ``start_from``."""
    warehouse = runs / f"{name}.duckdb"
    for stale in (warehouse, runs / f"{name}.duckdb.wal"):
        stale.unlink(missing_ok=True)
    if start_from is not None:
        shutil.copyfile(start_from, warehouse)
    return warehouse


def cache_bytecode(out: Path) -> None:
    """Let every child reuse compiled bytecode, as an installed copy does.

    Where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes and containers), each fresh
    process compiles every module it imports again: over a second per run. The cache lives
    in ``OUT/pycache`` (PYTHONPYCACHEPREFIX), so the project's folders stay untouched.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str((out / "pycache").resolve())


def warm_up(inputs: Inputs, runs: Path) -> None:
    """One untimed run over a small file: compiles bytecode and warms the OS caches."""
    folder = inputs.folder / "warmup"
    if not folder.exists():
        folder.mkdir()
        write_file(folder, "Leeds", BENCH_START, 1_000, seed="bench:warmup")
    run_cli(folder, fresh_warehouse(runs, "warmup", None), runs / "warmup.log")


def measure_once(inputs: Inputs, case: Case, state: str, runs: Path) -> tuple[float, float]:
    name = f"{case.key}-{state.replace(' ', '')}"
    preloaded = state != "empty"
    warehouse = fresh_warehouse(runs, name, inputs.preloaded if preloaded else None)
    seconds, rss = run_cli(inputs.source(case), warehouse, runs / f"{name}.log")
    loaded = count_rows(warehouse) - (inputs.preloaded_rows if preloaded else 0)
    if loaded != case.transactions:
        raise SystemExit(f"{name}: loaded {loaded:,} transactions, expected {case.transactions:,}")
    return seconds, rss


def measure(inputs: Inputs, case: Case, state: str, runs: Path, repeat: int) -> Measurement:
    """Median seconds and highest peak RSS over ``repeat`` runs, each from the same start."""
    results = [measure_once(inputs, case, state, runs) for _ in range(repeat)]
    seconds = statistics.median(result[0] for result in results)
    result = Measurement(case, state, seconds, max(result[1] for result in results))
    load = os.getloadavg()[0]  # other work on the machine skews the timings
    print(f"  ({case.key}) {state}: {seconds:.2f} s, {result.peak_rss_mb:.0f} MB,"
          f" load average {load:.1f}", flush=True)  # fmt: skip
    return result


# --- report -----------------------------------------------------------------------------


def verdict(result: Measurement, baseline: Measurement | None) -> tuple[str, bool]:
    """The target's text for ``result`` and whether it was met."""
    parts, met = [f"RSS < {MAX_RSS_MB} MB"], result.peak_rss_mb < MAX_RSS_MB
    if result.case.target_seconds is not None:
        parts.insert(0, f"< {result.case.target_seconds:g} s")
        met = met and result.seconds < result.case.target_seconds
    if baseline is not None:
        limit = baseline.peak_rss_mb * STREAMING_SLACK
        parts.append(f"RSS <= 1.2 x (a) = {limit:.0f} MB")
        met = met and result.peak_rss_mb <= limit
    return ", ".join(parts), met


def table_row(result: Measurement, baseline: Measurement | None) -> str:
    case = result.case
    target, met = verdict(result, baseline)
    cells = [f"({case.key})", result.state, f"{case.transactions:,}", f"{case.files:,}",
             f"{result.seconds:.2f}", f"{case.transactions / result.seconds:,.0f}",
             f"{result.peak_rss_mb:,.0f}", target, "yes" if met else "NO"]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def table(results: list[Measurement]) -> str:
    """The Markdown table; (c) is judged against (a) in the same warehouse state."""
    header = ["case", "warehouse", "transactions", "files", "seconds", "transactions/s",
              "peak RSS MB", "target", "met?"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_case = {(r.case.key, r.state): r for r in results}
    for r in results:
        baseline = by_case.get(("a", r.state)) if r.case.key == "c" else None
        lines.append(table_row(r, baseline))
    return "\n".join(lines)


def with_targets(cases: tuple[Case, ...], scale: float) -> tuple[Case, ...]:
    """Time targets hold at full scale only; smaller runs are smoke tests."""
    seconds = {"a": 6.0, "b": 15.0} if scale == 1 else {}
    return tuple(Case(c.key, c.transactions, c.files, seconds.get(c.key)) for c in cases)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every case (0.1)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep the environment's PYTHONDONTWRITEBYTECODE")  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not args.no_bytecode_cache:
        cache_bytecode(args.out)
    inputs = load_inputs(args.out, args.scale)
    runs = args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    warm_up(inputs, runs)
    cases = with_targets(inputs.cases, args.scale)
    results = [measure(inputs, c, s, runs, args.repeat) for c in cases for s in STATES]
    bytecode = "compiled each run" if args.no_bytecode_cache else "cached"
    print(f"\ncafe-etl run, scale {args.scale:g}, {os.cpu_count()} CPUs, median of"
          f" {args.repeat}, bytecode {bytecode}\n\n{table(results)}")  # fmt: skip


if __name__ == "__main__":
    main()
