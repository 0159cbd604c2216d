"""What fuzzing found, kept as explicit cases: each got a 500, an error log or a leak before."""

from __future__ import annotations

import json
import logging

import pytest

from tests.hardening.rawhttp import RawClient

CONFIG = b"/acme/tiny-bert/resolve/main/config.json"
PATHS_INFO = b"/api/models/acme/tiny-bert/paths-info/main"
TREE = b"/api/models/acme/many-files/tree/main?recursive=true"
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


def _ask(server, method: str, target: bytes, headers=(), body: b"" = b""):
    client = RawClient("127.0.0.1", server.port)
    try:
        return client.request(method, target, list(headers), body)
    finally:
        client.close()


def _mirror_errors(caplog) -> list[str]:
    """ERROR records of the mirror's own thread (the fake hub logs from another)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.threadName == "hubmirror"
    ]


def test_a_bad_header_line_is_refused_without_quoting_the_token_in_it(mirror, fakehub, caplog):
    caplog.set_level(logging.DEBUG)
    secret = b"hf_SecretInABrokenHeader42"
    answer = _ask(mirror, "GET", CONFIG, [(b"Authorization", b"Bearer " + secret + b"\x01")])
    assert (answer.status, answer.headers["x-error-code"]) == (400, "BadRequest")
    assert json.loads(answer.body)["error"].startswith("Malformed request:")
    assert secret not in answer.body and secret.decode() not in str(answer.headers)
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert secret.decode() not in logged
    assert fakehub.log == []


def test_a_request_the_parser_refuses_is_logged_and_counted_without_errors(mirror, caplog):
    caplog.set_level(logging.INFO)
    answer = _ask(mirror, "GET", b"/acme/tiny\x01bert/resolve/main/config.json")
    assert (answer.status, answer.headers["x-error-code"]) == (400, "BadRequest")
    metrics = _ask(mirror, "GET", b"/metrics").body.decode()  # after the 400 was logged
    assert 'status="400"' in metrics
    access = [r.getMessage() for r in caplog.records if r.name == "hubmirror.access"]
    assert any(" 400 " in line for line in access)
    assert _mirror_errors(caplog) == []


@pytest.mark.parametrize(
    "value", [b"Bearer \xed\xa0\x80", b"Bearer \xff\xfe", b"Bearer hf_\xc3\xa9", b"\x80"]
)
def test_an_authorization_that_is_no_ascii_token_is_refused_like_a_wrong_token(
    mirror, fakehub, caplog, value
):
    answer = _ask(mirror, "GET", CONFIG, [(b"Authorization", value)])
    assert answer.status == 401
    assert answer.headers["x-error-message"] == INVALID_CREDENTIALS
    assert fakehub.log == []  # nothing that could not be sent on is sent on
    assert _mirror_errors(caplog) == []


def test_admin_routes_refuse_an_undecodable_authorization(make_mirror, caplog):
    server = make_mirror(admin_token="admin-secret")
    answer = _ask(server, "GET", b"/admin/offline", [(b"Authorization", b"Bearer \xff")])
    assert answer.status == 401
    assert _mirror_errors(caplog) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (b"application/x-www-form-urlencoded", b"\x00"),  # a field name no header may carry
        (b"application/x-www-form-urlencoded", b"paths=\xdb"),  # not UTF-8
        (b"multipart/form-data", b"paths=config.json"),  # no boundary
    ],
)
def test_paths_info_without_a_text_form_is_400(mirror, fakehub, caplog, content_type, body):
    answer = _ask(mirror, "POST", PATHS_INFO, [(b"Content-Type", content_type)], body)
    assert (answer.status, answer.headers["x-error-code"]) == (400, "BadRequest")
    assert "paths-info" in json.loads(answer.body)["error"]
    assert not [e for e in fakehub.log if "paths-info" in e.target]
    assert _mirror_errors(caplog) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"X-Forwarded-Host", b'a>; rel="x", <http://evil.example'),
        (b"X-Forwarded-Host", b"\xc3\xa9vil.example"),
        (b"X-Forwarded-Proto", b"javascript"),
        (b"Host", b"evil.example/x"),
    ],
)
def test_a_forged_host_never_reaches_a_link_header(mirror, fakehub, name, value):
    answer = _ask(mirror, "GET", TREE, [(name, value)])
    assert (answer.status, answer.headers["x-error-code"]) == (400, "BadRequest")
    assert "link" not in answer.headers
    assert fakehub.log == []


def test_forwarded_host_and_proto_of_a_proxy_make_the_link(mirror):
    headers = [(b"X-Forwarded-Host", b"mirror.corp.example:8443"), (b"X-Forwarded-Proto", b"https")]
    answer = _ask(mirror, "GET", TREE, headers)
    assert answer.status == 200
    assert answer.headers["link"].startswith("<https://mirror.corp.example:8443/api/models/")
