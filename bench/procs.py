"""Child processes on loopback: start with a log file, wait for the port, stop by process group.

Each server runs in its own session (process group) so stopping it also stops whatever it
forked (olah and mirror workers, nginx workers), and only those: we signal the group we made.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = START_TIMEOUT) -> None:
    """Return once 127.0.0.1:port accepts; raise if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f} s")


@dataclass
class Child:
    """A started server: its Popen, port and log; `stop()` ends its whole process group."""

    name: str
    proc: subprocess.Popen
    port: int
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def spawn(name: str, argv: list[str], log_dir: Path, env: dict | None = None, **kw) -> tuple:
    """Popen in a new session with stdout+stderr to log_dir/<name>.log; (proc, log path)."""
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as handle:
        proc = subprocess.Popen(
            argv,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            **kw,
        )
    return proc, log_path


def start_server(name: str, argv: list[str], port: int, log_dir: Path, **kw) -> Child:
    proc, log_path = spawn(name, argv, log_dir, **kw)
    child = Child(name, proc, port, log_path)
    try:
        wait_for_port(port, proc)
    except RuntimeError:
        child.stop()
        raise
    return child


def tree_pids(root: int) -> list[int]:
    """root and every descendant (from /proc), for summing a server's memory."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found
