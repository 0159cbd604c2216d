"""A failed connection to an upstream, said in words: which host, and what went wrong.

aiohttp's exceptions name classes ("ClientConnectorDNSError"); an operator reading a log
line, and a user reading the error their download ended with, need the cause as a
sentence ("cannot resolve huggingface.co"). Failing to connect, or getting no answer at
all, becomes ``UpstreamUnreachable``, which clients are told to retry soon and give up on
soon; a connection that broke stays an ordinary outage.
"""

from __future__ import annotations

import ssl

import aiohttp

from hubmirror.errors import UpstreamSilent, UpstreamUnavailable, UpstreamUnreachable

CONNECT_TIMEOUT = 5.0  # seconds to connect (TCP and TLS): a healthy Hub takes well under one
UNREACHABLE_RETRY_AFTER = 1  # seconds: clients then retry 5 times and give up within ~15 s


def connect_timeout(upstream_timeout: float) -> float:
    """Connecting gets less time than a silence between bytes: an upstream that cannot be
    reached must fail clients within their own 10 s metadata timeout."""
    return min(upstream_timeout, CONNECT_TIMEOUT)


def failure(exc: BaseException, host: str, timeout: aiohttp.ClientTimeout) -> UpstreamUnavailable:
    """The domain error for a transport failure talking to ``host`` before its answer's
    headers came (``timeout``: what the session allowed, named in the message)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        within = _within(timeout.sock_connect or timeout.connect)
        return _unreachable(f"no connection to {host}{within} (dropped by a firewall?)")
    if isinstance(exc, TimeoutError):
        return UpstreamSilent(
            f"upstream {host} took the connection but sent no answer{_within(timeout.sock_read)}",
            retry_after=UNREACHABLE_RETRY_AFTER,
        )
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return _unreachable(f"cannot resolve {_bare(host)} (DNS: {_strerror(exc)})")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return _unreachable(f"the TLS certificate of {host} is not trusted: {_reason(exc)}")
    if isinstance(exc, aiohttp.ClientSSLError):
        return _unreachable(f"TLS handshake with {host} failed: {_reason(exc)}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _unreachable(_connect_failure(exc, host))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return UpstreamUnavailable(f"upstream {host} closed the connection without an answer")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamUnavailable(f"upstream {host} broke off the transfer")
    return UpstreamUnavailable(f"upstream {host} failed: {exc.__class__.__name__}: {exc}")


def _within(seconds: float | None) -> str:
    return f" within {seconds:g} s" if seconds else ""


def _unreachable(message: str) -> UpstreamUnreachable:
    return UpstreamUnreachable(message, retry_after=UNREACHABLE_RETRY_AFTER)


def _connect_failure(exc: aiohttp.ClientConnectorError, host: str) -> str:
    cause = exc.os_error
    if isinstance(cause, ConnectionRefusedError):
        return f"{host} refused the connection (nothing listens there?)"
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake with {host} failed: {_reason(exc)}"
    return f"cannot connect to {host}: {_strerror(exc)}"


def _strerror(exc: aiohttp.ClientConnectorError) -> str:
    cause = exc.os_error
    return (cause.strerror if isinstance(cause, OSError) else None) or str(cause) or "failed"


def _reason(exc: aiohttp.ClientConnectorError | aiohttp.ClientSSLError) -> str:
    cause = getattr(exc, "os_error", None) or getattr(exc, "certificate_error", None) or exc
    return getattr(cause, "reason", None) or getattr(cause, "verify_message", None) or str(cause)


def _bare(host: str) -> str:
    """``huggingface.co`` of ``huggingface.co:443``: DNS resolves names, not ports."""
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host
