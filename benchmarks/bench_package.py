"""The Lambda artifacts' size and each handler's cold import time (target: under 1 s).

    uv run python benchmarks/bench_package.py [--repeat 3]

Builds with infra/build.py into a temporary folder: once for the runtime (linux arm64,
CPython 3.12: the sizes), and twice for this machine (its platform and Python, same lock and
stripping), with and without byte-code, to time `import cafe_etl.entrypoints.aws_<function>`
in a fresh `python -I -S -B` that sees only the artifact: a cold start's init phase, less the
runtime's own start. Best of --repeat runs.
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("transform", "load", "completeness")


def build(out: Path, *options: str) -> dict[str, str]:
    """Run infra/build.py; its line per function, by function."""
    command = [sys.executable, str(ROOT / "infra" / "build.py"), "--out", str(out), *options]
    printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return {line.split()[0]: line for line in printed.splitlines()}


def cold_import(folder: Path, module: str, repeat: int) -> float:
    probe = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter();"
        f"import {module}; print(time.perf_counter() - t)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    command = [sys.executable, "-I", "-S", "-B", "-c", probe, str(folder)]
    runs = [subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            for _ in range(repeat)]  # fmt: skip
    return min(float(run.stdout) for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    host = ["--platform", f"{platform.machine()}-manylinux_2_28", "--python-version",
            f"{sys.version_info.major}.{sys.version_info.minor}", "--no-zip"]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cafe-etl-bench-package-") as folder:
        out = Path(folder)
        sizes = build(out / "lambda")
        build(out / "compiled", *host)
        build(out / "sources", *host, "--no-compile")
        print(f"{'function':<13} {'unzipped':>9} {'zipped':>8}  cold import: byte-code / sources")
        for name in FUNCTIONS:
            unzipped, zipped = re.findall(r"([\d.]+) MiB (?:un)?zipped", sizes[name])
            module = f"cafe_etl.entrypoints.aws_{name}"
            if not (ROOT / "src" / module.replace(".", "/")).with_suffix(".py").exists():
                print(f"{name:<13} {unzipped:>5} MiB {zipped:>4} MiB  (no {module} yet)")
                continue
            times = [cold_import(out / kind / name, module, args.repeat)
                     for kind in ("compiled", "sources")]  # fmt: skip
            print(f"{name:<13} {unzipped:>5} MiB {zipped:>4} MiB  "
                  f"{times[0]:.2f} s / {times[1]:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
