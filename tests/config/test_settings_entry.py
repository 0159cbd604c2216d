"""Every setting is checked where it enters (flag, variable, file), with its key named:
a server that cannot run as configured says why and exits, it never starts otherwise."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.commands import hubmirror
from tests.support.disks import read_only_disk
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
    config.write_text(
        f'port = 9999\nupstream = ["http://x"]\n[hubmirror]\ndata = "{tmp_path}"\nprot = 1\n'
    )
    stderr = _refused("serve", "--config", str(config))
    assert "port, upstream outside the [hubmirror] table" in stderr
    checked = _refused("config", "check", str(config))
    assert "port, upstream outside the [hubmirror] table" in checked
    assert "unknown inside it: prot" in checked  # every problem of the file at once


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


def _run(*args: str):
    """The real command line in this process (fast): exit code, stdout, stderr."""
    from click.testing import CliRunner

    from hubmirror.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "command",
    [("approvals",), ("token", "list"), ("token", "revoke", "alice")],
    ids=["approvals", "token-list", "token-revoke"],
)
def test_more_reading_commands_refuse_a_missing_data_directory_and_name_it(tmp_path, command):
    missing = tmp_path / "typo"
    result = _run(*command, "--data", str(missing))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"data: {missing}",
        f"hubmirror: no hubmirror data directory at {missing}: point --data (or HUBMIRROR_HOME)"
        " at the one the server uses",
    ]
    assert not missing.exists()


def test_a_read_only_data_directory_is_named_before_listening(tmp_path):
    with read_only_disk(tmp_path / "ro") as folder:
        stderr = _refused("serve", "--port", str(free_port()), "--data", str(folder))
        inside = _run("config", "check", _config(tmp_path, folder / "hubmirror"))

    assert f"setting 'data': {folder} is on a read-only file system" in stderr
    assert "cannot listen" not in stderr and "File exists" not in stderr
    assert inside.exit_code == 1
    assert (
        f"problem: setting 'data': {folder / 'hubmirror'} cannot be created in {folder}: it is on"
        " a read-only file system"
    ) in inside.stderr


def test_a_data_directory_the_user_may_not_write_is_named_before_listening():
    with _folder_others_can_read() as folder:
        data = folder / "data"
        data.mkdir(mode=0o755)
        proc = subprocess.run(
            [*_as_nobody(), sys.executable, "-m", "hubmirror", "serve", "--data", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUBMIRROR_"))},
        )

    assert proc.returncode == 1, proc.stderr
    assert (
        f"setting 'data': {data} is not writable by user nobody (permission denied; owner root,"
        " mode 755)"
    ) in proc.stderr
    assert "cannot listen" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_data_directory_whose_parent_is_missing_is_not_created(tmp_path):
    """An unmounted disk or a typo in the parent: creating the path would fill another disk."""
    data = tmp_path / "unmounted" / "hubmirror"
    result = _run("serve", "--port", str(free_port()), "--data", str(data))

    assert result.exit_code == 1
    assert (
        f"setting 'data': {data} cannot be created: its parent {data.parent} does not exist"
        " (create it, or check that its disk is mounted)"
    ) in result.stderr
    assert not data.parent.exists()


def _config(folder, data) -> str:
    path = folder / "hubmirror.toml"
    path.write_text(f'data = "{data}"\n')
    return str(path)


@contextlib.contextmanager
def _folder_others_can_read():
    """A folder under /tmp that other users can enter (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_nobody() -> list[str]:
    """The command prefix that runs a process as the unprivileged user ``nobody``; like
    ``small_disk``, skipped where that needs a root this run lacks, failed on CI."""
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        user = None
    if os.geteuid() != 0 or user is None or shutil.which("setpriv") is None:
        why = "running a command as user nobody needs root, setpriv and a user nobody"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
