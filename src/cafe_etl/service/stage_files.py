"""The transform side of the serverless flow: one raw S3 object in, its clean tables out as
Parquet objects in the clean bucket, and the ``StagedFile`` that points at them.

Clean objects are named by the file's key (name and checksum), so a redelivered event
rewrites the same objects with the same bytes: nothing to clean up, nothing doubled.
Every file is staged, rejected ones included (``not_utf8``, ``not_csv``): the load side
records it in the ledger exactly as the CLI would.
"""

import io
import logging
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from cafe_etl import contract, keys
from cafe_etl.extract import sources as storage
from cafe_etl.extract.s3 import S3Location, S3Storage
from cafe_etl.model import FileBatch, FileSummary, Reason
from cafe_etl.service.staged import TABLES, StagedFile, StagedObject
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.file import BATCH_ROWS, transform_file
from cafe_etl.transform.redact import Tokeniser, key_fingerprint

log = logging.getLogger(__name__)

"""As the Redshift adapter stages batches: Redshift's Parquet COPY takes TIMESTAMP, not
TIMESTAMPTZ, and matches columns by position (the contract's order)."""


class StageFiles:
    """Transforms raw S3 objects into staged files in ``s3://clean_bucket/prefix/``."""

    def __init__(
        self,
        storage: S3Storage,
        clean_bucket: str,
        tokeniser: Tokeniser,
        *,
        token_key: bytes | None = None,
        prefix: str = "staged",
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._storage = storage
        self._bucket = clean_bucket
        self._prefix = prefix.strip("/")
        self._tokeniser = tokeniser
        self._fingerprint = key_fingerprint(token_key) if token_key else None
        self._batch_rows = batch_rows
        self._cache = ParseCache()

    def stage(self, where: S3Location, sequencer: str | None = None) -> StagedFile | None:
        """The staged file for one object version; None when the object is gone (deleted
        since its event was sent: there is nothing left to load, and retrying cannot help).

        ``storage.Unreadable`` for a name the ledger cannot hold.
        """
        source = self._storage.source(where)
        storage.check_storable(source)
        try:
            stream = source.open()
        except storage.Unreadable as gone:
            log.warning("%s skipped: %s", storage.printable(source.uri), gone)
            return None
        with stream:
            inspection = storage.inspect(stream)
            stream.seek(0)
            file_id = keys.file_key(source.name, inspection.sha256)
            summary, tables = self._transform(stream, file_id, inspection.is_utf8)
        objects = {name: self._put(file_id, name, rows) for name, rows in tables.items()}
        return StagedFile(
            source.name, source.uri, inspection.sha256, file_id, summary, sequencer,
            self._fingerprint, objects,
        )  # fmt: skip

    def _transform(
        self, stream: BinaryIO, file_id: int, is_utf8: bool
    ) -> tuple[FileSummary, dict[str, pa.Table]]:
        if not is_utf8:
            return FileSummary(reason=Reason.NOT_UTF8), {}
        batches = list(transform_file(stream, file_id, self._tokeniser, cache=self._cache,
                                      batch_rows=self._batch_rows))  # fmt: skip
        summary = batches[-1].summary
        if batches[-1].rejected_whole:
            return summary, {}
        return summary, _tables(batches)

    def _put(self, file_id: int, table: str, rows: pa.Table) -> StagedObject:
        buffer = io.BytesIO()
        pq.write_table(rows, buffer, **contract.PARQUET_OPTIONS)
        key = f"{self._prefix}/{file_id:016x}/{table}.parquet"
        body = buffer.getvalue()
        self._storage.client.put_object(Bucket=self._bucket, Key=key, Body=body)
        return StagedObject(S3Location(self._bucket, key).uri, len(body))


def _tables(batches: list[FileBatch]) -> dict[str, pa.Table]:
    """A file's batches as one table each, only the tables holding rows."""
    names: dict[int, str] = {}
    items: dict[int, Any] = {}
    for batch in batches:
        names.update(batch.branch_names)
        items.update(batch.items)
    found: dict[str, pa.Table] = {}
    for table in TABLES[:3]:
        parts = [rows for batch in batches if (rows := getattr(batch, table)).num_rows]
        if parts:
            found[table] = pa.concat_tables(parts).combine_chunks()
    last = FileBatch(batches[-1].file_id, *(pa.table({}),) * 3, names, items,
                     batches[-1].summary, True)  # fmt: skip
    for table in TABLES[3:]:
        if (rows := getattr(last, table)).num_rows:
            found[table] = rows
    return found
