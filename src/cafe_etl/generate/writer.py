"""Writes one branch-day till export in any of the four raw byte formats."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import accumulate
from typing import BinaryIO

from cafe_etl.generate.menu import FIRST_NAMES, LAST_NAMES, MENU, Product

VARIANTS = ("A", "B", "C", "D")
HEADER = (
    "Timestamp", "Location", "Customer Name", "Items Ordered",
    "Total Amount", "Payment Method", "Card Number",
)  # fmt: skip

_CASH_SHARE = 0.35
_RETURNING_SHARE = 0.30
_BASKET_SIZES = (1,) * 30 + (2,) * 30 + (3,) * 20 + (4,) * 12 + (5,) * 8
_CARD_SCHEMES = (("visa16", "4", 16), ("visa13", "4", 13), ("americanexpress", "37", 15),
                 ("mastercard", "5", 16), ("discover", "6011", 16))  # fmt: skip
_CHUNK = 1 << 16

Customer = tuple[str, str]


def two_decimals(pennies: int) -> str:
    """``830`` -> ``8.30``."""
    return f"{pennies // 100}.{pennies % 100:02d}"


def float_style(pennies: int) -> str:
    """``830`` -> ``8.3``, ``500`` -> ``5.0``: what ``repr(float)`` prints, computed exactly."""
    units, cents = divmod(pennies, 100)
    if cents % 10:
        return f"{units}.{cents:02d}"
    return f"{units}.{cents // 10}"


@dataclass(frozen=True)
class _Format:
    seconds: bool
    line_end: str
    payment_first: bool
    header: bool
    trailer: str
    cash_card: str
    total: Callable[[int], str]
    joiner: str


_FORMATS = {
    "A": _Format(True, "\r\n", True, False, " ", "None", two_decimals, ","),
    "B": _Format(False, "\n", False, False, " ", "", two_decimals, ", "),
    "C": _Format(False, "\n", False, False, "", "", float_style, ", "),
    "D": _Format(False, "\n", False, True, "", "", float_style, ", "),
}


def _item_label(variant: str, size: str | None, name: str, flavour: str | None, price: int) -> str:
    full = f"{name} - {flavour}" if flavour else name
    if variant == "A":
        return f"{'Large' if size == 'Large' else ''},{full},{float_style(price)}"
    return f"{size + ' ' if size else ''}{full} - {two_decimals(price)}"


@lru_cache(maxsize=32)
def _skus(products: tuple[Product, ...], variant: str) -> tuple[list[tuple[str, int]], list[int]]:
    items: list[tuple[str, int]] = []
    weights: list[int] = []
    for product in products:
        flavours: Sequence[str | None] = product.flavours or (None,)
        for size, price in product.prices.items():
            share = 5 if size is None else 3 if size == "Regular" else 2
            for flavour in flavours:
                items.append((_item_label(variant, size, product.name, flavour, price), price))
                weights.append(product.weight * share * 420 // len(flavours))
    return items, list(accumulate(weights))


def new_card(rng: random.Random, variant: str = "C") -> str:
    """A fake card field as printed by the till: 16 digits, or ``scheme,digits`` in variant A."""
    if variant != "A":
        return str(rng.randrange(10**15, 10**16))
    scheme, prefix, length = rng.choice(_CARD_SCHEMES)
    digits = length - len(prefix)
    return f"{scheme},{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"


def new_name(rng: random.Random) -> str:
    """A fake customer name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _minute_weight(minute: int, opens: int, closes: int) -> int:
    def peak(centre: int, half_width: int, height: int) -> int:
        return max(0, height * (half_width - abs(minute - centre)) // half_width)

    evening = peak(17 * 60 + 30, 60, 8) if closes > 19 else 0
    return 10 + peak(opens * 60 + 45, 90, 30) + peak(12 * 60 + 45, 90, 25) + evening


def _minute_counts(rng: random.Random, n: int, opens: int, closes: int) -> list[int]:
    cum = list(accumulate(_minute_weight(m, opens, closes) for m in range(opens * 60, closes * 60)))
    counts = [0] * len(cum)
    slots = range(len(cum))
    for start in range(0, n, _CHUNK):
        for slot in rng.choices(slots, cum_weights=cum, k=min(_CHUNK, n - start)):
            counts[slot] += 1
    return counts


def _stamps(rng: random.Random, day: date, opens: int, counts: list[int], seconds: bool
            ) -> Iterator[str]:  # fmt: skip
    prefix = day.strftime("%Y-%m-%d" if seconds else "%d/%m/%Y")
    for slot, count in enumerate(counts):
        hour, minute = divmod(opens * 60 + slot, 60)
        stamp = f"{prefix} {hour:02d}:{minute:02d}"
        if not seconds:
            yield from [stamp] * count
            continue
        for second in sorted(rng.randrange(60) for _ in range(count)):
            yield f"{stamp}:{second:02d}"


def _rows(rng: random.Random, branch: str, stamps: Iterator[str], variant: str,
          products: tuple[Product, ...], regulars: Sequence[Customer]
          ) -> Iterator[tuple[str, ...]]:  # fmt: skip
    fmt = _FORMATS[variant]
    items, cum = _skus(products, variant)
    for stamp in stamps:
        basket = rng.choices(items, cum_weights=cum, k=rng.choice(_BASKET_SIZES))
        total = fmt.total(sum(price for _, price in basket))
        if rng.random() < _CASH_SHARE:
            payment, name, card = "CASH", new_name(rng), fmt.cash_card
        elif regulars and rng.random() < _RETURNING_SHARE:
            payment, (name, card) = "CARD", rng.choice(regulars)
        else:
            payment, name, card = "CARD", new_name(rng), new_card(rng, variant)
        text = fmt.joiner.join(label for label, _ in basket)
        if fmt.payment_first:
            yield stamp, branch, name, text, payment, total, card
        else:
            yield stamp, branch, name, text, total, payment, card


def write_branch_day(
    fp: BinaryIO,
    *,
    branch: str,
    day: date,
    transactions: int,
    rng: random.Random,
    variant: str = "C",
    products: Sequence[Product] = MENU,
    hours: tuple[int, int] = (9, 17),
    regulars: Sequence[Customer] = (),
) -> int:
    """Stream one till export of ``transactions`` sales to the binary stream ``fp``.

    Sales are spread over the opening ``hours`` (whole hours, closing exclusive) with a
    morning and a lunch peak, in ascending time order. ``regulars`` are (name, card field)
    pairs that about 30% of card sales reuse. ``fp`` is left open. Returns the number of
    transactions written.
    """
    if variant not in _FORMATS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    fmt = _FORMATS[variant]
    opens, closes = hours
    counts = _minute_counts(rng, transactions, opens, closes)
    stamps = _stamps(rng, day, opens, counts, fmt.seconds)
    text = io.TextIOWrapper(fp, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text, lineterminator=fmt.line_end)
        if fmt.header:
            writer.writerow(HEADER)
        writer.writerows(_rows(rng, branch, stamps, variant, tuple(products), regulars))
        text.write(fmt.trailer)
    finally:
        text.detach()
    return transactions
