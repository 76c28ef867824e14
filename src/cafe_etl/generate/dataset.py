"""Branches, daily volumes and planted signals for a whole synthetic data set."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path

from cafe_etl.generate.menu import LAUNCH_PRODUCT, MENU
from cafe_etl.generate.writer import VARIANTS, Customer, new_card, new_name, write_branch_day

RISING_BRANCH = "Leeds"
FALLING_BRANCH = "Chesterfield"
SKIPPED_BRANCH = "London Brixton"
UNUSUAL_BRANCH = "Isle of Wight"
UNUSUAL_PERCENT = 250
"""On the planted unusual day its branch sells 2.5 times its usual (a local event)."""
UNUSUAL_HISTORY_DAYS = 28
"""The unusual day is the first with four same weekdays before it to compare with."""
WEEKLY_CHANGE_PERCENT = 8
MIN_DAILY, MAX_DAILY = 150, 600

_WEEKDAY_PERCENT = (90, 92, 96, 100, 112, 125, 82)
_KNOWN_HOURS = {"Chesterfield": (9, 17), "Leeds": (9, 17), "London Brixton": (8, 21),
                "Isle of Wight": (9, 18)}  # fmt: skip
_HOURS = ((9, 17), (9, 17), (9, 17), (8, 17), (8, 18), (9, 18), (7, 19), (8, 21))
_TREND_BASE = {RISING_BRANCH: 230, FALLING_BRANCH: 420}
_REGULARS = 120


@dataclass(frozen=True)
class Branch:
    """A branch: its town as printed by the till, region, opening hours and usual volume."""

    town: str
    region: str
    hours: tuple[int, int]
    base: int


@dataclass(frozen=True)
class Signals:
    """What analytics must find; a field is ``None`` when the data set is too small for it."""

    rising_branch: str | None
    falling_branch: str | None
    weekly_change_percent: int
    skipped_branch: str | None
    skipped_day: date | None
    launched_product: str | None
    launch_day: date | None
    unusual_branch: str | None = None
    unusual_day: date | None = None


@dataclass(frozen=True)
class GenerateResult:
    """The files written (in branch, then day order), their transaction count and signals."""

    files: tuple[Path, ...]
    transactions: int
    branches: tuple[str, ...]
    signals: Signals


@cache
def towns() -> tuple[tuple[str, str], ...]:
    """(town, region) pairs from the packaged ``regions.csv``, in file order."""
    text = files("cafe_etl").joinpath("data/regions.csv").read_text(encoding="utf-8")
    return tuple((row["town"], row["region"]) for row in csv.DictReader(text.splitlines()))


def branch_profile(town: str, region: str) -> Branch:
    """The branch's fixed traits, which depend on its town only, never on the seed."""
    rng = random.Random(f"profile:{town}")
    hours = _KNOWN_HOURS.get(town) or rng.choice(_HOURS)
    base = _TREND_BASE.get(town) or rng.randint(190, 330) * (hours[1] - hours[0] + 9) // 18
    return Branch(town, region, hours, base)


def file_name(town: str, day: date, opens: int) -> str:
    """The till's export name, e.g. ``chesterfield_25-08-2021_09-00-00.csv``."""
    return f"{town.lower().replace(' ', '_')}_{day:%d-%m-%Y}_{opens:02d}-00-00.csv"


def plan_signals(branch_names: tuple[str, ...], start: date, days: int) -> Signals:
    """Which signals a data set of these branches and days carries."""
    middle = start + timedelta(days=days // 2) if days >= 2 else None
    skips = middle is not None and SKIPPED_BRANCH in branch_names
    unusual = days > UNUSUAL_HISTORY_DAYS and UNUSUAL_BRANCH in branch_names
    return Signals(
        rising_branch=RISING_BRANCH if RISING_BRANCH in branch_names else None,
        falling_branch=FALLING_BRANCH if FALLING_BRANCH in branch_names else None,
        weekly_change_percent=WEEKLY_CHANGE_PERCENT,
        skipped_branch=SKIPPED_BRANCH if skips else None,
        skipped_day=middle if skips else None,
        launched_product=LAUNCH_PRODUCT.name if middle else None,
        launch_day=middle,
        unusual_branch=UNUSUAL_BRANCH if unusual else None,
        unusual_day=start + timedelta(days=UNUSUAL_HISTORY_DAYS) if unusual else None,
    )


def _daily_count(
    branch: Branch, day: date, offset: int, rng: random.Random, signals: Signals
) -> int:
    count = Decimal(branch.base * _WEEKDAY_PERCENT[day.weekday()] * rng.randint(95, 105)) / 10000
    change = Decimal(100 + WEEKLY_CHANGE_PERCENT) / 100
    if branch.town == RISING_BRANCH:
        count *= change ** (Decimal(offset) / 7)
    elif branch.town == FALLING_BRANCH:
        count /= change ** (Decimal(offset) / 7)
    usual = min(MAX_DAILY, max(MIN_DAILY, round(count)))
    if (branch.town, day) == (signals.unusual_branch, signals.unusual_day):
        return usual * UNUSUAL_PERCENT // 100
    return usual


def _regulars(seed: int, town: str, variant: str) -> list[Customer]:
    rng = random.Random(f"{seed}:{town}:regulars")
    return [(new_name(rng), new_card(rng, variant)) for _ in range(_REGULARS)]


def generate(
    out_dir: Path, *, branches: int, days: int, start: date, seed: int = 42, variant: str = "C"
) -> GenerateResult:
    """Write one till export per branch and day into ``out_dir``; see the package docstring."""
    catalogue = towns()
    if not 1 <= branches <= len(catalogue):
        raise ValueError(f"branches must be between 1 and {len(catalogue)}, got {branches}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    chosen = [branch_profile(town, region) for town, region in catalogue[:branches]]
    signals = plan_signals(tuple(b.town for b in chosen), start, days)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    total = 0
    for branch in chosen:
        regulars = _regulars(seed, branch.town, variant)
        for offset in range(days):
            day = start + timedelta(days=offset)
            if (branch.town, day) == (signals.skipped_branch, signals.skipped_day):
                continue
            path = out_dir / file_name(branch.town, day, branch.hours[0])
            total += _write_day(path, branch, day, offset, seed, variant, signals, regulars)
            written.append(path)
    return GenerateResult(tuple(written), total, tuple(b.town for b in chosen), signals)


def _write_day(path: Path, branch: Branch, day: date, offset: int, seed: int, variant: str,
               signals: Signals, regulars: list[Customer]) -> int:  # fmt: skip
    launched = signals.launch_day is not None and day >= signals.launch_day
    rng = random.Random(f"{seed}:{branch.town}:{day.isoformat()}")
    with path.open("wb") as fp:
        return write_branch_day(
            fp, branch=branch.town, day=day, variant=variant, rng=rng,
            transactions=_daily_count(branch, day, offset, rng, signals), hours=branch.hours,
            products=(*MENU, LAUNCH_PRODUCT) if launched else MENU, regulars=regulars,
        )  # fmt: skip
