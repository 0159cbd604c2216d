"""``hubmirror config check FILE``: OK with the effective settings, or every problem by key."""

from __future__ import annotations

import tomllib

from tests.support.commands import hubmirror


def _check(tmp_path, text: str, env: dict | None = None):
    path = tmp_path / "hubmirror.toml"
    path.write_text(text)
    return hubmirror("config", "check", str(path), env=env)


def test_good_file_prints_ok_and_the_effective_settings(tmp_path):
    data = tmp_path / "data"
    proc = _check(
        tmp_path,
        f'data = "{data}"\nport = 9000\nupstream = ["https://huggingface.co"]\n'
        'access_mode = "allowlist"\nallow = ["model:acme/*"]\nadmin_token = "s3cret"\n',
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"# OK: {tmp_path / 'hubmirror.toml'}"
    assert "port = 9000" in lines
    assert f'data = "{data}"' in lines
    assert 'allow = ["model:acme/*"]' in lines
    assert '# admin_token = "***"  (set; not shown)' in lines
    assert "s3cret" not in proc.stdout


def test_the_effective_settings_are_valid_toml_that_reads_back_the_same(tmp_path):
    """What `config check` prints can be saved as a config file: every value parses back,
    secrets and unset settings are comments."""
    data = tmp_path / "data"
    proc = _check(
        tmp_path,
        f'data = "{data}"\nupstream = ["https://huggingface.co", "http://peer:8080"]\n'
        'max_size = "20G"\nupstream_token = "hf_x"\nlog_level = "debug"\n',
    )
    assert proc.returncode == 0, proc.stderr
    printed = tomllib.loads(proc.stdout)
    again = _check(tmp_path, proc.stdout)

    assert printed["upstream"] == ["https://huggingface.co", "http://peer:8080"]
    assert printed["max_size"] == 20 * 1024**3 and printed["data"] == str(data)
    assert "upstream_token" not in printed and "index" not in printed
    assert again.returncode == 0, again.stderr
    assert tomllib.loads(again.stdout) == printed


def test_hubmirror_table_is_read_like_the_top_level(tmp_path):
    proc = _check(tmp_path, f'[hubmirror]\ndata = "{tmp_path}"\nworkers = 2\nport = 8081\n')
    assert proc.returncode == 0, proc.stderr
    assert "workers = 2" in proc.stdout.splitlines()


def test_missing_admin_token_is_a_note_not_a_problem(tmp_path):
    proc = _check(tmp_path, f'data = "{tmp_path}"\n')
    assert proc.returncode == 0
    assert any(
        line.startswith("# note: admin_token is not set") for line in proc.stdout.splitlines()
    )


def test_every_unknown_key_and_bad_value_is_named(tmp_path):
    proc = _check(
        tmp_path,
        f'data = "{tmp_path}"\nprot = 80\ncolour = "red"\nport = "eighty"\n'
        'offline = 1\naccess_mode = "closed"\nmetadata_ttl = -5\n',
    )
    assert proc.returncode == 1
    problems = [line for line in proc.stderr.splitlines() if line.startswith("problem: ")]
    assert problems == [
        "problem: unknown setting 'colour'",
        "problem: unknown setting 'prot'",
        "problem: setting 'port': expected an integer, got 'eighty'",
        "problem: setting 'offline': expected true or false, got 1",
        "problem: setting 'access_mode': expected one of open, allowlist, approval, got 'closed'",
        "problem: setting 'metadata_ttl': must not be negative, got -5",
    ]
    assert proc.stdout == ""


def test_bad_patterns_urls_and_workers_are_found_before_start(tmp_path):
    proc = _check(
        tmp_path,
        f'data = "{tmp_path}"\nallow = ["model:acme/*", "modle:acme/*"]\ndeny = ["a/b/c"]\n'
        'upstream = ["ftp://mirror.example", "https://"]\npublic_url = "mirror.example:8080"\n'
        "workers = 4\nport = 0\n",
    )
    assert proc.returncode == 1
    stderr = proc.stderr
    assert "problem: setting 'allow': repo glob 'modle:acme/*': unknown repo type 'modle'" in stderr
    assert "problem: setting 'deny': repo glob 'a/b/c'" in stderr
    assert "problem: setting 'upstream': 'ftp://mirror.example' must start with http" in stderr
    assert "problem: setting 'upstream': 'https://' has no host" in stderr
    assert "problem: setting 'public_url': 'mirror.example:8080' must start with http" in stderr
    assert "problem: setting 'workers': several workers need a fixed 'port', not 0" in stderr
    assert stderr.splitlines()[-1].endswith(": 6 problem(s)")


def test_data_directory_that_cannot_be_created_is_a_problem(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    proc = _check(tmp_path, f'data = "{blocker / "mirror"}"\n')
    assert proc.returncode == 1
    expected = (
        f"problem: setting 'data': {blocker / 'mirror'} cannot be created: {blocker} is not a "
        "directory"
    )
    assert expected in proc.stderr


def test_data_path_that_is_a_file_is_a_problem(tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    proc = _check(tmp_path, f'data = "{target}"\n')
    assert proc.returncode == 1
    assert f"problem: setting 'data': {target} exists and is not a directory" in proc.stderr


def test_invalid_toml_and_missing_file_are_one_line_problems(tmp_path):
    proc = _check(tmp_path, "port = \n")
    assert proc.returncode == 1
    assert "is not valid TOML" in proc.stderr
    missing = hubmirror("config", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr


def test_environment_overrides_show_in_the_effective_settings(tmp_path):
    env = {"HUBMIRROR_PORT": "9999", "HUBMIRROR_UPSTREAM_TOKEN": "hf_secret"}
    proc = _check(tmp_path, f'data = "{tmp_path}"\nport = 9000\n', env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "port = 9999" in lines
    assert '# upstream_token = "***"  (set; not shown)' in lines
    assert "hf_secret" not in proc.stdout


def test_bad_values_and_bad_patterns_are_reported_in_one_run(tmp_path):
    proc = _check(tmp_path, f'data = "{tmp_path}"\nport = "eighty"\nallow = ["modle:acme/*"]\n')
    assert proc.returncode == 1
    problems = [line for line in proc.stderr.splitlines() if line.startswith("problem: ")]
    assert problems == [
        "problem: setting 'port': expected an integer, got 'eighty'",
        "problem: setting 'allow': repo glob 'modle:acme/*': unknown repo type 'modle' "
        "(use model:, dataset:, space:)",
    ]


def test_every_secret_setting_and_the_index_password_are_masked(tmp_path):
    proc = _check(
        tmp_path,
        f'data = "{tmp_path / "data"}"\nupstream_token = "hf_org_secret"\n'
        'store = "s3://bucket"\ns3_access_key = "AKIA_SECRET_ID"\n'
        's3_secret_key = "s3-secret-key"\nnode_secret = "node-secret-value"\n'
        'index = "postgresql://hub:db-password@db.example/hubmirror"\n',
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    lines = proc.stdout.splitlines()
    for name in ("upstream_token", "s3_access_key", "s3_secret_key", "node_secret"):
        assert f'# {name} = "***"  (set; not shown)' in lines
    assert 'index = "postgresql://db.example/hubmirror"' in lines
    for secret in (
        "hf_org_secret",
        "AKIA_SECRET_ID",
        "s3-secret-key",
        "node-secret",
        "db-password",
    ):
        assert secret not in proc.stdout
