"""The one rule set for rows, applied column by column.

Input: records already placed by their file's layout (``ROLE_SCHEMA``: the file's key, line
number, field count and the six fields the pipeline reads; the customer's name is never
among them). Each distinct raw value is parsed once (``ParseCache``); a row is rejected for
the first rule it breaks, in this order, with the detail the field parser gives:

1. ``field_count``: not seven fields, or a quoted value holding lines that start like
   records of their own (a quote left open swallows the lines after it);
2. ``bad_timestamp``, 3. ``bad_branch``, 4. ``bad_amount`` (the total),
5. ``bad_basket`` (or ``bad_amount`` for an item's price: the first bad item), 6. ``bad_payment``;
7. ``total_mismatch``: item prices that do not sum exactly to the total.

A rejected record that spans several lines is one rejected row per line, so every line is
accounted for. The verdict keeps each row's parsed values; ``normalise`` turns the
accepted rows into the contract's tables.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cafe_etl import contract
from cafe_etl.extract.bounded import LINE_BYTES
from cafe_etl.extract.rows import FIELD_COUNT
from cafe_etl.model import Reason
from cafe_etl.transform.cache import Line, Memo, ParseCache
from cafe_etl.transform.fields import BASKET_LIMIT, Rejected

ROLES = ("timestamp", "branch", "basket", "total", "payment", "card")
ROLE_SCHEMA = pa.schema(
    [
        ("file_id", pa.int64()),
        ("line", pa.int64()),
        ("span", pa.int32()),
        ("swallows", pa.bool_()),
        ("fields", pa.int32()),
        *((role, pa.string()) for role in ROLES),
    ]
)


@dataclass(frozen=True)
class Verdict:
    """The rules' outcome for some rows, in the order the rows came: each row's parsed
    values (null where a field was rejected) and the rejected rows with their reasons."""

    rows: pa.Table
    occurred_at: pa.Array
    """Seconds since 1970 on the till's wall clock."""
    branch_ids: pa.Array
    totals: pa.Array
    """Pennies."""
    payments: pa.Array
    baskets: "Baskets"
    accepted: pa.Array
    rejected_rows: pa.Table
    rejected_from: np.ndarray
    """Per rejected row: the index of the row given it comes from (ascending)."""


class _Rejections:
    """The distinct (reason, detail) pairs met, numbered; a row refers to one by number."""

    def __init__(self) -> None:
        self._codes: dict[tuple[str, str], int] = {}

    def code(self, reason: str, detail: str) -> int:
        return self._codes.setdefault((reason, detail), len(self._codes))

    def columns(self, codes: pa.Array) -> tuple[pa.Array, pa.Array]:
        reasons, details = zip(*self._codes, strict=True) if self._codes else ((), ())
        return (
            pa.array(reasons, pa.string()).take(codes),
            pa.array(details, pa.string()).take(codes),
        )


def check(rows: pa.Table, *, flat_baskets: bool, cache: ParseCache) -> Verdict:
    """Apply the rules to rows of ``ROLE_SCHEMA``; ``flat_baskets`` for variant A's notation."""
    rejections = _Rejections()
    raw = {role: rows[role].combine_chunks() for role in ROLES}
    occurred_at, ts_rejected = _lookup(raw["timestamp"], cache.timestamp, pa.int64(), rejections)
    branch_ids, branch_rejected = _lookup(raw["branch"], cache.branch, pa.int64(), rejections)
    totals, total_rejected = _lookup(raw["total"], cache.total, pa.int64(), rejections)
    payments, payment_rejected = _lookup(raw["payment"], cache.payment, pa.string(), rejections)
    baskets = Baskets(raw["basket"], cache, rejections, flat=flat_baskets)
    field_count = _first(
        [
            _over_long(rows["fields"].combine_chunks(), rejections),
            _field_count(rows["fields"].combine_chunks(), rejections),
            _open_quote(rows["swallows"].combine_chunks(), rejections),
        ]
    )
    rejected = _first(
        [field_count, ts_rejected, branch_rejected, total_rejected, baskets.rejected,
         payment_rejected]
    )  # fmt: skip
    rejected = _first([rejected, _mismatch(baskets.sums, totals, rejected, rejections)])
    accepted = (
        pc.is_null(rejected) if rejected is not None else pa.repeat(pa.scalar(True), len(rows))
    )
    rejected_rows, rejected_from = _rejected_rows(rows, rejected, rejections)
    return Verdict(
        rows, occurred_at, branch_ids, totals, payments, baskets, accepted, rejected_rows,
        rejected_from,
    )  # fmt: skip


