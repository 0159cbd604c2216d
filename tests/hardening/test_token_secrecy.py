"""Tokens callers send, and the organisation's, never show in logs, errors, answers or files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hubmirror.hub.redirects import without_userinfo
from hubmirror.settings import Settings
from tests.support.http import Answer, request
from tests.support.mirror import MirrorThread

CALLER_TOKENS = ("hf_owner", "hf_user", "hf_SecretNobodyKnows0123456789")
ORG_TOKEN = "hf_OrganisationSecret9876543210"
TOKENS = (*CALLER_TOKENS, ORG_TOKEN)

REQUESTS = [
    ("GET", "/acme/tiny-bert/resolve/main/config.json", None),
    ("HEAD", "/acme/tiny-bert/resolve/main/config.json", None),
    ("GET", "/acme/tiny-bert/resolve/main/model.safetensors", None),
    ("GET", "/acme/gated-model/resolve/main/model.safetensors", None),
    ("HEAD", "/acme/private-model/resolve/main/model.safetensors", None),
    ("GET", "/api/models/acme/gated-model", None),
    ("GET", "/api/models/acme/private-model/revision/main", None),
    ("GET", "/api/models/acme/tiny-bert/tree/main?recursive=true", None),
    ("POST", "/api/models/acme/tiny-bert/paths-info/main", b"paths=config.json"),
    ("GET", "/datasets/acme/tiny-csv/resolve/main/data/train.csv", None),
]


def _ask_everything(url: str) -> list[Answer]:
    answers = []
    for token in CALLER_TOKENS:
        for method, target, body in REQUESTS:
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            answers.append(request(method, url + target, headers=headers, body=body))
    return answers


def _text_of(answer: Answer) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    return f"{answer.status}\n{headers}\n{answer.body.decode('latin-1')}"


def _files_under(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.timeout(120)
def test_tokens_appear_in_no_log_answer_or_file_through_outages(
    _fakehub_session, fakehub, tmp_path, caplog
):
    settings = Settings(
        data=str(tmp_path / "data"),
        upstream=(fakehub.url,),
        port=0,
        upstream_timeout=2.0,
        metadata_ttl=0.0,
        upstream_token=ORG_TOKEN,
    )
    for name in ("hubmirror", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    server = MirrorThread(settings).start()
    try:
        answers = _ask_everything(server.url)  # healthy: tokens go upstream, as they must
        fakehub.faults.fail_status = 500
        answers += _ask_everything(server.url)
        fakehub.faults.fail_status = None
        fakehub.go_down()
        answers += _ask_everything(server.url)
    finally:
        fakehub.come_up()
        server.stop()
    statuses = {a.status for a in answers}
    assert {200, 401, 403, 503} <= statuses and 500 not in statuses
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "upstream" in logged and "hubmirror.access" in logged  # outages and requests logged
    texts = [_text_of(a) for a in answers]
    files = _files_under(tmp_path / "data")
    for token in TOKENS:
        assert token not in logged
        assert not [t for t in texts if token in t]
        assert not [name for name, data in files.items() if token.encode() in data]


@pytest.mark.timeout(60)
def test_a_password_in_the_upstream_url_stays_out_of_logs_and_answers(
    _fakehub_session, fakehub, tmp_path, caplog
):
    password = "UpstreamPassw0rdSecret"
    authority = fakehub.url.removeprefix("http://")
    settings = Settings(
        data=str(tmp_path / "data"),
        upstream=(f"http://mirror-user:{password}@{authority}",),
        port=0,
        upstream_timeout=2.0,
    )
    caplog.set_level(logging.DEBUG, logger="hubmirror")
    server = MirrorThread(settings).start()
    try:
        fakehub.go_down()
        answers = [
            request("GET", server.url + target) for _, target, body in REQUESTS if body is None
        ]
    finally:
        fakehub.come_up()
        server.stop()
    assert {a.status for a in answers} <= {503, 504}
    messages = " ".join(a.header("X-Error-Message") for a in answers)
    assert "this mirror cannot reach its upstream" in messages
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{authority} refused the connection" in logged  # the host is named, not the rest
    assert password not in logged
    assert not [a for a in answers if password in _text_of(a)]


def test_urls_are_shown_without_user_info():
    assert (
        without_userinfo("https://u:pw@hub.example:8443/x?y=1") == "https://hub.example:8443/x?y=1"
    )
    assert without_userinfo("https://hub.example/x") == "https://hub.example/x"
