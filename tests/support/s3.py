"""An S3-compatible server on loopback for tests: moto's server mode, with a request log.

``s3_server`` (the endpoint URL) starts once per session on a free port;
``s3_store_url`` makes a fresh bucket per test and yields ``s3://bucket/mirror``;
``s3_settings`` are the Settings overrides that point a mirror at it
(``make_mirror(**s3_settings)``); ``s3_admin`` is a plain botocore client for looking
behind the store's back; ``s3_log`` lists the requests the server received in the test.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

import pytest

__all__ = ["_s3_session", "s3_admin", "s3_log", "s3_server", "s3_settings", "s3_store_url"]

S3_ACCESS_KEY = "test"
S3_SECRET_KEY = "test"
S3_REGION = "us-east-1"
_INSTALL = "the S3 tests need moto's server mode: pip install -e '.[test]' (moto[server])"


@dataclass(frozen=True)
class S3Request:
    method: str
    path: str
    query: str
    content_md5: str | None = None


@dataclass
class MotoS3:
    """moto's WSGI app behind a threaded werkzeug server, logging each request line."""

    log: list[S3Request] = field(default_factory=list)
    url: str = ""

    def start(self) -> MotoS3:
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                create_backend_app,
            )
            from werkzeug.serving import make_server
        except ImportError as exc:
            pytest.fail(f"{_INSTALL} ({exc})")
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, self._logged(app), threaded=True)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def _logged(self, app):
        def logged(environ, start_response):
            request = S3Request(
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"],
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_CONTENT_MD5"),
            )
            self.log.append(request)
            return app(environ, start_response)

        return logged


def admin_client(endpoint: str):
    """A synchronous botocore S3 client on the test server (path-style, test keys)."""
    import botocore.session
    from botocore.config import Config

    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def empty_bucket(client, bucket: str) -> None:
    """Objects and unfinished uploads gone, then the bucket: moto keeps bytes in memory."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", ()):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ()):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=bucket)


_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def _s3_session():
    server = MotoS3().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server(_s3_session):
    """The endpoint URL of the session's S3 server on loopback."""
    return _s3_session.url


@pytest.fixture
def s3_log(_s3_session):
    """The requests the S3 server receives from here to the end of the test."""
    _s3_session.log.clear()
    return _s3_session.log


@pytest.fixture
def s3_admin(s3_server):
    return admin_client(s3_server)


@pytest.fixture
def s3_store_url(s3_server, s3_admin):
    """A fresh, empty bucket for this test, as ``s3://bucket/mirror``."""
    bucket = f"test-{next(_buckets)}"
    s3_admin.create_bucket(Bucket=bucket)
    yield f"s3://{bucket}/mirror"
    empty_bucket(s3_admin, bucket)


@pytest.fixture
def s3_settings(s3_server, s3_store_url):
    """Settings overrides for a mirror whose blobs live in this test's bucket."""
    return {
        "store": s3_store_url,
        "s3_endpoint": s3_server,
        "s3_region": S3_REGION,
        "s3_access_key": S3_ACCESS_KEY,
        "s3_secret_key": S3_SECRET_KEY,
    }
