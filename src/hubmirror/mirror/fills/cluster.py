"""This node among the nodes that share one index: who fills which blob.

Nodes behind one load balancer share the object store and the index, and each
blob must still be fetched from upstream once. The index holds a lease per fill
(``index.leases``): the node that takes it fills the blob, renews the lease while
it works (the heartbeat), and releases it once the blob is in the shared store
and indexed. Every other node reads the running fill from the lease holder
(``PeerOrigin``); when the holder dies its lease runs out and the next node that
needs the blob takes it over, keeping the bytes it had already read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping

from hubmirror.hub.nodeauth import verify
from hubmirror.index.leases import FillLeases
from hubmirror.upstream.peers import PeerClient

log = logging.getLogger(__name__)

LEASE_TTL = 6.0  # seconds a fill's lease outlives its holder's last heartbeat
HEARTBEAT = 1.5  # seconds between renewals: several may be lost before the lease runs out


def node_name() -> str:
    """A name no other process on any node has: host, process, and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def default_node_url(host: str, port: int) -> str:
    """The bound address, or this host's name when bound to every address."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Cluster:
    """Fill leases of this node, kept alive by a heartbeat, and the client that reads peers."""

    def __init__(self, leases: FillLeases, node: str, address: str, peers: PeerClient) -> None:
        self.leases = leases
        self.node = node
        self.address = address
        self.peers = peers
        self.ttl = LEASE_TTL
        self.held: set[str] = set()
        self._heartbeat: asyncio.Task | None = None

    def listening_on(self, host: str, port: int) -> None:
        """Where other nodes reach this one, unless ``node_url`` said so: the address the
        server is bound to, or this host's name when it listens on all of them."""
        if not self.address:
            self.address = default_node_url(host, port)

    def lead(self, key: str) -> bool:
        """Take the fill of ``key`` for this node, unless a live node has it."""
        if not self.leases.acquire(key, self.node, self.address, self.ttl):
            return False
        self.held.add(key)
        self._start_heartbeat()
        return True

    def holder(self, key: str):
        """The live lease on ``key`` (``None`` when free or expired)."""
        return self.leases.holder(key)

    def verify(self, headers: Mapping[str, str], method: str, path: str) -> str | None:
        """The node that signed a request to this one, or ``None`` for anyone else."""
        return verify(self.peers.secret, headers, method, path, time.time())

    def release(self, key: str) -> None:
        self.held.discard(key)
        self.leases.release(key, self.node)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while self.held:
            await asyncio.sleep(HEARTBEAT)
            for key in list(self.held):
                self._renew(key)

    def _renew(self, key: str) -> None:
        try:
            kept = self.leases.renew(key, self.node, self.ttl)
        except Exception as exc:  # noqa: BLE001 - an index hiccup must not stop the heartbeat
            log.warning("could not renew the fill lease of %s: %s", key, exc)
            return
        if not kept and key in self.held:
            self.held.discard(key)
            log.warning("lost the fill lease of %s to another node; finishing anyway", key)

    async def close(self) -> None:
        for key in list(self.held):
            with contextlib.suppress(Exception):
                self.release(key)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self.peers.session.close()
