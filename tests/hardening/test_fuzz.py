"""Property-based fuzzing of what callers send: never a 500, always a Hub-style 4xx, no writes.

Paths (odd repo ids, ``..``, ``%2F``, NUL and control characters, unicode, very long
segments), revisions, query strings and header values go, byte for byte, to one live
mirror in front of the fake hub. Whatever comes back must be an answer a Hub client
understands, and a refused request must leave the store and the index as they were.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubmirror.settings import Settings
from tests.hardening.rawhttp import RawAnswer, RawClient
from tests.support.mirror import MirrorThread

FUZZ = settings(
    max_examples=int(os.environ.get("HUBMIRROR_FUZZ_EXAMPLES", "200")),  # more for a long hunt
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
UPSTREAM_TROUBLE = (502, 503, 504)
COUNTED_TABLES = ("entries", "blobs")

# -- what callers send -------------------------------------------------------------------

KNOWN = st.sampled_from(
    [
        "acme", "tiny-bert", "gated-model", "private-model", "tiny-csv", "main", "v1.0",
        "refs", "pr", "1", "convert", "parquet", "config.json", "model.safetensors",
        "data", "train.csv", "resolve", "api", "models", "datasets", "spaces", "tree",
        "admin", "offline", "sync", "metrics", "healthz", "telemetry", "agent-harnesses",
        "paths-info", "revision", "commits", "xet-read-token", "refs%2Fpr%2F1", "a" * 40,
    ]
)  # fmt: skip
ODD = st.sampled_from(
    [
        "..", ".", "%2F", "%2f", "%2e%2e", "%00", "%0A", "%0d", "%", "%zz", "%ff%fe", "%C0%AF",
        "\\", "~", "^", ":", "?", "*", "[", "#", " ", "\x00", "\x01", "\x1b", "\x7f", "é",
        "\u202e", "\U0001f4a5", "\ufeff", ";", "@", "'", '"', "<", ">", "|", "&", "=", "+",
        ",", "$", ".git", "-", "_", "--", "a" * 97,
    ]
)  # fmt: skip
SEGMENT = st.one_of(
    KNOWN,
    st.text(max_size=24),
    st.lists(st.one_of(ODD, KNOWN, st.text("abcXYZ019-_.", max_size=4)), max_size=6).map("".join),
    st.integers(min_value=100, max_value=3000).map(lambda n: "x" * n),
)
PATH_TAIL = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)


@st.composite
def resolve_paths(draw) -> str:
    prefix = draw(st.sampled_from(["", "datasets/", "spaces/", "models/"]))
    repo = draw(st.sampled_from(["acme/tiny-bert", "acme/tiny-csv"]) | _repo_ids())
    revision = draw(st.sampled_from(["main", "v1.0", "refs/pr/1", "refs%2Fpr%2F1"]) | SEGMENT)
    return f"/{prefix}{repo}/resolve/{revision}/{draw(PATH_TAIL)}"


@st.composite
def api_paths(draw) -> str:
    kind = draw(st.sampled_from(["models", "datasets", "spaces"]) | SEGMENT)
    parts = [draw(_repo_ids())]
    action = draw(st.none() | st.sampled_from(["tree", "revision", "paths-info", "refs"]) | SEGMENT)
    if action is not None:
        parts.append(action)
        parts += draw(st.lists(SEGMENT, max_size=3))
    return f"/api/{kind}/" + "/".join(parts)


def _repo_ids():
    return st.one_of(
        st.sampled_from(
            ["acme/tiny-bert", "acme/gated-model", "acme/private-model", "acme/many-files"]
        ),
        st.tuples(SEGMENT, SEGMENT).map("/".join),
        SEGMENT,
    )


PATHS = st.one_of(
    resolve_paths(),
    api_paths(),
    st.lists(SEGMENT, max_size=6).map(lambda s: "/" + "/".join(s)),
    st.lists(SEGMENT, min_size=1, max_size=4).map(lambda s: "//" + "//".join(s) + "/"),
)
# No "cursor": the fake hub echoes it into its Link header unchecked and drops the
# connection when that fails; the real Hub refuses a bad cursor with a 400.
QUERY_KEYS = st.sampled_from(["recursive", "expand", "limit", "revision", "path"])
QUERIES = st.lists(
    st.tuples(QUERY_KEYS | SEGMENT, SEGMENT | st.sampled_from(["true", "-1", "9" * 30])),
    max_size=4,
)
HEADER_NAMES = st.sampled_from(
    [
        "Range", "Authorization", "If-None-Match", "If-Range", "Accept-Encoding",
        "X-Forwarded-Host", "X-Forwarded-Proto", "Content-Type", "Cookie", "X-Whatever",
    ]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.text(st.characters(blacklist_characters="\r\n"), max_size=60),
    st.sampled_from(
        [
            "bytes=0-0", "bytes=-1", "bytes=5-", "bytes=0-1,2-3", "bytes=99999999999999999999-",
            "bytes=-0", "Bearer hf_owner", "Bearer hf_user", "Bearer ", "Basic Zm9vOmJhcg==",
            "https", "evil.example:1/../x", "gzip, br", "*", "W/\"x\"",
        ]
    ),
)  # fmt: skip
HEADERS = st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=4)
METHODS = st.sampled_from(["GET", "GET", "GET", "HEAD", "HEAD", "POST", "PUT", "OPTIONS"])


def encode_target(path: str, query: list[tuple[str, str]], raw: bool) -> bytes:
    """The request target: as drawn (control bytes, spaces, unicode and all) or percent-encoded
    the way a careful client would."""
    if not raw:
        path = quote(path, safe="/%")
    target = path
    if query:
        pairs = [(k, v) if raw else (quote(k, safe=""), quote(v, safe="")) for k, v in query]
        target += "?" + "&".join(f"{k}={v}" for k, v in pairs)
    return target.encode("utf-8", "surrogatepass")


# -- the mirror under test -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed(_fakehub_session, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fuzzed-mirror")
    settings_ = Settings(
        data=str(data_dir),
        upstream=(_fakehub_session.url,),
        port=0,
        upstream_timeout=5.0,
        admin_token="fuzz-admin-token-never-drawn",
    )
    server = MirrorThread(settings_).start()
    client = RawClient("127.0.0.1", server.port)
    yield server, client
    client.close()
    server.stop()


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """A request the mirror choked on may still get an answer: its log tells. (The fake
    hub logs from its own thread; its troubles are upstream trouble.)"""
    caplog.set_level(logging.WARNING)
    yield
    records = caplog.get_records("call")
    errors = [r for r in records if r.levelno >= logging.ERROR and r.threadName == "hubmirror"]
    assert not errors, "\n".join(f"{r.name}: {r.getMessage()}" for r in errors[:5])


def state(data_dir: Path) -> tuple[list[str], dict[str, int]]:
    """What a refused request must not change: stored blobs and the index's file tables."""
    blobs = sorted(str(p) for p in (data_dir / "blobs").rglob("*") if p.is_file())
    conn = sqlite3.connect(f"file:{data_dir / 'index.sqlite'}?mode=ro", uri=True)
    try:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED_TABLES
        }
    finally:
        conn.close()
    return blobs, counts


