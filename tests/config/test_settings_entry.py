"""Every setting is checked where it enters (flag, variable, file), with its key named:
a server that cannot run as configured says why and exits, it never starts otherwise."""

from __future__ import annotations

import pytest

from tests.support.commands import hubmirror
from tests.support.ports import free_port


def _refused(*args: str, env: dict | None = None) -> str:
    """Run ``hubmirror ARGS``; it must exit 1 without a traceback. Its stderr."""
    proc = hubmirror(*args, env=env, timeout=60)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc.stderr


@pytest.mark.parametrize("port", ["99999", "-1", "70000"])
def test_a_port_outside_the_range_is_refused_with_its_key(tmp_path, port):
    stderr = _refused("serve", "--port", port, "--data", str(tmp_path / "d"))
    assert "setting 'port' (from flag --port)" in stderr
    assert "from 1 to 65535" in stderr
    assert not (tmp_path / "d").exists()


def test_no_workers_is_refused(tmp_path):
    stderr = _refused("serve", "--workers", "0", "--port", str(free_port()))
    assert "setting 'workers' (from flag --workers): must be 1 or more, got 0" in stderr


def test_a_number_that_is_not_one_is_named_in_words(tmp_path):
    stderr = _refused("serve", env={"HUBMIRROR_PORT": "eighty"})
    assert stderr.strip() == (
        "hubmirror: setting 'port' (from environment variable HUBMIRROR_PORT): "
        "expected a whole number, got 'eighty'"
    )
    assert "int()" not in stderr


def test_keys_outside_the_hubmirror_table_are_an_error_not_ignored(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'port = 9999\nupstream = ["http://x"]\n[hubmirror]\ndata = "{tmp_path}"\n')
    stderr = _refused("serve", "--config", str(config))
    assert "port, upstream outside the [hubmirror] table" in stderr
    checked = _refused("config", "check", str(config))
    assert "port, upstream outside the [hubmirror] table" in checked


def test_a_data_path_that_is_a_file_is_named(tmp_path):
    data = tmp_path / "data"
    data.write_text("not a directory")
    stderr = _refused("serve", "--port", str(free_port()), "--data", str(data))
    assert f"setting 'data': {data} exists and is not a directory" in stderr
    assert "File exists" not in stderr


def test_an_upstream_that_is_not_http_is_refused_on_the_command_line(tmp_path):
    stderr = _refused(
        "serve", "--port", str(free_port()), "--data", str(tmp_path), "--upstream", "ftp://hub"
    )
    assert "setting 'upstream': 'ftp://hub' must start with http:// or https://" in stderr


@pytest.mark.parametrize(
    "command",
    [("cache", "ls"), ("cache", "verify"), ("audit",), ("export", "acme/tiny-bert", "--to", "x")],
    ids=["cache-ls", "cache-verify", "audit", "export"],
)
def test_a_reading_command_refuses_a_data_directory_that_does_not_exist(tmp_path, command):
    missing = tmp_path / "typo"
    stderr = _refused(*command, "--data", str(missing))
    assert f"no hubmirror data directory at {missing}" in stderr
    assert not missing.exists()
