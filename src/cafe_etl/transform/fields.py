"""Field parsers. Each returns the clean value or raises ``Rejected`` with a reason code.

Money is integer pennies here and exact decimals in the warehouse: never a float.
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from cafe_etl.model import Item, Reason

T = TypeVar("T")


MAX_PENNIES = 10**10 - 1  # NUMERIC(10,2)
NAME_LIMIT = 200  # VARCHAR(200): branch, product and flavour names
PAYMENT_METHODS = frozenset({"CARD", "CASH"})
SIZES = {"regular": "Regular", "large": "Large"}
_DETAIL_LIMIT = 80

_TIMESTAMP = re.compile(
    r"(?:(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})[ T]"
    r"|(?P<d2>\d{1,2})/(?P<m2>\d{1,2})/(?P<y2>\d{4}) )"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
)
_AMOUNT = re.compile(r"(\d+)(?:\.(\d+))?")
_CARD_LIKE = re.compile(r"\d{12,}")
TIMESTAMP_SHAPE = re.compile(r"[0-9/:.T -]+")
AMOUNT_SHAPE = re.compile(r"[0-9.,+£ -]+")
PAYMENT_SHAPE = re.compile(r"[A-Z]{2,10}")  # one upper-case word: never "JOHN SMITH"
ITEM_SHAPE = re.compile(r"(?i:regular|large)\b[^,]*")
_ITEM = re.compile(r"(?P<desc>.+?)\s*-\s*(?P<price>\S+)")


class Rejected(Exception):
    """A field that makes its row unusable; ``detail`` never holds personal data."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def quote(value: str, shape: re.Pattern[str]) -> str:
    """`` 'value'`` for a rejected-row detail when the value has the shape its field expects.

    Only the timestamp, total, payment and basket fields are ever offered (never the name or
    card field), and only values that look like one (digits and separators, an upper-case
    word, a sized item) are shown: a name or card number shifted into such a field is not.
    """
    text = value.strip()
    card_like = _CARD_LIKE.search(re.sub(r"[ -]", "", text))  # "4924 5157 …" too
    if not shape.fullmatch(text) or card_like or len(text) > _DETAIL_LIMIT:
        return ""
    return f" {text!r}"


def parse_timestamp(raw: str) -> datetime:
    """``2021-02-23 09:01:45`` or ``23/03/2021 08:00``, the till's naive local time."""
    match = _TIMESTAMP.fullmatch(raw.strip())
    if match is None:
        raise Rejected(
            Reason.BAD_TIMESTAMP, f"timestamp{quote(raw, TIMESTAMP_SHAPE)} is not a date and time"
        )
    g = match.groupdict()
    try:
        return datetime(
            int(g["y"] or g["y2"]),
            int(g["m"] or g["m2"]),
            int(g["d"] or g["d2"]),
            int(g["H"]),
            int(g["M"]),
            int(g["S"] or 0),
        )
    except ValueError:
        raise Rejected(
            Reason.BAD_TIMESTAMP, f"timestamp{quote(raw, TIMESTAMP_SHAPE)} is impossible"
        ) from None


def parse_pennies(raw: str, what: str = "total") -> int:
    """A non-negative whole number of pennies: ``5``, ``5.2``, ``5.200``; not ``2.755``."""
    text = raw.strip()
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise Rejected(Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is not an amount")
    whole, fraction = match.group(1), match.group(2) or ""
    if fraction[2:].strip("0"):
        raise Rejected(
            Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is not a whole number of pennies"
        )
    pennies = int(whole) * 100 + int(fraction[:2].ljust(2, "0"))
    if pennies > MAX_PENNIES:
        raise Rejected(Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is too large")
    return pennies


def parse_payment(raw: str) -> str:
    method = raw.strip().upper()
    if method not in PAYMENT_METHODS:
        raise Rejected(
            Reason.BAD_PAYMENT, f"payment method{quote(raw, PAYMENT_SHAPE)} is not CARD or CASH"
        )
    return method


def parse_branch(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise Rejected(Reason.BAD_BRANCH, "branch is empty")
    if len(name) > NAME_LIMIT:
        raise Rejected(Reason.BAD_BRANCH, f"branch name is longer than {NAME_LIMIT} characters")
    return name


def _product(description: str, size: str | None) -> tuple[str, str | None, str | None]:
    name, _, flavour = (part.strip() for part in description.partition(" - "))
    if not name:
        detail = f"item{quote(description, ITEM_SHAPE)} has no product name"
        raise Rejected(Reason.BAD_BASKET, detail)
    if len(name) > NAME_LIMIT or len(flavour) > NAME_LIMIT:
        raise Rejected(Reason.BAD_BASKET, f"a product name is longer than {NAME_LIMIT} characters")
    return name, size, flavour or None


def parse_item(text: str) -> Item:
    """``[Size ]Name[ - Flavour] - price`` (variants B, C and D)."""
    match = _ITEM.fullmatch(text.strip())
    if match is None:
        detail = f"item{quote(text, ITEM_SHAPE)} is not '[Size ]Name[ - Flavour] - price'"
        raise Rejected(Reason.BAD_BASKET, detail)
    description = match["desc"]
    first, _, rest = description.partition(" ")
    size = SIZES.get(first.lower()) if rest else None
    name, size, flavour = _product(rest if size else description, size)
    return Item(name, size, flavour, parse_pennies(match["price"], "item price"))


def parse_basket(raw: str, item: Callable[[str], T] = parse_item) -> list[T]:  # type: ignore[assignment]
    """A comma-separated basket of variant B, C or D, each item read by ``item``."""
    if not raw.strip():
        raise Rejected(Reason.BAD_BASKET, "basket is empty")
    return [item(part) for part in raw.split(",")]


def parse_flat_basket(raw: str) -> list[Item]:
    """Variant A's flat ``size,name,price`` triples; an empty size means Regular."""
    parts = [part.strip() for part in raw.split(",")]
    if not raw.strip() or len(parts) % 3:
        raise Rejected(Reason.BAD_BASKET, "basket is not a list of size,name,price triples")
    items = []
    for i in range(0, len(parts), 3):
        size_text, description, price = parts[i : i + 3]
        size = SIZES.get(size_text.lower() or "regular")
        if size is None:
            raise Rejected(Reason.BAD_BASKET, "an item's size is not Regular, Large or empty")
        name, size, flavour = _product(description, size)
        items.append(Item(name, size, flavour, parse_pennies(price, "item price")))
    return items