def _lookup(
    column: pa.Array, memo: Memo[Any], kind: pa.DataType, rejections: _Rejections
) -> tuple[pa.Array, pa.Array | None]:
    """Each row's parsed value (null where rejected) and rejection code (None if none is)."""
    encoded = pc.dictionary_encode(column)
    known, values, codes, any_rejected = memo.values.get, [], [], False
    for raw in encoded.dictionary.to_pylist():
        value, code = known(raw), None
        if value is None:
            try:
                value = memo(raw)
            except Rejected as error:
                code, any_rejected = rejections.code(error.reason, error.detail), True
        values.append(value)
        codes.append(code)
    indices = encoded.indices
    rejected = pa.array(codes, pa.int32()).take(indices) if any_rejected else None
    return pa.array(values, kind).take(indices), rejected


def _field_count(counts: pa.Array, rejections: _Rejections) -> pa.Array | None:
    wrong = pc.not_equal(counts, FIELD_COUNT)
    if not pc.any(wrong).as_py():
        return None
    codes = {
        count: rejections.code(Reason.FIELD_COUNT, f"expected {FIELD_COUNT} fields, found {count}")
        for count in pc.unique(counts.filter(wrong)).to_pylist()
    }
    looked_up = pc.index_in(counts, pa.array(list(codes), pa.int32()))
    code_of = pa.array(list(codes.values()), pa.int32()).take(looked_up)
    return pc.if_else(wrong, code_of, pa.scalar(None, pa.int32()))


def _over_long(counts: pa.Array, rejections: _Rejections) -> pa.Array | None:
    """``field_count`` for a line cut out for its length (0 fields: ``extract.bounded``)."""
    cut = pc.equal(counts, 0)
    if not pc.any(cut).as_py():
        return None
    detail = f"a line longer than {LINE_BYTES:,} bytes"
    return _where(cut, rejections.code(Reason.FIELD_COUNT, detail))


def _open_quote(swallows: pa.Array, rejections: _Rejections) -> pa.Array | None:
    if not pc.any(swallows).as_py():
        return None
    code = rejections.code(Reason.FIELD_COUNT, "a quoted value runs over lines of other records")
    return _where(swallows, code)


def _mismatch(
    sums: pa.Array, totals: pa.Array, rejected: pa.Array | None, rejections: _Rejections
) -> pa.Array | None:
    """``total_mismatch`` for rows that broke no earlier rule and whose items do not add up."""
    differs = pc.fill_null(pc.not_equal(sums, totals), False)
    if rejected is not None:
        differs = pc.and_(differs, pc.is_null(rejected))
    where = np.flatnonzero(differs.to_numpy(zero_copy_only=False))
    if not len(where):
        return None
    found = pa.array(where)
    pairs = zip(sums.take(found).to_pylist(), totals.take(found).to_pylist(), strict=True)
    codes = [
        rejections.code(Reason.TOTAL_MISMATCH, f"items sum to {_pounds(s)}, total is {_pounds(t)}")
        for s, t in pairs
    ]
    return _scatter(where, codes, len(sums))


