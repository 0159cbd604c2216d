"""The client's address, also behind a reverse proxy the operator trusts.

Rate limits, fill limits, the audit log and approval requests are per client
address. Behind nginx every request comes from the proxy; the proxy's
``X-Forwarded-For`` names the real client — but anyone can send that header, so it
is read only when the request really comes from a proxy in ``trusted_proxies``, and
only up to the first hop that is not one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.1``, ``10.0.0.0/8``, ``::1`` → networks; ``ValueError`` names a bad one."""
    networks = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {text!r}") from None
    return tuple(networks)


def client_address(remote: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """``remote``, or — when it is a trusted proxy — the nearest untrusted forwarded hop."""
    if not trusted or not forwarded_for or not _is_trusted(remote, trusted):
        return remote
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        if not _is_ip(hop):
            return remote  # a forged or garbled chain: keep what we know for sure
        if not _is_trusted(hop, trusted):
            return hop
    return remote


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
