"""``hubmirror sync``: whole snapshots fetched ahead of time, reported, and served offline."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import time

import pytest

from hubmirror.storage.progress import read_progress
from tests.fakehub import TINY_CSV_TEST_ROWS, TINY_CSV_TRAIN_ROWS
from tests.support.clients import (
    GATED,
    MODEL,
    OWNER_TOKEN,
    TINY_BERT,
    TINY_CSV,
    TINY_PARQUET,
    hub_files,
    run_client,
)
from tests.support.commands import hubmirror, start_hubmirror
from tests.support.hashing import sha256_of
from tests.support.http import get, head, request
from tests.support.terminal import hubmirror_on_terminal, screen_lines
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(240)
MiB = 1024 * 1024


def sync(fakehub, data_dir, *args, check=True):
    return hubmirror("sync", *args, "--data", str(data_dir), "--upstream", fakehub.url, check=check)


def cdn_bytes(fakehub) -> int:
    return fakehub.body_bytes(host="cdn")


def test_sync_stores_every_file_and_reports_new(fakehub, tmp_path):
    data = tmp_path / "data"
    proc = sync(fakehub, data, TINY_BERT, f"dataset:{TINY_CSV}")

    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"new       {TINY_BERT}@main ")
    assert lines[1].startswith(f"new       dataset:{TINY_CSV}@main ")
    stored = {p.name for p in (data / "blobs").rglob("*") if p.is_file()}
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    for name in hub_files(fakehub, MODEL, TINY_BERT, commit):
        assert fakehub.file_sha256(MODEL, TINY_BERT, commit, name) in stored


def test_a_sync_that_cannot_reach_upstream_fails_instead_of_saying_unchanged(fakehub, tmp_path):
    sync(fakehub, tmp_path / "data", TINY_BERT)
    fakehub.go_down()
    try:
        again = sync(fakehub, tmp_path / "data", TINY_BERT, check=False)
    finally:
        fakehub.come_up()

    assert again.returncode == 1
    assert again.stdout.startswith(f"failed    {TINY_BERT}@main")
    assert "cannot reach its upstream" in again.stdout + again.stderr


def test_second_sync_is_unchanged_and_fetches_nothing(fakehub, tmp_path):
    sync(fakehub, tmp_path / "data", TINY_BERT)
    fakehub.clear_log()

    proc = sync(fakehub, tmp_path / "data", TINY_BERT)

    assert proc.stdout.startswith(f"unchanged {TINY_BERT}@main ")
    assert cdn_bytes(fakehub) == 0
    assert not [e for e in fakehub.log if "/resolve/" in e.target]


def test_sync_after_the_branch_moved_reports_updated_and_fetches_only_the_new_file(
    fakehub, tmp_path
):
    old = fakehub.commit_of(MODEL, TINY_BERT, "main")
    sync(fakehub, tmp_path / "data", TINY_BERT)
    new = fakehub.move_branch(MODEL, TINY_BERT, "main", {"added.txt": b"new file\n"})
    fakehub.clear_log()

    proc = sync(fakehub, tmp_path / "data", TINY_BERT)

    assert proc.stdout.startswith(f"updated   {TINY_BERT}@main {new[:12]} (was {old[:12]})")
    assert "1 fetched" in proc.stdout
    fetched = [e.target for e in fakehub.log if e.method == "GET" and "/resolve/" in e.target]
    assert [t.rsplit("/", 1)[-1] for t in fetched] == ["added.txt"]


def test_include_and_exclude_select_the_files(fakehub, tmp_path):
    data = tmp_path / "data"
    proc = sync(fakehub, data, TINY_BERT, "--include", "*.json", "--exclude", "tokenizer*")

    assert ": 1 file(s), 1 fetched" in proc.stdout  # config.json only
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    stored = [p for p in (data / "blobs").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [
        fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json")
    ]


def test_sync_list_reports_each_repo_and_exits_nonzero_when_one_fails(fakehub, tmp_path):
    listing = tmp_path / "mirror.list"
    listing.write_text(
        "# what the team uses\n"
        f"{TINY_BERT} --include config.json\n"
        f"{TINY_CSV} --type dataset\n"
        "acme/does-not-exist\n"
    )

    proc = sync(fakehub, tmp_path / "data", "--from-file", str(listing), check=False)

    assert proc.returncode == 1
    states = [line.split()[0] for line in proc.stdout.splitlines()]
    assert states == ["new", "new", "failed"]
    assert "acme/does-not-exist@main: Repository not found" in proc.stderr


def test_bad_sync_list_line_is_named(fakehub, tmp_path):
    listing = tmp_path / "mirror.list"
    listing.write_text(f"{TINY_BERT}\n{TINY_BERT} --revision x\n")

    proc = sync(fakehub, tmp_path / "data", "--from-file", str(listing), check=False)

    assert proc.returncode == 1
    assert "line 2: unknown option --revision" in proc.stderr


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_interrupted_sync_resumes_where_it_stopped(fakehub, tmp_path, stop):
    size = 24 * MiB
    big = fakehub.add_large_file(MODEL, TINY_BERT, "big.bin", size, seed=31)
    fakehub.faults.bandwidth = MiB  # per connection: ~8 s for the three segments
    data = tmp_path / "data"
    first = start_hubmirror("sync", TINY_BERT, "--data", str(data), "--upstream", fakehub.url)
    wait_for(lambda: _partial_bytes(data) >= 2 * MiB, "2 MiB of the partial file", timeout=60)
    first.send_signal(stop)
    first.wait(30)
    fakehub.faults.bandwidth = None
    fakehub.clear_log()

    proc = sync(fakehub, data, TINY_BERT)

    total = len(hub_files(fakehub, MODEL, TINY_BERT, "main"))
    assert proc.stdout.startswith(f"completed {TINY_BERT}@main ")
    assert _stored_count(data) == total
    assert any(p.name == big for p in (data / "blobs").rglob("*"))
    assert fakehub.body_bytes(host="cdn", path_contains=big) <= size - MiB  # resumed


def test_sync_beside_a_running_server_fetches_each_blob_once(make_mirror, fakehub, tmp_path):
    size = 32 * MiB
    sha256 = fakehub.add_large_file(MODEL, TINY_BERT, "shared.bin", size, seed=32)
    fakehub.faults.bandwidth = 16 * MiB  # the fill takes ~2 s: both overlap it
    server = make_mirror(data=str(tmp_path / "data"))
    syncing = start_hubmirror(
        "sync", TINY_BERT, "--data", str(tmp_path / "data"), "--upstream", fakehub.url
    )
    time.sleep(0.5)

    answer = get(f"{server.url}/{TINY_BERT}/resolve/main/shared.bin", timeout=60)

    out, err = syncing.communicate(timeout=120)
    assert syncing.returncode == 0, err
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert size <= fakehub.body_bytes(host="cdn", path_contains=sha256) <= size * 1.02


def test_synced_repos_are_served_to_real_clients_with_upstream_down(make_mirror, fakehub, tmp_path):
    data = tmp_path / "data"
    sync(fakehub, data, TINY_BERT, f"dataset:{TINY_CSV}", f"dataset:{TINY_PARQUET}")
    server = make_mirror(data=str(data))
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    names = hub_files(fakehub, MODEL, TINY_BERT, commit)
    fakehub.go_down()

    root = run_client(
        f"from huggingface_hub import snapshot_download\nemit(snapshot_download({TINY_BERT!r}))",
        server.url,
        tmp_path / "home-snapshot",
    )
    for name in names:
        assert sha256_of(f"{root}/{name}") == fakehub.file_sha256(MODEL, TINY_BERT, commit, name)
    loaded = run_client(TRANSFORMERS, server.url, tmp_path / "home-transformers")
    assert loaded == {"model_type": "bert", "tokens": loaded["tokens"]} and loaded["tokens"]
    rows = run_client(DATASETS, server.url, tmp_path / "home-datasets", timeout=180)
    assert rows["csv"] == [TINY_CSV_TRAIN_ROWS, TINY_CSV_TEST_ROWS]
    assert rows["parquet"] > 0 and rows["stream"] is not None


TRANSFORMERS = f"""
from transformers import AutoConfig, AutoTokenizer
config = AutoConfig.from_pretrained({TINY_BERT!r})
tokenizer = AutoTokenizer.from_pretrained({TINY_BERT!r})
emit({{"model_type": config.model_type, "tokens": tokenizer("hello world")["input_ids"]}})
"""

DATASETS = f"""
from datasets import load_dataset
csv = load_dataset({TINY_CSV!r})
parquet = load_dataset({TINY_PARQUET!r})
stream = next(iter(load_dataset({TINY_CSV!r}, split="train", streaming=True)))
emit({{"csv": [csv["train"].num_rows, csv["test"].num_rows],
       "parquet": parquet["train"].num_rows, "stream": stream}})
