"""Offline mode, upstream 429, a killed server, a full disk: the cache keeps serving."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import disks
from tests.support.commands import start_hubmirror
from tests.support.http import get, request
from tests.support.ports import free_port, wait_listening

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024


def _switch(server, offline: bool, token: str = "s3cret"):
    return request(
        "POST",
        f"{server.url}/admin/offline",
        body=json.dumps({"offline": offline}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_offline_switch_serves_the_cache_and_never_calls_upstream(make_mirror, fakehub):
    server = make_mirror(admin_token="s3cret")
    cached = f"{server.url}/{MODEL}/resolve/main/model.safetensors"
    body = get(cached).body
    assert json.loads(_switch(server, True).body) == {"offline": True}
    fakehub.clear_log()
    again = get(cached)
    assert again.status == 200 and again.body == body
    missing = get(f"{server.url}/{MODEL}/resolve/main/vocab.txt")  # offline: at once, no retry
    assert (missing.status, missing.header("X-Error-Code")) == (409, "MirrorOffline")
    assert missing.header("Retry-After") is None
    assert "does not hold vocab.txt of acme/tiny-bert at main" in missing.header("X-Error-Message")
    assert fakehub.log == []
    assert json.loads(_switch(server, False).body) == {"offline": False}
    assert get(f"{server.url}/{MODEL}/resolve/main/vocab.txt").status == 200


def test_admin_switch_needs_the_admin_token(make_mirror):
    server = make_mirror(admin_token="s3cret")
    assert _switch(server, True, token="wrong").status == 401
    unconfigured = make_mirror()
    assert _switch(unconfigured, True).status == 404


def test_serve_offline_never_contacts_upstream(fakehub, tmp_path):
    port = free_port()
    args = ("--port", str(port), "--data", str(tmp_path / "d"), "--offline")
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    try:
        wait_listening(port, proc)
        fakehub.clear_log()
        answer = get(f"http://127.0.0.1:{port}/{MODEL}/resolve/main/config.json")
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert (answer.status, answer.header("X-Error-Code")) == (409, "MirrorOffline")
    assert b"this mirror is offline" in answer.body
    assert fakehub.log == []


def test_upstream_429_is_honoured_not_hammered(mirror, fakehub):
    fakehub.faults.fail_status = 429
    fakehub.faults.retry_after = 30
    first = get(f"{mirror.url}/{MODEL}/resolve/main/config.json")
    asked = len(fakehub.log)
    second = get(f"{mirror.url}/{MODEL}/resolve/main/vocab.txt")
    assert (first.status, second.status) == (503, 503)
    assert second.header("X-Error-Code") == "RateLimited"
    assert int(second.header("Retry-After")) > 20
    assert len(fakehub.log) == asked  # the second request did not reach upstream


@pytest.mark.timeout(120)
def test_kill_9_mid_fill_leaves_no_partial_blob_and_restart_resumes_it(fakehub, tmp_path):
    size = 32 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "crash.bin", size, seed=10)
    fakehub.faults.bandwidth = 4 * MiB
    data, port = tmp_path / "d", free_port()
    target = f"http://127.0.0.1:{port}/{MODEL}/resolve/main/crash.bin"
    proc = start_hubmirror(
        "serve", "--port", str(port), "--data", str(data), "--upstream", fakehub.url
    )
    wait_listening(port, proc)
    client = subprocess.Popen(["curl", "-s", "-o", "/dev/null", target])
    time.sleep(1.5)  # some megabytes are in the temp file now
    assert list((data / "tmp").glob("*.part"))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=20)
    client.wait(timeout=20)
    assert _blobs(data) == []
    fakehub.reset_faults()
    fakehub.clear_log()
    proc = start_hubmirror(
        "serve", "--port", str(port), "--data", str(data), "--upstream", fakehub.url
    )
    try:
        wait_listening(port, proc)
        assert list((data / "tmp").glob("*.part"))  # kept at start, to be resumed
        answer = get(target)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert [p.name for p in _blobs(data)] == [sha256]
    assert fakehub.body_bytes(host="cdn") < size - 4 * MiB  # only the rest was fetched
    assert not list((data / "tmp").glob("*.part"))


def _blobs(data: Path) -> list[Path]:
    return [p for p in (data / "blobs").rglob("*") if p.is_file() and len(p.name) == 64]


@pytest.fixture
def small_disk(tmp_path):
    with disks.small_disk(tmp_path / "small-disk", 24) as mount_point:
        yield mount_point


@pytest.mark.timeout(60)
def test_full_disk_refuses_new_fills_with_507_and_keeps_serving(make_mirror, fakehub, small_disk):
    fakehub.add_large_file("model", MODEL, "too-big.bin", 32 * MiB, seed=11)
    server = make_mirror(data=str(small_disk / "data"), min_free_mib=0)
    cached = f"{server.url}/{MODEL}/resolve/main/config.json"
    body = get(cached).body
    answer = get(f"{server.url}/{MODEL}/resolve/main/too-big.bin")
    assert answer.status == 507
    assert answer.header("X-Error-Code") == "InsufficientStorage"
    assert b"disk space" in answer.body
    assert get(cached).body == body
    assert not list((small_disk / "data" / "tmp").glob("*.part"))
    assert os.path.ismount(small_disk)


@pytest.mark.timeout(60)
def test_fill_that_would_eat_the_reserve_gets_507_on_any_machine(make_mirror, fakehub, tmp_path):
    """The same refusal without a mount: the reserve is set above what the disk has free."""
    free_mib = shutil.disk_usage(tmp_path).free // MiB
    server = make_mirror(data=str(tmp_path / "data"), min_free_mib=free_mib + 1024)
    answer = get(f"{server.url}/{MODEL}/resolve/main/config.json")
    assert answer.status == 507
    assert answer.header("X-Error-Code") == "InsufficientStorage"
    assert _blobs(tmp_path / "data") == []
    assert not list((tmp_path / "data" / "tmp").glob("*.part"))
