"""Commands run beside a server use its settings: ``serve`` records them in the data
directory (secrets only referenced), and ``sync``, ``approve``, ``cache``... read them
below their own flags, variables and config file."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from hubmirror.cli import main
from hubmirror.settings import Settings
from tests.support.clients import GATED, TINY_BERT
from tests.support.commands import hubmirror, start_hubmirror, wait_ready
from tests.support.ports import free_port

RECORD = "server-settings.toml"
FILE_SECRET = "hf_secret_in_the_file"
ENV_SECRET = "admin-secret-in-the-environment"


@pytest.fixture(scope="module")
def server(_fakehub_session, tmp_path_factory):
    """``hubmirror serve`` in approval mode with the fake hub as its only upstream; its
    upstream_token in a config file, its admin token in a variable."""
    folder = tmp_path_factory.mktemp("shared")
    config = folder / "hubmirror.toml"
    config.write_text(f'upstream_token = "{FILE_SECRET}"\n')
    data, port = folder / "data", free_port()
    proc = start_hubmirror(
        *("serve", "--port", str(port), "--data", str(data), "--config", str(config)),
        *("--upstream", _fakehub_session.url, "--access-mode", "approval"),
        env={"HUBMIRROR_ADMIN_TOKEN": ENV_SECRET},
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        yield data, config
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _run(*args: str, env: dict | None = None):
    """The real command line, in this process (fast); stdout and stderr apart."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_sync_beside_a_server_fetches_from_the_servers_upstream_without_flags(server, fakehub):
    data, _ = server
    proc = hubmirror("sync", TINY_BERT, "--data", str(data))

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"new       {TINY_BERT}@main ")
    assert f"data: {data} (with the settings serve recorded in {RECORD})" in proc.stderr
    assert any(TINY_BERT in entry.target for entry in fakehub.log)


def test_the_record_keeps_no_secret_and_names_where_each_was_read(server):
    data, config = server
    text = (data / RECORD).read_text()
    record = tomllib.loads(text)

    assert FILE_SECRET not in text and ENV_SECRET not in text
    assert record["secrets"] == {
        "upstream_token": {"file": str(config)},
        "admin_token": {"env": "HUBMIRROR_ADMIN_TOKEN"},
    }
    assert record["settings"]["access_mode"] == "approval"
    assert "data" not in record["settings"]
    assert not list(data.glob(f".{RECORD}.*"))  # written through a temp file, renamed


def test_a_command_reads_a_secret_from_the_file_serve_read_it_from(server):
    """``sync --server`` needs the admin token; ``upstream_token`` comes from the file."""
    from hubmirror.cli.common import settings_from

    data, _ = server
    settings = settings_from({"data": str(data)}, None)

    assert settings.upstream_token == FILE_SECRET
    assert settings.admin_token is None  # a variable: this command's environment has none


def test_a_commands_own_flag_beats_the_servers_setting(server, fakehub):
    data, _ = server
    result = _run(
        "sync", "acme/not-synced", "--data", str(data), "--upstream", "http://127.0.0.1:9"
    )

    assert result.exit_code == 1
    assert "acme/not-synced@main: " in result.stderr
    assert not any("not-synced" in entry.target for entry in fakehub.log)


def test_approve_refuses_a_repo_upstream_says_does_not_exist_and_records_nothing(server):
    data, _ = server
    result = _run("approve", "acme/no-such-model", "--data", str(data))
    listed = _run("approvals", "--all", "--json", "--data", str(data))

    assert result.exit_code == 1
    assert "acme/no-such-model: upstream says this repo does not exist" in result.stderr
    assert result.stderr.splitlines()[-1] == "hubmirror: nothing approved"
    assert "acme/no-such-model" not in listed.stdout


def test_approve_keeps_the_approval_when_the_prefetch_fails_and_says_what_failed(server):
    data, _ = server
    result = _run("approve", GATED, "--data", str(data), env={"HF_TOKEN": ""})
    listed = _run("approvals", "--all", "--json", "--data", str(data))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"approved  {GATED}"
    warning = next(line for line in result.stderr.splitlines() if "warning" in line)
    assert warning.startswith(
        f"hubmirror: warning: {GATED} is approved (its first download fetches it), but its "
        f"prefetch failed: {GATED}@main: Access to model {GATED} is restricted."
    )
    assert f'"repo": "{GATED}", "state": "approved"' in listed.stdout


def test_approve_warns_that_an_open_server_serves_every_repo_anyway(fakehub, tmp_path):
    from hubmirror.cli.served import record_settings  # what serve calls once listening

    data = tmp_path / "data"
    data.mkdir()
    record_settings(Settings(data=str(data), upstream=(fakehub.url,), access_mode="open"), {})

    result = _run("approve", TINY_BERT, "--no-sync", "--data", str(data))

    assert result.exit_code == 0, result.stderr
    assert "hubmirror: warning: access_mode is open: the server serves every repo" in (
        result.stderr
    )
    assert result.stdout == f"approved  {TINY_BERT}\n"


def test_approve_warns_that_the_servers_deny_pattern_still_refuses_the_repo(fakehub, tmp_path):
    from hubmirror.cli.served import record_settings

    data = tmp_path / "data"
    data.mkdir()
    settings = Settings(
        data=str(data), upstream=(fakehub.url,), access_mode="approval", deny=("model:acme/*",)
    )
    record_settings(settings, {})

    result = _run("approve", TINY_BERT, "--no-sync", "--data", str(data))

    assert result.exit_code == 0, result.stderr
    assert (
        f"hubmirror: warning: {TINY_BERT} matches a deny pattern (model:acme/*): the server keeps"
        " refusing it"
    ) in result.stderr
