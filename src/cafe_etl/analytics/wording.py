"""Words and numbers as the report writes them, and the shape of one section."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cafe_etl.analytics.data import Table

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP = 10


@dataclass
class Section:
    """One part of the report: a title, the finding, and what to draw or list."""

    key: str
    title: str
    caption: str
    chart: dict[str, Any] | None = None
    """A chart spec for ``charts.figure``: kind plus data."""
    table: Table | None = None
    notes: list[str] = field(default_factory=list)


def money(value: Any) -> str:
    amount = Decimal(value or 0).quantize(Decimal("1"), ROUND_HALF_UP)
    return f"£{amount:,}"


def pct(value: Any) -> str:
    number = Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{abs(number)} %"


def change(now: Any, before: Any) -> Decimal | None:
    if not before:
        return None
    return (Decimal(now) - Decimal(before)) * 100 / Decimal(before)


def day_name(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day:%B %Y}"


def trend(value: Decimal | None, up: str = "up", down: str = "down") -> str:
    if value is None:
        return "with nothing to compare in the previous period"
    if abs(value) < Decimal("0.05"):
        return "level with the previous period"
    return f"{up if value > 0 else down} {pct(value)} on the previous period"


def change_text(value: Decimal | None) -> str:
    if value is None:
        return "no earlier data"
    return ("+" if value >= 0 else "-") + pct(value)
