"""Domain errors. They carry facts, never HTTP; ``server.errors`` maps them to responses.

::

    HubMirrorError
    ├── InvalidInput                 malformed request (repo id, revision, path, Range)
    │   ├── RangeNotSatisfiable      a Range that starts past the end of the file
    │   └── RequestTimeout           a request body that did not arrive in time
    ├── NoSuchRoute                  a URL the mirror does not serve
    ├── HubRefusal                   the Hub's own "no", reproduced exactly for the caller
    │   ├── RepoNotFound             missing or private repo
    │   ├── GatedRepo                gated repo the caller has not been granted
    │   ├── RevisionNotFound         branch, tag or sha unknown in that repo
    │   ├── EntryNotFound            no such file at that commit (final for clients)
    │   ├── InvalidCredentials       the caller's token was refused
    │   ├── DisabledRepo             the repo was disabled upstream
    │   └── Forbidden                any other 403
    ├── NotAllowed                   the mirror's own rules refuse the repo (deny/allow lists)
    │   └── AwaitingApproval         approval mode: asked for, waiting for an operator
    ├── UpstreamUnavailable          no upstream could answer: never a "not found"
    │   ├── UpstreamTimeout          silence past the deadline
    │   ├── LinkExpired              a CDN link refused us (expired signature): ask for a new one
    │   ├── UpstreamRateLimited      429, with the wait upstream asked for
    │   └── StoreUnavailable         the object store (S3) cannot be reached or fails
    │       └── StoreMisconfigured   no such bucket, refused credentials: an operator must act
    ├── IntegrityError               fetched bytes do not match their announced hash or size
    ├── BlobMissing                  the object store has no object for a digest (refill it)
    ├── StorageFull                  no room on disk for a new fill
    ├── IndexUnavailable             the shared index database (PostgreSQL) cannot be reached
    ├── RedirectRefused              an upstream redirected to a host not on the allow-list
    └── TooManyRequests              a client passed its request rate or concurrent-fill limit

An outage is always an ``UpstreamUnavailable``: clients treat 5xx as "use your
cache" but remember a 404 EntryNotFound forever, so mixing them up would poison
every client cache downstream.
"""

from __future__ import annotations


class HubMirrorError(Exception):
    """Base of every error the mirror raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(HubMirrorError):
    """A malformed request: nothing is fetched or written for it."""


class RangeNotSatisfiable(InvalidInput):
    def __init__(self, size: int) -> None:
        super().__init__(f"Requested range not satisfiable (file size {size})")
        self.size = size


class RequestTimeout(InvalidInput):
    """A client sent part of a request body and then too little: its connection is let go
    rather than held open for ever."""


class NoSuchRoute(HubMirrorError):
    """A path the mirror does not serve at all."""


class HubRefusal(HubMirrorError):
    """The Hub said no; ``authenticated`` decides 401 vs 403/404 as the Hub does."""

    def __init__(self, message: str, *, authenticated: bool = False) -> None:
        super().__init__(message)
        self.authenticated = authenticated


class RepoNotFound(HubRefusal):
    pass


class GatedRepo(HubRefusal):
    pass


class RevisionNotFound(HubRefusal):
    pass


class EntryNotFound(HubRefusal):
    """No such file or folder; ``commit`` lets clients remember the miss per commit."""

    def __init__(self, message: str, *, commit: str | None = None, authenticated: bool = False):
        super().__init__(message, authenticated=authenticated)
        self.commit = commit


class InvalidCredentials(HubRefusal):
    pass


class DisabledRepo(HubRefusal):
    pass


class Forbidden(HubRefusal):
    pass


class NotAllowed(HubMirrorError):
    """This mirror does not serve the repo: a deny pattern, the allow list, an operator."""


class AwaitingApproval(NotAllowed):
    """Approval mode: the request was recorded and waits for ``hubmirror approve``."""


class UpstreamUnavailable(HubMirrorError):
    """Every upstream failed at the transport level or with a 5xx."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamTimeout(UpstreamUnavailable):
    pass


class UpstreamUnreachable(UpstreamUnavailable):
    """No connection to an upstream at all: its name does not resolve, it refuses, the TLS
    handshake fails, or the connection is not made in time.

    Unlike a 5xx this rarely clears within seconds, so clients are told to retry soon and
    give up soon (``retry_after`` is short); the message names the host and the cause.
    """


class UpstreamSilent(UpstreamTimeout, UpstreamUnreachable):
    """An upstream took the connection and sent no answer in time: a 504, and as good as
    unreachable (asking it again at once would make every client wait as long)."""


class MirrorOffline(UpstreamUnavailable):
    """The mirror is offline on purpose and does not hold what was asked.

    Not an outage that clears by waiting: nothing comes until an operator adds the thing
    (sync on a connected mirror, then import) or turns offline mode off, so clients are
    told at once, never invited to retry, and never told the thing does not exist.
    """

    named = False  # says what it lacks (``lacking``), rather than "this"

    @classmethod
    def lacking(cls, what: str) -> MirrorOffline:
        exc = cls(
            f"this mirror is offline (--offline, or switched by its admin) and does not hold "
            f"{what}; to add it, run `hubmirror sync` and `hubmirror export` on a connected "
            f"mirror, then `hubmirror import` the bundle here"
        )
        exc.named = what != "this"
        return exc


class UpstreamRateLimited(UpstreamUnavailable):
    pass


class LinkExpired(UpstreamUnavailable):
    pass


class StoreUnavailable(UpstreamUnavailable):
    """The object store did not answer or failed (5xx, throttling, broken stream).

    An outage like an upstream's: clients see a 503 and use their cache, never a 404.
    """


class StoreMisconfigured(StoreUnavailable):
    """The object store answered but cannot serve us: missing bucket, refused credentials."""


class IntegrityError(HubMirrorError):
    """Bytes whose hash or size differ from what the Hub announced; they are thrown away."""


class BlobMissing(HubMirrorError):
    """The object store has no object for a digest: the index and the store disagree.

    Not a "not found" for clients (the file exists upstream): the mirror refills it.
    """

    def __init__(self, message: str, *, digest: str) -> None:
        super().__init__(message)
        self.digest = digest


class StorageFull(HubMirrorError):
    """The data directory has no room for a new blob; cached ones keep being served."""


class IndexUnavailable(HubMirrorError):
    """The shared index database is unreachable, or its connection broke mid-transaction."""


class RedirectRefused(HubMirrorError):
    """An upstream pointed the mirror at a host off the redirect allow-list: not followed.

    Not an outage of that upstream (its breaker stays closed), and never a "not found".
    """

    def __init__(self, message: str, *, host: str | None = None) -> None:
        super().__init__(message)
        self.host = host


class TooManyRequests(HubMirrorError):
    """A client address passed its request rate or its concurrent-fill limit; retry later."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
