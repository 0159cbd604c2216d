"""The client side of hubmirror: download from mirrors, and point Python programs at them.

::

    from hubmirror.client import mirror_url, use_mirror, fastest_mirror, load_with_fallback
    from hubmirror.client import mirror_notice

    use_mirror("http://mirror:8080")                # even after huggingface_hub was imported
    mirrors = fastest_mirror(["http://a:8080", "http://b:8080"])
    config = load_with_fallback(AutoConfig.from_pretrained, "acme/bert", mirrors=mirrors)
    print(mirror_notice())                          # "Mirror enabled: http://mirror:8080 — ..."

This package is independent of the server: it speaks the Hub protocol to any endpoint
(hubmirror, another mirror, huggingface.co) and imports nothing of the server side.
Importing it is cheap; each name is loaded on first use (aiohttp only for ``download``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "mirror_url": "hubmirror.client.urls",
    "use_mirror": "hubmirror.client.switch",
    "EndpointCaptured": "hubmirror.client.switch",
    "fastest_mirror": "hubmirror.client.probe",
    "mirror_notice": "hubmirror.client.notice",
    "load_with_fallback": "hubmirror.client.fallback",
    "NoMirrorAnswered": "hubmirror.client.errors",
    "DownloadFailed": "hubmirror.client.errors",
    "download": "hubmirror.client.downloader",
    "DownloadRequest": "hubmirror.client.downloader",
    "DownloadResult": "hubmirror.client.downloader",
}

__all__ = [
    "DownloadFailed",
    "DownloadRequest",
    "DownloadResult",
    "EndpointCaptured",
    "NoMirrorAnswered",
    "download",
    "fastest_mirror",
    "load_with_fallback",
    "mirror_notice",
    "mirror_url",
    "use_mirror",
]

if TYPE_CHECKING:
    from hubmirror.client.downloader import DownloadRequest, DownloadResult, download
    from hubmirror.client.errors import DownloadFailed, NoMirrorAnswered
    from hubmirror.client.fallback import load_with_fallback
    from hubmirror.client.notice import mirror_notice
    from hubmirror.client.probe import fastest_mirror
    from hubmirror.client.switch import EndpointCaptured, use_mirror
    from hubmirror.client.urls import mirror_url


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hubmirror.client' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
