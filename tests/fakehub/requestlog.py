"""The request log: one entry per request on either port, filled in as the answer goes out."""

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class LogEntry:
    """One request. `status` is 0 until an answer is chosen (e.g. while hanging);
    `body_bytes` counts response body bytes actually handed to the connection."""

    host: str  # "hub" or "cdn"
    method: str
    target: str  # raw request target, query included
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # request headers, lower-case keys
    body_bytes: int = 0


def total_body_bytes(
    entries: Iterable[LogEntry], host: str | None = None, path_contains: str | None = None
) -> int:
    return sum(
        e.body_bytes
        for e in entries
        if (host is None or e.host == host) and (path_contains is None or path_contains in e.target)
    )
