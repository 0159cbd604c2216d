"""The `hubmirror serve` command as users run it: a real process, real logs."""

from __future__ import annotations

import pytest

from tests.support.commands import start_hubmirror
from tests.support.http import get
from tests.support.ports import free_port, wait_listening


@pytest.mark.timeout(60)
def test_serve_logs_one_line_per_request_without_tokens(fakehub, tmp_path):
    port = free_port()
    proc = start_hubmirror(
        "serve", "--port", str(port), "--data", str(tmp_path / "d"), "--upstream", fakehub.url
    )
    try:
        wait_listening(port, proc)
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
    proc = start_hubmirror("serve", "--port", str(free_port()), "--data", str(data))
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 1
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("hubmirror: ") and "layout 99" in last


def test_bad_setting_is_one_line_and_exit_1(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("metadata_ttl = 'soon'\n")
    proc = start_hubmirror("serve", "--config", str(config))
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert stderr.strip() == (
        "hubmirror: setting 'metadata_ttl' (from config file): expected a number, got 'soon'"
    )
