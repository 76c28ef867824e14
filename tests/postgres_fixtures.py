"""Pytest fixtures for the PostgreSQL server the suite starts (see postgres_server.py)."""

import os
from collections.abc import Iterator

import pytest

import postgres_server


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One server for the session: CAFE_ETL_TEST_POSTGRES, or a throwaway cluster."""
    if not (os.environ.get(postgres_server.ENV) or postgres_server.server_binaries()):
        pytest.skip(postgres_server.HOW_TO_ENABLE)
    with postgres_server.server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """A fresh, empty database on that server."""
    return postgres_server.fresh_database(postgres_server_url)


def pytest_report_header(config: pytest.Config) -> str:
    """One line saying whether the PostgreSQL cases run, and how to enable them if not."""
    if os.environ.get(postgres_server.ENV):
        return f"PostgreSQL: the server named by {postgres_server.ENV}"
    binaries = postgres_server.server_binaries()
    if binaries is None:
        return postgres_server.HOW_TO_ENABLE
    return f"PostgreSQL: a throwaway cluster from {binaries}"
