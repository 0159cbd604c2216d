"""What an offline mirror says it lacks: the thing asked for, named, and how to add it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from hubmirror.errors import MirrorOffline
from hubmirror.hub.statuses import RelayedOffline

# what an offline mirror lacks when it holds a file but may not give it to this caller
CONFIRMATION = (
    "upstream's word that this caller may read {repo} (offline, only tokens upstream "
    "accepted before are served)"
)


@contextlib.contextmanager
def naming(what: Callable[[], str]) -> Iterator[None]:
    """Turn the upstream pool's "offline, does not hold this" into one that names ``what()``;
    one already named (by an inner ``naming``) or said by a mirror upstream passes as it is."""
    try:
        yield
    except MirrorOffline as exc:
        if isinstance(exc, RelayedOffline) or exc.named:
            raise
        raise MirrorOffline.lacking(what()) from None
