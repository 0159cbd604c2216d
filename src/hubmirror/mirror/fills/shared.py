"""What a node shares with others: the object store, its local tier, and the cluster.

Built by ``runtime`` when ``store`` is an ``s3://`` URL (and, with a shared index,
the cluster); ``None`` everywhere means the embedded default: the local disk is
the store of record and this node is alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubmirror.mirror.cache.local_tier import LocalTier
from hubmirror.mirror.fills.cluster import Cluster

if TYPE_CHECKING:  # aiobotocore loads only when an s3:// store is configured
    from hubmirror.storage.objects import ObjectStore


@dataclass
class Shared:
    objects: ObjectStore  # every verified blob, for every node
    tier: LocalTier  # the hot blobs kept on this node's disk
    cluster: Cluster | None = None  # fill leases and peer reads, with a shared index

    async def remove(self, digests: list[str]) -> None:
        """Blobs evicted from the index: delete their objects and this node's copies."""
        for digest in digests:
            await self.objects.delete(digest)
            self.tier.forget(digest)

    async def close(self) -> None:
        if self.cluster is not None:
            await self.cluster.close()
        await self.objects.close()
