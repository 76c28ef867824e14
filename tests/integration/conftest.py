"""Integration fixtures: real files, real warehouses, never the repository's working tree."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from redshift_wire import RedshiftWire

from .rawfiles import PEER_SAMPLES


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
