"""Where raw files come from: a local folder or S3 (``extract/s3.py``), behind one small shape."""

import codecs
import errno
import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from cafe_etl.errors import CafeEtlError, ConfigError

_BLOCK = 1 << 20
_GONE = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP}
NAME_BYTES = 1_000
"""``loaded_files.file_name`` is VARCHAR(1000); Redshift counts bytes."""
URI_BYTES = 4_096
"""``loaded_files.source_uri`` is VARCHAR(4096)."""


class Unreadable(CafeEtlError):
    """A file that cannot be read, or whose name or location cannot be stored: the run skips
    it with a warning naming it, and the next run tries it again."""


@dataclass(frozen=True)
class Source:
    """One raw file: its name (base name, the ledger's key), where it lives, how to open it."""

    name: str
    uri: str
    modified: float
    open: Callable[[], BinaryIO]
    size: int = 0
    """Bytes, as listed (0 when not known before reading)."""


@dataclass(frozen=True)
class Inspection:
    sha256: str
    is_utf8: bool
    size: int
    version: tuple[int, int] | None = None
    """The file's (mtime in ns, size) when it was hashed; None where a stream has no file."""


def local_source(path: Path, stat: os.stat_result | None = None) -> Source:
    """The source for a file at an absolute path (its ``stat`` when already known)."""
    if stat is None:
        stat = path.stat()
    return Source(
        path.name, path.as_uri(), stat.st_mtime, partial(_open_binary, path), stat.st_size
    )


def list_folder(folder: Path) -> list[Source]:
    """Every ``*.csv`` below a folder, oldest first, so a newer copy of a name wins."""
    if folder.is_file():
        raise ConfigError(f"{folder} is a file: SOURCE is the folder that holds the raw files")
    if not folder.is_dir():
        raise ConfigError(
            f"source folder {folder} does not exist: create it or pass another SOURCE"
        )
    sources = []
    for path in folder.resolve().rglob("*"):  # one stat a file, no resolve() per file
        stat = _csv_stat(path)
        if stat is not None:
            sources.append(local_source(path, stat))
    return sorted(sources, key=lambda source: (source.modified, source.uri))


def open_uri(uri: str) -> Source:
    """The source a ledger row points at (``file://`` or ``s3://`` URIs)."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        from cafe_etl.extract.s3 import S3Storage, parse_uri

        return S3Storage().source(parse_uri(uri))
    if parsed.scheme != "file":
        raise ConfigError(f"cannot read {uri}: only file:// and s3:// sources are supported")
    path = Path(unquote(parsed.path))
    if not path.is_file():
        raise ConfigError(f"raw file {path} is gone: restore it, or run cafe-etl forget")
    return local_source(path)


LONG_NUMBER = re.compile(r"[0-9]{13,}")
"""A run of 13 or more digits: as long as a card number (13-19). No till names a file so
(its dates and times are separated), so a name holding one is refused and masked."""


def printable(name: str) -> str:
    """A file name fit for a message: bytes that are not UTF-8 shown as ``\\xNN``, and a run
    of digits as long as a card number masked."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return LONG_NUMBER.sub(lambda run: "#" * len(run[0]), text)


def inspect_source(source: Source) -> Inspection:
    """``inspect`` a source: ``Unreadable`` for a file that cannot be read or whose name or
    location the ledger cannot hold.

    A file written to while it is hashed is ``Unreadable`` too: the next run reads it.
    """
    check_storable(source)
    try:
        with source.open() as stream:
            before = version_of(stream)
            inspection = inspect(stream)
            after = version_of(stream)
    except OSError as error:
        raise Unreadable(f"it cannot be read: {error.strerror or error}") from None
    if before != after:  # a till still writing it: never a reason to stop the run
        raise Unreadable("it changed while it was being read: tried again next run")
    return replace(inspection, version=after)


def check_storable(source: Source) -> None:
    """``Unreadable`` for a name or location the ledger cannot hold."""
    try:
        name, uri = source.name.encode(), source.uri.encode()
    except UnicodeEncodeError:
        raise Unreadable("its name is not UTF-8: rename it") from None
    if LONG_NUMBER.search(source.name):
        raise Unreadable("its name holds a number as long as a card's: rename it")
    if len(name) > NAME_BYTES or len(uri) > URI_BYTES:
        raise Unreadable(
            f"its name or location is longer than the ledger holds ({NAME_BYTES} and"
            f" {URI_BYTES} bytes): move or rename it"
        )


def version_of(stream: BinaryIO) -> tuple[int, int] | None:
    """(mtime in ns, size) of an open local file; None for a stream without a file."""
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return status.st_mtime_ns, status.st_size


def inspect(stream: BinaryIO) -> Inspection:
    """SHA-256 and UTF-8 validity of a stream, in one pass of 1 MiB blocks."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8, size = True, 0
    for block in iter(partial(stream.read, _BLOCK), b""):
        digest.update(block)
        size += len(block)
        if is_utf8:
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                is_utf8 = False
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    return Inspection(digest.hexdigest(), is_utf8, size)


def _open_binary(path: Path) -> BinaryIO:
    return path.open("rb")


def _csv_stat(path: Path) -> os.stat_result | None:
    """The file's status if it is a regular file (or a link to one) named ``*.csv``."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        stat = path.stat()
    except OSError as error:
        if error.errno in _GONE:  # removed since it was listed, or a broken link
            return None
        raise
    return stat if S_ISREG(stat.st_mode) else None
