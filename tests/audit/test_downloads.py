"""Every file download is audited: who, what, bytes, status and cache status, never the token."""

from __future__ import annotations

import logging
import socket
import struct
import time

from hubmirror.mirror.access.audit import as_dict
from hubmirror.mirror.access.callers import token_fingerprint
from tests.audit.support import audit_lines, audited, index_bytes
from tests.client.support import MiB, hubmirror_download, snapshot_files, succeeded
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.support.clients import run_client
from tests.support.hashing import sha256_of
from tests.support.http import get, head, request

CONFIG = f"/{TINY_BERT}/resolve/main/config.json"


def test_a_miss_then_a_hit_are_recorded_with_bytes_status_and_cache_status(mirror, fakehub):
    first = get(mirror.url + CONFIG)
    second = get(mirror.url + CONFIG)
    assert (first.status, second.status) == (200, 200)
    records = audited(mirror)
    assert [(r.event, r.status, r.cache, r.bytes) for r in records] == [
        ("download", 200, "MISS", len(first.body)),
        ("download", 200, "HIT", len(second.body)),
    ]
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    for record in records:
        assert (record.repo_type, record.repo, record.revision, record.path) == (
            "model",
            TINY_BERT,
            "main",
            "config.json",
        )
        assert (record.commit, record.method, record.action) == (commit, "GET", "resolve")
        assert (record.address, record.identity, record.fingerprint) == (
            "127.0.0.1",
            None,
            "anonymous",
        )


def test_the_json_file_holds_the_same_records_as_the_index(mirror):
    get(mirror.url + CONFIG)
    get(mirror.url + "/datasets/acme/tiny-csv/resolve/main/data/train.csv")
    records = audited(mirror)
    assert [r["repo"] for r in audit_lines(mirror.data_dir / "audit.jsonl")] == [
        TINY_BERT,
        "acme/tiny-csv",
    ]
    assert audit_lines(mirror.data_dir / "audit.jsonl") == [as_dict(r) for r in records]
    assert records[1].repo_type == "dataset"


def test_a_ranged_get_records_the_bytes_sent(mirror, fakehub):
    get(mirror.url + CONFIG)  # stored first: the range is then a HIT
    answer = get(mirror.url + CONFIG, headers={"Range": "bytes=5-14"})
    assert answer.status == 206
    assert answer.body == fakehub.file_bytes("model", TINY_BERT, "main", "config.json")[5:15]
    last = audited(mirror)[-1]
    assert (last.status, last.bytes, last.cache) == (206, 10, "HIT")


def test_one_hubmirror_download_of_a_large_file_is_one_record(mirror, fakehub, tmp_path):
    """`hubmirror download` fetches a 64 MiB file in 4 parallel ranges, each tagged as a
    part of one download: the audit shows one download of the whole file, not 4 ranges."""
    size = 64 * MiB
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", size, seed=18)
    args = [TINY_BERT, "--include", "big.bin", "--mirror", mirror.url, "--cache-dir"]
    proc = hubmirror_download([*args, str(tmp_path / "cache")], tmp_path)
    assert sha256_of(snapshot_files(succeeded(proc))["big.bin"]) == sha256

    records = [r for r in audited(mirror) if r.path == "big.bin"]
    assert [(r.event, r.status, r.bytes, r.cache, r.reason) for r in records] == [
        ("download", 200, size, "MISS", None)
    ]
    assert (records[0].revision, records[0].commit) == (
        fakehub.commit_of("model", TINY_BERT, "main"),
        fakehub.commit_of("model", TINY_BERT, "main"),
    )


def test_heads_and_api_answers_are_not_downloads(mirror):
    assert head(mirror.url + CONFIG).status == 200
    assert get(mirror.url + f"/api/models/{TINY_BERT}").status == 200
    assert get(mirror.url + f"/api/models/{TINY_BERT}/tree/main").status == 200
    assert request("GET", mirror.url + "/healthz").status == 200
    assert audited(mirror) == []