def send(fuzzed, method: str, target: bytes, headers, body: bytes = b"") -> RawAnswer:
    """One request; asserts the answer is one a Hub client understands and nothing refused
    was written."""
    server, client = fuzzed
    before = state(server.data_dir)
    encoded = [(n.encode(), v.encode("utf-8", "surrogatepass")) for n, v in headers]
    answer = client.request(method, target, encoded, body)
    context = f"{method} {target[:300]!r} {headers!r} -> {answer.status} {answer.body[:300]!r}"
    assert answer.status < 500 or answer.status in UPSTREAM_TROUBLE, context
    if 400 <= answer.status < 500:
        assert answer.headers.get("x-error-code") or answer.headers.get("x-error-message"), context
        if method != "HEAD":
            assert "error" in json.loads(answer.body), context
        if answer.status != 416:  # a Range past the end is asked of a real file: it may learn it
            assert state(server.data_dir) == before, context
    elif answer.status >= 500:
        assert state(server.data_dir)[0] == before[0], context
    return answer


# -- the properties ------------------------------------------------------------------------


@FUZZ
@given(path=PATHS, query=QUERIES, raw=st.booleans(), method=METHODS)
def test_fuzzed_paths_and_queries_get_hub_style_answers(fuzzed, fakehub, path, query, raw, method):
    body = b"paths=config.json" if method == "POST" else b""
    send(fuzzed, method, encode_target(path, query, raw), [], body)


@FUZZ
@given(path=resolve_paths(), headers=HEADERS, method=st.sampled_from(["GET", "HEAD"]))
def test_fuzzed_headers_on_file_requests_get_hub_style_answers(
    fuzzed, fakehub, path, headers, method
):
    send(fuzzed, method, encode_target(path, [], raw=False), headers)


FORM_BODIES = st.one_of(
    st.binary(max_size=200),
    st.lists(st.tuples(st.sampled_from(["paths", "expand"]) | SEGMENT, SEGMENT), max_size=4).map(
        lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()
    ),
)
FORM_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "multipart/form-data", "text/x"]
)


@FUZZ
@given(path=api_paths(), query=QUERIES, headers=HEADERS)
def test_fuzzed_api_requests_get_hub_style_answers(fuzzed, fakehub, path, query, headers):
    send(fuzzed, "GET", encode_target(path, query, raw=False), headers)


@FUZZ
@given(
    repo=_repo_ids(),
    revision=st.sampled_from(["main"]) | SEGMENT,
    body=FORM_BODIES,
    content_type=FORM_TYPES,
)
def test_fuzzed_paths_info_forms_get_hub_style_answers(
    fuzzed, fakehub, repo, revision, body, content_type
):
    target = encode_target(f"/api/models/{repo}/paths-info/{revision}", [], raw=False)
    send(fuzzed, "POST", target, [("Content-Type", content_type)], body)


@FUZZ
@given(
    revision=SEGMENT,
    name=st.sampled_from(["config.json", "model.safetensors", "missing.bin"]),
    headers=HEADERS,
)
def test_fuzzed_revisions_of_a_real_repo_get_hub_style_answers(
    fuzzed, fakehub, revision, name, headers
):
    target = encode_target(f"/acme/tiny-bert/resolve/{revision}/{name}", [], raw=False)
    send(fuzzed, "GET", target, headers)
