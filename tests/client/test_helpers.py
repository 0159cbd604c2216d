"""The Python helpers: mirror_url, use_mirror, fastest_mirror, load_with_fallback.

Whatever touches huggingface_hub's state (``use_mirror``) runs in a fresh interpreter: the
switch is process-wide, exactly what must not leak between tests.
"""

from __future__ import annotations

import json

import pytest

from hubmirror.client import NoMirrorAnswered, fastest_mirror, load_with_fallback, mirror_url
from hubmirror.client.fallback import is_unreachable
from tests.client.support import run_python
from tests.e2e.conftest import assert_clients_only_talked_to_the_mirror
from tests.support.clients import ClientFailed
from tests.support.ports import dead_url

pytestmark = pytest.mark.timeout(120)


def _emitted(proc) -> object:
    if proc.returncode != 0:
        raise ClientFailed(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-6000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# mirror_url ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "mirror", "expected"),
    [
        (
            "https://huggingface.co/acme/bert/resolve/main/config.json",
            "http://mirror:8080",
            "http://mirror:8080/acme/bert/resolve/main/config.json",
        ),
        (
            "https://hf.co/datasets/acme/squad/resolve/main/a%20b.csv?download=true",
            "http://mirror:8080/",
            "http://mirror:8080/datasets/acme/squad/resolve/main/a%20b.csv?download=true",
        ),
        (
            "https://huggingface.co/api/models/acme/bert/tree/main?recursive=true",
            "https://proxy.example/hf/",
            "https://proxy.example/hf/api/models/acme/bert/tree/main?recursive=true",
        ),
        ("http://HuggingFace.co", "http://m", "http://m/"),
    ],
)
def test_mirror_url_keeps_path_and_query_under_the_mirror(url, mirror, expected):
    assert mirror_url(url, mirror) == expected


@pytest.mark.parametrize(
    "url", ["https://example.com/acme/bert", "ftp://huggingface.co/x", "huggingface.co/acme/bert"]
)
def test_mirror_url_refuses_urls_that_are_not_the_hub(url):
    with pytest.raises(ValueError, match="not a Hugging Face Hub URL"):
        mirror_url(url, "http://mirror:8080")


def test_mirror_url_refuses_a_mirror_that_is_not_a_url():
    with pytest.raises(ValueError, match="not an http"):
        mirror_url("https://huggingface.co/acme/bert", "mirror:8080")


def test_importing_the_client_loads_no_http_library(tmp_path):
    proc = run_python(
        """
import sys
import hubmirror.client
emit(sorted(m for m in ("aiohttp", "huggingface_hub", "hubmirror.server") if m in sys.modules))
""",
        tmp_path,
    )
    assert _emitted(proc) == []


# use_mirror ---------------------------------------------------------------------------

AFTER_IMPORT = """
import os
import huggingface_hub
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, model_info, snapshot_download
from hubmirror.client import use_mirror

use_mirror({mirror!r})
config = hf_hub_download("acme/tiny-bert", "config.json")
snapshot = snapshot_download("acme/tiny-bert")
emit({{
    "env": os.environ["HF_ENDPOINT"],
    "config": open(config, "rb").read().decode(),
    "snapshot": sorted(os.listdir(snapshot)),
    "sha": HfApi().model_info("acme/tiny-bert").sha,
    "default_api_sha": model_info("acme/tiny-bert").sha,
    "ls": sorted(e["name"] for e in HfFileSystem().ls("acme/tiny-bert", detail=True)),
}})
"""


def test_use_mirror_after_import_sends_every_call_to_the_mirror(mirror, fakehub, tmp_path):
    # The process starts pointed at the fake hub itself: any call use_mirror missed would
    # reach it with a huggingface_hub user agent.
    proc = run_python(
        AFTER_IMPORT.format(mirror=mirror.url), tmp_path, env={"HF_ENDPOINT": fakehub.url}
    )
    answer = _emitted(proc)
    commit = fakehub.commit_of("model", "acme/tiny-bert", "main")
    assert answer["env"] == mirror.url
    assert answer["config"].encode() == fakehub.file_bytes(
        "model", "acme/tiny-bert", "main", "config.json"
    )
    assert "model.safetensors" in answer["snapshot"]
    assert answer["sha"] == answer["default_api_sha"] == commit
    assert "acme/tiny-bert/config.json" in answer["ls"]
    assert fakehub.log  # the cold mirror fetched from upstream...
    assert_clients_only_talked_to_the_mirror(fakehub)  # ...and only the mirror did


CAPTURED = """
import os, sys, types
import huggingface_hub.constants as constants
from hubmirror.client import EndpointCaptured, use_mirror

{setup}
try:
    use_mirror("http://mirror.example:8080")
except EndpointCaptured as exc:
    env = os.environ.get("HF_ENDPOINT")
    emit({{"error": str(exc), "endpoint": constants.ENDPOINT, "env": env}})
"""