class Baskets:
    """Each row's basket as a list of item kinds, a kind being one (product, unit price).

    Variants B-D: split on commas, each distinct item parsed once per run. Variant A: each
    distinct basket parsed once (``size,name,price`` triples). Counting a basket's repeats is
    then counting one integer per item: ``row * kinds + kind``.
    """

    def __init__(
        self, baskets: pa.Array, cache: ParseCache, rejections: _Rejections, *, flat: bool
    ) -> None:
        self._kinds: dict[Line, int] = {}
        self._rejections = rejections
        too_long = pc.greater(pc.utf8_length(baskets), BASKET_LIMIT)
        any_too_long = pc.any(too_long).as_py()
        if any_too_long:  # parsed as empty: its items are never looked at
            baskets = pc.if_else(too_long, "", baskets)
        if flat:
            self.per_row, self.rejected = self._flat(baskets, cache.flat_basket)
        else:
            self.per_row, self.rejected = self._split(baskets, cache.item)
        if any_too_long:
            detail = f"basket is longer than {BASKET_LIMIT} characters"
            code = rejections.code(Reason.BAD_BASKET, detail)
            self.rejected = _first([_where(too_long, code), self.rejected])
        offsets = self.per_row.offsets
        self.per_row = pa.ListArray.from_arrays(
            pc.subtract(offsets, offsets[0]), self.per_row.flatten()
        )  # values from 0, exactly the rows' items
        product_ids, prices = zip(*self._kinds, strict=True) if self._kinds else ((), ())
        self.product_ids = pa.array(product_ids, pa.int64())
        """Of each kind."""
        self.prices = pa.array(prices, pa.int64())
        """Of each kind, in pennies."""
        self.sums = _per_row(
            pc.fill_null(self.prices.take(self.per_row.values), 0), self.per_row.offsets
        )

    def _kind(self, line: Line) -> int:
        return self._kinds.setdefault(line, len(self._kinds))

    def _split(self, baskets: pa.Array, item: Memo[Line]) -> tuple[pa.ListArray, pa.Array | None]:
        per_row = pc.split_pattern(baskets, ",")
        encoded = pc.dictionary_encode(per_row.flatten())
        kinds: list[int | None] = []
        codes: list[int | None] = []
        for raw in encoded.dictionary.to_pylist():
            try:
                kinds.append(self._kind(item(raw)))
                codes.append(None)
            except Rejected as error:
                kinds.append(None)
                codes.append(self._rejections.code(error.reason, error.detail))
        kind_of = pa.array(kinds, pa.int64()).take(encoded.indices)
        lists = pa.ListArray.from_arrays(per_row.offsets, kind_of)
        empty = pc.equal(pc.utf8_trim_whitespace(baskets), "")
        rejected = _first_per_row(per_row, pa.array(codes, pa.int32()).take(encoded.indices))
        if pc.any(empty).as_py():
            code = self._rejections.code(Reason.BAD_BASKET, "basket is empty")
            rejected = _first([_where(empty, code), rejected])
        return lists, rejected

    def _flat(
        self, baskets: pa.Array, basket: Memo[list[Line]]
    ) -> tuple[pa.ListArray, pa.Array | None]:
        encoded = pc.dictionary_encode(baskets)
        kinds: list[list[int]] = []
        codes: list[int | None] = []
        for raw in encoded.dictionary.to_pylist():
            try:
                kinds.append([self._kind(line) for line in basket(raw)])
                codes.append(None)
            except Rejected as error:
                kinds.append([])
                codes.append(self._rejections.code(error.reason, error.detail))
        lists = pa.array(kinds, pa.list_(pa.int64())).take(encoded.indices)
        rejected = pa.array(codes, pa.int32()).take(encoded.indices)
        return lists, rejected if rejected.null_count < len(rejected) else None

    @property
    def kinds(self) -> int:
        return len(self._kinds)


def _first_per_row(per_row: pa.ListArray, item_codes: pa.Array) -> pa.Array | None:
    """Each row's first rejected item's code (None if no item is rejected)."""
    if item_codes.null_count == len(item_codes):
        return None
    bad = pc.is_valid(item_codes)
    parents = pc.list_parent_indices(per_row).filter(bad).to_numpy()
    codes = item_codes.filter(bad).to_numpy()
    rows, first = np.unique(parents, return_index=True)  # items are in row order
    return _scatter(rows, codes[first].tolist(), len(per_row))


def _first(columns: list[pa.Array | None]) -> pa.Array | None:
    """Per row, the first non-null code of the columns given (None if every one is None)."""
    present = [column for column in columns if column is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else pc.coalesce(*present)


def _where(mask: pa.Array, code: int) -> pa.Array:
    return pc.if_else(mask, pa.scalar(code, pa.int32()), pa.scalar(None, pa.int32()))


def _scatter(where: np.ndarray, codes: list[int], length: int) -> pa.Array:
    values = np.zeros(length, np.int32)
    values[where] = codes
    mask = np.ones(length, bool)
    mask[where] = False
    return pa.array(values, pa.int32(), mask=mask)


def _per_row(values: pa.Array, offsets: pa.Array) -> pa.Array:
    """Sums of ``values`` over each list's slice ``offsets[i]:offsets[i+1]``."""
    running = pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(values)])
    return pc.subtract(running.take(offsets[1:]), running.take(offsets[:-1]))


def _rejected_rows(
    rows: pa.Table, rejected: pa.Array | None, rejections: _Rejections
) -> tuple[pa.Table, np.ndarray]:
    """One row per line of each rejected record (nearly always one line), and the record
    each comes from."""
    if rejected is None:
        return contract.REJECTED_ROWS.empty_table(), np.zeros(0, np.int64)
    bad = np.flatnonzero(pc.is_valid(rejected).to_numpy(zero_copy_only=False))
    spans = rows["span"].to_numpy()[bad]
    if spans.max(initial=1) > 1:
        first = np.repeat(np.cumsum(spans) - spans, spans)
        offsets = np.arange(spans.sum()) - first
        bad = np.repeat(bad, spans)
    else:
        offsets = np.zeros(len(bad), np.int64)
    taken = pa.array(bad)
    reasons, details = rejections.columns(rejected.take(taken))
    lines = pa.array(rows["line"].to_numpy()[bad] + offsets)
    table = pa.table(
        [rows["file_id"].take(taken), lines, reasons, details], schema=contract.REJECTED_ROWS
    )
    return table, bad


def _pounds(pennies: int) -> str:
    return f"{pennies // 100}.{pennies % 100:02d}"
