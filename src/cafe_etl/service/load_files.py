"""Loading raw files exactly once: files share database transactions for speed, and if a
group fails its files are retried one transaction each, so every file stays
all-or-nothing whatever fails in between."""

import gc
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from cafe_etl import keys
from cafe_etl.errors import TransientError
from cafe_etl.extract import sources as storage
from cafe_etl.extract.sources import Inspection, Source
from cafe_etl.load import ledger
from cafe_etl.load.ledger import Action, Decision, Ledger
from cafe_etl.load.unit_of_work import Hook, KnownDimensions, UnitOfWork
from cafe_etl.model import FileStatus, FileSummary, LedgerRow, Reason
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.file import BATCH_ROWS, Reader, arrow_first, transform_files
from cafe_etl.transform.redact import Tokeniser
from cafe_etl.warehouse.base import Warehouse

log = logging.getLogger(__name__)

GROUP_FILES = 1_000
GROUP_BYTES = 64 << 20
RETRY_SECONDS = 60.0
_LONGEST_WAIT = 5.0
Progress = Callable[[int, int], None]
"""Called with (files done, rows read) as the run goes."""


@dataclass(frozen=True)
class FileOutcome:
    """What one run did with one file."""

    name: str
    status: FileStatus
    replaced_older: bool = False
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejects: Counter[str] = field(default_factory=Counter)