def test_a_gated_download_names_the_token_by_fingerprint_only(mirror, fakehub, caplog):
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    url = mirror.url + f"/{GATED_MODEL}/resolve/main/model.safetensors"
    answer = get(url, headers=auth)
    assert answer.status == 200
    (record,) = audited(mirror)
    assert record.fingerprint == token_fingerprint(f"Bearer {OWNER_TOKEN}")
    assert (record.repo, record.path, record.bytes) == (
        GATED_MODEL,
        "model.safetensors",
        len(answer.body),
    )
    assert OWNER_TOKEN not in (mirror.data_dir / "audit.jsonl").read_text()
    assert OWNER_TOKEN.encode() not in index_bytes(mirror.data_dir)
    assert OWNER_TOKEN not in caplog.text


def test_downloads_by_a_real_client_are_recorded(make_mirror, fakehub, tmp_path):
    """Plain HTTP downloads (Xet stripped); Xet downloads: tests/xet/test_cas_audit.py."""
    mirror = make_mirror(xet_serve=False)
    code = f"""
from huggingface_hub import hf_hub_download
import os
paths = [hf_hub_download({TINY_BERT!r}, "config.json"),
         hf_hub_download({GATED_MODEL!r}, "model.safetensors")]
emit([os.path.getsize(p) for p in paths])
"""
    sizes = run_client(code, mirror.url, tmp_path / "home", token=OWNER_TOKEN)
    downloads = [r for r in audited(mirror) if r.event == "download"]
    assert [(r.repo, r.path, r.bytes, r.status) for r in downloads] == [
        (TINY_BERT, "config.json", sizes[0], 200),
        (GATED_MODEL, "model.safetensors", sizes[1], 200),
    ]
    assert {r.fingerprint for r in downloads} == {token_fingerprint(f"Bearer {OWNER_TOKEN}")}
    assert {r.cache for r in downloads} == {"MISS"}
    assert OWNER_TOKEN not in (mirror.data_dir / "audit.jsonl").read_text()


def test_a_request_refused_before_identification_still_names_its_token(mirror):
    auth = {"Authorization": f"Bearer {OWNER_TOKEN}", "Range": "bytes=9-1"}
    assert get(mirror.url + CONFIG, headers=auth).status == 400
    (record,) = audited(mirror)
    assert (record.status, record.path, record.reason) == (400, "config.json", "BadRequest")
    assert record.fingerprint == token_fingerprint(f"Bearer {OWNER_TOKEN}")
    assert record.address == "127.0.0.1"


def test_a_download_the_client_breaks_off_is_recorded_as_interrupted(mirror, fakehub):
    size = 16 * 1024 * 1024
    fakehub.add_large_file("model", TINY_BERT, "big.bin", size, seed=3)
    url = mirror.url + f"/{TINY_BERT}/resolve/main/big.bin"
    assert len(get(url).body) == size  # stored: the next GET is a HIT read from disk
    with socket.create_connection(("127.0.0.1", mirror.port)) as conn:
        conn.sendall(f"GET /{TINY_BERT}/resolve/main/big.bin HTTP/1.1\r\nHost: m\r\n\r\n".encode())
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    for _ in range(200):  # the server notices at its next write
        records = audited(mirror)
        if len(records) == 2:
            break
        time.sleep(0.05)
    complete, cut = records
    assert (complete.bytes, complete.status, complete.reason) == (size, 200, None)
    assert (cut.event, cut.path, cut.status, cut.cache) == ("download", "big.bin", 200, "HIT")
    assert cut.reason == "interrupted: client disconnected"
    assert 0 < cut.bytes < size


def test_a_download_upstream_breaks_off_is_recorded_as_interrupted(mirror, fakehub):
    size = 4 * 1024 * 1024
    fakehub.add_large_file("model", TINY_BERT, "cut.bin", size, seed=11)
    fakehub.faults.bandwidth = 512 * 1024
    request_line = f"GET /{TINY_BERT}/resolve/main/cut.bin HTTP/1.1\r\nHost: m\r\n\r\n"
    with socket.create_connection(("127.0.0.1", mirror.port)) as conn:
        conn.sendall(request_line.encode())
        received = b""
        while len(received.partition(b"\r\n\r\n")[2]) < 100_000:  # well into the body
            received += conn.recv(65536)
        fakehub.go_down()  # mid-body: the fill gives up, the mirror cuts the answer
        while chunk := conn.recv(65536):
            received += chunk
    body = received.partition(b"\r\n\r\n")[2]
    (record,) = audited(mirror)
    assert (record.event, record.status, record.cache) == ("download", 200, "MISS")
    assert record.reason == "interrupted"
    assert record.bytes == len(body) < size
