"""Outages, slow and flapping upstreams, moved branches and crowds, through real clients.

When the upstream fails, the mirror serves what it has: branches resolve to their last known
commit, files and API answers come from the cache, and what it does not have is "try later"
(503/504 with Retry-After), never "not found". huggingface_hub treats
a 5xx as "use my cache" but remembers a 404 EntryNotFound forever, so a 404 invented during an
outage would outlive it.

The mirror runs in a thread of this process, so its access log ("hubmirror.access") tells
which statuses the clients were answered.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from hubmirror.settings import Settings
from tests.e2e.conftest import assert_clients_only_talked_to_the_mirror
from tests.fakehub import TINY_CSV_TEST_ROWS, TINY_CSV_TRAIN_ROWS
from tests.support.clients import (
    DATASET,
    MODEL,
    PRELUDE,
    TINY_BERT,
    TINY_CSV,
    client_env,
    curl_fetch,
    git_blob_sha1,
    hub_files,
    run_client,
)
from tests.support.mirror import MirrorThread
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(180)

NOT_FOUND_CODES = {"EntryNotFound", "RepoNotFound", "RevisionNotFound", "GatedRepo"}
SHORT_TTL = 0.5


# --- what the mirror answered -------------------------------------------------------------


class MirrorAnswers(logging.Handler):
    """(method, path, status, cache status) of every answer the mirror's access log records."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.answers: list[tuple[str, str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        method, path, status, _sent, cache, *_ = record.args
        self.answers.append((method, path, int(status), cache))

    def since(self, mark: int) -> list[tuple[str, str, int, str]]:
        return self.answers[mark:]


