"""Field parsers. Each returns the clean value or raises ``Rejected`` with a reason code.

Money is integer pennies here and exact decimals in the warehouse: never a float.
"""

import re
import unicodedata
from datetime import datetime

from cafe_etl.model import Item, Reason

MAX_PENNIES = 10**10 - 1  # NUMERIC(10,2)
NAME_LIMIT = 200
"""Characters and UTF-8 bytes of a branch, product or flavour name: VARCHAR(200) counts
characters on PostgreSQL and DuckDB, bytes on Redshift."""
BASKET_LIMIT = 10_000
"""Characters of a basket: a till's longest real one is a few hundred."""
YEARS = range(2000, 2100)
"""Trading years accepted: a year like 0001 or 9999 is a broken till clock, not a sale."""
PAYMENT_METHODS = frozenset({"CARD", "CASH"})
SIZES = {"regular": "Regular", "large": "Large"}
_DETAIL_LIMIT = 80

_TIMESTAMP = re.compile(
    r"(?:(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})[ T]"
    r"|(?P<d2>[0-9]{1,2})/(?P<m2>[0-9]{1,2})/(?P<y2>[0-9]{4}) )"
    r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?"
)
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_CARD_LIKE = re.compile(r"\d(?:[\W_]{0,3}\d){11,18}")
"""12-19 digits, any script's, whatever separates their groups (spaces, dashes, dots, commas,
slashes, underscores, several of them)."""
_DIGITS_LIMIT = 12
"""A quoted detail holds fewer digits than a card number, unless it is a well-formed date."""
TIMESTAMP_SHAPE = re.compile(r"[0-9/:.T -]+")
AMOUNT_SHAPE = re.compile(r"[-+]?£?[0-9][0-9.,]*")
_ITEM = re.compile(r"(?P<desc>.+?)\s*-\s*(?P<price>\S+)")


class Rejected(Exception):
    """A field that makes its row unusable; ``detail`` never holds personal data."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def quote(value: str, shape: re.Pattern[str]) -> str:
    """`` 'value'`` for a rejected-row detail, only for a well-formed date or amount.

    Free text (a payment word, an item, a name) is never quoted: a surname or a card number
    shifted into such a field must not reach the warehouse through the detail.
    """
    text = value.strip()
    if not shape.fullmatch(text) or len(text) > _DETAIL_LIMIT:
        return ""
    if sum(char.isdigit() for char in text) >= _DIGITS_LIMIT and not _TIMESTAMP.fullmatch(text):
        return ""
    return f" {text!r}"


def check_text(text: str, what: str, reason: Reason, limit: int = NAME_LIMIT) -> str:
    """Free text that may reach a column: within ``limit`` characters and UTF-8 bytes, no
    control character (PostgreSQL refuses NUL), no card-like number."""
    if len(text) > limit or len(text.encode()) > limit:
        raise Rejected(reason, f"{what} is longer than {limit} characters or bytes")
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise Rejected(reason, f"{what} holds a control character")
    if _CARD_LIKE.search(text):
        raise Rejected(reason, f"{what} holds a number like a card's")
    return text


def parse_timestamp(raw: str) -> datetime:
    """``2021-02-23 09:01:45`` or ``23/03/2021 08:00``, the till's naive local time."""
    match = _TIMESTAMP.fullmatch(raw.strip())
    if match is None:
        raise Rejected(
            Reason.BAD_TIMESTAMP, f"timestamp{quote(raw, TIMESTAMP_SHAPE)} is not a date and time"
        )
    g = match.groupdict()
    try:
        moment = datetime(
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
    if moment.year not in YEARS:
        raise Rejected(
            Reason.BAD_TIMESTAMP,
            f"timestamp{quote(raw, TIMESTAMP_SHAPE)} is outside {YEARS[0]}-{YEARS[-1]}",
        )
    return moment


def parse_pennies(raw: str, what: str = "total") -> int:
    """A non-negative whole number of pennies: ``5``, ``5.2``, ``5.200``; not ``2.755``."""
    text = raw.strip()
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise Rejected(Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is not an amount")
    whole, fraction = match.group(1).lstrip("0"), match.group(2) or ""
    if len(whole) > len(str(MAX_PENNIES)):  # before int(): a 5,000-digit total is no sale
        raise Rejected(Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is too large")
    if fraction[2:].strip("0"):
        raise Rejected(
            Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is not a whole number of pennies"
        )
    pennies = int(whole or "0") * 100 + int(fraction[:2].ljust(2, "0"))
    if pennies > MAX_PENNIES:
        raise Rejected(Reason.BAD_AMOUNT, f"{what}{quote(text, AMOUNT_SHAPE)} is too large")
    return pennies


def parse_payment(raw: str) -> str:
    method = raw.strip().upper()
    if method not in PAYMENT_METHODS:
        raise Rejected(Reason.BAD_PAYMENT, "payment method is not CARD or CASH")
    return method


def parse_branch(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise Rejected(Reason.BAD_BRANCH, "branch is empty")
    return check_text(name, "branch name", Reason.BAD_BRANCH)


def _product(description: str, size: str | None) -> tuple[str, str | None, str | None]:
    name, _, flavour = (part.strip() for part in description.partition(" - "))
    if not name:
        raise Rejected(Reason.BAD_BASKET, "an item has no product name")
    check_text(name, "a product name", Reason.BAD_BASKET)
    check_text(flavour, "a flavour", Reason.BAD_BASKET)
    return name, size, flavour or None


def parse_item(text: str) -> Item:
    """``[Size ]Name[ - Flavour] - price`` (variants B, C and D)."""
    match = _ITEM.fullmatch(text.strip())
    if match is None:
        raise Rejected(Reason.BAD_BASKET, "an item is not '[Size ]Name[ - Flavour] - price'")
    description = match["desc"]
    first, _, rest = description.partition(" ")
    size = SIZES.get(first.lower()) if rest else None
    name, size, flavour = _product(rest if size else description, size)
    return Item(name, size, flavour, parse_pennies(match["price"], "item price"))


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
