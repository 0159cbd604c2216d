"""The cluster benchmark's services: PostgreSQL, an S3 server, and hubmirror nodes.

Each is its own process on loopback: PostgreSQL from the Debian binaries through
``python -m tests.support.postgres`` (the same throwaway cluster the tests use), moto's
S3 server (``moto_server``: there is no MinIO here), and ``hubmirror serve`` nodes that
get the shared index and store as ``--index``/``--store`` and ``HUBMIRROR_S3_*``, the
way an operator would start them.
"""

from __future__ import annotations

import glob
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.procs import Child, free_port, start_server
from bench.servers import MIRROR_ENV, REPO_ROOT
from tests.support.s3 import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, admin_client

BUCKET = "hubmirror-bench"


@dataclass(frozen=True)
class SharedStore:
    """What every node of one cluster is given: the index URL and the object store."""

    index: str  # postgresql://...
    store: str  # s3://bucket/prefix
    endpoint: str  # the S3 server

    def env(self) -> dict[str, str]:
        return {
            "HUBMIRROR_S3_ENDPOINT": self.endpoint,
            "HUBMIRROR_S3_REGION": S3_REGION,
            "HUBMIRROR_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "HUBMIRROR_S3_SECRET_KEY": S3_SECRET_KEY,
        }


def start_postgres(folder: Path) -> str:
    """A fresh PostgreSQL cluster in ``folder``; its server URL."""
    argv = [sys.executable, "-m", "tests.support.postgres", "start", str(folder)]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()[-800:]}")
    return done.stdout.strip().splitlines()[-1]


def stop_postgres(folder: Path) -> None:
    argv = [sys.executable, "-m", "tests.support.postgres", "stop", str(folder)]
    subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, timeout=120)


def postgres_version() -> str:
    """``postgres --version`` of the newest installed server (what the bench ran)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        return "absent"
    done = subprocess.run([found[-1], "--version"], capture_output=True, text=True)
    return done.stdout.strip()


def create_database(server_url: str, name: str) -> str:
    """A new empty database on the server; its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def start_s3(log_dir: Path) -> Child:
    """moto's S3 server (``moto_server``) in its own process, with the bench's bucket."""
    port = free_port()
    child = start_server("moto", ["moto_server", "-H", "127.0.0.1", "-p", str(port)], port, log_dir)
    admin_client(child.url).create_bucket(Bucket=BUCKET)
    return child


@dataclass(frozen=True)
class NodePlan:
    """How a node is started: its upstream, the shared index and store (None: embedded,
    SQLite + local disk), and ``local_tier_size`` in bytes (None: the default)."""

    upstream: str
    shared: SharedStore | None = None
    tier: int | None = None
    env: tuple[tuple[str, str], ...] = ()  # more HUBMIRROR_* settings


def start_node(name: str, log_dir: Path, data: Path, plan: NodePlan) -> Child:
    """``hubmirror serve`` on a free port, as an operator would start it."""
    port = free_port()
    argv = ["hubmirror", "serve", "--port", str(port), "--data", str(data)]
    argv += ["--upstream", plan.upstream]
    env = dict(MIRROR_ENV)
    if plan.shared is not None:
        argv += ["--index", plan.shared.index, "--store", plan.shared.store]
        env |= plan.shared.env()
    if plan.tier is not None:
        env["HUBMIRROR_LOCAL_TIER_SIZE"] = str(plan.tier)
    env |= dict(plan.env)
    child = start_server(name, argv, port, log_dir, env=env)
    child.extra["argv"] = argv
    child.extra["data"] = data
    return child


class IndexWatch:
    """Polls the shared index for a blob row: when did the cluster learn of the blob?"""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def has(self, sha256: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM blobs WHERE sha256 = %s", (sha256,)).fetchone()
        return row is not None

    def wait_for(self, sha256: str, timeout: float) -> float:
        """time.monotonic() at which the row was first seen (polled every 2 ms)."""
        deadline = time.monotonic() + timeout
        while not self.has(sha256):
            if time.monotonic() > deadline:
                raise RuntimeError(f"blob {sha256[:12]} never appeared in the index")
            time.sleep(0.002)
        return time.monotonic()

    def close(self) -> None:
        self.conn.close()
