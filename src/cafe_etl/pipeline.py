"""The one core every entry point calls: raw sources in, files loaded exactly once.

Files share database transactions for speed (a group commits after ``group_bytes`` of raw
files); if a group fails, its files are retried one transaction each, so every file stays
all-or-nothing whatever fails in between.
"""

import csv
import gc
import io
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from cafe_etl import keys, storage
from cafe_etl.config import Settings
from cafe_etl.errors import ConfigError, TransientError
from cafe_etl.formats import read_records
from cafe_etl.ledger import Action, Ledger
from cafe_etl.storage import Source
from cafe_etl.transform.columnar import ColumnarBatch
from cafe_etl.transform.normalise import NOT_CSV, NOT_UTF8, FileSummary, FileTransform, ParseCache
from cafe_etl.transform.redact import Tokeniser, key_fingerprint
from cafe_etl.warehouse.base import (
    DUPLICATE,
    FORGOTTEN,
    LEDGER_COLUMNS,
    LOADED,
    REJECTED,
    SUPERSEDED,
    LedgerRow,
    Loader,
    Warehouse,
)

log = logging.getLogger(__name__)

UNCHANGED = "unchanged"
GROUP_FILES = 1_000
LOCK_BUDGET = 1_000
"""Advisory locks a whole run may hold at once (two a file) where loaders lock: a small share
of PostgreSQL's shared lock table (64 x max_connections, 6,400 by default)."""
RETRIES = 6


@dataclass(frozen=True)
class FileOutcome:
    """What one run did with one file."""

    name: str
    status: str
    replaced_older: bool = False
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejects: Counter[str] = field(default_factory=Counter)


@dataclass
class RunSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def files(self, status: str) -> int:
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
        """0 when every file was processed; 2 when a whole file was rejected."""
        return 2 if self.files(REJECTED) else 0


Progress = Callable[[int, int], None]
"""Called with (files done, rows read) as the run goes."""


