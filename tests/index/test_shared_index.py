"""Two mirrors (separate data directories) sharing one PostgreSQL index, over real HTTP."""

from __future__ import annotations

import json
import re

from hubmirror.types import RepoId, RepoType
from tests.support.commands import start_hubmirror
from tests.support.http import get

MODEL = "acme/tiny-bert"
REPO = RepoId(RepoType.MODEL, MODEL)


def test_a_second_mirror_answers_from_what_the_first_recorded(make_mirror, fakehub, postgres_url):
    first = make_mirror(index=postgres_url)
    config = get(f"{first.url}/{MODEL}/resolve/main/config.json")
    assert config.body == fakehub.file_bytes("model", MODEL, "main", "config.json")
    info = get(f"{first.url}/api/models/{MODEL}")
    assert info.status == 200
    commit = config.header("X-Repo-Commit")

    second = make_mirror(index=postgres_url)
    assert second.data_dir != first.data_dir
    index = second.mirror.index
    assert second.call(lambda: index.get_commit(REPO, "main")).commit == commit
    entry = second.call(lambda: index.get_entry(REPO, commit, "config.json"))
    assert entry.size == len(config.body)
    assert second.call(lambda: index.blob_for(entry)) is not None
    fakehub.clear_log()
    again = get(f"{second.url}/api/models/{MODEL}")
    assert json.loads(again.body) == json.loads(info.body)
    assert [e.target for e in fakehub.log if e.host == "hub"] == []


def test_serve_with_a_postgres_index_answers_the_api(fakehub, postgres_url, tmp_path):
    server = start_hubmirror(
        *("serve", "--data", str(tmp_path / "data"), "--upstream", fakehub.url),
        *("--index", postgres_url, "--host", "127.0.0.1", "--port", "0"),
    )
    try:
        url = _listening_url(server)
        answer = get(f"{url}/api/models/{MODEL}")
        assert answer.status == 200
        assert json.loads(answer.body)["sha"] == fakehub.commit_of("model", MODEL, "main")
        assert not (tmp_path / "data" / "index.sqlite").exists()
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _listening_url(server) -> str:
    """The address ``serve`` logs once it listens (it picked a free port)."""
    seen = []
    for line in server.stderr:  # ends when the process exits
        seen.append(line)
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return match.group(1)
    raise AssertionError("serve exited before listening:\n" + "".join(seen))
