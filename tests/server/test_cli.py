"""The `hubmirror serve` command as users run it: a real process, real logs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tests.support.http import get


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hubmirror", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("hubmirror serve did not start listening")


@pytest.mark.timeout(60)
def test_serve_logs_one_line_per_request_without_tokens(fakehub, tmp_path):
    port = _free_port()
    proc = _serve("--port", str(port), "--data", str(tmp_path / "d"), "--upstream", fakehub.url)
    try:
        _wait_listening(port, proc)
        answer = get(
            f"http://127.0.0.1:{port}/acme/tiny-bert/resolve/main/config.json",
            headers={"Authorization": "Bearer hf_owner"},
        )
        assert answer.status == 200
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    lines = [line for line in stderr.splitlines() if "hubmirror.access" in line]
    assert len(lines) == 1
    assert "GET /acme/tiny-bert/resolve/main/config.json 200" in lines[0]
    assert "MISS" in lines[0]
    assert "hf_owner" not in stderr
    assert proc.returncode == 0


def test_serve_refuses_a_data_dir_of_another_layout(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "LAYOUT").write_text("hubmirror data layout 99\n")
    proc = _serve("--port", str(_free_port()), "--data", str(data))
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 1
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("hubmirror: ") and "layout 99" in last


def test_bad_setting_is_one_line_and_exit_1(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("metadata_ttl = 'soon'\n")
    proc = _serve("--config", str(config))
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert stderr.strip() == (
        "hubmirror: setting 'metadata_ttl' (from config file): could not convert string to "
        "float: 'soon'"
    )
