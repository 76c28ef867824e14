"""Parsed values of distinct raw strings: a day's export repeats its timestamps, totals and
items thousands of times, so each distinct string is parsed once per run, not once per row."""

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from cafe_etl import keys
from cafe_etl.model import Item
from cafe_etl.transform import fields

T = TypeVar("T")
Line = tuple[int, int]
"""A basket item once parsed: (product_id, unit price in pennies)."""
_EPOCH = datetime(1970, 1, 1)


class Memo(Generic[T]):
    """Remembers a parser's result, rejection included, for each distinct raw string.

    Hot loops read ``values.get`` directly and call the memo only on a miss.
    """

    def __init__(self, parse: Callable[[str], T], limit: int = 200_000) -> None:
        self._parse = parse
        self._limit = limit
        self.values: dict[str, T] = {}
        self._rejections: dict[str, tuple[str, str]] = {}
        """(reason, detail): a fresh exception each time, so no traceback (and none of the
        frames and rows it would hold) outlives the row it was raised for."""

    def __call__(self, raw: str) -> T:
        if raw in self.values:
            return self.values[raw]
        if raw in self._rejections:
            raise fields.Rejected(*self._rejections[raw])
        if len(self.values) + len(self._rejections) >= self._limit:
            self.values.clear()
            self._rejections.clear()
        try:
            value = self.values[raw] = self._parse(raw)
        except fields.Rejected as rejected:
            self._rejections[raw] = (rejected.reason, rejected.detail)
            raise
        return value


class ParseCache:
    """Parsed values of distinct raw strings, shared by every file of a run; also the
    registry of every branch name and product seen, by key."""

    def __init__(self) -> None:
        self.timestamp = Memo(epoch_seconds)
        self.total = Memo(fields.parse_pennies)
        self.payment = Memo(fields.parse_payment)
        self.branch = Memo(self._branch_id)
        self.item = Memo(lambda raw: self._register(fields.parse_item(raw)))
        self.flat_basket = Memo(
            lambda raw: [self._register(item) for item in fields.parse_flat_basket(raw)]
        )
        self.branches: dict[int, str] = {}
        self.products: dict[int, Item] = {}

    def _register(self, item: Item) -> Line:
        product_id = keys.product_key(item.name, item.size, item.flavour)
        self.products.setdefault(product_id, item)
        return product_id, item.pennies

    def _branch_id(self, raw: str) -> int:
        name = fields.parse_branch(raw)
        branch_id = keys.branch_key(name)
        self.branches[branch_id] = name
        return branch_id


def epoch_seconds(raw: str) -> int:
    """The till's wall-clock time as seconds since 1970-01-01 (naive, no time zone)."""
    return int((fields.parse_timestamp(raw) - _EPOCH).total_seconds())
