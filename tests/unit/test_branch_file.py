"""The user's branch file: regions and opening dates, or one line naming what is wrong."""

from datetime import date
from pathlib import Path

import pytest

from cafe_etl.analytics.reference import BranchRow, read_branch_file
from cafe_etl.errors import ConfigError


def branch_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "branches.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_branch_file_gives_regions_and_optional_dates(tmp_path: Path) -> None:
    path = branch_file(
        tmp_path,
        "\ufeffBranch, Region ,opened,closed\n"
        "Leeds,Yorkshire and The Humber,,\n"
        " York ,North,2026-10-01,\n"
        "Hull,North,2019-05-01,2026-09-30\n",
    )
    assert read_branch_file(path) == [
        BranchRow("Leeds", "Yorkshire and The Humber"),
        BranchRow("York", "North", date(2026, 10, 1)),
        BranchRow("Hull", "North", date(2019, 5, 1), date(2026, 9, 30)),
    ]


def test_the_dates_may_be_left_out_of_the_header(tmp_path: Path) -> None:
    assert read_branch_file(branch_file(tmp_path, "branch,region\nLeeds,North\n")) == [
        BranchRow("Leeds", "North")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("town,area\nLeeds,North\n", "the first line must name the columns branch,region"),
        ("branch,region\nLeeds,\n", "line 2: a branch and its region are both needed"),
        ("branch,region,opened\nLeeds,North,1/10/2026\n", "line 2: '1/10/2026' is not a date"),
        (
            "branch,region,opened,closed\nLeeds,N,2026-10-01,2026-09-01\n",
            "line 2: closed (2026-09-01) must come after opened (2026-10-01)",
        ),
        ("branch,region\nLeeds,North\nleeds,South\n", "line 3: leeds is listed twice"),
        ("branch,region\nLeeds,North,extra\n", "line 2: more fields than the header names"),
    ],
)
def test_a_bad_row_is_one_line_naming_the_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = branch_file(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        read_branch_file(path)
    assert str(raised.value).startswith(f"branch file {path}")
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_branch_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"branch file .*nothere.csv: cannot read it"):
        read_branch_file(tmp_path / "nothere.csv")
