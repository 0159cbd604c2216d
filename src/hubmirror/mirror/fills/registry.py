"""One fill per blob: fetched once, in parallel ranges, streamed to every reader, verified.

A fill splits a large blob into segments fetched concurrently with Range requests
and written at their offsets into one temp file. Readers (the first client and
any that arrive later, GET or Range) read the temp file wherever bytes are
already written and wait for more. A hasher follows the contiguous prefix; when
the last byte is in, hash and size are checked, and only then is the file
renamed into the store and indexed. A mismatch discards the temp file and marks
the fill failed, and every reader aborts its connection: the final byte is held
back until verification, so no client can complete a download of bad bytes.

A dropped segment resumes from its last byte, on the next upstream if its own
keeps failing. The fill runs as its own tasks: a client that goes away does not
cancel it for the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from hubmirror.errors import (
    BlobMissing,
    IntegrityError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.cache.room import NO_QUOTA, Room
from hubmirror.mirror.fills.origins import RETRYABLE, Origin, PeerOrigin, StoreOrigin
from hubmirror.mirror.fills.shared import Shared
from hubmirror.mirror.fills.state import Fill, FillClaim, FillPlan, FillSource, Segment, fill_key
from hubmirror.mirror.fills.writes import ProgressPublisher, SegmentSink, hash_along
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.layout import is_resumable
from hubmirror.storage.locks import FileLock, is_locked
from hubmirror.storage.progress import (
    DONE,
    FAILED,
    RUNNING,
    read_progress,
)
from hubmirror.storage.writer import BlobWriter, Expected
from hubmirror.types import FileEntry
from hubmirror.upstream.peers import PeerRefused
from hubmirror.upstream.pool import BREAKER_RETRY_AFTER

log = logging.getLogger(__name__)

MAX_RESUMES = 8  # consecutive attempts of one segment that bring no new byte (~10 s)
FOLLOW_INTERVAL = 0.02  # seconds between polls of another process's progress
OUTAGE_RETRY_AFTER = BREAKER_RETRY_AFTER  # a fill stopped by an outage: as the breakers say
_SOURCES = {"store": "the object store", "peer": "the node that fetches this file"}


def _ignore(*_args) -> None:
    return None


@dataclass(frozen=True)
class FillEvents:
    """Who hears how fills end: ``filled`` (a blob is stored on this node: answers in
    memory, Xet hashes and the quota learn it), ``shared`` (a blob this node led is in
    the object store and the index), ``xet_refused`` (upstream's announced Xet hash was
    wrong: the offer is withdrawn)."""

    filled: Callable[[FileEntry, StoredBlob], None] = _ignore
    shared: Callable[[StoredBlob], None] = _ignore
    xet_refused: Callable[[str], None] = _ignore


class Fills:
    def __init__(
        self,
        store: BlobStore,
        index: Index,
        upstream: Origin,
        *,
        running: dict[str, Fill],
        clock: Callable[[], float] = time.time,
        events: FillEvents | None = None,
        plan: FillPlan | None = None,
        shared: Shared | None = None,
        xet_hasher: Callable[[Path], str] | None = None,
        room: Room | None = None,
    ) -> None:
        """``upstream``: where a leading fill reads (plain HTTP, or through hf_xet);
        ``running``: this process's fills by key, a map other parts read to leave their
        blobs alone; ``shared``: the object store (and cluster) blobs go to, if any;
        ``xet_hasher``: with xet_serve (and hf_xet), checks upstream's announced hashes;
        ``room``: takes a new fill's disk space (and quota) before its first byte."""
        self.store = store
        self.index = index
        self.upstream = upstream
        self.running = running
        self.clock = clock
        self.events = events or FillEvents()
        self.plan = plan or FillPlan()
        self.shared = shared
        self.xet_hasher = xet_hasher
        self.room = room or Room(NO_QUOTA, store.tmp, self.plan.min_free, disk_evicts=False)
        self.outcomes: Counter[str] = Counter()  # completed / failed / interrupted, for metrics
        self._tasks: set[asyncio.Task] = set()

    def start(self, source: FillSource, claim: FillClaim | None = None) -> Fill:
        """The running fill for this blob (ours or another process's), or a new one.

        ``claim`` is asked only for a new fill this process fetches, before anything is
        fetched: joining a running fill, reading along another process's, or finding
        the blob stored costs the caller nothing.
        """
        key = fill_key(source.entry)
        fill = self.running.get(key)
        if fill is not None:
            return fill
        fill = Fill(key, source, self.store.fill_paths(key), self.plan)
        lock = FileLock.try_acquire(fill.paths.lock)
        if lock is None:  # another process fills it: read along from its temp file
            return self._follow(fill)
        stored = self.index.blob_for(source.entry) or self._unindexed(source.entry)
        if stored is not None and self.store.has(stored.sha256):
            lock.release()  # finished by another process a moment ago
            self.events.filled(source.entry, stored)
            fill.finish(stored, self.store.path_for(stored.sha256))
            return fill
        resumed = False
        try:
            if claim is not None:
                claim(fill)  # may refuse; else counts the fill until it ends
            resumed = _resume(fill)
            self.room.reserve(fill.temp, source.entry.size, fresh=not resumed)
            fill.origin, fill.leader = self._origin(fill, stored)
        except BaseException as exc:
            if not resumed:
                fill.temp.unlink(missing_ok=True)  # its space, if it was taken
            lock.release()
            fill.fail(exc)  # ended before it began: a claim is given back
            raise
        writer = BlobWriter(fill.temp, _expected(source.entry), keep=True)  # room.reserve sized it
        self._announce(fill, source.xet_hash)
        return self._track(fill, self._run(fill, writer, lock))

    def follow_local(self, key: str) -> Fill | None:
        """Join the fill of ``key`` that another worker process on this node runs.

        For another node's request, which may reach any worker (they share the port):
        without one, it would see "no fill here" for as long as the fill runs.
        """
        paths = self.store.fill_paths(key)
        progress = read_progress(paths.progress)
        if progress is None or progress.state != RUNNING or not is_locked(paths.lock):
            return None
        size = progress.segments[-1][1] if progress.segments else 0
        if key.startswith("git-"):  # a regular file, known by its git blob sha1
            entry = FileEntry(key, size, key.removeprefix("git-"), lfs=False)
        else:
            entry = FileEntry(key, size, key, lfs=True, sha256=key)
        fill = Fill(key, FillSource(None, "", entry, None), paths, self.plan)  # no repo: bytes only
        return self._follow(fill)

    def _announce(self, fill: Fill, xet_hash: str | None) -> None:
        """Check upstream's Xet hash in this fill, and tell every process and node so: a
        cold file's Xet client may send its reconstruction and xorb requests to any."""
        fill.xet_check = xet_hash if self.xet_hasher else None
        if fill.xet_check is not None:
            self.index.xet.announce(fill.xet_check, fill.key, fill.size, self.clock())

    def _withdraw(self, fill: Fill) -> None:
        if fill.xet_check is None:
            return
        try:
            self.index.xet.withdraw(fill.xet_check, fill.key)
        except Exception as exc:  # noqa: BLE001 - the row only points at a fill that ended
            log.warning("could not withdraw the Xet announcement of %s: %s", fill.key, exc)

    def _origin(self, fill: Fill, stored: StoredBlob | None) -> tuple[Origin, bool]:
        """Where this fill reads, and whether it leads (fetches upstream, shares the blob).

        In the store already → the store; else the fill's lease decides: this node
        takes it and reads upstream, or reads the node that has it.
        """
        shared = self.shared
        if stored is not None and shared is not None:
            return StoreOrigin(shared.objects, stored.sha256), False
        if shared is None or shared.cluster is None:
            return self.upstream, True
        for _ in range(3):  # the holder may finish between our two questions
            if shared.cluster.lead(fill.key):
                stored = self.index.blob_for(fill.source.entry)
                if stored is None:
                    return self.upstream, True
                shared.cluster.release(fill.key)  # shared a moment ago
                return StoreOrigin(shared.objects, stored.sha256), False
            holder = shared.cluster.holder(fill.key)
            if holder is not None:
                return PeerOrigin(shared.cluster.peers, holder.node, holder.address), False
        raise UpstreamUnavailable("another node keeps taking and leaving this fill; retry")

    def _unindexed(self, entry: FileEntry) -> StoredBlob | None:
        """An LFS blob in the store that the index lost (a crash between rename and insert).

        Only verified bytes are ever renamed into the store, so its name can be trusted.
        With a shared store, this disk is no store of record: nothing to adopt.
        """
        if self.shared is not None or not entry.sha256:
            return None
        if self.store.size_of(entry.sha256) != entry.size:
            return None
        blob = StoredBlob(entry.sha256, "", entry.size)
        self.index.put_blob(blob, self.clock())
        return blob

    def _track(self, fill: Fill, work) -> Fill:
        self.running[fill.key] = fill
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return fill

    async def drain(self, seconds: float) -> None:
        """Give running fills up to ``seconds`` to finish (shutting down); ``close`` cuts
        the rest."""
        if self._tasks and seconds > 0:
            await asyncio.wait(list(self._tasks), timeout=seconds)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, fill: Fill, writer: BlobWriter, lock: FileLock) -> None:
        entry = fill.source.entry
        started = time.monotonic()
        publisher = ProgressPublisher(fill)
        try:
            await self._download(fill, writer, publisher)
            verified = await asyncio.to_thread(writer.finish)
            await self._check_xet(fill)
            blob = StoredBlob(verified.sha256, verified.git_sha1, verified.size)
            final = self.store.commit(fill.temp, blob.sha256)
            if fill.xet_check is not None:  # verified: resolve and the CAS find it from now on
                self.index.xet.put(blob.sha256, fill.xet_check, self.clock())
            if self.shared is None:
                self.index.put_blob(blob, self.clock())
                publisher.publish(DONE)
            self.events.filled(entry, blob)
            fill.finish(blob, final)  # this node's readers get their last byte now
            if self.shared is not None:
                await self._share(fill, blob, final)
                publisher.publish(DONE)
            self.outcomes["completed"] += 1
            self.outcomes[f"from_{fill.origin.kind}"] += 1  # the origin that finished it
            _log_filled(fill, time.monotonic() - started)
        except asyncio.CancelledError as exc:  # shutting down: keep the bytes to resume
            self.outcomes["interrupted"] += 1
            _keep(fill, writer, publisher)
            fill.fail(exc)
            raise
        except UpstreamUnavailable as exc:  # an outage: keep the bytes, as after a crash
            self.outcomes["failed"] += 1
            kept = _written(fill) if _worth_resuming(exc.__cause__) else 0
            if kept:
                _keep(fill, writer, publisher)
            else:
                _discard(writer, publisher)
            fill.fail(exc)
            log.warning(
                "fill of %s %s stopped (%d of %d bytes kept to resume): %s",
                fill.source.repo.key,
                entry.path,
                kept,
                entry.size,
                exc,
            )
        except BaseException as exc:  # noqa: BLE001 - every ending must reach the readers
            self.outcomes["failed"] += 1
            _discard(writer, publisher)
            fill.fail(exc)
            log.warning("fill of %s %s failed: %s", fill.source.repo.key, entry.path, exc)
        finally:
            self.running.pop(fill.key, None)
            lock.release()
            publisher.close()
            self._settle_shared(fill)
            self._withdraw(fill)

    async def _check_xet(self, fill: Fill) -> None:
        """Hash the verified temp file as Xet does, when the mirror advertised upstream's
        Xet hash for it: still before the last byte is released, so a wrong hash fails the
        fill like a wrong sha256 (every reader aborts, nothing is stored or recorded)."""
        expected = fill.xet_check
        if expected is None:
            return
        computed = await asyncio.to_thread(self.xet_hasher, fill.temp)
        if computed != expected:
            self.events.xet_refused(fill.key)
            raise IntegrityError(
                f"Xet hash mismatch: upstream announced {expected}, the bytes hash to {computed}"
            )

    async def _share(self, fill: Fill, blob: StoredBlob, final) -> None:
        """Lead fill: upload the verified blob, then index it, then let go of the lease.

        The index names only complete objects, so no node ever looks for a blob the
        store does not hold yet; until then, other nodes read this node's copy.
        """
        if not fill.leader:
            return
        try:
            await self.shared.objects.upload(final, blob.sha256, blob.size)
            self.index.put_blob(blob, self.clock())
            self.events.shared(blob)
        except Exception as exc:  # noqa: BLE001 - the blob stays served from this disk
            self.outcomes["unshared"] += 1
            log.warning("could not put %s in the object store: %s", blob.sha256, exc)

    def _settle_shared(self, fill: Fill) -> None:
        """Give the lease back (when the fill led) and let the local tier count the blob."""
        shared = self.shared
        if shared is None:
            return
        if fill.leader and shared.cluster is not None:
            shared.cluster.release(fill.key)
        if fill.blob is not None:
            shared.tier.added(fill.blob.sha256, fill.blob.size)

    def _follow(self, fill: Fill) -> Fill:
        """Read along another process's fill of the blob.

        Its Xet check is that process's: it holds the last byte back until the check
        passed, so this process may advertise the hash as well.
        """
        announced = self.index.xet.announced_for(fill.key) if self.xet_hasher else None
        fill.xet_check = announced.xet_hash if announced else None
        return self._track(fill, self._poll_followed(fill))

    async def _poll_followed(self, fill: Fill) -> None:
        """Mirror another process's fill: poll its progress until it is stored or gone.

        A record left ``RUNNING`` with its lock free is a fill that stopped (an outage,
        a shutdown) and kept its bytes for the next one: gone, as far as readers go.
        The fill flows while its bytes grow from one poll to the next; the first poll
        only adopts what was there (perhaps the bytes of a fill stopped earlier).
        """
        adopted = False
        try:
            while not fill.done:
                progress = read_progress(fill.paths.progress)
                running = progress is not None and progress.state == RUNNING
                if running and is_locked(fill.paths.lock):
                    grew = fill.follow(progress)
                    if grew and adopted:
                        fill.advance()
                    elif not grew:
                        fill.stalled()
                    adopted = True
                elif progress is None and is_locked(fill.paths.lock):
                    pass  # its progress file is not written yet
                else:
                    self._settle_followed(fill)
                    break
                await asyncio.sleep(FOLLOW_INTERVAL)
        finally:
            self.running.pop(fill.key, None)

    def _settle_followed(self, fill: Fill) -> None:
        stored = self.index.blob_for(fill.source.entry)
        if stored is not None and self.store.has(stored.sha256):
            self.events.filled(fill.source.entry, stored)
            fill.finish(stored, self.store.path_for(stored.sha256))
        else:
            fill.fail(
                UpstreamUnavailable(
                    "the process filling this file stopped (an upstream outage, or it ended); "
                    f"retry in {OUTAGE_RETRY_AFTER} seconds: its bytes are kept for the next try",
                    retry_after=OUTAGE_RETRY_AFTER,
                )
            )

    async def _download(self, fill: Fill, writer: BlobWriter, publisher: ProgressPublisher) -> None:
        """Fetch every segment concurrently while hashing the growing prefix."""
        tasks = [
            asyncio.ensure_future(self._segment(fill, s, writer, publisher)) for s in fill.segments
        ]
        hasher = asyncio.ensure_future(hash_along(fill, writer))
        try:
            await asyncio.gather(*tasks)
            await hasher
        finally:
            for task in (*tasks, hasher):
                task.cancel()
            await asyncio.gather(*tasks, hasher, return_exceptions=True)

    async def _segment(
        self, fill: Fill, segment: Segment, writer: BlobWriter, publisher: ProgressPublisher
    ) -> None:
        """Download one segment, resuming after drops from its last byte.

        Only attempts that bring no new byte count against ``MAX_RESUMES``: a link
        that drops every few megabytes still finishes, a dead one gives up quickly.
        A failing peer is no failure of its own: the fill looks where to read next.
        """
        sink = SegmentSink(fill, segment, writer, publisher)
        failures = 0
        while not segment.complete:  # a resumed fill may bring complete segments
            origin = fill.origin
            before = segment.position
            try:
                await origin.copy(fill, segment, failures, sink)
                if not segment.complete:
                    raise UpstreamUnavailable(f"{origin.kind} closed the body early")
            except PeerRefused:
                raise
            except BlobMissing:
                self._refetch_lost(fill, origin)
                continue
            except RETRYABLE as exc:
                failures = 0 if segment.position > before else failures + 1
                if failures:
                    fill.stalled()  # nothing came: a request arriving now waits (``Fill.ready``)
                if origin.kind == "peer" and await self._reconsider(fill, origin):
                    failures = 0
                    continue
                if failures > MAX_RESUMES:
                    raise _gave_up(fill, origin, exc) from exc
                await asyncio.sleep(_pause(failures))

    def _refetch_lost(self, fill: Fill, lost: StoreOrigin) -> None:
        """The index names a blob the object store does not have: forget it, fetch again."""
        if fill.origin is not lost:
            return  # another segment already did
        log.warning("the object store lost blob %s: fetching it again", lost.digest)
        self.index.forget_blob(lost.digest)
        fill.origin, fill.leader = self._origin(fill, None)

    async def _reconsider(self, fill: Fill, failed: PeerOrigin) -> bool:
        """After a peer failed us: wait for it while its lease lives, then read elsewhere.

        Returns ``True`` when the fill should simply try again (the peer still holds
        the lease, or the fill now reads from the store, upstream, or another node).
        """
        if fill.origin is not failed:
            return True  # another segment already moved the fill on
        cluster = self.shared.cluster
        holder = cluster.holder(fill.key)
        if holder is not None and holder.node == failed.node:
            await asyncio.sleep(cluster.ttl / 4)  # alive, or not yet known dead
            return True
        stored = self.index.blob_for(fill.source.entry)
        if stored is not None:
            fill.origin = StoreOrigin(self.shared.objects, stored.sha256)
        elif holder is None and cluster.lead(fill.key):
            fill.origin, fill.leader = self.upstream, True
            log.info("took over the fill of %s from node %s", fill.key, failed.address)
        elif holder is not None:
            fill.origin = PeerOrigin(cluster.peers, holder.node, holder.address)
        else:
            return False
        return True


