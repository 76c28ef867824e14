"""The load side of the serverless flow: staged files (``service/staged.py``) into the
warehouse with the CLI's exactly-once rules, a whole queue batch in one transaction.

The ledger decides as for the CLI (``LoadFiles``, whose group steps this reuses: locks, the
ledger re-read under them, replacement, the ledger rows); what differs:

- rows come from the staged Parquet objects, not from reading raw files;
- all files of a batch share one transaction and one COPY per table: on Redshift a manifest
  lists the batch's objects (``warehouse.redshift.copy_manifest``), elsewhere the tables are
  fetched and bulk-inserted once; if the batch fails, each file is tried alone, so one bad
  file fails only its own message;
- versions of one key are ordered by their S3 event sequencer, stored per file version in
  ``source_sequencers``: a version older than the name's current one (or than another in
  the same batch) is recorded ``superseded`` and loads nothing, whichever event came first.
"""

import logging
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from cafe_etl import contract
from cafe_etl.extract.s3 import S3Storage, parse_uri
from cafe_etl.extract.sources import Inspection, Source
from cafe_etl.load.ledger import Action, Decision, Ledger
from cafe_etl.load.unit_of_work import Hook, UnitOfWork
from cafe_etl.model import FileBatch, FileStatus, Item, Reason
from cafe_etl.service.load_files import FileOutcome, LoadFiles, _ledger_row, _Plan
from cafe_etl.service.staged import StagedFile, newer
from cafe_etl.service.token_key import check_token_key
from cafe_etl.transform.redact import Tokeniser
from cafe_etl.warehouse.base import Warehouse

log = logging.getLogger(__name__)

FETCH_THREADS = 8
"""Staged objects fetched at once (boto3 clients are thread-safe)."""
SEQUENCERS = pa.schema([("file_id", pa.int64()), ("sequencer", pa.string())])
Key = tuple[str, str]
"""A file version: its name and checksum."""


def version(staged: StagedFile) -> Key:
    return staged.name, staged.sha256


