"""Pure pieces of an upload: part sizes within S3's limits, ETags, Content-MD5."""

from __future__ import annotations

import base64
import hashlib
import math

from hubmirror.storage.objectparts import (
    MAX_PARTS,
    MIN_PART_SIZE,
    Part,
    etag_matches,
    part_size_for,
)

TiB = 1024**4


def test_part_size_is_the_setting_for_ordinary_blobs():
    assert part_size_for(10 * 1024**3, 16 * 1024**2) == 16 * 1024**2


def test_part_size_grows_so_a_huge_blob_stays_under_the_part_limit():
    size = 5 * TiB
    part_size = part_size_for(size, MIN_PART_SIZE)
    assert math.ceil(size / part_size) <= MAX_PARTS < 10_000


def test_content_md5_is_the_base64_of_the_digest():
    part = Part.of(1, b"hello")
    assert part.md5_b64 == base64.b64encode(hashlib.md5(b"hello").digest()).decode()


def test_etag_is_compared_without_quotes_or_case():
    part = Part.of(1, b"hello")
    assert etag_matches({"ETag": f'"{part.md5_hex.upper()}"'}, part)
    assert not etag_matches({"ETag": '"' + "0" * 32 + '"'}, part)
    assert not etag_matches({}, part)


def test_kms_encrypted_parts_are_not_held_to_an_md5_etag():
    part = Part.of(1, b"hello")
    assert etag_matches({"ETag": '"opaque"', "ServerSideEncryption": "aws:kms"}, part)
    assert etag_matches({"ETag": '"opaque"', "SSECustomerAlgorithm": "AES256"}, part)
