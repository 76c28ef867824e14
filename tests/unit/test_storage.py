"""Listing a landing folder: which files are sources, under which name and address."""

import os
from pathlib import Path

import pytest

from cafe_etl.extract.sources import list_folder


def test_every_csv_below_the_folder_is_listed_oldest_first_and_nothing_else(
    tmp_path: Path,
) -> None:
    (tmp_path / "north").mkdir()
    files = {
        "north/leeds_01-03-2026_09-00-00.csv": 300,
        "york_01-03-2026_09-00-00.CSV": 100,
        "hull_01-03-2026_09-00-00.csv": 200,
        "notes.txt": 50,
    }
    for name, mtime in files.items():
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (mtime, mtime))
    (tmp_path / "folder.csv").mkdir()  # a folder named like a file is not one

    sources = list_folder(tmp_path)

    assert [source.name for source in sources] == [
        "york_01-03-2026_09-00-00.CSV",
        "hull_01-03-2026_09-00-00.csv",
        "leeds_01-03-2026_09-00-00.csv",
    ]
    assert sources[2].uri == (tmp_path / "north/leeds_01-03-2026_09-00-00.csv").resolve().as_uri()
    assert [source.size for source in sources] == [1, 1, 1]


def test_a_folder_given_by_a_relative_path_lists_absolute_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "hull_01-03-2026_09-00-00.csv").write_text("x")
    monkeypatch.chdir(tmp_path / "landing")

    (source,) = list_folder(Path("../landing"))

    assert source.uri == f"{(tmp_path / 'landing').resolve().as_uri()}/hull_01-03-2026_09-00-00.csv"
    assert source.open().read() == b"x"


def test_a_link_is_listed_under_its_own_name_and_a_broken_link_is_skipped(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "till-7.dat"
    target.parent.mkdir()
    target.write_text("x")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "leeds_01-03-2026_09-00-00.csv").symlink_to(target)
    (landing / "york_01-03-2026_09-00-00.csv").symlink_to(tmp_path / "gone.csv")

    (source,) = list_folder(landing)

    assert source.name == "leeds_01-03-2026_09-00-00.csv"
    assert source.open().read() == b"x"
