"""Running ``hubmirror download`` and client snippets the way users do: in a fresh process.

The environment is built from scratch (no ``HF_*`` or proxy variables of the developer's
shell), as in tests/support/clients.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from aiohttp import web

from tests.support.clients import PRELUDE, ClientFailed, client_env

MiB = 1024 * 1024


def download_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment without ``HF_ENDPOINT``: the tests pass ``--mirror``."""
    env = client_env("unused", home)
    env.pop("HF_ENDPOINT")
    env.pop("HF_HUB_DISABLE_IMPLICIT_TOKEN", None)
    env.update(extra or {})
    return env


def hubmirror_download(
    args: list[str], home: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``hubmirror download ARGS`` in a subprocess; the caller checks the return code."""
    return _run([sys.executable, "-m", "hubmirror", "download", *args], home, env, timeout)


def start_download(args: list[str], home: Path, env: dict[str, str] | None = None):
    """The same command, not waited for (to be interrupted)."""
    return subprocess.Popen(
        [sys.executable, "-m", "hubmirror", "download", *args],
        env=download_env(home, env),
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def succeeded(proc: subprocess.CompletedProcess) -> Path:
    """The path the command printed; fails the test with its output otherwise."""
    if proc.returncode != 0:
        raise ClientFailed(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-6000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def run_python(code: str, home: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """A snippet with the e2e prelude (``emit``, ``outcome``); returns the completed process."""
    script = PRELUDE + textwrap.dedent(code)
    return _run([sys.executable, "-c", script], home, env, timeout)


def _run(argv: list[str], home: Path, env: dict[str, str] | None, timeout: float):
    return subprocess.run(
        argv,
        env=download_env(home, env),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def snapshot_files(root: Path) -> dict[str, Path]:
    """Repo path → file, for every file (or symlink to one) below ``root``."""
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".cache" not in p.relative_to(root).parts
    }


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run ``app`` on a free loopback port; (runner, base URL)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
