"""Build the Lambda deployment artifacts: build/lambda/<function>/ per function, for sam deploy.

    uv run --frozen python infra/build.py        # linux arm64, CPython 3.12: the template's
    uv run --frozen python infra/build.py --platform x86_64-manylinux_2_28 --python-version 3.11

Each folder holds the handler's libraries at the versions uv.lock pins (binary wheels for the
target platform, never built here) plus the cafe_etl wheel, less what Lambda never loads; the
template's CodeUri points at these folders, so `sam deploy` needs no `sam build`. A zip of each
is written beside it to show the upload size. Prints one line per function: files, unzipped and
zipped size.
"""

import argparse
import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib.metadata import PathDistribution
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "lambda"

# Python 3.12 on Lambda runs on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels fit, and
# pyarrow ships no older-glibc aarch64 wheel.
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
PLATFORM = "aarch64-manylinux_2_28"
PYTHON_VERSION = "3.12"

# What each handler imports, directly or through cafe_etl (its import graph, not the project's
# dependency list: DuckDB, typer and rich are the CLI's). boto3 is bundled although the runtime
# has one: AWS recommends shipping your own so an SDK update cannot change the function.
# https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
_WAREHOUSE = ["pyarrow", "numpy", "pydantic-settings", "psycopg[binary]", "redshift-connector"]
FUNCTIONS: dict[str, list[str]] = {
    "transform": ["pyarrow", "numpy", "pydantic-settings", "aws-lambda-powertools", "boto3"],
    "load": [*_WAREHOUSE, "aws-lambda-powertools", "boto3"],
    "completeness": [*_WAREHOUSE, "aws-lambda-powertools", "boto3"],
}

# Never loaded by the handlers: test suites, C headers and Cython sources, console scripts, the
# development copies of shared libraries (only the soname, *.so.NNNN, is loaded), pyarrow's
# Flight RPC and its S3 filesystem (S3 goes through boto3; pyarrow.fs skips a missing _s3fs).
STRIP = [
    "bin", "**/__pycache__", "**/*.pyc", "**/*.pyx", "**/*.pxd", "**/*.pxi",
    "pyarrow/tests", "pyarrow/include", "pyarrow/includes", "pyarrow/src",
    "pyarrow/_pyarrow_cpp_tests*", "pyarrow/*flight*", "pyarrow/*_s3*", "pyarrow/libarrow*.so",
    "pyarrow/libarrow*.so.*.*.*", "numpy/**/tests", "numpy/_core/include", "numpy/_pyinstaller",
]  # fmt: skip


def sh(*command: str) -> str:
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return done.stdout


def locked_versions(work: Path) -> Path:
    """uv.lock's runtime pins (the aws extra included) as a pip constraints file."""
    constraints = work / "constraints.txt"
    sh("uv", "export", "--frozen", "--no-dev", "--extra", "aws", "--no-hashes",
       "--no-emit-project", "--no-header", "-o", str(constraints))  # fmt: skip
    return constraints


def project_wheel(work: Path) -> Path:
    """The cafe_etl wheel (code, migrations, regions.csv and the metadata __version__ reads)."""
    sh("uv", "build", "--wheel", "--quiet", "--out-dir", str(work / "dist"))
    return next((work / "dist").glob("cafe_etl-*.whl"))


def install(target: Path, requirements: list[str], constraints: Path, wheel: Path,
            platform: str, python_version: str) -> None:  # fmt: skip
    shutil.rmtree(target, ignore_errors=True)
    where = ["--target", str(target), "--python-platform", platform,
             "--python-version", python_version, "--quiet"]  # fmt: skip
    sh("uv", "pip", "install", *where, "--only-binary", ":all:", "-c", str(constraints),
       *requirements)  # fmt: skip
    sh("uv", "pip", "install", *where, "--no-deps", str(wheel))


