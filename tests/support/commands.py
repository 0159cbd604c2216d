"""Run the ``hubmirror`` command line as users do: a separate process, output captured."""

from __future__ import annotations

import os
import subprocess
import sys
import time


def hubmirror(*args: str, timeout: float = 120, env: dict | None = None, check: bool = False):
    """``hubmirror ARGS`` in a fresh interpreter; returns the CompletedProcess (text)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUBMIRROR_"))}
    environment.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "hubmirror", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"hubmirror {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def start_hubmirror(*args: str, env: dict | None = None) -> subprocess.Popen:
    """``hubmirror ARGS`` in the background (to interrupt it, or to run beside a server)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUBMIRROR_"))}
    environment.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "hubmirror", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def wait_ready(url: str, proc: subprocess.Popen, polls: int = 300) -> None:
    """Poll ``url``/readyz until a ``start_hubmirror`` server answers 200 (or died)."""
    from tests.support.http import get

    for _ in range(polls):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        try:
            if get(url + "/readyz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("hubmirror serve never became ready")
