"""Peak memory of ``cafe-etl run`` on hostile single files: it must be bounded by the settings,
not by what a file holds (target: under 600 MB for any file up to 300 MB).

Cases, each a fresh process into an empty warehouse, token key set:

- blank line: a 285 MB export with one blank line in the middle (Arrow reads the first half,
  the csv module the rest of the file, in chunks);
- open quote: the same export with a quote opened on its second line and never closed;
- wide line: a good row, one 100 MB line without a field separator, a good row;
- wide basket: a good row, a row whose basket is 100 MB, a good row (one rejected row).

    uv run python benchmarks/bench_memory.py [--out benchmarks/out] [--postgres]

Inputs are written once into ``OUT/memory-inputs/``. With ``--postgres`` every case also
runs into a throwaway PostgreSQL cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "tests")]

from bench import cache_bytecode, run_url, write_file  # noqa: E402

import postgres_server  # noqa: E402

TARGET_MB = 600
GOOD = b"25/08/2021 09:00,Leeds,Ann Other,Regular Latte - 2.15,2.15,CASH,\n"


def blank_line(folder: Path) -> None:
    """About 285 MB (2,100,000 transactions) with a blank line at its middle."""
    folder.mkdir(parents=True)
    write_file(folder, "Leeds", date(2026, 3, 2), 2_100_000, seed="memory:blank")
    path = next(folder.glob("*.csv"))
    data = path.read_bytes()
    middle = data.index(b"\n", len(data) // 2) + 1
    path.write_bytes(data[:middle] + b"\n" + data[middle:])


def open_quote(folder: Path) -> None:
    """The same 285 MB export with a quote opened on its second line and never closed."""
    folder.mkdir(parents=True)
    source = next((folder.parent / "blank-line").glob("*.csv"))
    data = source.read_bytes()
    second = data.index(b"\n") + 1
    comma = data.index(b",", second) + 1
    (folder / source.name).write_bytes(data[:comma] + b'"' + data[comma:])


def wide_line(folder: Path) -> None:
    folder.mkdir(parents=True)
    wide = b"x" * (100 << 20) + b"\n"
    (folder / "leeds_25-08-2021_09-00-00.csv").write_bytes(GOOD + wide + GOOD)


def wide_basket(folder: Path) -> None:
    folder.mkdir(parents=True)
    basket = b'"' + b"Regular Latte - 2.15, " * ((100 << 20) // 22) + b'Regular Latte - 2.15"'
    row = b"25/08/2021 09:01,Leeds,Ann Other," + basket + b",2.15,CASH,\n"
    (folder / "leeds_25-08-2021_09-00-00.csv").write_bytes(GOOD + row + GOOD)


CASES = {
    "blank line": blank_line,
    "open quote": open_quote,
    "wide line": wide_line,
    "wide basket": wide_basket,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--postgres", action="store_true", help="also into PostgreSQL")
    parser.add_argument("--inputs-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cache_bytecode(args.out)
    inputs, runs = args.out / "memory-inputs", args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    if args.inputs_only:
        for name, write in CASES.items():
            folder = inputs / name.replace(" ", "-")
            if not folder.exists():
                print(f"writing {folder} (once) ...", flush=True)
                write(folder)
        return
    # In a child of its own: Linux keeps a process's peak RSS across fork and exec, so a
    # parent that held the inputs would lend its peak to every measured run.
    subprocess.run([sys.executable, __file__, "--out", str(args.out), "--inputs-only"], check=True)
    targets = [("DuckDB", lambda case: f"duckdb:///{(runs / f'memory-{case}.duckdb').resolve()}")]
    rows = []
    with _postgres(args.postgres) as server:
        if server:
            targets.append(("PostgreSQL", lambda case: postgres_server.fresh_database(server)))
        for warehouse, url_for in targets:
            for name in CASES:
                case = name.replace(" ", "-")
                for stale in runs.glob(f"memory-{case}.duckdb*"):
                    stale.unlink()
                seconds, rss = run_url(
                    inputs / case, url_for(case), runs / f"memory-{case}.log", (0, 2)
                )
                rows.append((name, warehouse, seconds, rss))
                print(f"  {name}, {warehouse}: {seconds:.1f} s, {rss:.0f} MB", flush=True)
    print("\n| case | warehouse | seconds | peak RSS | target |\n|---|---|---:|---:|---|")
    for name, warehouse, seconds, rss in rows:
        met = "met" if rss < TARGET_MB else "NOT met"
        print(f"| {name} | {warehouse} | {seconds:.1f} | {rss:.0f} MB | < {TARGET_MB} MB: {met} |")


def _postgres(wanted: bool) -> contextlib.AbstractContextManager[str | None]:
    return postgres_server.server() if wanted else contextlib.nullcontext(None)


if __name__ == "__main__":
    main()