"""


def test_outage_answers_come_from_the_synced_snapshot(make_mirror, fakehub, tmp_path):
    data = tmp_path / "data"
    sync(fakehub, data, TINY_BERT)
    server = make_mirror(data=str(data))
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    fakehub.go_down()
    api = f"{server.url}/api/models/{TINY_BERT}"

    info = json.loads(get(api).body)
    folder = json.loads(get(f"{api}/tree/main/nested?recursive=false&expand=false").body)
    paths = request(
        "POST",
        f"{api}/paths-info/{commit}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"paths=config.json&paths=nope.txt&expand=false",
    )
    missing = head(f"{server.url}/{TINY_BERT}/resolve/main/added_tokens.json")

    assert info["sha"] == commit
    assert [(i["type"], i["path"]) for i in folder] == [("directory", "nested/dir")]
    assert [i["path"] for i in json.loads(paths.body)] == ["config.json"]
    assert missing.status == 404
    assert missing.header("X-Error-Code") == "EntryNotFound"
    assert missing.header("X-Repo-Commit") == commit


def _partial_bytes(data) -> int:
    """Bytes fills have written into their temp files, from their progress records (the
    files have their full size from the start)."""
    total = 0
    for record in (data / "tmp").glob("*.progress"):
        progress = read_progress(record)
        if progress is not None:
            total += sum(position - start for start, _end, position in progress.segments)
    return total


def _stored_count(data) -> int:
    return sum(1 for p in (data / "blobs").rglob("*") if p.is_file())


def test_sync_through_a_running_server_fills_its_store(make_mirror, fakehub):
    server = make_mirror(admin_token="admin-secret")
    admin = {"HUBMIRROR_ADMIN_TOKEN": "admin-secret"}

    first = hubmirror("sync", TINY_BERT, "--server", server.url, env=admin, check=True)
    second = hubmirror("sync", TINY_BERT, "--server", server.url, env=admin, check=True)

    assert first.stdout.startswith(f"new       {TINY_BERT}@main ")
    assert second.stdout.startswith(f"unchanged {TINY_BERT}@main ")
    answer = head(f"{server.url}/{TINY_BERT}/resolve/main/model.safetensors")
    assert answer.header("X-Cache-Status") == "HIT"


def test_sync_through_a_server_without_the_admin_token_is_refused(make_mirror, fakehub):
    server = make_mirror(admin_token="admin-secret")

    wrong = hubmirror(
        "sync", TINY_BERT, "--server", server.url, env={"HUBMIRROR_ADMIN_TOKEN": "guess"}
    )
    missing = hubmirror("sync", TINY_BERT, "--server", server.url)

    assert wrong.returncode == 1 and "server said 401" in wrong.stderr
    assert missing.returncode == 1 and "admin token" in missing.stderr


def test_gated_repo_syncs_with_an_accepted_token_and_not_without(fakehub, tmp_path):
    refused = sync(fakehub, tmp_path / "data", GATED, check=False)
    accepted = sync(fakehub, tmp_path / "data", GATED, "--token", OWNER_TOKEN)

    assert refused.returncode == 1 and "failed" in refused.stdout
    assert "gated" in refused.stderr.lower()
    assert accepted.stdout.startswith(f"new       {GATED}@main ")
    commit = fakehub.commit_of(MODEL, GATED, "main")
    stored = {p.name for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file()}
    for name in hub_files(fakehub, MODEL, GATED, commit):
        assert fakehub.file_sha256(MODEL, GATED, commit, name) in stored
    sent = {e.headers.get("authorization") for e in fakehub.log if e.host == "hub"}
    assert f"Bearer {OWNER_TOKEN}" in sent  # as the Hub reads it, never the bare token
    assert OWNER_TOKEN not in sent


def test_on_a_terminal_the_per_file_lines_go_above_the_progress_bar(fakehub, tmp_path):
    """Written straight to the terminal, each file's log line landed on the bar's line
    ("sync:  51%|███▋  | 3.14k/6.15k ...2026-12-08 ... filled ..."); now each is a line of
    its own above the bar, and the bar ends whole."""
    written = hubmirror_on_terminal(
        "sync", TINY_BERT, "--data", str(tmp_path / "data"), "--upstream", fakehub.url
    )

    lines = screen_lines(written)
    filled = [line for line in lines if " filled model:" in line]
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    files = len(hub_files(fakehub, MODEL, TINY_BERT, commit))
    assert len(filled) == files, written
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \[\d+\] INFO ", f) for f in filled)
    bars = [line for line in lines if line.startswith("sync: ")]
    assert bars and all("filled" not in bar for bar in bars), lines
    assert re.match(rf"sync: 100%\|█+\| \S+/\S+ .*{files}/{files} files\]$", bars[-1]), bars[-1]
    assert any(line.startswith(f"new       {TINY_BERT}@main ") for line in lines)
