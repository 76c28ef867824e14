"""Several loader processes in one run (``--jobs``): the same warehouse as one loader."""

import io
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import postgres_server
from cafe_etl.errors import CafeEtlError
from cafe_etl.extract.sources import Source, list_folder
from cafe_etl.generate import generate
from cafe_etl.load.unit_of_work import UnitOfWork
from cafe_etl.service.parallel import ParallelRun, shares
from conftest import CONTRACT_TABLES, Cli, Etl, Rows

from .rawfiles import write
from .test_cli import assert_one_line_error, summary_counts

BAD_ROWS = (
    b"25/08/2021 09:00,Leeds,Ann,Regular Latte - 2.15,2.15,CASH,\n"
    b"25/08/2021 09:05,Leeds,Bob,Regular Latte - 2.15,9.99,CASH,\n"
)


def landing_with_everything(folder: Path) -> int:
    """Generated days, a rejected row, a whole rejected file, and one day under two names.

    Returns how many files load (the generated ones and leeds.csv).
    """
    files = generate(folder, branches=4, days=3, start=date(2024, 5, 6), seed=11).files
    shutil.copyfile(files[0], folder / "copy-of-first.csv")
    write(folder, "leeds.csv", BAD_ROWS)
    write(
        folder, "york.csv", "25/08/2021 09:00,York,Zoë,Latte - 2.15,2.15,CASH,\n".encode("cp1252")
    )
    return len(files) + 1


def loaded_at(etl: Etl) -> dict[str, Any]:
    """When each loaded file was last loaded, by name."""
    return {r["file_name"]: r["loaded_at"] for r in etl.ledger() if r["status"] == "loaded"}


def contract(etl: Etl) -> dict[str, Rows]:
    """Every contract table's rows (not when the schema was migrated, nor load times)."""
    return {t: rows for t, rows in etl.snapshot(loaded_at=False).items() if t in CONTRACT_TABLES}


@pytest.mark.postgres
def test_parallel_loaders_build_the_warehouse_one_loader_builds(
    postgres_server_url: str, landing: Path
) -> None:
    loading = landing_with_everything(landing)
    one = Etl(postgres_server.fresh_database(postgres_server_url))
    one.run(landing)
    parallel = postgres_server.fresh_database(postgres_server_url)
    cli = Cli({"CAFE_ETL_WAREHOUSE": parallel, "CAFE_ETL_TOKEN_KEY": one.token_key or ""})

    first, again = cli("run", landing, "--jobs", "3"), cli("run", landing, "-j", "3")

    assert first.exit_code == 2, first.output  # york.csv is rejected whole
    counts = summary_counts(first.stdout)
    assert (counts["files loaded"], counts["files duplicate"], counts["files rejected"]) == (
        str(loading), "1", "1"
    )  # fmt: skip
    assert counts["rows rejected"] == "1"
    assert contract(Etl(parallel)) == contract(one)
    assert summary_counts(again.stdout)["files unchanged"] == str(loading + 2), again.output


@pytest.mark.postgres
def test_parallel_reprocess_replaces_rows_instead_of_adding_them(
    postgres_url: str, landing: Path
) -> None:
    landing_with_everything(landing)
    etl = Etl(postgres_url)
    etl.run(landing)
    before, loaded_before = contract(etl), loaded_at(etl)
    cli = Cli({"CAFE_ETL_WAREHOUSE": postgres_url, "CAFE_ETL_TOKEN_KEY": etl.token_key or ""})

    result = cli("reprocess", "--all", "--jobs", "2")

    assert result.exit_code == 2, result.output  # york.csv is still not UTF-8
    assert contract(etl) == before
    after = loaded_at(etl)
    assert after.keys() == loaded_before.keys()
    assert all(after[name] > loaded_before[name] for name in after)  # every one loaded again


@pytest.mark.postgres
def test_parallel_progress_ends_at_every_file_and_row_of_the_run(
    postgres_url: str, landing: Path
) -> None:
    landing_with_everything(landing)
    etl, seen = Etl(postgres_url), []

    with etl.services() as services:
        summary = (
            ParallelRun(services.load, list_folder(landing), 2)
            .start()
            .wait(lambda files, rows: seen.append((files, rows)))
        )

    files = len(list_folder(landing))
    assert seen[-1] == (files, summary.rows_read) and len(summary.outcomes) == files
    assert summary.rows_read == etl.scalar("SELECT SUM(rows_read) FROM loaded_files")
    for counts in zip(*seen, strict=True):  # files, then rows: never counting backwards
        assert list(counts) == sorted(counts)


def test_jobs_on_duckdb_fails_in_one_line_naming_the_fix(tmp_path: Path, landing: Path) -> None:
    write(landing, "leeds.csv", BAD_ROWS)
    cli = Cli({"CAFE_ETL_WAREHOUSE": f"duckdb:///{tmp_path}/cafe.duckdb"})

    result = cli("run", landing, "--jobs", "2")

    assert_one_line_error(result, "--jobs 2", "--jobs 1", "PostgreSQL")
    assert cli("run", landing).exit_code == 0  # nothing was recorded: one loader loads it
    assert Etl(cli.env["CAFE_ETL_WAREHOUSE"] or "").scalar("SELECT COUNT(*) FROM transactions") == 1


def source(name: str, size: int) -> Source:
    return Source(name, f"file:///{name}", 0.0, lambda: io.BytesIO(), size)


def test_shares_are_balanced_by_bytes_keep_equal_sizes_together_and_keep_order() -> None:
    sources = [source(f"f{i}.csv", 1_000 + 7 * (i % 50)) for i in range(300)]
    sources.append(source("twin.csv", sources[3].size))

    parts = shares(sources, 3)

    loads = [sum(s.size for s in part) for part in parts]
    same_size = Counter(s.size for s in sources)
    assert max(loads) - min(loads) <= max(size * count for size, count in same_size.items())
    assert sorted(s.name for part in parts for s in part) == sorted(s.name for s in sources)
    holding_twin = next(part for part in parts if any(s.name == "twin.csv" for s in part))
    assert sources[3] in holding_twin
    for part in parts:
        assert part == sorted(part, key=sources.index)


def test_fewer_files_than_jobs_start_only_as_many_loaders_as_files() -> None:
    assert [len(part) for part in shares([source("a.csv", 10), source("b.csv", 20)], 8)] == [1, 1]
    assert shares([], 4) == []


@pytest.mark.postgres
def test_a_loader_process_that_dies_is_reported_and_its_files_load_on_the_next_run(
    postgres_server_url: str, landing: Path
) -> None:
    landing_with_everything(landing)
    etl = Etl(postgres_server.fresh_database(postgres_server_url))

    def dies_holding_leeds(step: str, work: UnitOfWork, files: Sequence[str]) -> None:
        if step == "commit" and "leeds.csv" in files:
            os._exit(9)  # killed with its rows and ledger written, not committed

    with (
        etl.services(seams={"hook": dies_holding_leeds}) as services,
        pytest.raises(CafeEtlError) as failure,
    ):
        ParallelRun(services.load, list_folder(landing), 2).start().wait()

    assert "loader process" in str(failure.value) and "exit code 9" in str(failure.value)
    loaded_first = {row["file_name"] for row in etl.ledger()}
    assert loaded_first and "leeds.csv" not in loaded_first  # the other share committed
    etl.run(landing)
    one = Etl(postgres_server.fresh_database(postgres_server_url))
    one.run(landing)
    assert contract(etl) == contract(one)
