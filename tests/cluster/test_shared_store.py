"""Blobs in the object store: verified before they are indexed, and served by any node."""

from __future__ import annotations

from tests.support.clients import TINY_BERT
from tests.support.commands import hubmirror
from tests.support.hashing import sha256_hex
from tests.support.http import get
from tests.support.waiting import wait_for

from .conftest import BIG, BIG_SIZE, settled


def _url(node, path: str) -> str:
    return f"{node.url}/{TINY_BERT}/resolve/main/{path}"


def test_a_filled_blob_is_in_the_object_store_and_the_index(
    make_node, fakehub, big_file, s3_admin, s3_store_url
):
    node = make_node()
    resp = get(_url(node, BIG))
    assert resp.status == 200 and sha256_hex(resp.body) == big_file
    settled(node)
    bucket = s3_store_url.removeprefix("s3://").split("/")[0]
    key = f"mirror/blobs/sha256/{big_file[:2]}/{big_file[2:4]}/{big_file}"
    head = s3_admin.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == BIG_SIZE
    stored = node.call(lambda: node.mirror.index.blob_by_id(big_file))
    assert stored is not None and stored.size == BIG_SIZE


def test_a_node_with_an_empty_disk_serves_from_the_shared_store(make_node, fakehub, big_file):
    first = make_node()
    assert sha256_hex(get(_url(first, BIG)).body) == big_file
    settled(first)
    fakehub.clear_log()

    second = make_node()  # another data directory: nothing on its disk
    resp = get(_url(second, BIG))
    again = get(_url(second, BIG), headers={"Range": "bytes=10-19"})

    assert resp.status == 200 and sha256_hex(resp.body) == big_file
    assert again.status == 206 and again.body == resp.body[10:20]
    assert fakehub.body_bytes(host="cdn") == 0  # no byte from upstream
    assert (second.data_dir / "blobs").exists()


def test_without_a_local_tier_bytes_stream_from_the_store(make_node, fakehub, big_file):
    node = make_node(local_tier_size=0)
    whole = get(_url(node, BIG))
    settled(node)
    part = get(_url(node, BIG), headers={"Range": "bytes=-100"})
    again = get(_url(node, BIG))

    assert sha256_hex(whole.body) == big_file and sha256_hex(again.body) == big_file
    assert part.status == 206 and part.body == whole.body[-100:]
    assert again.headers["X-Cache-Status"] == "HIT"
    blobs = list((node.data_dir / "blobs").rglob(big_file))
    assert blobs == []  # nothing kept on this disk
    assert fakehub.body_bytes(host="cdn") == BIG_SIZE


def test_the_local_tier_lets_go_of_least_recently_read_blobs(make_node, fakehub, big_file):
    node = make_node(local_tier_size=BIG_SIZE)
    assert sha256_hex(get(_url(node, BIG)).body) == big_file
    settled(node)
    assert get(_url(node, "config.json")).status == 200  # pushes the total over the limit
    settled(node)

    assert not list((node.data_dir / "blobs").rglob(big_file))
    fakehub.clear_log()
    resp = get(_url(node, BIG))
    assert sha256_hex(resp.body) == big_file
    assert fakehub.body_bytes(host="cdn") == 0  # back from the store, not upstream


def test_blob_file_commands_refuse_an_object_store_and_say_what_to_do(tmp_path, s3_settings):
    flags = ["--data", str(tmp_path / "d"), "--store", s3_settings["store"]]
    result = hubmirror("export", "acme/tiny-bert", "--to", str(tmp_path / "out"), *flags)

    assert result.returncode == 1
    assert "works on blobs on local disk" in result.stderr
    assert "hubmirror sync --upstream" in result.stderr


def test_metrics_show_the_local_tier_and_where_fills_came_from(make_node, fakehub, big_file):
    node = make_node()
    assert sha256_hex(get(_url(node, BIG)).body) == big_file
    settled(node)
    text = get(node.url + "/metrics").body.decode()

    assert 'hubmirror_fills_by_origin_total{origin="upstream"} 1' in text
    assert f"hubmirror_local_tier_bytes {BIG_SIZE}" in text
    assert "hubmirror_fills_unshared_total 0" in text
    assert "hubmirror_fill_leases_held 0" in text


def test_a_blob_the_store_lost_is_fetched_again(
    make_node, fakehub, big_file, s3_admin, s3_store_url
):
    first = make_node()
    assert sha256_hex(get(_url(first, BIG)).body) == big_file
    settled(first)
    bucket = s3_store_url.removeprefix("s3://").split("/")[0]
    s3_admin.delete_object(
        Bucket=bucket, Key=f"mirror/blobs/sha256/{big_file[:2]}/{big_file[2:4]}/{big_file}"
    )
    fakehub.clear_log()

    second = make_node()  # its index row says "stored", the store has nothing
    resp = get(_url(second, BIG))
    settled(second)

    assert resp.status == 200 and sha256_hex(resp.body) == big_file
    assert fakehub.body_bytes(host="cdn") == BIG_SIZE
    key = f"mirror/blobs/sha256/{big_file[:2]}/{big_file[2:4]}/{big_file}"
    assert s3_admin.head_object(Bucket=bucket, Key=key)["ContentLength"] == BIG_SIZE


def test_max_size_bounds_the_bucket(make_node, fakehub, big_file, s3_admin, s3_store_url):
    node = make_node(max_size=BIG_SIZE)
    assert sha256_hex(get(_url(node, BIG)).body) == big_file
    settled(node)
    assert get(_url(node, "config.json")).status == 200  # the newer blob: over the quota
    settled(node)
    _quota_idle(node)

    bucket = s3_store_url.removeprefix("s3://").split("/")[0]
    keys = [o["Key"] for o in s3_admin.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not any(k.endswith(big_file) for k in keys) and len(keys) == 1
    assert node.call(lambda: node.mirror.index.blob_by_id(big_file)) is None
    assert not list((node.data_dir / "blobs").rglob(big_file))


def _quota_idle(node, timeout: float = 10.0) -> None:
    wait_for(
        lambda: node.call(lambda: node.mirror.quota.idle),
        "the quota to be idle",
        timeout=timeout,
        every=0.02,
    )