def _pause(failures: int) -> float:
    """Seconds before the next attempt: growing, and jittered, so fills that failed
    together do not retry in lockstep (against a flapping upstream, the same fill would
    keep drawing the failing turn). A client waiting for the fill's first byte is told
    after about ten seconds of nothing; a flapping upstream gets that many chances."""
    return min(0.2 * failures, 2.0) * random.uniform(0.5, 1.5)


def _log_filled(fill: Fill, seconds: float) -> None:
    entry = fill.source.entry
    rate = entry.size / seconds / 1e6 if seconds > 0 else 0.0
    log.info(
        "filled %s %s: %d bytes in %.2fs (%.0f MB/s, %d segment(s), from %s)",
        fill.source.repo.key,
        entry.path,
        entry.size,
        seconds,
        rate,
        len(fill.segments),
        ", ".join(sorted(fill.upstreams)) or "-",
    )


def _gave_up(fill: Fill, origin: Origin, exc: BaseException) -> UpstreamUnavailable:
    """The outage a fill stops on, worded for the client that waited for it: which
    source failed, what is kept, and when to try again (a 429's wait, offline mode's,
    else what the upstream pool's breakers answer)."""
    waited = exc.retry_after if isinstance(exc, UpstreamUnavailable) else None
    retry_after = waited or OUTAGE_RETRY_AFTER
    error = UpstreamRateLimited if isinstance(exc, UpstreamRateLimited) else UpstreamUnavailable
    source = _SOURCES.get(origin.kind, origin.kind)
    message = f"{source} stopped answering while this file was fetched ({exc}); "
    if (written := _written(fill)) and _worth_resuming(exc):
        message += f"{written} of {fill.size} bytes are kept, a later request resumes there; "
    return error(message + f"retry in {retry_after} seconds", retry_after=retry_after)


