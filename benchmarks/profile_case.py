"""Profile one benchmark case in-process with cProfile: where does ``cafe-etl run`` spend time?

    uv run python benchmarks/profile_case.py a [--preloaded] [--scale 1] [--top 15]

Uses bench.py's cached inputs (generated first if missing); writes ``OUT/runs/<case>.prof``
and prints the top functions by own ("total") time. Imports happen before profiling starts,
and cProfile's per-call overhead inflates small Python functions: read it for shares.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
from pathlib import Path

from bench import TOKEN_KEY, fresh_warehouse, load_inputs

from cafe_etl.entrypoints.cli import app


def profile(source: Path, warehouse: Path, dump: Path) -> object:
    """Run ``cafe-etl run`` in this process under cProfile; return the command's exit code."""
    os.environ["CAFE_ETL_TOKEN_KEY"] = TOKEN_KEY
    arguments = ["run", str(source), "--warehouse", f"duckdb:///{warehouse.resolve()}"]
    profiler = cProfile.Profile()
    code = profiler.runcall(app, arguments, standalone_mode=False)
    profiler.dump_stats(dump)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=["a", "b", "c"])
    parser.add_argument("--preloaded", action="store_true", help="start from the 30 days")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    inputs = load_inputs(args.out, args.scale)
    runs = args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    name = f"profile-{args.case}{'-preloaded' if args.preloaded else ''}"
    warehouse = fresh_warehouse(runs, name, inputs.preloaded if args.preloaded else None)
    dump = runs / f"{name}.prof"
    code = profile(inputs.folder / args.case, warehouse, dump)
    print(f"exit code {code}; profile in {dump}")
    pstats.Stats(str(dump)).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
