"""What an offline mirror says it lacks: the thing asked for, named, and how to add it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hubmirror.errors import MirrorOffline
from hubmirror.hub.statuses import RelayedOffline


@contextlib.contextmanager
def naming(what: str) -> Iterator[None]:
    """Turn the upstream pool's "offline, does not hold this" into one that names ``what``
    (a mirror upstream's own offline answer is passed on as it said it)."""
    try:
        yield
    except MirrorOffline as exc:
        if isinstance(exc, RelayedOffline):
            raise
        raise MirrorOffline.lacking(what) from None