class Pipeline:
    """Loads raw sources into one warehouse. Create, ``prepare()``, then ``run()``."""

    def __init__(self, warehouse: Warehouse, settings: Settings) -> None:
        self.warehouse = warehouse
        self.settings = settings
        key = settings.token_key_bytes
        self._tokeniser = Tokeniser(key)
        self._fingerprint = key_fingerprint(key) if key else None
        self._ledger: Ledger | None = None
        self._parse_cache = ParseCache()
        self._group_files = GROUP_FILES
        if warehouse.concurrent_writers:
            self._group_files = max(1, min(GROUP_FILES, LOCK_BUDGET // (2 * settings.jobs)))

    def prepare(self, *, check_token_key: bool = True) -> None:
        """Bring the schema up to date and (before loading) refuse a changed token key."""
        self.warehouse.migrate()
        if check_token_key:
            self.warehouse.check_token_key(self._fingerprint)

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.warehouse.current_files())
        return self._ledger

    def run(
        self, sources: Iterable[Source], *, force: bool = False, progress: Progress | None = None
    ) -> RunSummary:
        """Process every source whose name or content is new (all of them with ``force``)."""
        summary = RunSummary()
        pending = deque(newest_per_name(sources))
        self._ledger = None
        retry_singly, attempts, rows_read = 0, 0, 0
        while pending:
            limit = 1 if retry_singly else self._group_files
            taken: list[Source] = []
            outcomes: list[FileOutcome] = []
            try:
                with self.warehouse.transaction() as loader, _gc_paused():
                    group = self._take_group(pending, taken, limit)
                    self._lock_and_refresh(group)
                    batch = ColumnarBatch(
                        loader, self._tokeniser, self._parse_cache, self.settings.chunk_rows
                    )
                    done: list[FileOutcome | _Taken] = []
                    for source, inspection in group:
                        done.append(self._process(source, inspection, loader, force, batch))
                        if progress:
                            rows_read += done[-1].rows_read
                            progress(len(summary.outcomes) + len(done), rows_read)
                    outcomes = self._finish(done, batch.finish(), loader)
            except Exception as error:
                self._ledger = None
                rows_read = summary.rows_read
                pending.extendleft(reversed(taken))
                attempts += 1
                if len(taken) > 1:
                    log.warning("%d files failed together; retrying one by one", len(taken))
                    retry_singly = len(taken)
                elif not (isinstance(error, TransientError) and attempts < RETRIES):
                    raise
                else:
                    log.warning("retrying %s after: %s", taken[0].name, error)
                    time.sleep(0.05 * 2**attempts)
                continue
            retry_singly, attempts = max(0, retry_singly - len(taken)), 0
            summary.outcomes.extend(outcomes)
        return summary

    def forget(self, name: str) -> LedgerRow:
        """Remove everything one file loaded and mark it ``forgotten`` in the ledger."""
        with self.warehouse.transaction() as loader:
            self.warehouse.lock(f"name:{name}")  # a loader of this name waits, and vice versa
            rows = self.warehouse.execute(
                f"SELECT {LEDGER_COLUMNS} FROM loaded_files"
                " WHERE file_name = ? AND status <> ? ORDER BY loaded_at",
                (name, SUPERSEDED),
            )
            current = LedgerRow(*rows[-1]) if rows else None
            if current is None or current.status == FORGOTTEN:
                raise ConfigError(f"no file named {name!r} is loaded: see cafe-etl status")
            loader.remove_file(current.file_id)
            loader.set_status(current.file_id, FORGOTTEN)
        self._ledger = None
        return current

    def sources_to_reprocess(self, names: list[str] | None) -> list[Source]:
        """The raw sources behind the named files (every file not forgotten when ``None``)."""
        if names is None:
            rows = [row for row in self.warehouse.current_files() if row.status != FORGOTTEN]
        else:
            rows = []
            for name in names:
                row = self.ledger.current(name)
                if row is None:
                    raise ConfigError(f"no file named {name!r} in the ledger: see cafe-etl status")
                rows.append(row)
        return [storage.open_uri(row.source_uri) for row in rows]

    def _take_group(
        self, pending: deque[Source], taken: list[Source], limit: int
    ) -> list[tuple[Source, storage.Inspection]]:
        """The next files of one transaction: up to ``limit`` files or ``group_bytes`` bytes.

        Each source joins ``taken`` before it is hashed, so a failure puts it back too.
        """
        group: list[tuple[Source, storage.Inspection]] = []
        size = 0
        while pending and len(group) < limit and size < self.settings.group_bytes:
            taken.append(pending.popleft())
            group.append((taken[-1], storage.inspect_source(taken[-1])))
            size += group[-1][1].size
        return group

    def _lock_and_refresh(self, group: list[tuple[Source, storage.Inspection]]) -> None:
        """With other loaders about, lock the group's names and contents, then re-read them.

        One lock statement and one ledger query per group, not per file; every loader locks
        in the same order, so two loaders with overlapping groups wait rather than deadlock.
        """
        if not self.warehouse.concurrent_writers:
            return
        names = [source.name for source, _ in group]
        hashes = sorted({inspection.sha256 for _, inspection in group})
        self.warehouse.lock(*(f"name:{n}" for n in names), *(f"sha:{h}" for h in hashes))
        self.ledger.refresh(names, hashes, self.warehouse.current_files_for(names, hashes))

    def _process(
        self,
        source: Source,
        inspection: storage.Inspection,
        loader: Loader,
        force: bool,
        batch: ColumnarBatch,
    ) -> "FileOutcome | _Taken":
        decision = self.ledger.decide(source.name, inspection.sha256, force=force)
        if decision.action is Action.UNCHANGED:
            return FileOutcome(source.name, UNCHANGED)
        file_id = keys.file_key(source.name, inspection.sha256)
        replaced_older = self._replace(decision.replaces, file_id, loader)
        read = FileSummary()
        if decision.action is Action.DUPLICATE:
            status = DUPLICATE
            log.info("%s: same bytes as %s, not loaded again", source.name, decision.duplicate_of)
        elif not inspection.is_utf8:
            status, read.reason = REJECTED, NOT_UTF8
        elif (loaded := self._load(source, inspection, file_id, loader, batch)) is None:
            # Its rows are in the batch, counted when the batch finishes; later files of
            # the group already see it as loaded (a copy of it is a duplicate).
            read.rows_read = batch.rows_read(file_id)
            self.ledger.record(_ledger_row(source, inspection.sha256, file_id, LOADED, read))
            return _Taken(source, inspection.sha256, file_id, replaced_older, read.rows_read)
        else:
            read, status = loaded, REJECTED if loaded.reason else LOADED
        return self._record(
            source, inspection.sha256, file_id, status, replaced_older, read, loader
        )

    def _record(
        self,
        source: Source,
        sha256: str,
        file_id: int,
        status: str,
        replaced_older: bool,
        read: FileSummary,
        loader: Loader,
    ) -> FileOutcome:
        row = _ledger_row(source, sha256, file_id, status, read)
        loader.record(row)
        self.ledger.record(row)
        log.info(
            "%s: %s, %d rows read, %d loaded, %d rejected%s", source.name, status,
            read.rows_read, read.rows_loaded, read.rows_rejected,
            f" ({read.reason})" if read.reason else "",
        )  # fmt: skip
        return FileOutcome(
            source.name, status, replaced_older, read.reason,
            read.rows_read, read.rows_loaded, read.rows_rejected, read.rejects,
        )  # fmt: skip

    def _finish(
        self,
        outcomes: "list[FileOutcome | _Taken]",
        summaries: dict[int, FileSummary],
        loader: Loader,
    ) -> list[FileOutcome]:
        """The outcomes of a group, with the files the columnar batch read now counted."""
        finished = []
        for outcome in outcomes:
            if isinstance(outcome, _Taken):
                read = summaries[outcome.file_id]
                outcome = self._record(
                    outcome.source, outcome.sha256, outcome.file_id, LOADED,
                    outcome.replaced_older, read, loader,
                )  # fmt: skip
            finished.append(outcome)
        return finished

    @staticmethod
    def _replace(older: LedgerRow | None, file_id: int, loader: Loader) -> bool:
        """Remove what the name's previous version loaded; True if it was another version."""
        if older is None:
            return False
        loader.remove_file(older.file_id)
        if older.file_id == file_id:
            return False
        loader.set_status(older.file_id, SUPERSEDED)
        return True

    def _load(
        self,
        source: Source,
        inspection: storage.Inspection,
        file_id: int,
        loader: Loader,
        batch: ColumnarBatch,
    ) -> FileSummary | None:
        """Read one file into the loader: None if the columnar batch took it, else its summary."""
        with source.open() as raw:
            taken = batch.read(file_id, raw)
            _check_unchanged(source, raw, inspection)
        if taken:
            return None
        transform = FileTransform(
            file_id, self._tokeniser, self.settings.chunk_rows, self._parse_cache
        )
        try:
            with source.open() as raw:
                try:
                    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                    for chunk in transform.chunks(read_records(text)):
                        loader.append(chunk)
                    read = transform.summary
                except UnicodeDecodeError:  # it was UTF-8 when hashed: it has been rewritten
                    read = FileSummary(reason=NOT_UTF8)
                _check_unchanged(source, raw, inspection)
        except csv.Error as error:  # e.g. an unclosed quote swallowing the rest of the file
            log.warning("%s is not readable as CSV: %s", source.name, error)
            read = FileSummary(reason=NOT_CSV)
        if read.reason:
            loader.remove_file(file_id)
            return read
        loader.add_branches(transform.branches)
        loader.add_products(transform.products)
        return read


def _check_unchanged(source: Source, raw: BinaryIO, inspection: storage.Inspection) -> None:
    """Raise ``TransientError`` if a file was rewritten since it was hashed: read it again."""
    if storage.version_of(raw) != inspection.version:
        raise TransientError(f"{source.name} changed after it was checked")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Paused for a group's transaction: its rows and parsed values hold no reference cycles,
    yet the collector would walk every one of them again and again (10 % of a run's CPU)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class _Taken:
    """A file the columnar batch took: recorded once the batch has counted its rows."""

    source: Source
    sha256: str
    file_id: int
    replaced_older: bool
    rows_read: int


def _ledger_row(
    source: Source, sha256: str, file_id: int, status: str, read: FileSummary
) -> LedgerRow:
    return LedgerRow(
        file_id=file_id,
        file_name=source.name,
        source_uri=source.uri,
        sha256=sha256,
        branch_id=read.branch_id,
        business_date=read.business_date,
        variant=read.variant,
        status=status,
        reason=read.reason,
        rows_read=read.rows_read,
        rows_loaded=read.rows_loaded,
        rows_rejected=read.rows_rejected,
        loaded_at=datetime.now(UTC),
    )


def newest_per_name(sources: Iterable[Source]) -> list[Source]:
    """One source per file name: the last, which for a folder listing is the newest."""
    newest: dict[str, Source] = {}
    for source in sources:
        if source.name in newest:
            log.warning("%s is in two places; only the newer, %s, counts", source.name, source.uri)
        newest.pop(source.name, None)
        newest[source.name] = source
    return list(newest.values())
