"""The Lambda artifacts infra/build.py makes: within Lambda's limits, built for the runtime's
platform, carrying what each handler imports and nothing of the CLI's, and quick to import.

Lambda quotas: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
(250 MB unzipped, layers included, enforced as 262,144,000 bytes; 50 MB zipped only for a
direct upload, which sam deploy does not do: it uploads the zip to S3 first).
"""

import functools
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "infra" / "build.py"
FUNCTIONS = ("transform", "load", "completeness")
UNZIPPED_LIMIT = 262_144_000  # 250 MiB: "Unzipped size must be smaller than 262144000 bytes"
EM_AARCH64 = 183  # ELF e_machine of arm64
CLI_ONLY = ("duckdb", "typer", "rich")
# Shared libraries every manylinux system provides (PEP 599 / PEP 600), and zlib, which
# auditwheel's policies allow and Lambda's Amazon Linux 2023 image has (Python's zlib uses it).
SYSTEM_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libutil.so.1",
    "libstdc++.so.6", "libgcc_s.so.1", "libnsl.so.1", "libresolv.so.2", "libcrypt.so.1",
    "libz.so.1",
    "ld-linux-aarch64.so.1", "ld-linux-x86-64.so.2",
}  # fmt: skip
OFFLINE = ("failed to fetch", "dns error", "connection", "network", "timed out", "offline")


@dataclass(frozen=True)
class Built:
    folder: Path
    seconds: float
    printed: str


def build(out: Path, *options: str) -> Built:
    """Run the build as a user does; skip when the package index cannot be reached."""
    if shutil.which("uv") is None:
        pytest.skip("packaging tests skipped: uv is not on PATH (pip install uv)")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(out), *options],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if done.returncode and any(word in done.stderr.lower() for word in OFFLINE):
        pytest.skip(f"packaging tests skipped: PyPI unreachable ({done.stderr.strip()[-200:]})")
    assert done.returncode == 0, done.stderr
    return Built(out, time.perf_counter() - started, done.stdout)


@pytest.fixture(scope="module")
def lambda_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The artifacts for the template's runtime: linux arm64, CPython 3.12."""
    out = tmp_path_factory.mktemp("lambda")
    yield build(out)
    shutil.rmtree(out, ignore_errors=True)  # about 800 MB: not kept for later sessions


@pytest.fixture(scope="module")
def host_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Built]]:
    """The same artifacts built for this machine's platform and Python, so they can be
    imported here: same lock, same stripping, same byte-code step. Built on first use."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    host = f"{platform.machine()}-manylinux_2_28"
    out = tmp_path_factory.mktemp("host")
    once = functools.cache(
        lambda: build(out, "--platform", host, "--python-version", python, "--no-zip")
    )
    yield once
    shutil.rmtree(out, ignore_errors=True)


def unzipped_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def handler_module(function: str) -> str:
    module = f"cafe_etl.entrypoints.aws_{function}"
    if not (ROOT / "src" / "cafe_etl" / "entrypoints" / f"aws_{function}.py").exists():
        pytest.skip(f"{module} is not in this tree yet (the handlers land separately)")
    return module


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_artifact_fits_lambdas_unzipped_limit(lambda_build: Built, function: str) -> None:
    folder = lambda_build.folder / function

    assert (folder / "cafe_etl" / "data" / "regions.csv").exists()
    assert list((folder / "cafe_etl" / "warehouse" / "migrations").rglob("*.sql"))
    assert unzipped_bytes(folder) < UNZIPPED_LIMIT
    assert (lambda_build.folder / f"{function}.zip").stat().st_size < UNZIPPED_LIMIT


def test_the_build_reports_each_artifact_and_takes_well_under_two_minutes(
    lambda_build: Built,
) -> None:
    lines = lambda_build.printed.splitlines()

    assert [line.split()[0] for line in lines] == list(FUNCTIONS)
    assert all("MiB unzipped" in line and "MiB zipped" in line for line in lines)
    assert lambda_build.seconds < 120


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_artifact_carries_the_clis_libraries(lambda_build: Built, function: str) -> None:
    names = {path.name.lower() for path in (lambda_build.folder / function).iterdir()}

    carried = sorted(n for n in names for lib in CLI_ONLY if n == lib or n.startswith(f"{lib}-"))
    assert carried == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_native_code_is_built_for_arm64_and_cpython_312(lambda_build: Built, function: str) -> None:
    extensions = list((lambda_build.folder / function).rglob("*.so*"))

    assert extensions
    assert {elf_machine(path) for path in extensions} == {EM_AARCH64}
    tagged = [p.name for p in extensions if ".cpython-" in p.name]
    assert tagged and all(".cpython-312-aarch64-linux-gnu.so" in name for name in tagged)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_shared_library_needed_is_in_the_artifact(lambda_build: Built, function: str) -> None:
    """Stripping removed nothing a kept library loads (readelf reads arm64 files here)."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf not found (apt-get install binutils)")
    folder = lambda_build.folder / function
    bundled = {path.name for path in folder.rglob("*.so*")}

    missing = {
        f"{path.relative_to(folder)} needs {name}"
        for path in folder.rglob("*.so*")
        for name in needed(path)
        if name not in bundled and name not in SYSTEM_LIBRARIES
    }
    assert sorted(missing) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_imports_from_its_artifact_alone_in_under_a_second(
    host_build: Callable[[], Built], function: str
) -> None:
    """Cold start as on Lambda: a fresh interpreter with only the artifact on its path. The
    CPU seconds are asserted (on an idle machine the wall time is the same): a busy shared
    machine stretches the wall time, not the work (benchmarks/bench_package.py times it)."""
    module = handler_module(function)
    probe = (
        "import sys, time; sys.path.insert(0, sys.argv[1]);"
        "wall, cpu = time.perf_counter(), time.process_time();"
        f"import {module};"
        "print(time.process_time() - cpu, time.perf_counter() - wall,"
        f" *[m for m in {CLI_ONLY!r} if m in sys.modules])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    command = [sys.executable, "-I", "-S", "-B", "-c", probe, str(host_build().folder / function)]
    runs = [subprocess.run(command, capture_output=True, text=True, env=env) for _ in range(3)]

    assert runs[0].returncode == 0, runs[0].stderr
    cpu, wall, *loaded = runs[0].stdout.split()
    assert loaded == []
    assert min(float(run.stdout.split()[0]) for run in runs) < 1.0, f"{cpu} s CPU, {wall} s wall"


def elf_machine(path: Path) -> int:
    with path.open("rb") as file:
        header = file.read(20)
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def needed(path: Path) -> list[str]:
    shown = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in shown.splitlines() if "(NEEDED)" in line]