@dataclass
class RunSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def files(self, status: FileStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def superseded(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.replaced_older)

    @property
    def rows_read(self) -> int:
        return sum(outcome.rows_read for outcome in self.outcomes)

    @property
    def rows_loaded(self) -> int:
        return sum(outcome.rows_loaded for outcome in self.outcomes)

    @property
    def rows_rejected(self) -> int:
        return sum(outcome.rows_rejected for outcome in self.outcomes)

    @property
    def rejects(self) -> Counter[str]:
        return sum((outcome.rejects for outcome in self.outcomes), Counter())

    @property
    def exit_code(self) -> int:
        """0 when every file was processed; 2 when a whole file was rejected or skipped."""
        return 2 if self.files(FileStatus.REJECTED) or self.files(FileStatus.SKIPPED) else 0


@dataclass
class _Plan:
    """One file of a group and what the ledger decided for it."""

    source: Source
    inspection: Inspection
    file_id: int
    decision: Decision
    replaced_older: bool = False
    summary: FileSummary | None = None

    @property
    def read(self) -> bool:
        return self.decision.action is Action.LOAD and self.inspection.is_utf8


class LoadFiles:
    """Loads raw sources into one warehouse, each file exactly once and all-or-nothing."""

    def __init__(
        self,
        warehouse: Warehouse,
        tokeniser: Tokeniser,
        *,
        jobs: int = 1,
        group_bytes: int = GROUP_BYTES,
        batch_rows: int = BATCH_ROWS,
        retry_seconds: float = RETRY_SECONDS,
        hook: Hook | None = None,
        reader: Reader = arrow_first,
    ) -> None:
        self.warehouse = warehouse
        self._retry_seconds = retry_seconds
        self._tokeniser = tokeniser
        self._group_bytes = group_bytes
        self._batch_rows = batch_rows
        self._hook = hook
        self._reader = reader
        self._cache = ParseCache()
        self._known = KnownDimensions()
        self._ledger: Ledger | None = None
        budget = warehouse.lock_budget(jobs)  # two locks a file: its name and its content
        self._group_files = GROUP_FILES if budget is None else min(GROUP_FILES, budget // 2)

    def run(
        self, sources: Iterable[Source], *, force: bool = False, progress: Progress | None = None
    ) -> RunSummary:
        """Process every source whose name or content is new (all of them with ``force``)."""
        summary, pending = RunSummary(), deque(newest_per_name(sources))
        self._ledger = None
        retry = _Retry()
        while pending:
            taken: list[Source] = []
            limit = 1 if retry.singly else max(1, self._group_files)
            try:
                outcomes = self._load_group(
                    pending, taken, limit, force, _offset(progress, summary)
                )
            except Exception as error:
                self._ledger = None
                pending.extendleft(reversed(taken))
                self._after_failure(error, taken, retry)
                continue
            retry.succeeded(len(taken))
            summary.outcomes.extend(outcomes)
            if progress:
                progress(len(summary.outcomes), summary.rows_read)
        return summary

    def _after_failure(self, error: Exception, taken: list[Source], retry: "_Retry") -> None:
        """Files that failed together are retried one by one; a file that fails alone is
        retried while the failure is transient, up to ``retry_seconds``; else it raises."""
        retry.failed()
        if len(taken) > 1:
            log.warning("%d files failed together; retrying one by one", len(taken))
            retry.singly = len(taken)
            return
        if not self._may_retry(error, retry.since):
            raise error
        log.warning("retrying %s after: %s", storage.printable(taken[0].name), error)
        time.sleep(min(0.05 * 2 ** min(retry.attempts, 10), _LONGEST_WAIT))

    def _may_retry(self, error: Exception, failing_since: float) -> bool:
        """A transient failure (a lost connection, a deadlock) is retried, with backoff, for
        up to ``retry_seconds`` since the run last made progress."""
        waited = time.monotonic() - failing_since
        return isinstance(error, TransientError) and waited < self._retry_seconds

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(ledger.current_files(self.warehouse))
        return self._ledger

    def _load_group(
        self, pending: deque[Source], taken: list[Source], limit: int, force: bool,
        progress: Progress | None,
    ) -> list[FileOutcome]:  # fmt: skip
        skipped: list[FileOutcome] = []
        group = self._take_group(pending, taken, limit, skipped)
        with _gc_paused(), UnitOfWork(self.warehouse, self._known, hook=self._hook) as work:
            self._lock_and_refresh(group)
            plans = [self._plan(source, inspection, force) for source, inspection in group]
            for plan in plans:
                plan.replaced_older = self._replace(plan, work)
            self._read(plans, work, progress)
            outcomes = [self._record(plan, plans, work) for plan in plans]
            work.commit()
        return skipped + outcomes

    def _take_group(
        self, pending: deque[Source], taken: list[Source], limit: int, skipped: list[FileOutcome]
    ) -> list[tuple[Source, Inspection]]:
        """The next files of one transaction: up to ``limit`` files or ``group_bytes`` bytes;
        a file that cannot be read or named in the ledger goes to ``skipped``.

        Each source joins ``taken`` before it is hashed, so a failure puts it back too.
        """
        group: list[tuple[Source, Inspection]] = []
        size = 0
        while pending and len(group) < limit and size < self._group_bytes:
            taken.append(source := pending.popleft())
            try:
                group.append((source, storage.inspect_source(source)))
            except storage.Unreadable as problem:
                name = storage.printable(source.name)
                log.warning("%s skipped: %s", storage.printable(source.uri), problem)
                skipped.append(FileOutcome(name, FileStatus.SKIPPED, reason=str(problem)))
                continue
            size += group[-1][1].size
        return group

    def _lock_and_refresh(self, group: list[tuple[Source, Inspection]]) -> None:
        """With other loaders about, lock the group's names and contents, then re-read them.

        One lock statement and one ledger query per group, not per file; every loader locks
        in the same order, so two loaders with overlapping groups wait rather than deadlock.
        """
        if not self.warehouse.concurrent_writers:
            return
        names = [source.name for source, _ in group]
        hashes = sorted({inspection.sha256 for _, inspection in group})
        self.warehouse.lock(*(f"name:{n}" for n in names), *(f"sha:{h}" for h in hashes))
        self.ledger.refresh(names, hashes, ledger.current_files_for(self.warehouse, names, hashes))

    def _plan(self, source: Source, inspection: Inspection, force: bool) -> _Plan:
        decision = self.ledger.decide(source.name, inspection.sha256, force=force)
        plan = _Plan(source, inspection, keys.file_key(source.name, inspection.sha256), decision)
        if plan.read:  # a copy of it later in the group is a duplicate of it
            self.ledger.loading(source.name, inspection.sha256)
        return plan

    @staticmethod
    def _replace(plan: _Plan, work: UnitOfWork) -> bool:
        """Remove what the name's previous version loaded; True if it was another version."""
        older = plan.decision.replaces
        if plan.decision.action is Action.UNCHANGED or older is None:
            return False
        work.remove(older.file_id, older.business_date)
        if older.file_id == plan.file_id:
            return False
        work.set_status(older.file_id, FileStatus.SUPERSEDED)
        return True

    def _read(self, plans: list[_Plan], work: UnitOfWork, progress: Progress | None) -> None:
        """Transform the files to load, their batches into the unit of work."""
        reading = {plan.file_id: plan for plan in plans if plan.read}
        files_done, rows_read = 0, 0
        batches = transform_files(
            _opened(reading.values()), self._tokeniser,
            cache=self._cache, batch_rows=self._batch_rows, reader=self._reader,
        )  # fmt: skip
        for batch in batches:
            work.add(batch)
            if batch.last:
                reading[batch.file_id].summary = batch.summary
                files_done, rows_read = files_done + 1, rows_read + batch.summary.rows_read
                if progress:
                    progress(files_done, rows_read)

    def _record(self, plan: _Plan, plans: list[_Plan], work: UnitOfWork) -> FileOutcome:
        name, decision = plan.source.name, plan.decision
        if decision.action is Action.UNCHANGED:
            return FileOutcome(name, FileStatus.UNCHANGED)
        status, read = FileStatus.DUPLICATE, plan.summary or FileSummary()
        if decision.action is Action.DUPLICATE:
            original = _original_in_group(plan, plans)
            if original is not None:  # it read as no rows: a copy of it is no duplicate
                status, read = _status(original), original
        elif not plan.inspection.is_utf8:
            status, read = FileStatus.REJECTED, FileSummary(reason=Reason.NOT_UTF8)
        else:
            status = _status(read)
        row = _ledger_row(plan, status, read)
        work.record(row)
        self.ledger.record(row)
        if status is FileStatus.DUPLICATE:
            log.info("%s: same bytes as %s, not loaded again", name, decision.duplicate_of)
        log.info(
            "%s: %s, %d rows read, %d loaded, %d rejected%s", name, status,
            read.rows_read, read.rows_loaded, read.rows_rejected,
            f" ({read.reason})" if read.reason else "",
        )  # fmt: skip
        return FileOutcome(
            name, status, plan.replaced_older, read.reason,
            read.rows_read, read.rows_loaded, read.rows_rejected, read.rejects,
        )  # fmt: skip


@dataclass
class _Retry:
    singly: int = 0
    """Files still to load one transaction each, after a group failed."""
    attempts: int = 0
    since: float = 0.0
    """When the run last stopped making progress (0: it is making progress)."""

    def failed(self) -> None:
        self.attempts += 1
        self.since = self.since or time.monotonic()

    def succeeded(self, files: int) -> None:
        self.singly, self.attempts, self.since = max(0, self.singly - files), 0, 0.0


def _opened(plans: Iterable[_Plan]) -> Iterator[tuple[int, BinaryIO]]:
    """Each file open while the transform reads it; one rewritten since it was hashed raises
    ``TransientError`` (read again on the retry), so the ledger's checksum is the rows'."""
    for plan in plans:
        with plan.source.open() as raw:
            yield plan.file_id, raw
            if storage.version_of(raw) != plan.inspection.version:
                raise TransientError(f"{plan.source.name} changed after it was checked")


def _original_in_group(copy: _Plan, plans: list[_Plan]) -> FileSummary | None:
    """The summary of a duplicate's original (same name and bytes) when it was read in this
    group to no rows: identical bytes read the same, so the copy is no duplicate either."""
    for plan in plans:
        same = (plan.source.name, plan.inspection.sha256)
        if same == (copy.decision.duplicate_of, copy.inspection.sha256) and plan.summary:
            empty = plan.summary.rows_read == 0 or plan.summary.reason is not None
            return plan.summary if empty else None
    return None


def _status(read: FileSummary) -> FileStatus:
    return FileStatus.REJECTED if read.reason else FileStatus.LOADED


def _ledger_row(plan: _Plan, status: FileStatus, read: FileSummary) -> LedgerRow:
    return LedgerRow(
        file_id=plan.file_id,
        file_name=plan.source.name,
        source_uri=plan.source.uri,
        sha256=plan.inspection.sha256,
        branch_id=read.branch_id,
        business_date=read.business_date,
        variant=read.variant,
        status=status.value,
        reason=read.reason,
        rows_read=read.rows_read,
        rows_loaded=read.rows_loaded,
        rows_rejected=read.rows_rejected,
        loaded_at=datetime.now(UTC),
    )


def _offset(progress: Progress | None, summary: RunSummary) -> Progress | None:
    """``progress`` for a group, counting the files and rows of the groups before it."""
    if progress is None:
        return None
    files, rows = len(summary.outcomes), summary.rows_read
    return lambda done, read: progress(files + done, rows + read)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Paused for a group's transaction: its rows and parsed values hold no reference cycles,
    yet the collector would walk every one of them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def newest_per_name(sources: Iterable[Source]) -> list[Source]:
    """One source per file name: the last, which for a folder listing is the newest."""
    newest: dict[str, Source] = {}
    for source in sources:
        if source.name in newest:
            log.warning(
                "%s is in two places; only the newer, %s, counts",
                storage.printable(source.name), storage.printable(source.uri),
            )  # fmt: skip
        newest.pop(source.name, None)
        newest[source.name] = source
    return list(newest.values())