def test_use_mirror_changes_nothing_when_a_copy_cannot_be_changed(tmp_path):
    setup = (
        'copy = types.ModuleType("transformers.some_plugin")\n'
        "copy.HUB_URL = constants.ENDPOINT\n"
        "sys.modules[copy.__name__] = copy\n"
    )
    proc = run_python(
        CAPTURED.format(setup=setup), tmp_path, env={"HF_ENDPOINT": "http://old.example:1"}
    )
    answer = _emitted(proc)
    assert "transformers.some_plugin.HUB_URL" in answer["error"]
    assert "before importing huggingface_hub" in answer["error"]
    assert answer["endpoint"] == answer["env"] == "http://old.example:1"


def test_use_mirror_refuses_in_staging_mode(tmp_path):
    proc = run_python(CAPTURED.format(setup=""), tmp_path, env={"HUGGINGFACE_CO_STAGING": "1"})
    assert "HUGGINGFACE_CO_STAGING" in _emitted(proc)["error"]


# fastest_mirror -----------------------------------------------------------------------


def test_fastest_mirror_orders_by_latency_and_drops_dead_ones(shared_mirror, fakehub):
    fakehub.faults.latency = 0.3
    dead = dead_url()
    assert fastest_mirror([fakehub.url, dead, shared_mirror.url + "/"]) == [
        shared_mirror.url,
        fakehub.url,
    ]


def test_fastest_mirror_lists_every_error_when_none_answers():
    first, second = dead_url(), dead_url()
    with pytest.raises(NoMirrorAnswered) as caught:
        fastest_mirror([first, second], timeout=2)
    assert [mirror for mirror, _ in caught.value.failures] == [first, second]
    assert "ConnectionRefusedError" in str(caught.value)


# load_with_fallback -------------------------------------------------------------------

TRANSFORMERS_FALLBACK = """
import os
from transformers import AutoConfig
from hubmirror.client import load_with_fallback

config = load_with_fallback(AutoConfig.from_pretrained, "acme/tiny-bert", mirrors={mirrors!r})
emit({{"layers": config.num_hidden_layers, "endpoint": os.environ["HF_ENDPOINT"]}})
"""


def test_load_with_fallback_skips_a_dead_mirror(mirror, fakehub, tmp_path):
    code = TRANSFORMERS_FALLBACK.format(mirrors=[dead_url(), mirror.url])
    answer = _emitted(run_python(code, tmp_path, env={"HF_ENDPOINT": fakehub.url}))
    assert answer == {"layers": 2, "endpoint": mirror.url}
    assert_clients_only_talked_to_the_mirror(fakehub)


REFUSAL = """
from transformers import AutoConfig
from hubmirror.client import load_with_fallback
try:
    load_with_fallback(AutoConfig.from_pretrained, "acme/no-such-repo", mirrors={mirrors!r})
except Exception as exc:
    emit(type(exc).__name__)
"""


def test_load_with_fallback_raises_a_refusal_at_once(shared_mirror, tmp_path):
    code = REFUSAL.format(mirrors=[shared_mirror.url, dead_url()])
    assert _emitted(run_python(code, tmp_path)) == "OSError"  # transformers' "not a valid model"


FLAKY_LOADER = """
import os
from huggingface_hub.errors import LocalEntryNotFoundError
from hubmirror.client import load_with_fallback

seen = []
def loader(name):
    seen.append(os.environ["HF_ENDPOINT"])
    if len(seen) == 1:
        raise OSError("We couldn't connect") from LocalEntryNotFoundError("unreachable")
    return name
emit({{"result": load_with_fallback(loader, "x", mirrors={mirrors!r}), "seen": seen}})
"""


def test_load_with_fallback_moves_on_after_an_outage_of_the_loader(
    shared_mirror, fakehub, tmp_path
):
    code = FLAKY_LOADER.format(mirrors=[fakehub.url, shared_mirror.url])
    assert _emitted(run_python(code, tmp_path)) == {
        "result": "x",
        "seen": [fakehub.url, shared_mirror.url],
    }


def test_load_with_fallback_lists_every_mirror_when_all_fail():
    first, second = dead_url(), dead_url()
    with pytest.raises(NoMirrorAnswered) as caught:
        load_with_fallback(lambda: "never called", mirrors=[first, second])
    assert [mirror for mirror, _ in caught.value.failures] == [first, second]


def _hub_error(status: int):
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    response = httpx2.Response(status, request=httpx2.Request("GET", "http://mirror/x"))
    return HfHubHTTPError(f"{status}", response=response)


@pytest.mark.parametrize(
    ("make", "unreachable"),
    [
        (lambda: ConnectionRefusedError(111, "refused"), True),
        (lambda: _hub_error(503), True),
        (lambda: _hub_error(429), True),
        (lambda: _hub_error(403), False),
        (lambda: _hub_error(404), False),
        (lambda: ValueError("a bug in the loader"), False),
    ],
)
def test_outages_are_told_from_answers(make, unreachable):
    assert is_unreachable(make()) is unreachable


def test_a_wrapped_refusal_is_still_an_answer():
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        try:
            raise RepositoryNotFoundError("missing", response=_hub_error(404).response)
        except RepositoryNotFoundError as inner:
            raise OSError(
                "acme/x is not a local folder and is not a valid model identifier"
            ) from inner
    except OSError as outer:
        assert not is_unreachable(outer)
