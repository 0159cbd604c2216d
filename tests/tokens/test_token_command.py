"""``hubmirror token create|list|revoke`` as operators run it: a separate process each time."""

from __future__ import annotations

import hashlib
import json

from tests.support.commands import hubmirror


def _files_bytes(data_dir) -> bytes:
    """Every byte the data directory holds (index, WAL, anything else), concatenated."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def _create(data_dir, *args: str) -> str:
    proc = hubmirror("token", "create", *args, "--data", str(data_dir), check=True)
    return proc.stdout.strip()


def _listed(data_dir) -> list[dict]:
    proc = hubmirror("token", "list", "--json", "--data", str(data_dir), check=True)
    return json.loads(proc.stdout)


def test_create_prints_the_token_once_and_stores_only_its_hash(tmp_path):
    data = tmp_path / "data"

    token = _create(data, "alice", "--repos", "model:acme/*", "--expires", "90d")

    assert token.startswith("hm_") and len(token) >= 40
    stored = _files_bytes(data)
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    table = hubmirror("token", "list", "--data", str(data), check=True).stdout
    listed = _listed(data)
    assert token not in table and token not in json.dumps(listed)
    assert "alice" in table and "model:acme/*" in table


def test_list_shows_name_state_repos_and_times(tmp_path):
    data = tmp_path / "data"
    _create(data, "ci", "--repos", "model:acme/tiny-*", "--repos", "dataset:*", "--expires", "12h")
    _create(data, "lab")

    listed = _listed(data)

    assert [(t["name"], t["state"], t["repos"]) for t in listed] == [
        ("ci", "active", ["model:acme/tiny-*", "dataset:*"]),
        ("lab", "active", []),
    ]
    assert listed[0]["expires"] > listed[0]["created"]
    assert listed[1]["expires"] is None and listed[1]["last_used"] is None


def test_revoke_marks_the_token_revoked_and_refuses_a_second_revoke(tmp_path):
    data = tmp_path / "data"
    _create(data, "alice")

    first = hubmirror("token", "revoke", "alice", "--data", str(data))
    second = hubmirror("token", "revoke", "alice", "--data", str(data))

    assert first.returncode == 0 and "alice" in first.stdout
    assert [(t["name"], t["state"]) for t in _listed(data)] == [("alice", "revoked")]
    assert _listed(data)[0]["revoked"] is not None
    assert second.returncode == 1
    assert second.stderr.splitlines() == [
        f"data: {data}",
        "hubmirror: no active token named 'alice' (see 'hubmirror token list')",
    ]


def test_a_taken_name_is_refused(tmp_path):
    data = tmp_path / "data"
    _create(data, "alice")

    again = hubmirror("token", "create", "alice", "--data", str(data))

    assert again.returncode == 1 and again.stdout == ""
    assert "'alice' exists already" in again.stderr
    assert len(_listed(data)) == 1


def test_bad_repo_glob_is_a_usage_error_naming_it_and_writes_nothing(tmp_path):
    data = tmp_path / "data"

    glob = hubmirror(
        "token", "create", "x", "--repos", "model:acme/*", "--repos", "modle:acme/*",
        "--data", str(data),
    )  # fmt: skip
    lifetime = hubmirror("token", "create", "x", "--expires", "soon", "--data", str(data))

    assert glob.returncode == 2 and glob.stdout == ""
    assert glob.stderr.strip().endswith(
        "Error: Invalid value for '--repos': repo glob 'modle:acme/*': unknown repo type"
        " 'modle' (use model:, dataset:, space:)"
    )
    assert lifetime.returncode == 2 and lifetime.stdout == ""
    assert "Invalid value for '--expires': 'soon' is no lifetime" in lifetime.stderr
    assert not data.exists()
