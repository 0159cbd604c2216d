"""Content-addressed blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, OSS, COS).

The same layout as the local store, below a prefix: ``{prefix}/blobs/sha256/ab/cd/<digest>``.
An object becomes visible only when complete (a single PUT, or a multipart upload once
completed), so whoever sees a key sees the whole blob. Every upload is verified twice:
the store checks each part's Content-MD5 and echoes it as the ETag, which we compare,
and the file is hashed while it is read, so nothing that does not hash to its digest
is ever completed. A failure aborts the multipart upload: no half object, no orphan parts.

Everything S3-specific lives here and in ``objectconfig``, ``objecterrors``,
``objectparts`` and ``objectrange``: addressing style, signatures, retries, timeouts,
and botocore's exceptions, which callers only ever see as ``StoreUnavailable``,
``StoreMisconfigured``, ``BlobMissing``, ``RangeNotSatisfiable`` or ``IntegrityError``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session

from hubmirror.errors import BlobMissing, IntegrityError, RangeNotSatisfiable
from hubmirror.storage.objectconfig import (
    S3Location,
    check_options,
    client_config,
    parse_store_url,
)
from hubmirror.storage.objecterrors import StoreTarget, translate
from hubmirror.storage.objectparts import (
    Part,
    PartReader,
    Window,
    etag_matches,
    part_size_for,
    read_whole,
)
from hubmirror.storage.objectrange import ObjectRange, total_size
from hubmirror.types import is_digest

__all__ = ["ObjectRange", "ObjectStore", "S3Location", "parse_store_url"]

DEFAULT_PART_SIZE = 16 * 1024**2


class ObjectStore:
    """Blobs as objects at {prefix}/blobs/sha256/ab/cd/<digest> — the same layout as the local
    store. One client (and its connection pool) for the life of the mirror."""

    def __init__(
        self, client: Any, stack: AsyncExitStack, location: S3Location, target: StoreTarget
    ) -> None:
        self.location = location
        self.target = target
        self.part_size = DEFAULT_PART_SIZE
        self._client = client
        self._stack = stack

    @classmethod
    async def open(
        cls,
        location: S3Location,
        *,
        endpoint: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        part_size: int = DEFAULT_PART_SIZE,
        attempts: int = 4,
        addressing: str = "auto",
    ) -> ObjectStore:
        """Connect and check the bucket: a wrong bucket, endpoint or key fails here, in one
        line, instead of at the first request. ``attempts`` counts tries per S3 call."""
        check_options(endpoint, access_key, secret_key, part_size)
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                region_name=region,
                endpoint_url=endpoint,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=client_config(endpoint, attempts, addressing),
            )
        )
        store = cls(client, stack, location, StoreTarget(location.bucket, endpoint or region))
        store.part_size = part_size
        try:
            await store._call("head_bucket")
        except BaseException:
            await stack.aclose()
            raise
        return store

    async def close(self) -> None:
        await self._stack.aclose()

    def key_for(self, digest: str) -> str:
        if not is_digest(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return f"{self.location.blobs}{digest[:2]}/{digest[2:4]}/{digest}"

    async def size_of(self, digest: str) -> int | None:
        """The stored object's size; None when there is none."""
        head = await self._head(digest)
        return None if head is None else head["ContentLength"]

    async def delete(self, digest: str) -> None:
        """Gone, whether it was there or not."""
        await self._call("delete_object", digest=digest, Key=self.key_for(digest))

    @asynccontextmanager
    async def open_range(
        self, digest: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[ObjectRange]:
        """Bytes ``start``..``end`` (inclusive, like HTTP Range; ``end`` None: to the end).

        A start past the end raises ``RangeNotSatisfiable`` with the size; no object,
        ``BlobMissing``. The connection goes back to the pool when the block exits.
        """
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad range {start}-{end}")
        key = self.key_for(digest)
        params: dict[str, Any] = {"Key": key}
        if start or end is not None:  # a Range on an empty object would be a 416
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = await self._call("get_object", digest=digest, **params)
        except RangeNotSatisfiable:
            raise RangeNotSatisfiable(await self._size_or_missing(digest)) from None
        body = answer["Body"]
        try:
            yield ObjectRange(body, total_size(answer), start, answer["ContentLength"], self.target)
        finally:
            body.close()

    async def upload(self, path: Path, digest: str, size: int) -> None:
        """Store the file at ``path`` as blob ``digest``, verified, visible only when complete.

        Content-addressed: an object already there with the right size is kept as it is.
        """
        key = self.key_for(digest)
        found = (await asyncio.to_thread(os.stat, path)).st_size
        if found != size:
            raise IntegrityError(f"{path} is {found} bytes, expected {size}")
        if await self.size_of(digest) == size:
            return
        if size <= self.part_size:
            await self._put_whole(path, key, digest, size)
        else:
            await self._put_multipart(path, key, digest, size)
        await self._check_stored(key, digest, size)

    async def _put_whole(self, path: Path, key: str, digest: str, size: int) -> None:
        part = await asyncio.to_thread(read_whole, path, size, digest)
        answer = await self._call(
            "put_object", Key=key, Body=part.data, ContentMD5=part.md5_b64, **_meta(digest)
        )
        if not etag_matches(answer, part):
            await self._call("delete_object", Key=key)
            raise _etag_error(key, part, answer.get("ETag"))

    async def _put_multipart(self, path: Path, key: str, digest: str, size: int) -> None:
        created = await self._call("create_multipart_upload", Key=key, **_meta(digest))
        upload_id = created["UploadId"]
        try:
            etags = await self._send_parts(path, key, upload_id, digest, size)
            await self._call(
                "complete_multipart_upload",
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": sorted(etags, key=lambda p: p["PartNumber"])},
            )
        except BaseException:
            # shielded: a cancelled fill must still not leave an upload that bills its parts
            await asyncio.shield(self._abort(key, upload_id))
            raise

    async def _send_parts(
        self, path: Path, key: str, upload_id: str, digest: str, size: int
    ) -> list[dict[str, Any]]:
        """Read part N+1 while parts N-3..N travel; the whole file is hashed on the way."""
        part_size = part_size_for(size, self.part_size)
        reader = await asyncio.to_thread(PartReader, path, size, part_size)
        window = Window()
        try:
            for number in range(1, reader.count + 1):
                data = await asyncio.to_thread(reader.read_part)
                await window.add(self._hash_and_send, key, upload_id, number, data)
            await asyncio.to_thread(reader.finish, digest)
            return await window.drain()
        finally:
            await window.cancel()
            await asyncio.to_thread(reader.close)

    async def _hash_and_send(
        self, key: str, upload_id: str, number: int, data: bytes
    ) -> dict[str, Any]:
        part = await asyncio.to_thread(Part.of, number, data)
        return await self._send_part(key, upload_id, part)

    async def _send_part(self, key: str, upload_id: str, part: Part) -> dict[str, Any]:
        """One part, with the MD5 the store checks and must echo back as its ETag."""
        answer = await self._call(
            "upload_part",
            Key=key,
            UploadId=upload_id,
            PartNumber=part.number,
            Body=part.data,
            ContentMD5=part.md5_b64,
        )
        if not etag_matches(answer, part):
            raise _etag_error(key, part, answer.get("ETag"))
        return {"PartNumber": part.number, "ETag": answer["ETag"]}

    async def _abort(self, key: str, upload_id: str) -> None:
        with suppress(Exception):  # the failure that made us abort is the one worth raising
            await self._call("abort_multipart_upload", Key=key, UploadId=upload_id)

    async def _check_stored(self, key: str, digest: str, size: int) -> None:
        """What the store now shows under the key is the blob we sent, or it goes."""
        head = await self._head(digest)
        stored = None if head is None else (head["ContentLength"], head["Metadata"].get("sha256"))
        if stored != (size, digest):
            await self._call("delete_object", Key=key)
            raise IntegrityError(f"the object store shows {key} as {stored}, not {(size, digest)}")

    async def _head(self, digest: str) -> dict[str, Any] | None:
        try:
            return await self._call("head_object", digest=digest, Key=self.key_for(digest))
        except BlobMissing:
            return None

    async def _size_or_missing(self, digest: str) -> int:
        head = await self._head(digest)
        if head is None:
            raise BlobMissing(f"blob {digest} is not in {self.location}", digest=digest)
        return head["ContentLength"]

    async def _call(self, operation: str, *, digest: str | None = None, **params: Any) -> Any:
        """One S3 call on our bucket; botocore's exceptions come out as the mirror's."""
        try:
            return await getattr(self._client, operation)(Bucket=self.location.bucket, **params)
        except Exception as exc:
            raise translate(exc, self.target, digest) from exc


def _meta(digest: str) -> dict[str, Any]:
    return {"Metadata": {"sha256": digest}, "ContentType": "application/octet-stream"}


def _etag_error(key: str, part: Part, etag: str | None) -> IntegrityError:
    return IntegrityError(
        f"the object store kept part {part.number} of {key} as ETag {etag}, "
        f"not the MD5 {part.md5_hex} of the bytes sent"
    )
