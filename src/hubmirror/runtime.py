"""``open_mirror(settings)``: the one place settings become objects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hubmirror.index.database import Database
from hubmirror.index.queries import Index
from hubmirror.mirror.service import Mirror
from hubmirror.settings import Settings
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.layout import prepare_data_dir
from hubmirror.upstream.client import HubClient, create_session
from hubmirror.upstream.pool import UpstreamPool


@contextlib.asynccontextmanager
async def open_mirror(settings: Settings) -> AsyncIterator[Mirror]:
    """Prepare the data directory, open the index and upstream sessions, yield a Mirror."""
    layout = prepare_data_dir(settings.data)
    database = Database(layout.index)
    session = create_session(settings.upstream_timeout)
    pool = UpstreamPool([HubClient(session, url) for url in settings.upstream])
    mirror = Mirror(
        index=Index(database),
        store=BlobStore(layout.blobs, layout.tmp),
        pool=pool,
        metadata_ttl=settings.metadata_ttl,
        access_ttl=settings.access_ttl,
    )
    try:
        yield mirror
    finally:
        await mirror.close()
        await session.close()
        database.close()