@pytest.fixture(scope="module")
def answers():
    logger = logging.getLogger("hubmirror.access")
    handler, level = MirrorAnswers(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def start_mirror(hub, data_dir: Path, **overrides) -> MirrorThread:
    settings = Settings(data=str(data_dir), upstream=(hub.url,), port=0, upstream_timeout=5.0)
    return MirrorThread(settings.replace(**overrides)).start()


# --- the four clients of a warm snapshot ----------------------------------------------------

HF_HUB_DOWNLOAD = f"""
import hashlib
from huggingface_hub import hf_hub_download
path = hf_hub_download({TINY_BERT!r}, "config.json")
emit({{"path": path, "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}})
"""

SNAPSHOT_DOWNLOAD = f"""
import hashlib, os
from huggingface_hub import snapshot_download
root = snapshot_download({TINY_BERT!r})
files = {{}}
for folder, _, names in os.walk(root):
    for name in names:
        path = os.path.join(folder, name)
        files[os.path.relpath(path, root)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
emit({{"root": root, "files": files}})
"""

FROM_PRETRAINED = f"""
from transformers import AutoConfig, AutoTokenizer
config = AutoConfig.from_pretrained({TINY_BERT!r})
tok = AutoTokenizer.from_pretrained({TINY_BERT!r})
ids = tok("hello world")["input_ids"]
emit({{"class": type(config).__name__, "hidden_size": config.hidden_size,
       "layers": config.num_hidden_layers, "ids": ids, "fast": tok.is_fast}})
"""

LOAD_DATASET = f"""
import datasets
ds = datasets.load_dataset({TINY_CSV!r})
emit({{split: {{"count": len(ds[split]), "rows": ds[split].to_list()}} for split in ds}})
"""

CLIENTS = {
    "hf_hub_download": HF_HUB_DOWNLOAD,
    "snapshot_download": SNAPSHOT_DOWNLOAD,
    "from_pretrained": FROM_PRETRAINED,
    "load_dataset": LOAD_DATASET,
}


def check_hf_hub_download(hub, result) -> None:
    commit = hub.commit_of(MODEL, TINY_BERT, "main")
    assert Path(result["path"]).parent.name == commit
    assert result["sha256"] == hub.file_sha256(MODEL, TINY_BERT, commit, "config.json")


def check_snapshot_download(hub, result) -> None:
    commit = hub.commit_of(MODEL, TINY_BERT, "main")
    assert Path(result["root"]).name == commit
    expected = {
        name: hub.file_sha256(MODEL, TINY_BERT, commit, name)
        for name in hub_files(hub, MODEL, TINY_BERT, commit)
    }
    assert result["files"] == expected


def check_from_pretrained(hub, result) -> None:
    config = json.loads(hub.file_bytes(MODEL, TINY_BERT, "main", "config.json"))
    truth = Tokenizer.from_str(hub.file_bytes(MODEL, TINY_BERT, "main", "tokenizer.json").decode())
    assert result == {
        "class": "BertConfig",
        "hidden_size": config["hidden_size"],
        "layers": config["num_hidden_layers"],
        "ids": truth.encode("hello world").ids,
        "fast": True,
    }


def check_load_dataset(hub, result) -> None:
    assert {split: result[split]["count"] for split in result} == {
        "train": TINY_CSV_TRAIN_ROWS,
        "test": TINY_CSV_TEST_ROWS,
    }
    for split in ("train", "test"):
        text = hub.file_bytes(DATASET, TINY_CSV, "main", f"data/{split}.csv").decode()
        expected = list(csv.DictReader(io.StringIO(text)))
        rows = [{k: str(v) for k, v in row.items()} for row in result[split]["rows"]]
        assert rows == expected


CHECKS = {
    "hf_hub_download": check_hf_hub_download,
    "snapshot_download": check_snapshot_download,
    "from_pretrained": check_from_pretrained,
    "load_dataset": check_load_dataset,
}


# --- 1. A warm mirror serves a snapshot while upstream is down --------------------------------


def refuse(hub) -> None:
    hub.go_down()


def answer_503(hub) -> None:
    hub.faults.fail_status = 503


def reset(hub) -> None:
    hub.faults.reset_connections = True


OUTAGES = {"refusing": refuse, "resetting": reset, "answering-503": answer_503}
FRESHNESS = {"fresh": 600.0, "past-ttl": SHORT_TTL}


class WarmMirror:
    def __init__(self, mirror: MirrorThread, outage, ttl: float, not_found: set) -> None:
        self.mirror, self.outage, self.ttl, self.not_found = mirror, outage, ttl, not_found


@pytest.fixture(
    scope="module",
    params=list(itertools.product(OUTAGES, FRESHNESS)),
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def warm_mirror(request, _fakehub_session, tmp_path_factory, answers):
    """A mirror through which every client below ran once, while upstream was up.

    The 404s it answered then (optional files transformers and datasets probe for) are the
    only ones it may answer during the outage.
    """
    outage, freshness = request.param
    hub = _fakehub_session
    hub.reset()
    mirror = start_mirror(
        hub, tmp_path_factory.mktemp("warm-mirror"), metadata_ttl=FRESHNESS[freshness]
    )
    mark = len(answers.answers)
    for name, code in CLIENTS.items():
        home = tmp_path_factory.mktemp(f"warm-{name}")
        CHECKS[name](hub, run_client(code, mirror.url, home))
    assert_clients_only_talked_to_the_mirror(hub)
    not_found = {(m, p) for m, p, status, _ in answers.since(mark) if status == 404}
    yield WarmMirror(mirror, OUTAGES[outage], FRESHNESS[freshness], not_found)
    mirror.stop()


@pytest.mark.parametrize("client", list(CLIENTS))
def test_warm_snapshot_downloads_again_while_upstream_is_down(
    warm_mirror, fakehub, new_home, answers, client
):
    """A new user gets correct files and data from what the mirror holds.

    Each client asks exactly what it asked while upstream was up, so every answer is at hand:
    none may be "try later" (5xx), and no 404 may appear that upstream did not give.
    """
    warm_mirror.outage(fakehub)
    time.sleep(warm_mirror.ttl + 0.1 if warm_mirror.ttl < 60 else 0)
    mark = len(answers.answers)

    result = run_client(CLIENTS[client], warm_mirror.mirror.url, new_home(), timeout=120)

    fakehub.reset_faults()
    CHECKS[client](fakehub, result)
    invented = [
        (m, p, status)
        for m, p, status, _ in answers.since(mark)
        if status in (401, 403) or (status == 404 and (m, p) not in warm_mirror.not_found)
    ]
    assert invented == [], f"the outage turned into not-found/denied answers: {invented}"
    unavailable = [(m, p, status) for m, p, status, _ in answers.since(mark) if status >= 500]
    assert unavailable == [], f"answers the mirror had were refused: {unavailable}"


# --- 2. Nothing cached + upstream down: "try later" ---------------------------------------


def answer_429(hub) -> None:
    hub.faults.fail_status = 429
    hub.faults.retry_after = 7


def hang(hub) -> None:
    hub.faults.hang = True


COLD_OUTAGES = {
    "refusing": (refuse, 503),
    "resetting": (reset, 503),
    "answering-503": (answer_503, 503),
    "answering-429": (answer_429, 503),
    "hanging": (hang, 504),
}
COLD_PATHS = {
    "file": f"/{TINY_BERT}/resolve/main/config.json",
    "revision": f"/api/models/{TINY_BERT}/revision/main",
}


@pytest.mark.parametrize("path", list(COLD_PATHS))
@pytest.mark.parametrize("outage", list(COLD_OUTAGES))
def test_uncached_while_upstream_fails_is_503_or_504_with_retry_after(
    make_mirror, fakehub, outage, path
):
    """Refused, 5xx and 429 → 503; a hanging upstream → 504; always Retry-After, no not-found."""
    mirror = make_mirror(upstream_timeout=1.0)
    make_outage, expected = COLD_OUTAGES[outage]
    make_outage(fakehub)
    try:
        started = time.monotonic()
        response = curl_fetch(mirror.url + COLD_PATHS[path], timeout=20)
        elapsed = time.monotonic() - started
    finally:
        fakehub.faults.hang = False

    assert response.status == expected, (response.status, response.headers, response.body[:300])
    assert response.headers.get("retry-after", "").isdigit(), response.headers
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers.get("x-error-code") not in NOT_FOUND_CODES
    assert elapsed < 5, f"answered after {elapsed:.1f}s"


# --- 3. A hanging upstream never holds metadata past the deadline ---------------------------


@pytest.mark.parametrize(
    "path",
    [f"/{TINY_BERT}/resolve/main/config.json", f"/api/models/{TINY_BERT}/revision/main"],
    ids=["file-head", "revision-api"],
)
def test_hanging_upstream_stale_metadata_answered_within_the_deadline(make_mirror, fakehub, path):
    """Past its TTL, with upstream silent, the stale answer comes at the deadline, not later."""
    mirror = make_mirror(metadata_ttl=SHORT_TTL, metadata_deadline=1.0)
    warm = curl_fetch(mirror.url + path)
    assert warm.status == 200
    time.sleep(SHORT_TTL + 0.2)
    fakehub.faults.hang = True
    try:
        started = time.monotonic()
        response = curl_fetch(mirror.url + path, method="HEAD", timeout=15)
        elapsed = time.monotonic() - started
        hanging = [e.target for e in fakehub.log if e.status == 0]
    finally:
        fakehub.faults.hang = False

    assert response.status == 200, (response.status, response.headers)
    assert elapsed < 3.0, f"answered after {elapsed:.1f}s"
    assert hanging, "upstream was never asked: test is void"
    for name in ("etag", "x-repo-commit", "content-length"):
        if name in warm.headers:
            assert response.headers.get(name) == warm.headers[name], name
    if "/resolve/" in path:
        assert response.headers.get("x-cache-status") == "STALE", response.headers


# --- circuit breakers: a silent upstream is not waited for by every request -------------------


def test_after_three_upstream_timeouts_requests_fail_fast_without_asking(make_mirror, fakehub):
    """Three timeouts open the breaker: the next request is refused at once, upstream unasked."""
    mirror = make_mirror(upstream_timeout=1.0)
    fakehub.faults.hang = True
    try:
        for name in ("config.json", "vocab.txt", "tokenizer.json"):
            first = curl_fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/{name}", timeout=20)
            assert first.status in (503, 504), (first.status, first.headers)
        asked = len(fakehub.log)
        started = time.monotonic()
        response = curl_fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/README.md", timeout=20)
        elapsed = time.monotonic() - started
    finally:
        fakehub.faults.hang = False

    assert response.status in (503, 504), (response.status, response.headers)
    assert response.headers.get("retry-after", "").isdigit(), response.headers
    assert elapsed < 0.5, f"answered after {elapsed:.2f}s"
    assert len(fakehub.log) == asked, [e.target for e in fakehub.log[asked:]]


# --- 4. Flapping upstream -------------------------------------------------------------------


def test_flapping_upstream_cold_snapshot_completes_with_correct_files(cold_endpoint, home, fakehub):
    """Every other upstream request fails with 503; the snapshot still arrives whole."""
    fakehub.faults.fail_every = 2

    result = run_client(SNAPSHOT_DOWNLOAD, cold_endpoint, home, timeout=150)

    assert [e.status for e in fakehub.log].count(503) >= 2, "nothing failed: test is void"
    fakehub.reset_faults()  # the check below reads the truth from the fake hub itself
    check_snapshot_download(fakehub, result)


# --- 5. Branch advanced ---------------------------------------------------------------------

DOWNLOAD_AT = """
from huggingface_hub import hf_hub_download
emit(hf_hub_download({repo!r}, "config.json", revision={revision!r}))
"""


def download_config(endpoint, home, revision=None) -> Path:
    return Path(run_client(DOWNLOAD_AT.format(repo=TINY_BERT, revision=revision), endpoint, home))


def test_moved_branch_is_seen_after_the_ttl_and_old_commit_stays_by_sha(
    make_mirror, fakehub, new_home
):
    """Before the TTL: the old commit; after: the new one; the old one is still there by sha."""
    ttl = 2.0
    mirror = make_mirror(metadata_ttl=ttl)
    old_sha = fakehub.commit_of(MODEL, TINY_BERT, "main")
    old_bytes = fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    new_bytes = old_bytes.replace(b"}", b', "advanced": true}', 1)

    first = download_config(mirror.url, new_home())
    learned = time.monotonic()
    new_sha = fakehub.move_branch(MODEL, TINY_BERT, "main", {"config.json": new_bytes})
    before_ttl = download_config(mirror.url, new_home())
    assert time.monotonic() - learned < ttl, "too slow to look before the TTL: test is void"
    time.sleep(max(0.0, ttl + 0.3 - (time.monotonic() - learned)))
    after_ttl = download_config(mirror.url, new_home())
    by_sha = download_config(mirror.url, new_home(), revision=old_sha)
    head = curl_fetch(f"{mirror.url}/{TINY_BERT}/resolve/{old_sha}/config.json", method="HEAD")

    assert (first.parent.name, first.read_bytes()) == (old_sha, old_bytes)
    assert (before_ttl.parent.name, before_ttl.read_bytes()) == (old_sha, old_bytes)
    assert (after_ttl.parent.name, after_ttl.read_bytes()) == (new_sha, new_bytes)
    assert (by_sha.parent.name, by_sha.read_bytes()) == (old_sha, old_bytes)
    assert head.headers["x-repo-commit"] == old_sha
    assert head.headers["etag"].strip('"') == git_blob_sha1(old_bytes)


def test_file_at_a_commit_sha_is_never_rechecked_upstream(make_mirror, fakehub):
    """A commit is immutable: past the TTL, HEAD and GET by sha ask upstream nothing about it."""
    mirror = make_mirror(metadata_ttl=SHORT_TTL)
    sha = fakehub.commit_of(MODEL, TINY_BERT, "main")
    url = f"{mirror.url}/{TINY_BERT}/resolve/{sha}/config.json"
    assert curl_fetch(url).status == 200
    time.sleep(SHORT_TTL + 0.2)
    fakehub.clear_log()

    head = curl_fetch(url, method="HEAD")
    body = curl_fetch(url)

    assert (head.status, body.status) == (200, 200)
    assert head.headers["x-repo-commit"] == sha
    assert body.body == fakehub.file_bytes(MODEL, TINY_BERT, sha, "config.json")
    assert [e.target for e in fakehub.log if sha in e.target] == []


# --- 6. 429 honoured ------------------------------------------------------------------------


def test_upstream_429_is_not_asked_again_before_retry_after(make_mirror, fakehub):
    """After one 429 (Retry-After: 3) upstream hears nothing for 3 s; cached answers keep coming."""
    mirror = make_mirror(metadata_ttl=SHORT_TTL)
    config = f"{mirror.url}/{TINY_BERT}/resolve/main/config.json"
    revision = f"{mirror.url}/api/models/{TINY_BERT}/revision/main"
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    assert curl_fetch(config).body == data
    assert curl_fetch(revision).status == 200
    time.sleep(SHORT_TTL + 0.1)
    fakehub.faults.fail_status = 429
    fakehub.faults.retry_after = 3
    fakehub.clear_log()

    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    started, served = time.monotonic(), []
    while time.monotonic() - started < 2.4:
        served.append(curl_fetch(config).body == data)
        served.append(curl_fetch(config, method="HEAD").status == 200)
        served.append(json.loads(curl_fetch(revision).body)["sha"] == commit)
        time.sleep(SHORT_TTL + 0.1)
    during = [(e.method, e.target, e.status) for e in fakehub.log]
    fakehub.reset_faults()
    time.sleep(max(0.0, 3.3 - (time.monotonic() - started)))
    curl_fetch(config, method="HEAD")
    curl_fetch(revision)
    asked_again = wait_for(
        lambda: len(fakehub.log) > len(during), "upstream asked again", timeout=3.0
    )

    assert all(served) and len(served) >= 9, served
    assert [status for _, _, status in during] == [429], during
    assert asked_again, "upstream was never asked again after Retry-After"


# --- 7. A crowd of cold clients asks upstream once per lookup --------------------------------


def start_client(code: str, endpoint: str, home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=client_env(endpoint, home),
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_cold_snapshot_downloads_ask_upstream_once_per_lookup(
    cold_endpoint, new_home, fakehub
):
    """8 clients at once: each revision, tree page and file is asked of the hub once."""
    procs = [start_client(SNAPSHOT_DOWNLOAD, cold_endpoint, new_home()) for _ in range(8)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    # count first: the checks below list the tree on the fake hub themselves
    hub_asks = Counter((e.method, e.target) for e in fakehub.log if e.host == "hub")
    cdn_asks = Counter((e.method, e.target.split("?")[0]) for e in fakehub.log if e.host == "cdn")
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        check_snapshot_download(fakehub, json.loads(out.strip().splitlines()[-1]))
    assert any("/revision/" in target for _, target in hub_asks), hub_asks
    repeated = {ask: n for ask, n in (hub_asks + cdn_asks).items() if n > 1}
    assert repeated == {}, f"asked upstream more than once: {repeated}"
