"""Loaders as real processes: killed mid-file, and several at once on PostgreSQL."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from cafe_etl.bootstrap import bootstrap
from cafe_etl.config import load_settings
from cafe_etl.extract.sources import list_folder
from cafe_etl.generate import generate
from cafe_etl.warehouse import connect

TABLES = {
    "branches": "branch_id",
    "products": "product_id",
    "transactions": "transaction_id",
    "basket_items": "transaction_id, product_id, unit_price",
    "rejected_rows": "file_id, line_number",
}
KEY = "process-test-key"

PAUSE_BEFORE_COMMIT = textwrap.dedent(
    """
    import os, sys, time
    from cafe_etl.bootstrap import bootstrap
    from cafe_etl.config import load_settings

    def pause(step, work, files):  # rows and ledger written, not committed: say so, and wait
        if step != "commit" or not files:
            return
        with open(sys.argv[1], "a") as marker:
            marker.write(f"{os.getpid()}\\n")
        time.sleep(600)

    marker, folder, url, jobs = sys.argv[1:]
    settings = load_settings(warehouse=url, jobs=int(jobs))
    with bootstrap(settings, loading=True, create=True, hook=pause) as app:
        app.start_run(app.sources(folder)).wait()
    """
)


def contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    warehouse = connect(url)
    try:
        return {
            table: warehouse.execute(f"SELECT * FROM {table} ORDER BY {order}")
            for table, order in TABLES.items()
        }
    finally:
        warehouse.close()


def ledger(url: str) -> list[tuple[object, ...]]:
    warehouse = connect(url)
    try:
        return warehouse.execute(
            "SELECT file_name, sha256, status FROM loaded_files ORDER BY file_name, status"
        )
    finally:
        warehouse.close()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cafe_etl", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "CAFE_ETL_TOKEN_KEY": KEY}


def load_at_once(url: str, folders: list[Path] | tuple[Path, ...]) -> list[tuple[int, bytes]]:
    """Start one ``cafe-etl run`` process per folder together; their exit codes and stderr."""
    loaders = [
        subprocess.Popen(cli("run", str(folder), "-w", url), env=environment(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for folder in folders
    ]  # fmt: skip
    return [(loader.wait(timeout=300), loader.stderr.read()) for loader in loaders]  # type: ignore[union-attr]


def load_in_process(url: str, folder: Path) -> None:
    settings = load_settings(warehouse=url, token_key=KEY)
    with bootstrap(settings, loading=True, create=True) as services:
        services.load.run(list_folder(folder))


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("week")
    generate(folder, branches=6, days=4, start=date(2026, 3, 2), seed=7)
    return folder


def test_a_loader_killed_after_writing_rows_leaves_the_warehouse_unchanged(
    warehouse_url: str, week: Path, tmp_path: Path
) -> None:
    # GIVEN a warehouse that already holds two files
    first = tmp_path / "first"
    first.mkdir()
    for path in sorted(week.iterdir())[:2]:
        shutil.copy(path, first)
    load_in_process(warehouse_url, first)
    before, ledger_before = contents(warehouse_url), ledger(warehouse_url)
    # WHEN a loader is killed after writing every row of the week, before committing
    marker = tmp_path / "paused"
    script = tmp_path / "paused_loader.py"
    script.write_text(PAUSE_BEFORE_COMMIT)
    loader = subprocess.Popen(
        [sys.executable, str(script), str(marker), str(week), warehouse_url, "1"],
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and loader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), loader.stderr.read() if loader.stderr else "no output"
    loader.send_signal(signal.SIGKILL)
    loader.wait()
    # THEN the warehouse is exactly as it was
    assert contents(warehouse_url) == before
    assert ledger(warehouse_url) == ledger_before
    # AND the next run loads the whole week
    result = subprocess.run(
        cli("run", str(week), "-w", warehouse_url), env=environment(), capture_output=True
    )
    assert result.returncode == 0, result.stderr
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    load_in_process(reference, week)
    assert contents(warehouse_url) == contents(reference)


@pytest.mark.postgres
def test_parallel_loaders_of_the_same_and_different_files_load_each_row_once(
    postgres_url: str, week: Path, tmp_path: Path
) -> None:
    # GIVEN the week split over two folders, and a third folder holding all of it
    halves = [tmp_path / "a", tmp_path / "b"]
    for index, path in enumerate(sorted(week.iterdir())):
        halves[index % 2].mkdir(exist_ok=True)
        shutil.copy(path, halves[index % 2])
    # WHEN four loader processes run at once: each half, and the whole week twice
    folders = [*halves, week, week]
    results = load_at_once(postgres_url, folders)
    # THEN every loader succeeded and the warehouse equals one sequential load, row by row
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    load_in_process(reference, week)
    assert contents(postgres_url) == contents(reference)
    statuses = [status for _, _, status in ledger(postgres_url)]
    assert statuses == ["loaded"] * len(list(week.iterdir()))


@pytest.mark.postgres
def test_a_corrected_file_loaded_while_the_old_one_loads_leaves_exactly_one_version(
    postgres_url: str, week: Path, tmp_path: Path
) -> None:
    # GIVEN two versions of one file name, the second with one line fewer
    original = sorted(week.iterdir())[0]
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    shutil.copy(original, old)
    lines = original.read_bytes().splitlines(keepends=True)
    (new / original.name).write_bytes(b"".join(lines[:-1]))
    # WHEN both are loaded at once, several times over
    results = load_at_once(postgres_url, (old, new, old, new))
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    # THEN exactly the version the ledger calls loaded is in the warehouse, whole
    rows = ledger(postgres_url)
    loaded = [sha for _, sha, status in rows if status == "loaded"]
    assert len(loaded) == 1 and {status for *_, status in rows} <= {"loaded", "superseded"}
    winner = old if loaded[0] == _sha(old / original.name) else new
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    load_in_process(reference, winner)
    assert contents(postgres_url) == contents(reference)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.postgres
def test_a_parallel_run_killed_takes_its_loaders_down_and_leaves_the_warehouse_unchanged(
    postgres_url: str, week: Path, tmp_path: Path
) -> None:
    # GIVEN a run with two loader processes, one paused before committing written rows
    # (the other waits for it: both write the same products)
    marker, script = tmp_path / "paused", tmp_path / "paused_loader.py"
    script.write_text(PAUSE_BEFORE_COMMIT)
    run = subprocess.Popen(
        [sys.executable, str(script), str(marker), str(week), postgres_url, "2"],
        env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not marker.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), run.stderr.read() if run.stderr else "no output"
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    loaders = [int(pid) for pid in children]
    assert len(loaders) == 2 and int(marker.read_text()) in loaders
    # WHEN the run itself is killed (as by the OOM killer or a scheduler's timeout)
    run.send_signal(signal.SIGKILL)
    run.wait()
    # THEN its loaders end too, and nothing they wrote was committed
    deadline = time.monotonic() + 20
    while any(map(_running, loaders)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_running, loaders))
    assert ledger(postgres_url) == []
    assert all(rows == [] for rows in contents(postgres_url).values())
    # AND the next run loads the whole week
    result = subprocess.run(cli("run", str(week), "-w", postgres_url, "-j", "2"),
                            env=environment(), capture_output=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    load_in_process(reference, week)
    assert contents(postgres_url) == contents(reference)


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
