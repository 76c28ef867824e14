"""Integration fixtures: real files, real warehouses, never the repository's working tree."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cafe_etl.generate import GenerateResult, generate
from conftest import Etl
from redshift_wire import RedshiftWire

from .rawfiles import PEER_SAMPLES

PLANTED_START = date(2026, 9, 7)


@dataclass(frozen=True)
class Planted:
    folder: Path
    result: GenerateResult


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    """Eight weeks of six branches: every planted signal, with history to judge it by."""
    folder = tmp_path_factory.mktemp("planted")
    return Planted(folder, generate(folder, branches=6, days=56, start=PLANTED_START))


@pytest.fixture(scope="session")
def planted_duckdb(planted: Planted, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The planted data loaded once into a DuckDB warehouse (read it, never change it)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('planted-duckdb')}/cafe.duckdb"
    Etl(url).run(planted.folder)
    return url


@pytest.fixture
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative defaults (cafe.duckdb, data/landing, demo) land in the test's own folder."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def peer_samples() -> Path:
    """The six real raw exports in ../shared (read in place, never copied)."""
    if not PEER_SAMPLES.is_dir():
        pytest.skip(f"peer samples not found at {PEER_SAMPLES}")
    return PEER_SAMPLES


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """An empty landing folder."""
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def wire(postgres_server_url: str) -> Iterator[RedshiftWire]:
    """A relay letting redshift_connector talk to the session's PostgreSQL server."""
    parts = urlsplit(postgres_server_url)
    relay = RedshiftWire(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield relay
    relay.close()
