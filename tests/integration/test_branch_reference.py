"""The user's branch file, applied by a run: regions override the shipped ones, opening dates
reach the views, and the report names branches without a region."""

from datetime import date
from pathlib import Path

from cafe_etl.generate import generate
from conftest import TOKEN_KEY, Cli, Etl


def test_a_run_applies_the_branch_file_to_regions_and_opening_dates(tmp_path: Path) -> None:
    # GIVEN a week of three branches and a branch file moving Leeds and closing Chesterfield
    generate(tmp_path / "landing", branches=3, days=7, start=date(2026, 11, 16))
    branches = tmp_path / "branches.csv"
    branches.write_text(
        "branch,region,opened,closed\nleeds,Leeds City Region,,\n"
        "Chesterfield,East Midlands,2001-01-01,2026-11-20\n"
    )
    url = f"duckdb:///{tmp_path}/cafe.duckdb"
    # WHEN it is loaded with the file set
    result = Cli({"CAFE_ETL_TOKEN_KEY": TOKEN_KEY, "CAFE_ETL_BRANCHES_FILE": str(branches)})(
        "run", tmp_path / "landing", "-w", url
    )
    # THEN the regions follow the file (names matched whatever their case), the others the
    # shipped one, and the closing date is where the views read it
    assert result.exit_code == 0, result.output
    etl = Etl(url)
    assert etl.query("SELECT branch_name, region FROM branches ORDER BY 1") == [
        ("Chesterfield", "East Midlands"),
        ("Leeds", "Leeds City Region"),
        ("London Brixton", "London"),
    ]
    assert etl.query(
        "SELECT b.branch_name, d.opened_on, d.closed_on FROM branch_dates d"
        " JOIN branches b ON b.branch_id = d.branch_id"
    ) == [("Chesterfield", date(2001, 1, 1), date(2026, 11, 20))]
    # and a later run without the file puts the shipped region back
    Cli({"CAFE_ETL_TOKEN_KEY": TOKEN_KEY})("run", tmp_path / "landing", "-w", url)
    assert etl.scalar("SELECT region FROM branches WHERE branch_name = 'Leeds'") == (
        "Yorkshire and The Humber"
    )
