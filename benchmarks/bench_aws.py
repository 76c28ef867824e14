"""One evening of 120 branch files through the emulated serverless flow (moto + PostgreSQL):

    uv run python benchmarks/bench_aws.py [--branches 120]

Prints the wall time from the first upload to the last commit, the transform handler's time
per file (median, p95), the load handler's time per batch and files per batch, the handler
modules' cold import times (each in a fresh interpreter) and the process's peak RSS. Both
handlers run in this one process, so the peak is an upper bound for either. Not in CI.
"""

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1] / "tests")]

import postgres_server  # noqa: E402
from cafe_etl.entrypoints.local_aws import LocalAws  # noqa: E402
from cafe_etl.generate import generate  # noqa: E402


def cold_import(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout)  # fmt: skip


def timed(flow: LocalAws, function: str, times: list[tuple[float, int]]) -> bool:
    records = flow.receive(function)
    if not records:
        return False
    started = time.perf_counter()
    flow.invoke(function, records)
    times.append((time.perf_counter() - started, len(records)))
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=120)
    args = parser.parse_args()
    for module in ("aws_transform", "aws_load"):
        seconds = cold_import(f"cafe_etl.entrypoints.{module}")
        print(f"cold import {module}: {seconds:.2f} s")
    with tempfile.TemporaryDirectory() as folder, postgres_server.server() as server:
        files = generate(Path(folder), branches=args.branches, days=1, start=date(2026, 12, 4),
                         seed=1).files  # fmt: skip
        flow = LocalAws(postgres_server.fresh_database(server), token_key="bench-key")
        transform: list[tuple[float, int]] = []
        load: list[tuple[float, int]] = []
        try:
            started = time.perf_counter()
            for path in files:
                flow.upload(path)
            while timed(flow, "TransformFunction", transform) or timed(flow, "LoadFunction", load):
                pass
            wall = time.perf_counter() - started
        finally:
            flow.close()
    per_file = sorted(seconds / count for seconds, count in transform)
    p95 = per_file[int(0.95 * (len(per_file) - 1))]
    print(f"{len(files)} files, wall time upload to last commit: {wall:.1f} s")
    print(f"transform per file: median {statistics.median(per_file) * 1000:.0f} ms,"
          f" p95 {p95 * 1000:.0f} ms (batches of up to 10 events)")  # fmt: skip
    for seconds, count in load:
        print(f"load batch: {count} files in {seconds:.2f} s (one transaction)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (both handlers, moto, the poller): {peak:.0f} MB")


if __name__ == "__main__":
    main()
