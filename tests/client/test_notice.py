"""``mirror_notice()``: the line an app shows about where its downloads come from, over HTTP."""

from __future__ import annotations

import socket

import pytest

from hubmirror.client import mirror_notice
from tests.support.clients import run_client
from tests.support.ports import dead_url

pytestmark = pytest.mark.timeout(120)

NOT_ANSWERING = "— downloads fail until it is back; files already downloaded still load"


def _not_answering(url: str, why: str) -> str:
    return f"Mirror configured but not answering: {url} ({why}) {NOT_ANSWERING}"


USE_MIRROR_LATER = """
import huggingface_hub
from hubmirror.client import mirror_notice, use_mirror
before = mirror_notice()
use_mirror({url!r})
emit([before, mirror_notice()])
"""


def test_a_mirror_that_answers_is_enabled(shared_mirror):
    assert mirror_notice(shared_mirror.url + "/") == (
        f"Mirror enabled: {shared_mirror.url} — downloads come from your local mirror"
    )


def test_a_mirror_that_refuses_connections_is_configured_but_not_answering():
    url = dead_url()

    assert mirror_notice(url) == _not_answering(url, "connection refused")


def test_a_mirror_that_stays_silent_is_reported_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"

        notice = mirror_notice(url, timeout=0.3)

    assert notice == _not_answering(url, "no answer within 0.3 s")


def test_a_mirror_answering_errors_is_not_reported_enabled(fakehub):
    fakehub.faults.fail_status, fakehub.faults.fail_count = 502, 1

    notice = mirror_notice(fakehub.url)

    assert notice == _not_answering(fakehub.url, "it answers HTTP 502")
    assert [e.target for e in fakehub.log] == ["/api/agent-harnesses"]


def test_the_notice_follows_the_endpoint_huggingface_hub_uses(shared_mirror, tmp_path):
    """No mirror by default; after ``use_mirror`` (huggingface_hub already imported), enabled."""
    code = USE_MIRROR_LATER.format(url=shared_mirror.url)

    before, after = run_client(code, "https://huggingface.co", tmp_path / "home")

    assert before == "No mirror configured: downloads go to huggingface.co"
    assert after == f"Mirror enabled: {shared_mirror.url} — downloads come from your local mirror"


def test_offline_mode_is_said_before_any_mirror(shared_mirror, tmp_path):
    code = "from hubmirror.client import mirror_notice\nemit(mirror_notice())"

    notice = run_client(code, shared_mirror.url, tmp_path / "home", env={"HF_HUB_OFFLINE": "1"})

    assert notice == (
        "Offline mode (HF_HUB_OFFLINE): no downloads, only files already downloaded load"
    )
