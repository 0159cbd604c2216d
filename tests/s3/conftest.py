"""An ObjectStore on this test's fresh bucket, and blob files to put in it."""

from __future__ import annotations

import hashlib
import random
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubmirror.storage.objectparts import MIN_PART_SIZE
from hubmirror.storage.objects import ObjectStore, parse_store_url
from tests.support.s3 import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY


@dataclass(frozen=True)
class BlobFile:
    path: Path
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


async def open_store(endpoint: str, store_url: str, cls=ObjectStore, **overrides) -> ObjectStore:
    options = {
        "endpoint": endpoint,
        "region": S3_REGION,
        "access_key": S3_ACCESS_KEY,
        "secret_key": S3_SECRET_KEY,
        "part_size": MIN_PART_SIZE,
    }
    return await cls.open(parse_store_url(store_url), **{**options, **overrides})


@pytest.fixture
async def store(s3_server, s3_store_url):
    """Part size 5 MiB (S3's least): a 12 MiB file goes up in three parts."""
    opened = await open_store(s3_server, s3_store_url)
    yield opened
    await opened.close()


@pytest.fixture
def blob_file(tmp_path):
    """``blob_file(size)`` writes ``size`` seeded random bytes and says what they are."""
    count = iter(range(1000))

    def make(size: int) -> BlobFile:
        n = next(count)
        data = random.Random(n).randbytes(size)
        path = tmp_path / f"blob-{n}"
        path.write_bytes(data)
        return BlobFile(path, data)

    return make


def bucket_of(store_url: str) -> str:
    return parse_store_url(store_url).bucket


def pending_uploads(admin, store_url: str) -> list:
    return admin.list_multipart_uploads(Bucket=bucket_of(store_url)).get("Uploads", [])


def stored_keys(admin, store_url: str) -> list[str]:
    listing = admin.list_objects_v2(Bucket=bucket_of(store_url))
    return [item["Key"] for item in listing.get("Contents", [])]


def _post(url: str, body: bytes) -> None:
    urllib.request.urlopen(
        urllib.request.Request(url, body, {"Content-Type": "text/plain"}, method="POST"), timeout=10
    )


@pytest.fixture
def s3_auth_enforced(s3_server):
    """moto checks keys against its IAM users until the test ends: "test"/"test" is refused."""
    _post(f"{s3_server}/moto-api/reset-auth", b"0")
    yield
    _post(f"{s3_server}/moto-api/reset-auth", b"inf")