@dataclass
class StagedRun:
    """What one batch did: an outcome per file version loaded, an error per one that failed."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    failed: dict[Key, Exception] = field(default_factory=dict)


class LoadStaged(LoadFiles):
    """Loads staged files into one warehouse, each exactly once and all-or-nothing."""

    def __init__(
        self, warehouse: Warehouse, storage: S3Storage, *, hook: Hook | None = None
    ) -> None:
        super().__init__(warehouse, Tokeniser(None), retry_seconds=0, hook=hook)
        self._storage = storage
        self._staged: dict[int, StagedFile] = {}
        self._newest: dict[str, StagedFile] = {}
        self._stale: set[int] = set()
        self._sequencers: dict[int, str] = {}
        self._refused: dict[Key, Exception] = {}
        self._accepted: set[str | None] = set()
        """Token-key fingerprints the warehouse accepted (checked once per container)."""

    def load(self, files: Iterable[StagedFile]) -> StagedRun:
        """Load every staged file: together, or each alone when together fails."""
        run, todo = StagedRun(), self._checked(_unique(files))
        try:
            run.outcomes = self._load_together(todo) if todo else []
        except Exception as error:
            if len(todo) == 1:
                run.failed[version(todo[0])] = error
            else:
                log.warning("%d files failed together (%s); loading each alone", len(todo), error)
            for staged in todo if len(todo) > 1 else []:
                try:
                    run.outcomes += self._load_together([staged])
                except Exception as alone:
                    run.failed[version(staged)] = alone
        run.failed.update(self._refused)
        for (name, _), problem in run.failed.items():
            log.error("%s not loaded: %s", name, problem)
        return run

    def _checked(self, files: list[StagedFile]) -> list[StagedFile]:
        """The files whose token-key fingerprint the warehouse accepts (``_refused``: the rest)."""
        self._refused = {}
        verdicts: dict[str | None, Exception | None] = {}
        for fingerprint in {staged.key_fingerprint for staged in files}:
            try:
                if fingerprint not in self._accepted:
                    check_token_key(self.warehouse, fingerprint)
                    self._accepted.add(fingerprint)
                verdicts[fingerprint] = None
            except Exception as error:  # a refused key, or the warehouse down: retried
                verdicts[fingerprint] = error
        for staged in files:
            if (refusal := verdicts[staged.key_fingerprint]) is not None:
                self._refused[version(staged)] = refusal
        return [staged for staged in files if version(staged) not in self._refused]

    def _load_together(self, files: list[StagedFile]) -> list[FileOutcome]:
        self._ledger = None if not self.warehouse.concurrent_writers else Ledger([])
        self._staged, self._stale, self._sequencers = {}, set(), {}
        self._newest = {}
        for staged in files:  # oldest first: a later arrival wins unless it is ordered before
            best = self._newest.get(staged.name)
            if best is None or not _ordered_before(staged, best.source_uri, best.sequencer):
                self._newest[staged.name] = staged
        pending: deque[Source] = deque()
        for staged in files:
            source = Source(staged.name, staged.source_uri, 0.0, _not_opened)
            self._staged[id(source)] = staged
            pending.append(source)
        try:
            return self._load_group(pending, [], len(files), False, None)
        except Exception:
            self._ledger = None
            raise

    # -- LoadFiles' group steps, for staged files ----------------------------------------

    def _take_group(
        self, pending: deque[Source], taken: list[Source], limit: int, skipped: list[FileOutcome]
    ) -> list[tuple[Source, Inspection]]:
        group = []
        while pending:
            taken.append(source := pending.popleft())
            staged = self._staged[id(source)]
            is_utf8 = staged.summary.reason != Reason.NOT_UTF8
            group.append((source, Inspection(staged.sha256, is_utf8, 0)))
        return group

    def _lock_and_refresh(self, group: list[tuple[Source, Inspection]]) -> None:
        """The locks and ledger rows of ``LoadFiles``, and the sequencers of the names'
        current versions (read under the same locks)."""
        super()._lock_and_refresh(group)
        current = [row.file_id for source, _ in group if (row := self.ledger.current(source.name))]
        if current:
            rows = self.warehouse.execute(
                "SELECT file_id, sequencer FROM source_sequencers"
                f" WHERE file_id IN ({', '.join('?' for _ in current)})",
                current,
            )
            self._sequencers = {int(row[0]): str(row[1]) for row in rows}

    def _plan(self, source: Source, inspection: Inspection, force: bool) -> _Plan:
        staged = self._staged[id(source)]
        if self._is_stale(staged):
            self._stale.add(staged.file_id)
            return _Plan(source, inspection, staged.file_id, Decision(Action.UNCHANGED))
        plan = super()._plan(source, inspection, force)
        assert plan.file_id == staged.file_id, "the transform keyed the file as the ledger does"
        return plan

    def _is_stale(self, staged: StagedFile) -> bool:
        """An older version of its name than one loaded, or than another in this batch."""
        if self._newest[staged.name] is not staged:
            return True
        current = self.ledger.current(staged.name)
        if current is None or current.sha256 == staged.sha256:
            return False
        sequencer = self._sequencers.get(current.file_id)
        return _ordered_before(staged, current.source_uri, sequencer)

    def _read(self, plans: list[_Plan], work: UnitOfWork, progress: object) -> None:
        """Each file to load from its staged objects: one COPY per table for them all."""
        reading = [plan for plan in plans if plan.read]
        manifest = _manifest_copier(self.warehouse)
        tables = self._fetch(reading, facts=manifest is None)
        for plan in reading:
            staged = self._staged[id(plan.source)]
            work.add(_batch(staged, tables.get(staged.file_id, {})))
            plan.summary = staged.summary
        if manifest is not None:
            for table in contract.FACT_TABLES:
                objects = [(o.uri, o.size) for plan in reading
                           if (o := self._staged[id(plan.source)].objects.get(table))]  # fmt: skip
                if objects:
                    manifest(self.warehouse, table, objects)
        self._save_sequencers(plans)

    def _record(self, plan: _Plan, plans: list[_Plan], work: UnitOfWork) -> FileOutcome:
        if plan.file_id not in self._stale:
            return super()._record(plan, plans, work)
        summary = self._staged[id(plan.source)].summary
        work.record(_ledger_row(plan, FileStatus.SUPERSEDED, summary))
        log.info("%s: an older version than the one loaded; recorded as superseded",
                 plan.source.name)  # fmt: skip
        return FileOutcome(plan.source.name, FileStatus.SUPERSEDED, reason=summary.reason)

    # -- helpers ---------------------------------------------------------------------------

    def _fetch(self, plans: list[_Plan], *, facts: bool) -> dict[int, dict[str, pa.Table]]:
        """The staged tables of these files (only the dimensions when ``facts`` is False)."""
        wanted = [
            (staged.file_id, table, entry.uri)
            for staged in (self._staged[id(plan.source)] for plan in plans)
            for table, entry in staged.objects.items()
            if facts or table not in contract.FACT_TABLES
        ]
        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            read = list(pool.map(lambda w: self._get_parquet(w[2]), wanted))
        found: dict[int, dict[str, pa.Table]] = {}
        for (file_id, table, _), rows in zip(wanted, read, strict=True):
            found.setdefault(file_id, {})[table] = rows
        return found

    def _get_parquet(self, uri: str) -> pa.Table:
        where = parse_uri(uri)
        body = self._storage.client.get_object(Bucket=where.bucket, Key=where.key)["Body"]
        return pq.read_table(pa.BufferReader(body.read()))

    def _save_sequencers(self, plans: list[_Plan]) -> None:
        """The sequencer of every version whose ledger row this transaction writes."""
        rows = {
            plan.file_id: staged.sequencer
            for plan in plans
            if (staged := self._staged[id(plan.source)]).sequencer
            and (plan.decision.action is not Action.UNCHANGED or plan.file_id in self._stale)
        }
        if not rows:
            return
        ids = list(rows)
        self.warehouse.execute(
            f"DELETE FROM source_sequencers WHERE file_id IN ({', '.join('?' for _ in ids)})", ids
        )
        table = pa.table([ids, list(rows.values())], schema=SEQUENCERS)
        self.warehouse.insert_arrow("source_sequencers", table)


def _ordered_before(staged: StagedFile, other_uri: str, other_sequencer: str | None) -> bool:
    """True when ``staged`` is an earlier version of the same S3 key than the other one.
    Sequencers order events of one key only; across keys (or without them) nothing is
    known, and the later arrival wins, as in a folder."""
    same_key = staged.source_uri.partition("?")[0] == other_uri.partition("?")[0]
    return same_key and newer(other_sequencer, staged.sequencer)


def _unique(files: Iterable[StagedFile]) -> list[StagedFile]:
    """One staged file per version (a message delivered twice is one file), oldest first."""
    unique: dict[Key, StagedFile] = {}
    for staged in files:
        seen = unique.get(version(staged))
        if seen is None or newer(staged.sequencer, seen.sequencer):
            unique[version(staged)] = staged
    return list(unique.values())


def _batch(staged: StagedFile, tables: dict[str, pa.Table]) -> FileBatch:
    def table(name: str, schema: pa.Schema) -> pa.Table:
        rows = tables.get(name)
        return schema.empty_table() if rows is None else rows

    branches = table("branches", contract.BRANCHES).to_pydict()
    products = table("products", contract.PRODUCTS).to_pylist()
    return FileBatch(
        staged.file_id,
        table("transactions", contract.TRANSACTIONS),
        table("basket_items", contract.BASKET_ITEMS),
        table("rejected_rows", contract.REJECTED_ROWS),
        dict(zip(branches["branch_id"], branches["branch_name"], strict=True)),
        {p["product_id"]: Item(p["product_name"], p["size"], p["flavour"], 0) for p in products},
        staged.summary,
        last=True,
    )


def _manifest_copier(warehouse: Warehouse) -> Callable[..., None] | None:
    """Redshift's manifest COPY, when the warehouse is Redshift."""
    if warehouse.scheme != "redshift":
        return None
    from cafe_etl.warehouse.redshift import copy_manifest

    return copy_manifest


def _not_opened() -> BinaryIO:
    raise AssertionError("a staged file is loaded from its clean objects, never reopened")
