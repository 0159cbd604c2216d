"""The lookups a resolve plan asks of the mirror: its Xet hashes, its fills, its store mode.

``plan_resolve`` asks them only on the branch that needs them (a HEAD starts no fill,
a small git file asks for no Xet hash); this module answers them from the mirror's
parts, each reached through the one narrow thing it is asked.
"""

from __future__ import annotations

from typing import Protocol

from hubmirror.index.queries import StoredBlob
from hubmirror.mirror.answers.files import FileAnswer
from hubmirror.mirror.answers.resolve_plan import ResolveAsk, ResolveSources
from hubmirror.mirror.fills.state import Fill, FillClaim, FillSource
from hubmirror.types import FileEntry


class XetHashOf(Protocol):
    """The Xet hashes this mirror computed (``XetHashes``)."""

    enabled: bool

    def hash_of(self, blob: StoredBlob | None) -> str | None: ...


class XetOffers(Protocol):
    """Upstream's Xet hashes of files not stored yet (``XetAnnouncements``)."""

    def offer(self, entry: FileEntry, blob: StoredBlob | None) -> str | None: ...

    def for_entry(self, entry: FileEntry) -> str | None: ...


class FillStarts(Protocol):
    """The one fill per blob (``Fills``)."""

    def start(self, source: FillSource, claim: FillClaim | None = None) -> Fill: ...


class StoreMode(Protocol):
    """Whether stored blobs are sent from the object store (``FileAnswers``)."""

    @property
    def streams_from_store(self) -> bool: ...


class MirrorSources:
    """``ResolveSources`` from the mirror's parts."""

    def __init__(
        self, hashes: XetHashOf, offers: XetOffers, fills: FillStarts, store: StoreMode
    ) -> None:
        self.hashes = hashes
        self.offers = offers
        self.fills = fills
        self.store = store

    @property
    def xet_serve(self) -> bool:
        return self.hashes.enabled

    @property
    def from_store(self) -> bool:
        return self.store.streams_from_store

    def xet_hash(self, answer: FileAnswer) -> str | None:
        """The hash computed from the stored blob (an unknown one is computed now, for later
        requests), else upstream's for a file not stored yet: recorded, nothing fetched (the
        reconstruction that wants the bytes starts the fill that checks it)."""
        return self.hashes.hash_of(answer.blob) or self.offers.offer(answer.entry, answer.blob)

    def fill(self, answer: FileAnswer, ask: ResolveAsk) -> Fill:
        """Join the running fill of this blob, or start one with this caller's token (its
        fill claim may refuse a new one, or counts it until it ends)."""
        entry = answer.entry
        announced = self.offers.for_entry(entry)
        auth = ask.caller.upstream_auth
        source = FillSource(answer.repo, answer.commit, entry, auth, announced)
        return self.fills.start(source, ask.limits.fill_claim(ask.caller.address))


class KnownXet:
    """The same sources, with the Xet hash an earlier plan of the request announced: a plan
    made again (the stored file vanished) keeps its headers and records no new offer."""

    def __init__(self, sources: ResolveSources, xet_hash: str | None) -> None:
        self.sources = sources
        self.known = xet_hash
        self.xet_serve = sources.xet_serve
        self.from_store = sources.from_store

    def xet_hash(self, answer: FileAnswer) -> str | None:
        return self.known

    def fill(self, answer: FileAnswer, ask: ResolveAsk) -> Fill:
        return self.sources.fill(answer, ask)