def _worth_resuming(cause: BaseException | None) -> bool:
    """Whether a fill stopped by ``cause`` keeps its bytes: yes for an outage (refused,
    reset, timed out, 5xx); no when its source last answered and then broke the body
    off, which is how a mirror upstream aborts a transfer it found wrong (a hash
    mismatch behind it): those bytes are not worth building on."""
    return not isinstance(cause, aiohttp.ClientPayloadError)


def _written(fill: Fill) -> int:
    return sum(s.position - s.start for s in fill.segments)


def _keep(fill: Fill, writer: BlobWriter, publisher: ProgressPublisher) -> None:
    """Leave the bytes and their positions for the next fill of this blob (``_resume``):
    a stopped fill, not a failed one; the next request continues where it stopped."""
    publisher.publish(RUNNING)
    writer.close()
    publisher.keep = True


def _discard(writer: BlobWriter, publisher: ProgressPublisher) -> None:
    """Throw the bytes away: they are wrong (a hash or size mismatch) or unwanted."""
    writer.discard()
    publisher.publish(FAILED)


def _resume(fill: Fill) -> bool:
    """Adopt what an interrupted fill of this blob left (its bytes and positions)."""
    if not is_resumable(fill.paths.part.parent, fill.key):
        return False
    progress = read_progress(fill.paths.progress)
    spans = progress.segments if progress else ()
    if not spans or spans[0][0] != 0 or spans[-1][1] != fill.size:
        return False
    fill.follow(progress)
    log.info(
        "resuming the fill of %s %s at %d of %d bytes",
        fill.source.repo.key,
        fill.source.entry.path,
        _written(fill),
        fill.size,
    )
    return True


def _expected(entry: FileEntry) -> Expected:
    return Expected(entry.size, sha256=entry.sha256, git_sha1=None if entry.lfs else entry.etag)
