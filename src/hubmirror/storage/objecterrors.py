"""botocore's exceptions → the mirror's errors, with one line an operator can act on.

S3 answers HEAD requests without a body, so a HEAD's error code is only the status
("404", "403"); GET and PUT carry the S3 code ("NoSuchBucket", "SlowDown"). Both
spellings are handled. Anything that is not a clear "not there" or "not allowed"
is an outage (``StoreUnavailable``): clients retry, they never cache a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from hubmirror.errors import (
    BlobMissing,
    HubMirrorError,
    IntegrityError,
    RangeNotSatisfiable,
    StoreMisconfigured,
    StoreUnavailable,
)

_NO_KEY = {"NoSuchKey", "404", "NotFound"}
_NO_BUCKET = {"NoSuchBucket"}
_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "403",
    "401",
}
_BAD_BYTES = {"BadDigest", "InvalidDigest", "IncompleteBody"}
_BAD_RANGE = {"InvalidRange", "416"}


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """What an error message names: the bucket and where it lives."""

    bucket: str
    endpoint_or_region: str  # the endpoint URL, or the AWS region

    @property
    def where(self) -> str:
        name = self.endpoint_or_region
        return name if "://" in name else f"AWS S3 ({name})"

    def missing_bucket(self) -> StoreMisconfigured:
        return StoreMisconfigured(
            f"bucket {self.bucket!r} does not exist at {self.where}: "
            "create it, or fix `store`/`s3_endpoint`"
        )

    def refused(self, code: str) -> StoreMisconfigured:
        return StoreMisconfigured(
            f"{self.where} refused access to bucket {self.bucket!r} ({code}): "
            "check `s3_access_key`/`s3_secret_key` and the bucket's policy"
        )

    def unreachable(self, detail: str) -> StoreUnavailable:
        return StoreUnavailable(
            f"object store {self.where} unreachable ({detail}): "
            "start it, or fix `s3_endpoint`/`s3_region`"
        )


def translate(exc: Exception, target: StoreTarget, digest: str | None = None) -> HubMirrorError:
    """The mirror's error for a failed S3 call; ``digest`` when the call was about one blob."""
    if isinstance(exc, HubMirrorError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StoreMisconfigured(
            f"no credentials for the object store {target.where}: "
            "set `s3_access_key` and `s3_secret_key` (or the AWS_* environment)"
        )
    if isinstance(exc, ClientError):
        return _client_error(exc, target, digest)
    if isinstance(exc, BotoCoreError):
        return target.unreachable(_one_line(exc))
    return StoreUnavailable(f"object store {target.where} failed: {_one_line(exc)}")


def _client_error(exc: ClientError, target: StoreTarget, digest: str | None) -> HubMirrorError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or exc.response["ResponseMetadata"].get("HTTPStatusCode"))
    if code in _NO_BUCKET or (code in _NO_KEY and digest is None):
        return target.missing_bucket()
    if code in _NO_KEY:
        return BlobMissing(f"blob {digest} is not in bucket {target.bucket!r}", digest=digest)
    if code in _REFUSED:
        return target.refused(code)
    if code in _BAD_RANGE:
        return RangeNotSatisfiable(0)  # the caller knows the size and says it
    if code in _BAD_BYTES:
        return IntegrityError(f"the object store refused the bytes sent ({code})")
    message = error.get("Message") or "no message"
    return StoreUnavailable(f"object store {target.where} answered {code}: {_one_line(message)}")


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:300]
