"""Raw files in S3, behind the same ``Source`` shape as a local folder: the CLI
(``cafe-etl run s3://bucket/prefix``) and the transform handler read them through here.

One boto3 client per ``S3Storage`` (boto3 honours the standard ``AWS_ENDPOINT_URL`` setting,
which is how the emulated flow reaches moto). A body is spooled to a temporary file (memory
for small ones, disk past ``SPOOL_BYTES``) so the readers get a seekable stream and each
object is fetched once. Keys in S3 event notifications are URL-encoded (``+`` for a space):
``event_key`` decodes them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
"""

import contextlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, unquote, unquote_plus, urlsplit

from cafe_etl.errors import ConfigError, TransientError
from cafe_etl.extract.sources import Source, Unreadable

SPOOL_BYTES = 16 << 20
_CHUNK = 1 << 20


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str
    version_id: str | None = None

    @property
    def uri(self) -> str:
        """``s3://bucket/key``, with ``?versionId=`` when it names one version."""
        base = f"s3://{self.bucket}/{quote(self.key, safe='/')}"
        return f"{base}?versionId={quote(self.version_id)}" if self.version_id else base


def parse_uri(uri: str) -> S3Location:
    """``s3://bucket/key[?versionId=V]`` (the key percent-encoded as ``S3Location.uri`` writes)."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"{uri} is not an S3 location: write s3://BUCKET/PREFIX")
    version = parse_qs(parts.query).get("versionId", [None])[-1]
    return S3Location(parts.netloc, unquote(parts.path.lstrip("/")), version)


def event_key(encoded: str) -> str:
    """An object key as an S3 event notification carries it (URL-encoded, ``+`` a space)."""
    return unquote_plus(encoded)


class S3Storage:
    """Lists and opens raw objects with one client, created on first use."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def list(self, uri: str) -> list[Source]:
        """Every ``*.csv`` object under an ``s3://bucket/prefix``, oldest first."""
        where = parse_uri(uri)
        found = []
        with _errors(f"cannot list {uri}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=where.bucket, Prefix=where.key
            )
            for page in pages:
                for entry in page.get("Contents", []):
                    if entry["Key"].lower().endswith(".csv"):
                        location = S3Location(where.bucket, entry["Key"])
                        modified = entry["LastModified"].timestamp()
                        found.append(self.source(location, modified, entry["Size"]))
        return sorted(found, key=lambda source: (source.modified, source.uri))

    def source(self, where: S3Location, modified: float = 0.0, size: int = 0) -> Source:
        """The source for one object (one version of it, if ``where`` names one)."""
        name = where.key.rsplit("/", 1)[-1]
        return Source(name, where.uri, modified, partial(self.open, where), size)

    def open(self, where: S3Location) -> BinaryIO:
        """The object's bytes as a seekable stream; ``Unreadable`` if it is gone."""
        extra = {"VersionId": where.version_id} if where.version_id else {}
        spool = _Spool(max_size=SPOOL_BYTES)
        try:
            with _errors(f"cannot read {where.uri}", unreadable=True):
                body = self.client.get_object(Bucket=where.bucket, Key=where.key, **extra)["Body"]
                shutil.copyfileobj(body, spool, _CHUNK)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]


class _Spool(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A spooled body with no file number: ``sources.version_of`` then sees a stream, not a
    local file whose time and size could change (``fileno()`` would move it to disk)."""

    def fileno(self) -> int:
        raise io.UnsupportedOperation("an S3 object has no file number")


GONE = frozenset({"NoSuchKey", "NoSuchVersion", "404"})
"""The answers that say an object (version) no longer exists: nothing left to load, so the
file is skipped. Any other failure (AccessDenied, SlowDown, a KMS key disabled, the network)
may pass, so it is raised as transient: the run retries, SQS redelivers, then dead-letters."""


@contextlib.contextmanager
def _errors(doing: str, *, unreadable: bool = False) -> Iterator[None]:
    """An AWS failure as one line: ``Unreadable`` (an object gone: the file is skipped),
    ``TransientError`` (reading it failed and may not next time) or ``ConfigError``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if unreadable and code in GONE:
            raise Unreadable(f"{doing}: {code}") from None
        kind: type[Exception] = TransientError if unreadable else ConfigError
        raise kind(f"{doing}: {code or error}") from None
    except BotoCoreError as error:
        raise (TransientError if unreadable else ConfigError)(f"{doing}: {error}") from None


@dataclass(frozen=True)
class ObjectEvent:
    """One S3 ``ObjectCreated`` record: the object version and its per-key sequencer."""

    where: S3Location
    sequencer: str | None


class BadEvent(ValueError):
    """A queue message that is not an S3 event notification."""


def object_events(body: str) -> list[ObjectEvent]:
    """The ``ObjectCreated`` records of an S3 event notification (several per message are
    possible; the ``s3:TestEvent`` S3 sends when notifications are set up has none)."""
    import json

    try:
        message = json.loads(body)
        if message.get("Event") == "s3:TestEvent":
            return []
        events = []
        for record in message["Records"]:
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            found = record["s3"]["object"]
            where = S3Location(record["s3"]["bucket"]["name"], event_key(found["key"]),
                               found.get("versionId"))  # fmt: skip
            events.append(ObjectEvent(where, found.get("sequencer")))
        return events
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BadEvent(f"not an S3 event notification ({type(error).__name__}: {error})") from None
