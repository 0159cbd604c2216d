"""Where an upstream redirect may lead: the allow-list and the one check against it.

The mirror follows redirects itself (a ``/resolve/`` 302 to a CDN, a renamed
repo), so a ``Location`` header decides which URL the mirror fetches next. Left
unchecked, an upstream (or whoever sits between us and it) could point the
mirror at any host in its network; so every hop is checked against a short list:
the configured upstreams' hosts, the Hub's own hosts and CDNs, and the hosts the
operator adds (setting ``redirect_hosts``).

A pattern is an exact host (``huggingface.co``) or ``*.`` and a domain
(``*.hf.co``: any subdomain, not the domain itself). Ports are not part of it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

# huggingface.co, hf.co and the CDNs they redirect to: cdn-lfs.huggingface.co,
# cdn-lfs{,-us-1,-eu-1}.hf.co, cas-bridge.xethub.hf.co, transfer.xethub.hf.co.
HUB_HOSTS = ("huggingface.co", "*.huggingface.co", "hf.co", "*.hf.co")

_HOST = re.compile(r"^[a-z0-9._:-]+$")  # names, IPv4 and (unbracketed) IPv6 literals
_MAX_HOST = 253


def redirect_allow_list(upstreams: Iterable[str], extra: Iterable[str] = ()) -> frozenset[str]:
    """Host patterns redirects may lead to: the upstreams' hosts, the Hub's, and ``extra``."""
    patterns = {normalize_pattern(u) for u in upstreams} | set(HUB_HOSTS)
    patterns |= {normalize_pattern(e) for e in extra}
    return frozenset(p for p in patterns if p)


def normalize_pattern(entry: str) -> str:
    """A host or ``*.domain`` in lower case; a URL (``https://cdn.example:8443``) gives its host."""
    entry = entry.strip()
    if "://" in entry:
        entry = urlsplit(entry).hostname or ""
    return entry.lower().rstrip(".")


def redirect_host(url: str) -> str | None:
    """The host ``url`` leads to, or ``None`` when it is no plain http(s) URL.

    Anything two URL parsers might read differently is refused outright: blanks,
    control characters, backslashes, user info (``https://hf.co@evil.example``),
    percent signs or other odd characters in the host, a bad port.
    """
    if any(c <= " " or c in "\\\x7f" for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return None
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host or len(host) > _MAX_HOST or not _HOST.match(host):
        return None
    return host


def without_userinfo(url: str) -> str:
    """``url`` for logs and messages: an upstream given as ``https://user:pw@host`` keeps
    its password out of them."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def host_matches(host: str, pattern: str) -> bool:
    """``host`` is ``pattern``, or a subdomain of ``domain`` for a ``*.domain`` pattern."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def is_allowed_redirect(url: str, allowed_hosts: Collection[str]) -> bool:
    """May the mirror fetch ``url``: an http(s) URL whose host is on ``allowed_hosts``."""
    host = redirect_host(url)
    return host is not None and any(host_matches(host, p) for p in allowed_hosts)
