"""A throwaway PostgreSQL cluster for tests and benchmarks, or the one a URL names.

``CAFE_ETL_TEST_POSTGRES=postgresql://user@host:port/db`` uses an existing server (each test
gets a database of its own in it). Otherwise the server binaries under
/usr/lib/postgresql/*/bin start a private cluster (as the ``postgres`` user when run as
root, since initdb refuses root), on a free port, in a temporary folder removed at the end.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENV = "CAFE_ETL_TEST_POSTGRES"
HOW_TO_ENABLE = (
    "PostgreSQL tests skipped: install the server (apt-get install postgresql) "
    f"or set {ENV}=postgresql://user@host:port/db"
)


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)]


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a private cluster; yield the URL of its ``postgres`` database; stop it."""
    with restartable_cluster() as (url, _):
        yield url


@contextlib.contextmanager
def restartable_cluster() -> Iterator[tuple[str, Callable[[], None]]]:
    """A private cluster's URL and a function that restarts it (``pg_ctl restart -m fast``:
    every connection is dropped; it returns once the server accepts connections again)."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError(HOW_TO_ENABLE)
    folder = Path(tempfile.mkdtemp(prefix="cafe-etl-pg-"))
    data, port = folder / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    run = subprocess.run
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    run(_as_postgres_user([*initdb, "-E", "UTF8"]), check=True, capture_output=True)
    options = f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off'"
    pg_ctl = str(binaries / "pg_ctl")
    run(_as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"),
                           "-w", "start"]), check=True, capture_output=True)  # fmt: skip
    restart = [pg_ctl, "-D", str(data), "-m", "fast", "-l", str(folder / "log"), "-w", "restart"]
    try:
        yield (
            f"postgresql://postgres@127.0.0.1:{port}/postgres",
            lambda: run(_as_postgres_user(restart), check=True, capture_output=True) and None,
        )
    finally:
        run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The server named by CAFE_ETL_TEST_POSTGRES, else a throwaway cluster."""
    if os.environ.get(ENV):
        yield os.environ[ENV]
    else:
        with throwaway_cluster() as url:
            yield url


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; return its URL."""
    import psycopg

    name = f"cafe_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))
