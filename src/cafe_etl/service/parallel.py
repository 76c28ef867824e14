"""Several loader processes for one run, for warehouses that take concurrent writers.

Each process runs the ordinary ``LoadFiles.run`` over its share of the files on its own
connection; the ledger's locks keep them exactly once between each other as between any
two loaders. Shares are balanced by bytes, and files of equal size go to the same process
in listing order: identical bytes under two names are then decided by one process in the
order a single loader would use, so which name is loaded and which is the duplicate (and
so every key) does not depend on timing.

Processes are forked, so they start without re-importing anything: fork before any other
thread (a progress bar's) exists, hence ``start()`` first and ``wait()`` after.
"""

import ctypes
import gc
import heapq
import logging
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Iterable
from multiprocessing.process import BaseProcess
from typing import Any

from cafe_etl.errors import CafeEtlError, ConfigError
from cafe_etl.extract.sources import Source
from cafe_etl.service.load_files import (
    FileOutcome,
    LoadFiles,
    Progress,
    RunSummary,
    newest_per_name,
)

log = logging.getLogger(__name__)
_POLL_SECONDS = 0.5
_REPORT_SECONDS = 0.1
"""A loader reports its progress at most this often (a queue message per file costs 5 %)."""
_FILE_COST = 32_768
"""Bytes of work one file costs beyond its size (opening, hashing, its ledger row)."""
_PR_SET_PDEATHSIG = 1


def shares(sources: Iterable[Source], jobs: int) -> list[list[Source]]:
    """Split sources into ``jobs`` lists balanced by work, equal sizes together, in order.

    A file's work is its bytes plus a fixed cost per file (opening, hashing, its ledger row).
    """
    ordered = list(sources)
    by_size: dict[int, list[int]] = {}
    for index, source in enumerate(ordered):
        by_size.setdefault(source.size, []).append(index)
    loads = [(0, job) for job in range(jobs)]
    assigned: list[list[int]] = [[] for _ in range(jobs)]
    by_work = sorted(by_size.items(), key=lambda item: -(item[0] + _FILE_COST) * len(item[1]))
    for size, indexes in by_work:
        load, job = heapq.heappop(loads)
        assigned[job].extend(indexes)
        heapq.heappush(loads, (load + (size + _FILE_COST) * len(indexes), job))
    return [[ordered[i] for i in sorted(indexes)] for indexes in assigned if indexes]


class Run:
    """One loader in this process: ``wait(progress)`` runs it."""

    def __init__(self, load: LoadFiles, sources: Iterable[Source], *, force: bool = False) -> None:
        self._load = load
        self._sources = list(sources)
        self._force = force

    def start(self) -> "Run":
        return self

    def wait(self, progress: Progress | None = None) -> RunSummary:
        return self._load.run(self._sources, force=self._force, progress=progress)


def start_run(
    load: LoadFiles, sources: Iterable[Source], jobs: int, *, force: bool = False
) -> "Run | ParallelRun":
    """A run of ``jobs`` loaders, started: ``wait(progress)`` for its summary."""
    if jobs > 1:
        return ParallelRun(load, sources, jobs, force=force).start()
    return Run(load, sources, force=force)


class ParallelRun:
    """``start()`` forks the loaders; ``wait(progress)`` collects their outcomes."""

    def __init__(
        self, load: LoadFiles, sources: Iterable[Source], jobs: int, *, force: bool = False
    ) -> None:
        if not load.warehouse.concurrent_writers:
            raise ConfigError(
                f"--jobs {jobs} (or CAFE_ETL_JOBS): {load.warehouse.scheme} takes one writer"
                " at a time; use --jobs 1, or a PostgreSQL or Redshift warehouse"
            )
        self._load = load
        self._shares = shares(newest_per_name(sources), jobs)
        self._force = force
        self._context = multiprocessing.get_context("fork")
        self._parent = os.getpid()
        self._events: Any = self._context.Queue()
        self._processes: list[BaseProcess] = []

    def start(self) -> "ParallelRun":
        self._load.warehouse.close()  # each process opens its own connection
        gc.freeze()  # the loaders' collections then skip what they inherit (Python's advice)
        try:
            for job, share in enumerate(self._shares):
                process = self._context.Process(
                    target=self._load_share, args=(job, share), name=f"cafe-etl-loader-{job}"
                )
                process.start()
                self._processes.append(process)
        finally:
            gc.unfreeze()  # this process collects as before
        return self

    def wait(self, progress: Progress | None = None) -> RunSummary:
        """Every process's outcomes, process by process; re-raises the first failure."""
        done: dict[int, list[FileOutcome]] = {}
        failed: dict[int, BaseException] = {}
        counts = {job: (0, 0) for job in range(len(self._processes))}
        try:
            while len(done) + len(failed) < len(self._processes):
                try:
                    kind, job, payload = self._events.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    failed.update(self._silently_ended(done.keys() | failed.keys()))
                    continue
                if kind == "progress":
                    counts[job] = payload
                elif kind == "done":
                    done[job] = payload
                    counts[job] = (len(payload), sum(outcome.rows_read for outcome in payload))
                else:
                    failed[job] = payload
                if progress and kind != "error":
                    files, rows = map(sum, zip(*counts.values(), strict=True))
                    progress(files, rows)
        except BaseException:
            for process in self._processes:
                process.terminate()  # an open transaction rolls back with its connection
            raise
        finally:
            for process in self._processes:
                process.join()
        if failed:
            raise failed[min(failed)]
        summary = RunSummary()
        for job in sorted(done):
            summary.outcomes.extend(done[job])
        return summary

    def _load_share(self, job: int, share: list[Source]) -> None:
        """In a loader process: load one share and report back."""

        reported = 0.0

        def report(files: int, rows: int) -> None:
            nonlocal reported
            if time.monotonic() - reported >= _REPORT_SECONDS:
                reported = time.monotonic()
                self._events.put(("progress", job, (files, rows)))

        _die_with_parent(self._parent)
        try:
            summary = self._load.run(share, force=self._force, progress=report)
        except CafeEtlError as error:
            self._events.put(("error", job, error))
        except BaseException as error:  # the type only: a message could quote file bytes
            log.debug("loader process %d failed", job, exc_info=True)
            message = (
                f"loader process {job} failed with {type(error).__name__} (--verbose: details)"
            )
            self._events.put(("error", job, CafeEtlError(message)))
        else:
            self._events.put(("done", job, summary.outcomes))
        finally:
            self._load.warehouse.close()
            self._events.close()
            self._events.join_thread()

    def _silently_ended(self, reported: set[int]) -> dict[int, BaseException]:
        """Processes that ended without a word (killed): their open group rolled back."""
        return {
            job: CafeEtlError(
                f"loader process {job} ended with exit code {process.exitcode};"
                " the files it had not committed load on the next run"
            )
            for job, process in enumerate(self._processes)
            if process.exitcode not in (None, 0) and job not in reported
        }


def _die_with_parent(parent: int) -> None:
    """Have the kernel stop this loader if the run that forked it ends (killed, stopped).

    Its open transaction then rolls back, as when one loader process is killed.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: a lone loader still finishes its share
        return
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)
