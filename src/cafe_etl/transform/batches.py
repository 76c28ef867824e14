"""Rows of many files checked together, handed back as batches file by file.

Checking costs a few dozen Arrow calls whatever the number of rows, so the rows of small
files are checked many files at a time; the results are cut back into each file's batches,
and each file's summary (counts, reasons, branch, day, variant) is kept from them with a
handful of calls per check, not per file.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cafe_etl import contract
from cafe_etl.extract import layout as layouts
from cafe_etl.extract.layout import Layout
from cafe_etl.extract.rows import FIELD_COUNT
from cafe_etl.model import FileBatch, FileSummary
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.check import check
from cafe_etl.transform.normalise import normalise
from cafe_etl.transform.redact import Tokeniser

_Tables = tuple[pa.Table, pa.Table, pa.Table]
"""transactions, basket_items, rejected_rows"""


@dataclass
class FileState:
    """What is known of one file as it is read."""

    file_id: int
    summary: FileSummary = field(default_factory=FileSummary)
    header: Layout | None = None
    layout: Layout | None = None
    has_header: bool = False
    two_decimals: bool = True
    """Every total judged so far has two decimals (variant B, not C)."""
    totals_seen: int = 0
    records: int = 0


@dataclass
class _Part:
    """Rows of one file waiting to be checked (none: the file's end)."""

    state: FileState
    table: pa.Table | None
    flat: bool
    last: bool = False


class Batcher:
    """Rows of one or more files (``check.ROLE_SCHEMA``), checked together on ``flush``."""

    def __init__(self, tokeniser: Tokeniser, cache: ParseCache) -> None:
        self._tokeniser = tokeniser
        self._cache = cache
        self._parts: list[_Part] = []
        self.rows = 0

    def add(self, state: FileState, table: pa.Table) -> None:
        flat = state.layout is not None and state.layout.flat_basket
        previous = self._parts[-1] if self._parts else None
        same_file = previous is not None and previous.state is state and previous.flat == flat
        if same_file and previous is not None and previous.table is not None:
            previous.table = pa.concat_tables([previous.table, table])
        else:
            self._parts.append(_Part(state, table, flat))
        self.rows += table.num_rows

    def finish(self, state: FileState) -> None:
        """The file is read whole: its last part (or an empty one) ends it."""
        if state.summary.reason:  # rejected whole: it counts no rows
            state.summary = FileSummary(reason=state.summary.reason)
            self._parts = [part for part in self._parts if part.state is not state]
            self.rows = sum(part.table.num_rows for part in self._parts if part.table is not None)
        previous = self._parts[-1] if self._parts else None
        if previous is not None and previous.state is state:
            previous.last = True
        else:
            self._parts.append(_Part(state, None, False, last=True))

    def flush(self) -> Iterator[FileBatch]:
        """Check every row held; each part's batch, in the order the parts came."""
        parts, self._parts, self.rows = self._parts, [], 0
        batches: dict[int, FileBatch] = {}
        for flat in (False, True):
            group = [i for i, p in enumerate(parts) if p.table is not None and p.flat == flat]
            if group:
                checked = self._check([parts[i] for i in group], flat)
                batches.update(zip(group, checked, strict=True))
        for index, part in enumerate(parts):
            if part.last and part.state.layout is not None and not part.state.summary.reason:
                part.state.summary.variant = layouts.variant_name(
                    part.state.layout,
                    header=part.state.has_header,
                    totals_two_decimals=part.state.two_decimals,
                )
            yield batches[index] if index in batches else _empty(part)

    def _check(self, parts: list[_Part], flat: bool) -> list[FileBatch]:
        tables = [part.table for part in parts if part.table is not None]
        rows = pa.concat_tables(tables)
        verdict = check(rows, flat_baskets=flat, cache=self._cache)
        facts = normalise(verdict, self._tokeniser)
        bounds = np.concatenate([[0], np.cumsum([table.num_rows for table in tables])])
        _note_variants(rows, parts, bounds)
        accepted = verdict.accepted.to_numpy(zero_copy_only=False)
        taken = np.concatenate([[0], np.cumsum(accepted)])[bounds]
        cuts = (
            taken,
            np.searchsorted(facts.item_rows, bounds),
            np.searchsorted(verdict.rejected_from, bounds),
        )
        tables_out = (facts.transactions, facts.basket_items, verdict.rejected_rows)
        found = _Found(tables_out, cuts, len(parts))
        return [
            self._batch(part, tables_out, [cut[k : k + 2] for cut in cuts], found, k)
            for k, part in enumerate(parts)
        ]

    def _batch(
        self, part: _Part, tables: _Tables, cuts: list[np.ndarray], found: "_Found", k: int
    ) -> FileBatch:
        transactions, items, rejected = (
            table.slice(int(start), int(stop - start))
            for table, (start, stop) in zip(tables, cuts, strict=True)
        )
        summary = part.state.summary
        summary.rows_read += transactions.num_rows + rejected.num_rows
        summary.rows_loaded += transactions.num_rows
        summary.rows_rejected += rejected.num_rows
        summary.rejects.update(found.rejects[k])
        summary.branch_ids.update(found.branches[k])
        summary.business_dates.update(found.dates[k])
        cache = self._cache
        return FileBatch(
            part.state.file_id, transactions, items, rejected,
            {key: cache.branches[key] for key in found.branches[k]},
            {key: cache.products[key] for key in found.products[k]},
            summary, part.last,
        )  # fmt: skip


class _Found:
    """Per part of a check: the branches, days and products of its accepted rows, and the
    reasons of its rejected rows (one grouping each over every part)."""

    def __init__(self, tables: _Tables, cuts: tuple[np.ndarray, ...], count: int) -> None:
        self.branches: list[set[int]] = [set() for _ in range(count)]
        self.dates: list[set[date]] = [set() for _ in range(count)]
        self.products: list[set[int]] = [set() for _ in range(count)]
        self.rejects: list[dict[str, int]] = [{} for _ in range(count)]
        accepted, items, rejected = (np.diff(cut) for cut in cuts)
        transactions, basket_items, rejected_rows = tables
        days = transactions["business_date"]
        for part, branch, day in _distinct(accepted, transactions["branch_id"], days):
            self.branches[part].add(branch)
            self.dates[part].add(day)
        for part, product in _distinct(items, basket_items["product_id"]):
            self.products[part].add(product)
        if rejected_rows.num_rows:
            reasons = rejected_rows["reason"]
            for part, reason, number in _distinct(rejected, reasons, counted=True):
                self.rejects[part][reason] = number


def _distinct(
    counts: np.ndarray, *columns: pa.ChunkedArray | pa.Array, counted: bool = False
) -> Iterator[tuple[Any, ...]]:
    """The distinct (part, values…) of rows that come ``counts[part]`` a part, in order;
    with ``counted``, each with its number of rows."""
    parts = pa.array(np.repeat(np.arange(len(counts)), counts))
    table = pa.table([parts, *columns], names=[f"c{i}" for i in range(len(columns) + 1)])
    aggregations = [("c0", "count")] if counted else []
    grouped = table.group_by(table.column_names, use_threads=False).aggregate(aggregations)
    return zip(*(column.to_pylist() for column in grouped.columns), strict=True)


def _note_variants(rows: pa.Table, parts: list[_Part], bounds: np.ndarray) -> None:
    """Clear ``two_decimals`` of files with a total like ``5.2`` among their first
    ``VARIANT_ROWS`` complete records."""
    complete = pc.equal(rows["fields"], FIELD_COUNT)
    odd = pc.and_(
        complete, pc.invert(pc.match_substring_regex(rows["total"], layouts.TWO_DECIMALS))
    )
    odd_rows = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
    seen = np.concatenate([[0], np.cumsum(complete.to_numpy(zero_copy_only=False))])
    for k, part in enumerate(parts):
        state, start, stop = part.state, bounds[k], bounds[k + 1]
        if state.layout is None or state.totals_seen >= layouts.VARIANT_ROWS:
            continue
        first = np.searchsorted(odd_rows, start)
        if first < len(odd_rows) and odd_rows[first] < stop:
            rank = state.totals_seen + seen[odd_rows[first]] - seen[start]
            state.two_decimals = state.two_decimals and rank >= layouts.VARIANT_ROWS
        state.totals_seen += int(seen[stop] - seen[start])


def _empty(part: _Part) -> FileBatch:
    return FileBatch(
        part.state.file_id,
        contract.TRANSACTIONS.empty_table(),
        contract.BASKET_ITEMS.empty_table(),
        contract.REJECTED_ROWS.empty_table(),
        {},
        {},
        part.state.summary,
        part.last,
    )
