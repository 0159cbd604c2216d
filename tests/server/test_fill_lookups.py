"""A fill asks upstream where a file's bytes are once, not once per segment.

Every segment of a fill starts at the same moment and needs the file's CDN link; the
first asks upstream (a HEAD of the resolve URL at the commit), the others wait for its
answer. A failed lookup fails all of them and the next attempt asks again; an expired
link is looked up again once for every segment that found it expired.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time

import pytest

from tests.support.http import get, head

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024
SIZE = 16 * MiB  # sixteen segments of the 1 MiB the mirrors below are set to


def resolve_heads(hub, path: str) -> list[str]:
    """The targets of the HEADs of the resolve URL of ``path`` upstream saw, in order."""
    return [e.target for e in hub.log if e.method == "HEAD" and e.target.endswith("/" + path)]


def fill_heads(hub, path: str) -> list[str]:
    """The HEADs a fill sends: at the commit, where the metadata HEAD names the branch."""
    commit = hub.commit_of("model", MODEL, "main")
    return [t for t in resolve_heads(hub, path) if f"/resolve/{commit}/" in t]


def segment_gets(hub) -> list:
    return [e for e in hub.log if e.host == "cdn" and e.method == "GET"]


@pytest.mark.timeout(120)
def test_a_sixteen_segment_fill_sends_one_head_upstream(make_mirror, fakehub):
    sha256 = fakehub.add_large_file("model", MODEL, "one-head.bin", SIZE, seed=21)
    mirror = make_mirror(fill_segment_mib=1)
    fakehub.clear_log()

    answer = get(f"{mirror.url}/{MODEL}/resolve/main/one-head.bin")

    assert answer.status == 200
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert len(segment_gets(fakehub)) == 16
    assert len(fill_heads(fakehub, "one-head.bin")) == 1
    assert len(resolve_heads(fakehub, "one-head.bin")) == 2  # and the metadata question


@pytest.mark.timeout(120)
def test_a_failed_lookup_fails_every_waiting_segment_and_the_next_attempt_asks_again(
    make_mirror, fakehub
):
    sha256 = fakehub.add_large_file("model", MODEL, "lookup-fails.bin", SIZE, seed=22)
    mirror = make_mirror(fill_segment_mib=1)
    target = f"{mirror.url}/{MODEL}/resolve/main/lookup-fails.bin"
    assert head(target).status == 200  # the metadata is known: the next request only fills
    fakehub.clear_log()
    fakehub.faults.fail_status, fakehub.faults.fail_count = 503, 1  # the fill's first HEAD

    answer = get(target)

    assert answer.status == 200
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    heads = [e for e in fakehub.log if e.method == "HEAD"]
    assert [e.status for e in heads] == [503, 302]
    assert len(segment_gets(fakehub)) == 16


@pytest.mark.timeout(120)
async def test_an_expired_link_is_looked_up_again_once_for_all_segments(make_mirror, fakehub):
    sha256 = fakehub.add_large_file("model", MODEL, "expiring-16.bin", SIZE, seed=23)
    mirror = make_mirror(fill_segment_mib=1)
    fakehub.faults.bandwidth = MiB // 2  # per connection: a segment takes two seconds
    fakehub.faults.drop_after = 3 * MiB // 4  # every segment drops after 1.5 s ...
    fakehub.faults.drop_count = 16  # ... once, and resumes where it stopped
    fakehub.clear_log()

    download = asyncio.create_task(
        asyncio.to_thread(get, f"{mirror.url}/{MODEL}/resolve/main/expiring-16.bin")
    )
    deadline = time.monotonic() + 30
    while len([e for e in segment_gets(fakehub) if e.status == 206]) < 16:
        assert time.monotonic() < deadline and not download.done()
        await asyncio.sleep(0.02)
    fakehub.signing_key = secrets.token_bytes(32)  # every link handed out so far expires
    answer = await download

    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert [e for e in segment_gets(fakehub) if e.status == 403]  # resumes found it expired
    assert len(fill_heads(fakehub, "expiring-16.bin")) == 2  # the first link and its renewal
