"""``mirror_notice()``: the one line an app shows its users about where downloads come from.

An app that loads models wants to say so in its UI or log: "Mirror enabled: http://mirror:8080
— downloads come from your local mirror", or "No mirror configured: downloads go to
huggingface.co". The endpoint is the one huggingface_hub uses: its ``constants.ENDPOINT``
once imported (what ``use_mirror`` changes), else ``HF_ENDPOINT``. A configured mirror is
probed once, with a short timeout, so the line also tells when it does not answer, and
why, instead of claiming a mirror that every download will then fail on.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit, urlunsplit

from hubmirror.client.probe import describe, probe_status
from hubmirror.client.urls import HUB_HOSTS, normalize_endpoint

NOTICE_TIMEOUT = 2.0  # seconds: an app's start page must not wait on a dead mirror
_TRUE = ("1", "true", "yes", "on")


def mirror_notice(endpoint: str | None = None, timeout: float = NOTICE_TIMEOUT) -> str:
    """One human line: is a mirror configured, does it answer, where do downloads go.

    ``endpoint``: the endpoint to describe (default: the one huggingface_hub uses).
    Never raises for a bad or dead endpoint: it says so.
    """
    if _offline():
        return "Offline mode (HF_HUB_OFFLINE): no downloads, only files already downloaded load"
    configured = (endpoint if endpoint is not None else _client_endpoint()).strip()
    if not configured or urlsplit(configured).hostname in HUB_HOSTS:
        return "No mirror configured: downloads go to huggingface.co"
    try:
        url = normalize_endpoint(configured)
    except ValueError:
        return f"Mirror misconfigured: {configured!r} is not an http(s) URL — downloads will fail"
    shown = _without_password(url)
    problem = _problem(shown, timeout)
    if problem is None:
        return f"Mirror enabled: {shown} — downloads come from your local mirror"
    return (
        f"Mirror configured but not answering: {shown} ({problem}) — downloads fail until "
        "it is back; files already downloaded still load"
    )


def _client_endpoint() -> str:
    """What huggingface_hub sends requests to: its copy once imported, else the variable."""
    constants = sys.modules.get("huggingface_hub.constants")
    value = getattr(constants, "ENDPOINT", None)
    return value if isinstance(value, str) else os.environ.get("HF_ENDPOINT", "")


def _offline() -> bool:
    constants = sys.modules.get("huggingface_hub.constants")
    value = getattr(constants, "HF_HUB_OFFLINE", None)
    if isinstance(value, bool):
        return value
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def _problem(url: str, timeout: float) -> str | None:
    """``None`` when the mirror answers the probe; else why not, in words."""
    try:
        status = probe_status(url, timeout)
    except (OSError, ValueError) as exc:
        return _reason(exc, url, timeout)
    return None if status < 400 else f"it answers HTTP {status}"


def _reason(exc: BaseException, url: str, timeout: float) -> str:
    cause = getattr(exc, "reason", None)
    cause = cause if isinstance(cause, BaseException) else exc
    if isinstance(cause, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve {urlsplit(url).hostname}"
    return describe(cause)


def _without_password(url: str) -> str:
    """The URL as shown to users: credentials in it stay out of UIs and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
