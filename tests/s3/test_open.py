"""Opening the store checks bucket, endpoint and keys, and says in one line what to fix."""

from __future__ import annotations

import pytest

from hubmirror.errors import StoreMisconfigured, StoreUnavailable
from hubmirror.hub.headers import ErrorCode
from hubmirror.server.errors import lookup
from hubmirror.storage.objects import S3Location, parse_store_url
from tests.s3.conftest import open_store
from tests.support.ports import dead_url


async def test_missing_bucket_names_bucket_and_endpoint(s3_server):
    with pytest.raises(StoreMisconfigured) as caught:
        await open_store(s3_server, "s3://no-such-bucket/x")
    message = caught.value.message
    assert "'no-such-bucket'" in message and s3_server in message and "create it" in message
    assert "\n" not in message


async def test_dead_endpoint_is_unavailable_and_names_it(s3_store_url):
    endpoint = dead_url()
    with pytest.raises(StoreUnavailable) as caught:
        await open_store(endpoint, s3_store_url, attempts=1)
    assert not isinstance(caught.value, StoreMisconfigured)
    assert endpoint in caught.value.message and "unreachable" in caught.value.message
    assert "\n" not in caught.value.message


async def test_refused_keys_say_which_settings_to_check(s3_server, s3_store_url, s3_auth_enforced):
    with pytest.raises(StoreMisconfigured) as caught:
        await open_store(s3_server, s3_store_url)
    assert "s3_access_key" in caught.value.message and "403" in caught.value.message


async def test_half_a_key_pair_is_refused(s3_server, s3_store_url):
    with pytest.raises(StoreMisconfigured, match="both"):
        await open_store(s3_server, s3_store_url, secret_key=None)


@pytest.mark.parametrize(
    "endpoint", ["localhost:9000", "ftp://minio", "http://minio:9000/bucket", "http://[bad"]
)
async def test_endpoint_that_is_not_a_server_url_is_refused(endpoint, s3_store_url, s3_log):
    with pytest.raises(StoreMisconfigured, match="http://minio:9000"):
        await open_store(endpoint, s3_store_url)
    assert s3_log == []


async def test_part_size_below_s3_minimum_is_refused(s3_server, s3_store_url):
    with pytest.raises(ValueError, match="part_size"):
        await open_store(s3_server, s3_store_url, part_size=1024)


def test_store_errors_are_503_never_404():
    for exc in (StoreUnavailable("x"), StoreMisconfigured("x")):
        assert lookup(exc) == (503, ErrorCode.UPSTREAM_UNAVAILABLE)


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://models", S3Location("models", "")),
        ("s3://models/", S3Location("models", "")),
        ("s3://models/hub/mirror/", S3Location("models", "hub/mirror")),
        ("s3://my.bucket-1/p", S3Location("my.bucket-1", "p")),
    ],
)
def test_store_url_gives_bucket_and_prefix(url, location):
    assert parse_store_url(url) == location


@pytest.mark.parametrize(
    "url",
    [
        "models/blobs",
        "https://models/x",
        "s3://",
        "s3://Models",
        "s3://key:secret@models/x",
        "s3://models:9000/x",
        "s3://models/a//b",
        "s3://models/x?region=eu",
    ],
)
def test_malformed_store_url_says_how_to_write_it(url):
    with pytest.raises(ValueError, match="s3://BUCKET|bucket name"):
        parse_store_url(url)


def test_addressing_style_is_path_with_an_endpoint_unless_told_otherwise():
    from hubmirror.storage.objectconfig import client_config

    def style(endpoint, addressing="auto"):
        return client_config(endpoint, 1, addressing).s3["addressing_style"]

    assert style("http://minio:9000") == "path"
    assert style(None) == "auto"
    assert style("https://oss-cn-hangzhou.aliyuncs.com", "virtual") == "virtual"