def check_pins(target: Path, constraints: Path) -> None:
    """Every installed distribution at uv.lock's version (uv resolves, the lock decides)."""
    pinned: dict[str, set[str]] = {}
    for line in constraints.read_text().splitlines():
        if match := re.match(r"([A-Za-z0-9_.-]+)==([^ ;]+)", line):
            pinned.setdefault(normalise(match[1]), set()).add(match[2])
    for info in target.glob("*.dist-info"):
        meta = PathDistribution(info).metadata
        name, version = normalise(meta["Name"]), meta["Version"]
        if name != "cafe-etl" and version not in pinned.get(name, {version}):
            raise SystemExit(f"{name} {version} is not uv.lock's {pinned[name]}: run uv lock")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def strip(target: Path) -> None:
    for pattern in STRIP:
        for path in list(target.glob(pattern)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists() or path.is_symlink():
                path.unlink()


def precompile(target: Path, python_version: str) -> bool:
    """Byte-code for the target Python, so a cold start does not compile every module on a
    read-only /var/task. Needs that Python here; unchecked-hash: zip timestamps don't matter."""
    if sys.version_info[:2] == tuple(int(p) for p in python_version.split(".")):
        return compileall.compile_dir(
            target, quiet=2, workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )  # fmt: skip
    python = target_python(python_version)
    if python is None:
        return False
    compile_all = [python, "-m", "compileall", "-q", "-j0", "--invalidation-mode",
                   "unchecked-hash", str(target)]  # fmt: skip
    return subprocess.run(compile_all, capture_output=True).returncode == 0


def target_python(version: str) -> str | None:
    """An interpreter of the target version: on PATH (CI's setup-python) or under pyenv."""
    pyenv = Path.home() / ".pyenv" / "versions"
    for python in [shutil.which(f"python{version}"),
                   *sorted(map(str, pyenv.glob(f"{version}.*/bin/python{version}")))]:  # fmt: skip
        if python and subprocess.run([python, "-V"], capture_output=True).returncode == 0:
            return python
    return None


def archive(target: Path) -> Path:
    """A zip of the folder as sam deploy uploads it (deflated, files at the top)."""
    zip_path = target.with_suffix(".zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive_file:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                archive_file.write(path, path.relative_to(target))
    return zip_path


def unzipped_bytes(target: Path) -> int:
    """Bytes as Lambda counts them once extracted: every file, hard links included."""
    return sum(path.stat().st_size for path in target.rglob("*") if path.is_file())


def build(args: argparse.Namespace) -> None:
    functions = args.function or list(FUNCTIONS)
    with tempfile.TemporaryDirectory(prefix="cafe-etl-build-") as folder:
        work = Path(folder)
        constraints, wheel = locked_versions(work), project_wheel(work)
        for name in functions:
            started, target = time.perf_counter(), args.out / name
            install(target, FUNCTIONS[name], constraints, wheel, args.platform,
                    args.python_version)  # fmt: skip
            check_pins(target, constraints)
            strip(target)
            compiled = precompile(target, args.python_version) if args.compile else False
            size = unzipped_bytes(target)
            zipped = archive(target).stat().st_size if args.zip else 0
            files = sum(1 for path in target.rglob("*") if path.is_file())
            print(f"{name:<13} {files:>6} files  {size / 2**20:6.1f} MiB unzipped  "
                  f"{zipped / 2**20:5.1f} MiB zipped  byte-code {'yes' if compiled else 'no'}  "
                  f"{time.perf_counter() - started:4.1f} s  -> {target}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("function", nargs="*", help=f"any of {', '.join(FUNCTIONS)} (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help="default: build/lambda")
    parser.add_argument("--platform", default=PLATFORM, help=f"uv's name; default {PLATFORM}")
    parser.add_argument("--python-version", default=PYTHON_VERSION)
    parser.add_argument("--no-zip", dest="zip", action="store_false", help="skip the zips")
    parser.add_argument("--no-compile", dest="compile", action="store_false",
                        help="ship sources only (no byte-code)")  # fmt: skip
    args = parser.parse_args(argv)
    if unknown := set(args.function) - set(FUNCTIONS):
        parser.error(f"unknown function {', '.join(sorted(unknown))}: use {', '.join(FUNCTIONS)}")
    try:
        build(args)
    except FileNotFoundError as error:
        missing = error.filename
        raise SystemExit(f"build needs {missing} on PATH (python3 -m pip install uv)") from None
    except subprocess.CalledProcessError as error:
        tail = (error.stderr or "").strip().splitlines()[-3:]
        raise SystemExit(f"build failed: {' '.join(error.cmd[:3])}: {' / '.join(tail)}") from None


if __name__ == "__main__":
    os.environ.setdefault("UV_NO_PROGRESS", "1")
    main()
