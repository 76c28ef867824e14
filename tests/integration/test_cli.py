"""The ``cafe-etl`` command as a user meets it: help, output, exit codes and one-line errors."""

from __future__ import annotations

import inspect
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from typer.testing import CliRunner, Result

from cafe_etl.entrypoints.cli import app
from cafe_etl.warehouse import connect

from .rawfiles import expected, lines, records, write

if TYPE_CHECKING:
    from conftest import Cli, Etl

pytestmark = pytest.mark.usefixtures("in_tmp_path")

COMMANDS = {
    command.name or command.callback.__name__.replace("_", "-"): command.callback
    for command in app.registered_commands
    if command.callback is not None
}
GOOD = lines(
    "25/08/2021 09:00,Leeds,Bo Peep,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 10:00,Leeds,Bo Peep,Large Latte - 2.45,2.45,CASH,",
    "25/08/2021 11:00,Leeds,Bo Peep,Large Latte - 2.45,2.50,CASH,",
)  # 2 sales (4.60), 1 total mismatch


def invoke(*args: object) -> Result:
    """``cafe-etl`` with no settings in the environment."""
    return CliRunner().invoke(app, [str(arg) for arg in args])


def summary_counts(output: str) -> dict[str, str]:
    """The label -> value rows of the run summary table."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if line.startswith("│") and len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


def table(output: str, title: str) -> list[list[str]]:
    """The body rows of one titled table in rich output."""
    body: list[list[str]] = []
    found = False
    for line in output.splitlines():
        if line.strip() == title:
            found = True
        elif found and line.startswith("│"):
            body.append([cell.strip() for cell in line.strip().strip("│").split("│")])
        elif found and line.startswith("└"):
            return body
    raise AssertionError(f"no table {title!r} in:\n{output}")


def assert_one_line_error(result: Result, *mentions: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("error: "), message
    for mention in mentions:
        assert mention in message, (mention, message)


def test_the_top_level_help_lists_every_command() -> None:
    result = invoke("--help")

    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_text_shown_by_its_help_option(command: str) -> None:
    summary = (inspect.getdoc(COMMANDS[command]) or "").split("\n")[0]

    result = invoke(command, "--help")

    assert summary, f"{command} has no help text"
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert " ".join(summary.split()) in " ".join(result.stdout.split())


def test_run_exits_0_and_summarises_when_every_file_is_processed(
    cli: Cli, landing: Path, etl: Etl
) -> None:
    write(landing, "leeds.csv", GOOD)

    result = cli("run", landing)

    assert result.exit_code == 0, result.output
    counts = summary_counts(result.stdout)
    assert (counts["files loaded"], counts["rows read"], counts["rows loaded"]) == ("1", "3", "2")
    assert (counts["rows rejected"], counts["rejected: total_mismatch"]) == ("1", "1")
    assert etl.scalar("SELECT SUM(total_amount) FROM transactions") == Decimal("4.60")


def test_run_exits_2_when_a_whole_file_is_rejected_and_loads_the_rest(
    cli: Cli, landing: Path, etl: Etl
) -> None:
    write(landing, "leeds.csv", GOOD)
    write(
        landing, "york.csv", "25/08/2021 09:00,York,Zoë,Latte - 2.15,2.15,CASH,\n".encode("cp1252")
    )

    result = cli("run", landing)

    assert result.exit_code == 2, result.output
    counts = summary_counts(result.stdout)
    assert (counts["files loaded"], counts["files rejected"]) == ("1", "1")
    assert counts["file rejected (not_utf8)"] == "york.csv"
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2


def test_run_takes_its_source_folder_from_the_environment(
    cli: Cli, landing: Path, etl: Etl
) -> None:
    write(landing, "leeds.csv", GOOD)

    result = cli("run", env={"CAFE_ETL_LANDING": str(landing)})

    assert result.exit_code == 0, result.output
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2


def test_run_without_its_source_folder_fails_in_one_line_naming_it(
    cli: Cli, tmp_path: Path, warehouse_url: str
) -> None:
    result = cli("run", tmp_path / "no-such-folder")

    assert_one_line_error(result, str(tmp_path / "no-such-folder"), "SOURCE")


@pytest.mark.parametrize(
    ("warehouse", "mentions"),
    [
        ("mysql://x", ["mysql", "duckdb://"]),
        ("duckdb:///{tmp}/no-such-folder/cafe.duckdb", ["{tmp}/no-such-folder", "--warehouse"]),
        ("duckdb:///{tmp}/not-a-database.duckdb", ["{tmp}/not-a-database.duckdb"]),
        ("duckdb://relative.duckdb", ["duckdb:///FILE"]),
    ],
    ids=["unknown kind", "missing folder", "not a database", "malformed duckdb url"],
)
@pytest.mark.parametrize("command", ["run", "status", "init-db"])
def test_a_warehouse_that_cannot_be_used_fails_in_one_line_naming_what_to_fix(
    tmp_path: Path, landing: Path, command: str, warehouse: str, mentions: list[str]
) -> None:
    write(landing, "leeds.csv", GOOD)
    write(tmp_path, "not-a-database.duckdb", "this is not a DuckDB file\n")
    url = warehouse.format(tmp=tmp_path)

    result = invoke(command, *([landing] if command == "run" else []), "--warehouse", url)

    assert_one_line_error(result, *(m.format(tmp=tmp_path) for m in mentions))
    assert not (tmp_path / "no-such-folder").exists()


def test_a_bad_setting_in_the_environment_is_named_in_one_line(cli: Cli, landing: Path) -> None:
    write(landing, "leeds.csv", GOOD)

    result = cli("run", landing, env={"CAFE_ETL_CHUNK_ROWS": "0"})

    assert_one_line_error(result, "CAFE_ETL_CHUNK_ROWS")


def test_generate_writes_one_file_per_branch_and_day_that_run_loads(
    cli: Cli, tmp_path: Path, etl: Etl
) -> None:
    out = tmp_path / "raw"

    result = cli("generate", "--out", out, "--branches", 2, "--days", 3, "--start", "2024-01-01")

    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(
        f"{town}_0{day}-01-2024_09-00-00.csv"
        for town in ("chesterfield", "leeds")
        for day in (1, 2, 3)
    )
    raw = expected(*out.iterdir())
    assert " ".join(result.stdout.split()) == (
        f"wrote 6 files, {raw.transactions:,} transactions, into {out}"
    )
    assert cli("run", out).exit_code == 0
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (raw.transactions, raw.revenue)
    ]


def test_generate_with_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        args = ("generate", "--out", tmp_path / folder, "--branches", 1, "--days", 2, "--seed", 5)
        assert invoke(*args, "--start", "2024-01-01", "--variant", "a").exit_code == 0

    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    assert one == {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert all(records(tmp_path / "one" / name)[0][0].startswith("2024-01-0") for name in one)


@pytest.mark.parametrize(
    ("args", "mentions"),
    [(["--variant", "E"], "variant"), (["--start", "yesterday"], "yesterday")],
    ids=["unknown variant", "bad start date"],
)
def test_generate_refuses_a_bad_option_naming_it(
    tmp_path: Path, args: list[str], mentions: str
) -> None:
    result = invoke("generate", "--out", tmp_path / "raw", *args)

    assert result.exit_code != 0
    assert mentions in result.output
    assert "Traceback" not in result.output
    assert not any((tmp_path / "raw").glob("*.csv"))


def test_status_shows_missing_branch_days_and_rejects_by_reason(cli: Cli, landing: Path) -> None:
    generate_args = ("--branches", 3, "--days", 3, "--start", "2024-01-01")
    assert cli("generate", "--out", landing, *generate_args).exit_code == 0
    write(
        landing,
        "leeds_extra.csv",
        lines(
            "01/01/2024 18:00,Leeds,Bo Peep,Regular Latte - 2.15,2.15,CASH,",
            "01/01/2024 18:01,Leeds,Bo Peep,Regular Latte - 2.155,2.155,CASH,",
            "01/01/2024 18:02,Leeds,Bo Peep,Regular Latte - 2.15,2.15.1,CASH,",
            "01/01/2024 18:03,Leeds,Bo Peep,Regular Latte - 2.15,2.15,IOU,",
        ),
    )
    write(landing, "york.csv", b"\xff\xfe\x00")
    assert cli("run", landing).exit_code == 2

    result = cli("status")

    assert result.exit_code == 0, result.output
    assert table(result.stdout, "branch-days with no file") == [["London Brixton", "2024-01-02"]]
    rejects = table(result.stdout, "rejected rows of loaded files")
    assert rejects == [["bad_amount", "2"], ["bad_payment", "1"]]
    files = table(result.stdout, "files in the ledger")
    assert ["loaded", str(3 * 3 - 1 + 1)] in files
    assert ["rejected: not_utf8", "1"] in files


def test_status_of_an_empty_warehouse_says_there_is_nothing(cli: Cli) -> None:
    assert cli("init-db").exit_code == 0
    result = cli("status")

    assert result.exit_code == 0, result.output
    assert table(result.stdout, "branch-days with no file") == [["none", ""]]


def test_init_db_creates_the_schema_once(cli: Cli, etl: Etl) -> None:
    first = cli("init-db")
    second = cli("init-db")

    assert first.exit_code == 0 and first.stdout.startswith("applied ")
    assert "001_contract.sql" in first.stdout
    assert (second.exit_code, second.stdout.strip()) == (0, "schema is up to date")
    assert set(etl.tables()) >= {
        "branches",
        "products",
        "transactions",
        "basket_items",
        "loaded_files",
        "rejected_rows",
    }


def test_reprocess_needs_names_or_all_but_not_both(cli: Cli) -> None:
    for args in ([], ["some.csv", "--all"]):
        result = cli("reprocess", *args)

        assert result.exit_code != 0
        assert "--all" in result.output
        assert "Traceback" not in result.output


def test_demo_generates_a_week_and_loads_it_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "demo"

    # (a CAFE_ETL_JOBS meant for server loads does not reach the demo's DuckDB)
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(folder), "--weeks", "1"], env={"CAFE_ETL_JOBS": "4"}
    )

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    files = sorted((folder / "landing").glob("*.csv"))
    assert len(files) == 120 * 7 - 1
    assert f"generated {len(files)} till exports" in text
    assert "London Brixton sent no file on 2026-11-19" in text
    sales = sum(path.read_bytes().count(b"\n") for path in files)
    with duckdb.connect(str(folder / "cafe.duckdb"), read_only=True) as db:
        assert db.sql("SELECT COUNT(*) FROM transactions").fetchall() == [(sales,)]
        assert db.sql("SELECT status, COUNT(*) FROM loaded_files GROUP BY 1").fetchall() == [
            ("loaded", len(files))
        ]
        assert db.sql("SELECT COUNT(DISTINCT region) FROM branches").fetchall() == [(12,)]
        assert db.sql("SELECT COUNT(customer_token) > 0 FROM transactions").fetchall() == [(True,)]
    # it ends with the manager's report, even of a week too short for week-on-week changes
    report = folder / "report.html"
    assert f"The manager's report: {report}" in text
    page = report.read_text()
    assert "Sales over time by region" in page and "no like-for-like change to show" in page


def test_demo_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    write(mine, "precious.txt", "keep me")

    result = invoke("demo", "--dir", mine)

    assert_one_line_error(result, str(mine), "--dir")
    assert (mine / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("command", ["run", "init-db"])
def test_a_bad_duckdb_memory_limit_fails_in_one_line_naming_it(
    tmp_path: Path, landing: Path, command: str
) -> None:
    write(landing, "leeds.csv", GOOD)
    url = f"duckdb:///{tmp_path}/cafe.duckdb?memory_limit=lots"

    result = invoke(command, *([landing] if command == "run" else []), "--warehouse", url)

    assert_one_line_error(result, "memory_limit=lots")


@pytest.mark.parametrize(("query", "limit"), [("", "96MB"), ("?memory_limit=2GB", "2GB")])
def test_duckdb_memory_is_capped_at_96mb_unless_the_url_says_otherwise(
    tmp_path: Path, query: str, limit: str
) -> None:
    setting = "SELECT current_setting('memory_limit')"
    expected = duckdb.connect(config={"memory_limit": limit}).execute(setting).fetchall()

    warehouse = connect(f"duckdb:///{tmp_path}/cafe.duckdb{query}")

    assert warehouse.execute(setting) == expected
    warehouse.close()


def test_a_warehouse_path_naming_memory_gets_no_memory_limit_hint(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    write(tmp_path / "memory", "bad.duckdb", "this is not a DuckDB file\n")

    result = invoke("init-db", "--warehouse", f"duckdb:///{tmp_path}/memory/bad.duckdb")

    assert_one_line_error(result, f"{tmp_path}/memory/bad.duckdb")
    assert "memory_limit" not in result.stderr


def test_status_of_a_mistyped_duckdb_path_fails_instead_of_creating_a_warehouse(
    cli: Cli, tmp_path: Path
) -> None:
    missing = tmp_path / "typo.duckdb"

    result = cli("status", "--warehouse", f"duckdb:///{missing}")

    assert result.exit_code == 1
    assert f"no warehouse at {missing}" in result.stderr
    assert not missing.exists()


@pytest.mark.parametrize("data_file", ["leeds.csv", "export.json", "rows.parquet"])
def test_a_warehouse_path_naming_a_data_file_is_refused_not_opened_in_memory(
    tmp_path: Path, landing: Path, data_file: str
) -> None:
    # GIVEN an existing data file named as the warehouse (DuckDB would open it in memory)
    write(landing, "leeds_25-08-2021_09-00-00.csv", GOOD)
    target = write(tmp_path, data_file, GOOD)

    result = invoke("run", landing, "-w", f"duckdb:///{target}")

    assert_one_line_error(result, str(target), ".duckdb")
    assert target.read_text() == GOOD  # the file is left as it was
