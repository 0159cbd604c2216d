"""``load_with_fallback``: run any Hub loader against mirrors in turn until one can serve it.

A failure counts as "this mirror could not serve" when it is about reaching the mirror:
connection errors, timeouts, 5xx/408/429 answers, and huggingface_hub's
``LocalEntryNotFoundError`` (what it raises when the endpoint was unreachable and nothing
was cached). transformers and datasets wrap those in a plain ``OSError``; the whole
exception chain is looked at, so their wrapping changes nothing.

A refusal is an answer, not an outage: a missing repo, revision or file, a gated repo or a
bad token would be answered the same by every mirror, so it is raised at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from hubmirror.client.errors import NoMirrorAnswered
from hubmirror.client.probe import DEFAULT_TIMEOUT, describe, probe_problem
from hubmirror.client.switch import use_mirror

T = TypeVar("T")

# huggingface_hub's refusals (class names, so nothing has to be imported to recognise them).
ANSWER_ERRORS = frozenset(
    {
        "RepositoryNotFoundError",
        "GatedRepoError",
        "RevisionNotFoundError",
        "RemoteEntryNotFoundError",
        "DisabledRepoError",
        "BadRequestError",
        "DatasetNotFoundError",
    }
)
UNREACHABLE_ERRORS = frozenset({"LocalEntryNotFoundError", "OfflineModeIsEnabled"})
RETRYABLE_STATUS = frozenset({408, 429})


def load_with_fallback(
    loader: Callable[..., T], *args: Any, mirrors: list[str], **kwargs: Any
) -> T:
    """``loader(*args, **kwargs)`` through the first of ``mirrors`` that can serve it.

    For each mirror in order: a quick probe (a dead mirror is skipped in milliseconds instead
    of after huggingface_hub's ~25 s of retries), then ``use_mirror(mirror)`` and the loader.
    On an outage-type failure the next mirror is tried; a refusal is raised as it is. The
    process stays switched to the mirror that served. Raises :class:`NoMirrorAnswered`
    listing every mirror's failure when none could serve.
    """
    if not mirrors:
        raise ValueError("load_with_fallback needs at least one mirror (mirrors=[...])")
    failures: list[tuple[str, str]] = []
    for mirror in mirrors:
        problem = probe_problem(mirror, DEFAULT_TIMEOUT)
        if problem is not None:
            failures.append((mirror, problem))
            continue
        use_mirror(mirror)
        try:
            return loader(*args, **kwargs)
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            failures.append((mirror, _innermost(exc)))
    name = getattr(loader, "__qualname__", repr(loader))
    raise NoMirrorAnswered(f"{name} could not be served", failures)


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) means the mirror could not be reached or failed."""
    chain = list(_chain(exc))
    if any(_is_answer(e) for e in chain):
        return False
    return any(_is_outage(e) for e in chain)


def _is_answer(exc: BaseException) -> bool:
    if any(cls.__name__ in ANSWER_ERRORS for cls in type(exc).__mro__):
        return True
    status = _status_of(exc)
    return status is not None and 400 <= status < 500 and status not in RETRYABLE_STATUS


def _is_outage(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & UNREACHABLE_ERRORS or isinstance(exc, OSError):  # TimeoutError is one
        return True
    if "TransportError" in names and type(exc).__module__.startswith("httpx"):
        return True  # httpx / httpx2 connect, read and protocol errors
    status = _status_of(exc)
    return status is not None and (status >= 500 or status in RETRYABLE_STATUS)


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status of a huggingface_hub ``HfHubHTTPError``, if it carries a response."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _innermost(exc: BaseException) -> str:
    """The first line of the outer error, with the root cause that explains it."""
    *_, root = _chain(exc)
    outer = describe(exc).splitlines()[0]
    return outer if root is exc else f"{outer} (caused by {describe(root).splitlines()[0]})"
