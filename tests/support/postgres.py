"""A throwaway PostgreSQL cluster from the Debian binaries, for tests and CI.

``python -m tests.support.postgres start DIR`` creates a cluster in DIR, starts it on a
free loopback port and prints its URL; ``stop DIR`` stops it and removes DIR. The
pytest fixtures use ``HUBMIRROR_TEST_POSTGRES`` (a server URL, as ``.ci/run`` exports)
when set, else start a cluster for the session; ``postgres_url`` hands each test a
fresh empty database of that server.

Trust authentication, for 127.0.0.1 only, and ``fsync=off``: the data is disposable.
PostgreSQL refuses to run as root, so when we are root its commands run as the
``postgres`` user (``runuser``), in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support import system
from tests.support.ports import free_port

INSTALL = system.missing_line("initdb")
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
    " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
)


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bin() -> Path:
    """The newest ``/usr/lib/postgresql/N/bin`` holding initdb and pg_ctl."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresMissing(f"PostgreSQL server binaries not found: {INSTALL}")
    return found[-1]


def start(folder: Path) -> str:
    """Create and start a cluster in ``folder``; its server URL (database ``postgres``)."""
    folder.mkdir(parents=True, exist_ok=True)
    bin_dir = server_bin()
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    _run(bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    port = free_port()
    _run(
        *(bin_dir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "-t", "60"),
        *("-o", f"-p {port} {SERVER_OPTIONS}", "start"),
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    (folder / "url").write_text(url + "\n")
    return url


def stop(folder: Path) -> None:
    """Stop the cluster in ``folder`` (if running) and remove the folder."""
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        _run(server_bin() / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    shutil.rmtree(folder, ignore_errors=True)


def database_url(server_url: str, name: str) -> str:
    """``server_url`` naming database ``name`` instead."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _run(*args) -> None:
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}")


# pytest fixtures (registered in tests/conftest.py) ---------------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server URL: ``HUBMIRROR_TEST_POSTGRES``, else a cluster for the session."""
    url = os.environ.get("HUBMIRROR_TEST_POSTGRES")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="hubmirror-pg-"))
    try:
        url = start(folder)
    except PostgresMissing as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(str(exc))
    yield url
    stop(folder)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the test server for one test, dropped afterwards."""
    import psycopg

    name = f"hubmirror_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield database_url(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m tests.support.postgres start|stop DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1]).resolve()
    try:
        if argv[0] == "start":
            print(start(folder))
        else:
            stop(folder)
    except (PostgresMissing, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
