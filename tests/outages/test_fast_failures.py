"""When upstream cannot help, every client learns it within seconds, and reads why.

Deliberately offline and the thing is not held: one answer, 409 ``MirrorOffline``, that no
client retries, naming what is missing and how to add it. Upstream unreachable: a 503 whose
short ``Retry-After`` makes huggingface_hub give up after five quick retries, naming the host
and the cause. Either way the words also travel as ``X-HF-Warning``, which huggingface_hub
prints even where its own exception says only "check your connection". Neither is ever a
404: the thing exists, this mirror cannot get it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from hubmirror.errors import UpstreamSilent, UpstreamUnreachable
from hubmirror.types import RepoId, RepoType
from hubmirror.upstream.client import HubClient, create_session
from hubmirror.upstream.transport import failure
from tests.support.clients import TINY_BERT, TINY_CSV, client_env, curl_fetch, hf_executable
from tests.support.ports import blackhole, free_port

pytestmark = pytest.mark.timeout(120)

OFFLINE_SAYS = "this mirror is offline"
ADVICE = "`hubmirror import` the bundle here"

CLIENTS = {
    "hf_hub_download": [
        sys.executable,
        "-c",
        "from huggingface_hub import hf_hub_download;"
        f"hf_hub_download({TINY_BERT!r}, 'config.json')",
    ],
    "snapshot_download": [
        sys.executable,
        "-c",
        f"from huggingface_hub import snapshot_download; snapshot_download({TINY_BERT!r})",
    ],
    "hf download": [*hf_executable(), "download", TINY_BERT, "config.json"],
    "from_pretrained": [
        sys.executable,
        "-c",
        f"from transformers import AutoConfig; AutoConfig.from_pretrained({TINY_BERT!r})",
    ],
    "load_dataset": [
        sys.executable,
        "-c",
        f"from datasets import load_dataset; load_dataset({TINY_CSV!r})",
    ],
}


def run(client: str, endpoint: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLIENTS[client],
        env=client_env(endpoint, home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )


def retries(output: str) -> int:
    """How many times huggingface_hub said it would ask again."""
    return sum("before retry" in line or "Retrying in" in line for line in output.splitlines())


@pytest.mark.parametrize("client", list(CLIENTS))
def test_offline_mirror_fails_each_client_at_once_naming_what_it_lacks(
    client, make_mirror, fakehub, tmp_path
):
    server = make_mirror(offline=True)
    fakehub.clear_log()

    proc = run(client, server.url, tmp_path)

    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    lacking = [line for line in output.splitlines() if OFFLINE_SAYS in line]
    assert lacking, output[-3000:]
    repo = TINY_CSV if client == "load_dataset" else TINY_BERT
    assert any(repo in line and ADVICE in line for line in lacking), lacking
    assert retries(output) == 0, output[-3000:]
    assert fakehub.log == []


def test_offline_answer_is_409_without_retry_after_and_never_a_404(make_mirror, fakehub):
    server = make_mirror(offline=True)

    answer = curl_fetch(f"{server.url}/{TINY_BERT}/resolve/main/config.json")
    info = curl_fetch(f"{server.url}/api/models/{TINY_BERT}/tree/main")

    assert (answer.status, answer.headers["x-error-code"]) == (409, "MirrorOffline")
    assert "retry-after" not in answer.headers
    said = answer.headers["x-error-message"]
    assert "does not hold config.json of acme/tiny-bert at main" in said and ADVICE in said
    assert answer.headers["x-hf-warning"] == f"hubmirror; {said}"
    assert info.status == 409
    assert (
        "does not hold the file list of acme/tiny-bert at main" in info.headers["x-error-message"]
    )


def test_unreachable_upstream_fails_hf_hub_download_after_quick_retries_naming_the_cause(
    make_mirror, tmp_path
):
    closed = f"127.0.0.1:{free_port()}"
    server = make_mirror(upstream=(f"http://{closed}",))

    direct = curl_fetch(f"{server.url}/{TINY_BERT}/resolve/main/config.json")
    proc = run("hf_hub_download", server.url, tmp_path)

    said = f"this mirror cannot reach its upstream: {closed} refused the connection"
    assert (direct.status, direct.headers["retry-after"]) == (503, "1")
    assert direct.headers["x-error-message"].startswith(said)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "LocalEntryNotFoundError" in output
    assert said in output
    assert retries(output) == 5  # each after Retry-After + 1 = 2 s: ~10 s, not a minute


def test_transient_upstream_errors_keep_their_longer_retry_after(make_mirror, fakehub):
    fakehub.faults.fail_status = 503
    server = make_mirror()

    answer = curl_fetch(f"{server.url}/{TINY_BERT}/resolve/main/config.json")

    assert (answer.status, answer.headers["x-error-code"]) == (503, "UpstreamUnavailable")
    assert int(answer.headers["retry-after"]) >= 5
    assert "upstream answered 503" in answer.headers["x-error-message"]


class _NoSuchName(aiohttp.abc.AbstractResolver):
    """A resolver that knows no name, as one in a network without DNS."""

    async def resolve(self, host, port=0, family=socket.AF_INET):
        raise OSError(-2, "Name or service not known")

    async def close(self):
        pass


async def _failure_of(base_url: str, session: aiohttp.ClientSession) -> Exception:
    client = HubClient(session, base_url)
    try:
        await client.file_metadata(RepoId(RepoType.MODEL, TINY_BERT), "main", "config.json", None)
    except Exception as exc:  # noqa: BLE001 - the test reads what it became
        return exc
    raise AssertionError("the request did not fail")


async def test_each_way_of_not_reaching_upstream_is_named_in_words(fakehub):
    closed = f"127.0.0.1:{free_port()}"
    plain = fakehub.url.removeprefix("http://")
    no_dns = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_NoSuchName()))
    try:
        with blackhole() as hole_url:
            hole = hole_url.removeprefix("http://")
            async with create_session(timeout=0.5) as session, no_dns:
                refused = await _failure_of(f"http://{closed}", session)
                tls = await _failure_of(f"https://{plain}", session)
                dropped = await _failure_of(hole_url, session)
                dns = await _failure_of("http://hub.example", no_dns)
                fakehub.faults.hang = True
                silent = await _failure_of(fakehub.url, session)
    finally:
        fakehub.faults.hang = False

    assert str(refused) == f"{closed} refused the connection (nothing listens there?)"
    assert str(tls).startswith(f"TLS handshake with {plain} failed: ")
    assert str(dropped) == f"no connection to {hole} within 0.5 s (dropped by a firewall?)"
    assert str(dns) == "cannot resolve hub.example (DNS: Name or service not known)"
    assert str(silent) == f"upstream {plain} took the connection but sent no answer within 0.5 s"
    for exc in (refused, tls, dropped, dns, silent):
        assert isinstance(exc, UpstreamUnreachable) and exc.retry_after == 1
    assert isinstance(silent, UpstreamSilent)


def test_a_connection_error_without_a_known_cause_keeps_its_class_name():
    said = failure(aiohttp.ClientPayloadError("cut"), "hub.example", aiohttp.ClientTimeout())
    assert str(said) == "upstream hub.example broke off the transfer"
