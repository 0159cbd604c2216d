"""Is a mirror alive, and how far away is it? One cheap request tells.

The probe asks ``GET /api/agent-harnesses``: every huggingface_hub process asks it too, so
huggingface.co and any Hub-compatible mirror answer it at once and from memory, without
touching an upstream. Any HTTP answer, even an error status, means "alive"; only a
connection that fails or stays silent past the timeout means "unreachable".

Plain ``urllib`` in threads: no event loop is needed, so this works from notebooks and
scripts alike, and proxies from the environment apply as they do for huggingface_hub.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from hubmirror import __version__
from hubmirror.client.errors import NoMirrorAnswered
from hubmirror.client.urls import normalize_endpoint

PROBE_PATH = "/api/agent-harnesses"
DEFAULT_TIMEOUT = 5.0
USER_AGENT = f"hubmirror/{__version__} (probe)"


def probe(url: str, timeout: float = DEFAULT_TIMEOUT) -> float:
    """Seconds one request to ``url`` took; raises ``OSError`` when it did not answer."""
    started = time.monotonic()
    probe_status(url, timeout)
    return time.monotonic() - started


def probe_status(url: str, timeout: float = DEFAULT_TIMEOUT) -> int:
    """The HTTP status ``url`` answered the probe with; ``OSError`` when it did not answer."""
    request = urllib.request.Request(
        normalize_endpoint(url) + PROBE_PATH, headers={"User-Agent": USER_AGENT}, method="GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as answer:
        answer.close()  # an error status is still an answer: the server is alive
        return answer.code


def probe_problem(url: str, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """``None`` if ``url`` answers, else a one-line reason."""
    try:
        probe(url, timeout)
    except (OSError, ValueError) as exc:
        return describe(exc)
    return None


def fastest_mirror(urls: list[str], timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """The mirrors that answer, fastest first; unreachable ones are left out.

    All are probed at once, so this takes at most ``timeout`` seconds. Raises
    :class:`NoMirrorAnswered`, listing each mirror's error, when none answers.
    """
    endpoints = [normalize_endpoint(url) for url in urls]
    if not endpoints:
        raise ValueError("fastest_mirror needs at least one mirror URL")
    with ThreadPoolExecutor(max_workers=min(len(endpoints), 16)) as pool:
        outcomes = list(pool.map(lambda url: _timed(url, timeout), endpoints))
    alive = sorted((seconds, i) for i, (seconds, _) in enumerate(outcomes) if seconds is not None)
    if not alive:
        failures = [
            (url, problem or "") for url, (_, problem) in zip(endpoints, outcomes, strict=True)
        ]
        raise NoMirrorAnswered("no mirror is reachable", failures)
    return [endpoints[i] for _, i in alive]


def _timed(url: str, timeout: float) -> tuple[float | None, str | None]:
    try:
        return probe(url, timeout), None
    except (OSError, ValueError) as exc:
        return None, describe(exc)


def describe(exc: BaseException) -> str:
    """``ConnectionRefusedError: [Errno 111] Connection refused``, without urllib's wrapping."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    text = str(exc) or "no details"
    return f"{type(exc).__name__}: {text}"
