"""Where the main thread's time goes, from a py-spy ``--format raw`` (collapsed stacks) file.

    uvx py-spy record --native -r 200 -f raw -o OUT/runs/a.spy -- \\
        .venv/bin/cafe-etl run benchmarks/out/inputs-scale1/a -w duckdb:////tmp/a.duckdb
    uv run python benchmarks/spy_top.py OUT/runs/a.spy [--top 15]

Unlike cProfile this sees the whole process (start-up, imports, DuckDB and Arrow native
code) at almost no overhead. Two tables: own time per function (line numbers merged), and
time per innermost ``cafe_etl`` function, which includes the library code it calls.
Samples of other Python threads (the progress bar's refresh thread) are left out.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")
_OTHER_THREAD = "_bootstrap (threading.py"
_IMPORT = "_find_and_load ("


def main_thread_stacks(text: str) -> list[tuple[list[str], int]]:
    """(frames outermost first, without line numbers; sample count) per recorded stack."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and _OTHER_THREAD not in stack:
            stacks.append(([_LINE.sub(")", frame) for frame in stack.split(";")], int(count)))
    return stacks


def own_time(stacks: list[tuple[list[str], int]]) -> Counter[str]:
    own: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
    return own


def project_time(stacks: list[tuple[list[str], int]]) -> Counter[str]:
    """Samples per innermost cafe_etl frame; imports (at start-up or lazy) count apart."""
    found: Counter[str] = Counter()
    for frames, count in stacks:
        ours = [frame for frame in frames if "(cafe_etl/" in frame]
        if any(frame.startswith(_IMPORT) for frame in frames):
            found["(imports, at start-up or lazy)"] += count
        else:
            found[ours[-1] if ours else "(outside cafe_etl)"] += count
    return found


def print_table(title: str, samples: Counter[str], top: int) -> None:
    total = sum(samples.values())
    print(f"\n{title} ({total:,} samples)\n\n| % | samples | function |\n|---|---|---|")
    for frame, count in samples.most_common(top):
        print(f"| {100 * count / total:.1f} | {count:,} | `{frame[:120]}` |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    stacks = main_thread_stacks(args.recording.read_text())
    print_table("Own time", own_time(stacks), args.top)
    print_table("Time per innermost cafe_etl function", project_time(stacks), args.top)


if __name__ == "__main__":
    main()
