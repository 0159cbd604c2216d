"""Where the object store is and how to talk to it: the ``s3://`` URL, the option checks,
and the client configuration every S3-compatible store we know accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig

from hubmirror.errors import StoreMisconfigured
from hubmirror.storage.objectparts import MIN_PART_SIZE

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "some/prefix" (no leading/trailing slash)

    @property
    def blobs(self) -> str:
        """The key prefix every blob lives under, ending in a slash."""
        return f"{self.prefix}/blobs/sha256/" if self.prefix else "blobs/sha256/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_store_url(url: str) -> S3Location:
    """``s3://bucket`` or ``s3://bucket/some/prefix``; anything else is refused, never guessed."""
    how = "write the store as s3://BUCKET or s3://BUCKET/PREFIX"
    parts = urlsplit(url.strip())
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"{url!r} is not an s3:// URL: {how}")
    if "@" in parts.netloc or ":" in parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"{url!r} carries credentials, a port or a query: {how}, and put the endpoint "
            "and keys in `s3_endpoint`, `s3_access_key` and `s3_secret_key`"
        )
    if not _BUCKET.match(parts.netloc):
        raise ValueError(f"{parts.netloc!r} is not a valid bucket name (3-63 of a-z 0-9 . -)")
    prefix = parts.path.strip("/")
    if "//" in prefix:
        raise ValueError(f"{url!r} has an empty path segment: {how}")
    return S3Location(parts.netloc, prefix)


def check_options(
    endpoint: str | None, access_key: str | None, secret_key: str | None, part_size: int
) -> None:
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} (S3's minimum)")
    if (access_key is None) != (secret_key is None):
        raise StoreMisconfigured("set both `s3_access_key` and `s3_secret_key`, or neither")
    if endpoint is not None and not _is_server_url(endpoint):
        raise StoreMisconfigured(
            f"`s3_endpoint` {endpoint!r} is not a server URL: write it like "
            "http://minio:9000 or https://s3.example.com (the bucket goes in `store`)"
        )


def _is_server_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.path.strip("/")


def client_config(endpoint: str | None, attempts: int, addressing: str = "auto") -> AioConfig:
    """``addressing`` "auto": path-style with an endpoint (MinIO, moto and most self-hosted
    stores have no bucket DNS), botocore's choice for AWS; "virtual" for stores that only
    take the bucket in the host name (Alibaba OSS)."""
    if addressing == "auto":
        addressing = "path" if endpoint else "auto"
    return AioConfig(
        signature_version="s3v4",
        s3={
            "addressing_style": addressing,
            # Content-MD5 guards every body; hashing it again for the signature would
            # block the event loop on plain-http endpoints for nothing.
            "payload_signing_enabled": False,
        },
        # botocore >= 1.36 adds CRC checksums by default, which several S3-compatible
        # stores refuse; we send Content-MD5 ourselves, so only what an API requires.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"total_max_attempts": attempts, "mode": "standard"},  # the first try included
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=64,  # parallel ranged reads share one pool
        tcp_keepalive=True,
    )
