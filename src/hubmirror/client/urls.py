"""URLs of the client side: endpoints, mirror rewrites and the Hub paths a download uses.

Pure functions. An *endpoint* is what ``HF_ENDPOINT`` holds: a scheme, a host and an
optional path prefix, never a trailing slash (datasets mangles URLs that end in one).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hubmirror.hub.routes import api_path, encode_revision, resolve_path
from hubmirror.types import RepoId

HUB_ENDPOINT = "https://huggingface.co"
HUB_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})


def normalize_endpoint(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash, or ValueError."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http(s) URL such as http://mirror.example:8080")
    if parts.query or parts.fragment:
        raise ValueError(f"'{url}': an endpoint has no query or fragment")
    return text.rstrip("/")


def mirror_url(url: str, mirror: str) -> str:
    """The same Hub URL on ``mirror``: path and query kept, the mirror's prefix in front.

    ``mirror_url("https://huggingface.co/acme/bert/resolve/main/config.json",
    "http://mirror:8080/hf")`` gives ``http://mirror:8080/hf/acme/bert/resolve/main/config.json``.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in HUB_HOSTS:
        raise ValueError(
            f"'{url}' is not a Hugging Face Hub URL: only URLs on "
            f"{', '.join(sorted(HUB_HOSTS))} can be rewritten onto a mirror"
        )
    rewritten = normalize_endpoint(mirror) + (parts.path or "/")
    if parts.query:
        rewritten += "?" + parts.query
    if parts.fragment:
        rewritten += "#" + parts.fragment
    return rewritten


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port): who may receive the token sent to ``url``."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


def follow(current: str, location: str) -> str:
    """Where a redirect or a ``Link`` goes; relative values are taken from ``current``."""
    return urljoin(current, location)


def revision_url(endpoint: str, repo: RepoId, revision: str) -> str:
    """``GET`` it for the commit a revision points at (``sha`` in the answer)."""
    return endpoint + api_path(repo, "revision", encode_revision(revision))


def tree_url(endpoint: str, repo: RepoId, commit: str) -> str:
    """The first page of the recursive listing at a commit, as snapshot_download asks it."""
    return endpoint + api_path(repo, "tree", commit) + "?recursive=true&expand=false"


def file_url(endpoint: str, repo: RepoId, commit: str, path: str) -> str:
    return endpoint + resolve_path(repo, commit, path)
