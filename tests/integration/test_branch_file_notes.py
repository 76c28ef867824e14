"""A branch file set but not yet applied: the commands that only read say so in one line."""

from datetime import date
from pathlib import Path

from cafe_etl.generate import generate
from conftest import Cli


def test_status_and_report_say_when_the_branch_file_is_not_applied_yet(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate(landing, branches=1, days=2, start=date(2024, 5, 6), seed=1)
    warehouse = f"duckdb:///{tmp_path}/cafe.duckdb"
    assert Cli()("run", landing, "--warehouse", warehouse).exit_code == 0
    branches = tmp_path / "branches.csv"
    branches.write_text("branch,region,opened,closed\nChesterfield,North West,,\n")
    with_file = Cli({"CAFE_ETL_BRANCHES_FILE": str(branches)})
    # WHEN the file is set but no run has applied it
    status = with_file("status", "--warehouse", warehouse)
    report = with_file("report", "--warehouse", warehouse, "--out", tmp_path / "r.html")
    # THEN both name the branch and say when the file applies
    for result in (status, report):
        assert result.exit_code == 0, result.output
        assert "Chesterfield (1 branch has another region in CAFE_ETL_BRANCHES_FILE" in (
            " ".join(result.output.split())
        )
    # AND once a run applied it, nothing more is said
    assert with_file("run", landing, "--warehouse", warehouse).exit_code == 0
    assert "CAFE_ETL_BRANCHES_FILE" not in with_file("status", "--warehouse", warehouse).output
