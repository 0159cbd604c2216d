"""SIGTERM drains ``hubmirror serve``: no new connections, running downloads finish within
``drain_seconds``, what is left is cut with its bytes kept for resume, exit code 0."""

from __future__ import annotations

import hashlib
import http.client
import json
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.commands import start_hubmirror
from tests.support.http import get
from tests.support.ports import free_port, is_listening, wait_listening
from tests.support.waiting import wait_for

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024


class Download(threading.Thread):
    """A GET read to its end (or its cut) in the background; ``body`` and ``error`` after."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.status: int | None = None
        self.body = b""
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        host, _, rest = self.url.removeprefix("http://").partition("/")
        conn = http.client.HTTPConnection(*host.split(":"), timeout=60)
        try:
            conn.request("GET", "/" + rest)
            resp = conn.getresponse()
            self.status = resp.status
            while chunk := resp.read1(65536):
                self.body += chunk
        except (OSError, http.client.HTTPException) as exc:
            self.error = exc
        finally:
            conn.close()


def _parts(data: Path) -> list[Path]:
    return list((data / "tmp").glob("*.part"))


def _blobs(data: Path) -> list[str]:
    return [p.name for p in (data / "blobs").rglob("*") if p.is_file() and len(p.name) == 64]


def _start(fakehub, data: Path, *flags: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = start_hubmirror(
        "serve", "--port", str(port), "--data", str(data), "--upstream", fakehub.url, *flags
    )
    wait_listening(port, proc)
    return proc, port


@dataclass
class Stopped:
    """How ``hubmirror serve`` ended after a SIGTERM during a download."""

    returncode: int
    stderr: str
    download: Download
    received_when_refused: int  # body bytes the client had when the port was closed


def _sigterm_during_download(fakehub, data: Path, name: str, *flags: str, after: int = 1):
    """Start the server, download ``name`` from it, SIGTERM it once ``after`` bytes came."""
    proc, port = _start(fakehub, data, *flags)
    try:
        download = Download(f"http://127.0.0.1:{port}/{MODEL}/resolve/main/{name}")
        wait_for(lambda: len(download.body) >= after, "the first bytes of the download", timeout=30)
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: not is_listening(port), "the listening socket to close", timeout=30)
        received = len(download.body)
        download.join(60)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return Stopped(proc.returncode, stderr, download, received)


@pytest.mark.timeout(90)
def test_sigterm_refuses_new_connections_and_lets_a_running_download_finish(fakehub, tmp_path):
    size = 8 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "drain.bin", size, seed=21)
    fakehub.faults.bandwidth = 3 * MiB
    data = tmp_path / "d"
    stopped = _sigterm_during_download(fakehub, data, "drain.bin")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.received_when_refused < size  # still running when the port closed
    assert (stopped.download.status, stopped.download.error) == (200, None)
    assert hashlib.sha256(stopped.download.body).hexdigest() == sha256
    assert _blobs(data) == [sha256]
    assert "connection(s), 1 fill(s), up to 30s" in stopped.stderr  # the default drain_seconds


@pytest.mark.timeout(90)
def test_sigterm_flushes_the_audit_record_of_a_drained_download(fakehub, tmp_path):
    fakehub.add_large_file("model", MODEL, "audited.bin", 4 * MiB, seed=22)
    fakehub.faults.bandwidth = 2 * MiB
    data = tmp_path / "d"
    assert _sigterm_during_download(fakehub, data, "audited.bin").returncode == 0
    records = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    downloads = [r for r in records if r["event"] == "download" and r["path"] == "audited.bin"]
    assert [(r["status"], r["bytes"], r["cache"]) for r in downloads] == [(200, 4 * MiB, "MISS")]


@pytest.mark.timeout(120)
def test_sigterm_past_the_drain_time_cuts_the_fill_and_keeps_it_for_resume(fakehub, tmp_path):
    size = 32 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "cut.bin", size, seed=23)
    fakehub.faults.bandwidth = 2 * MiB
    data = tmp_path / "d"
    config = str(_config(tmp_path, drain_seconds=0.2))
    stopped = _sigterm_during_download(fakehub, data, "cut.bin", "--config", config, after=MiB)
    assert stopped.returncode == 0, stopped.stderr
    assert len(stopped.download.body) < size  # cut short, never completed with wrong bytes
    assert _blobs(data) == []
    assert _parts(data)  # the bytes fetched so far stay for the next start
    assert "drain time over: 1 fill(s) cut" in stopped.stderr
    fakehub.reset_faults()
    fakehub.clear_log()
    proc, port = _start(fakehub, data)
    try:
        answer = get(f"http://127.0.0.1:{port}/{MODEL}/resolve/main/cut.bin")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert fakehub.body_bytes(host="cdn") < size - MiB  # resumed, not fetched again


@pytest.mark.timeout(90)
def test_sigterm_to_the_parent_drains_every_worker(fakehub, tmp_path):
    sha256 = fakehub.add_large_file("model", MODEL, "workers.bin", 8 * MiB, seed=24)
    fakehub.faults.bandwidth = 3 * MiB
    stopped = _sigterm_during_download(fakehub, tmp_path / "d", "workers.bin", "--workers", "2")
    assert stopped.returncode == 0, stopped.stderr
    assert (stopped.download.status, stopped.download.error) == (200, None)
    assert hashlib.sha256(stopped.download.body).hexdigest() == sha256
    assert "draining:" in stopped.stderr  # a worker still starting up just exits


def _config(tmp_path: Path, **settings: float) -> Path:
    path = tmp_path / "hubmirror.toml"
    path.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
    return path
