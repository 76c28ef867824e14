"""Synthetic till exports: one CSV per branch and trading day, byte-compatible with real ones.

``generate(out_dir, branches=N, days=D, start=...)`` uses the first N towns of
``cafe_etl/data/regions.csv`` (1 to 136; the first 12 cover all 12 UK regions) and writes
``<town>_<DD-MM-YYYY>_<HH>-00-00.csv`` per branch-day. Each branch has fixed opening hours and
a usual volume (they depend on the town only); each day it sells 150 to 600 transactions,
more on Fridays and Saturdays, with a morning and a lunch peak. Baskets hold 1 to 5 items
(repeats allowed), about 35% of sales are CASH, and about 30% of card sales come from a
branch's 120 regular customers, whose card numbers recur across days. Output depends only
on the arguments: each branch-day draws from ``random.Random(f"{seed}:{town}:{day}")``.

Planted signals (returned as ``GenerateResult.signals``):

1. ``Leeds`` (2nd town) rises 8% a week in daily transactions, compounding daily.
2. ``Chesterfield`` (1st town) falls 8% a week the same way.
   Daily counts stay clamped to 150..600, so both trends are undistorted for about nine
   weeks; beyond that they flatten at the bounds.
3. ``London Brixton`` (3rd town) sends no file on the middle day, ``start + days // 2``.
4. ``Pumpkin spice latte`` (Regular 2.75, Large 3.15) is launched on that same middle day:
   never sold before it, sold at every branch on it and after it.
5. ``Isle of Wight`` (4th town) sells 2.5 times its usual on ``start + 28`` (a local event,
   beyond the 150..600 bounds: the first day with four same weekdays before it to compare
   with), when the period has more than 28 days.

With fewer than 3 branches the signals whose branch is not generated are ``None``; with
``days == 1`` there is no skipped file and no launch. The rising and falling trends need
at least two weeks of data to be seen week on week.

Formats (``variant=``): "C" (default, 2021 on): no header, LF, ``DD/MM/YYYY HH:MM``, totals
as ``5.2``; "B": totals as ``5.20`` and a last line holding one space; "A": ISO times with
seconds, CRLF, payment before total, flat ``size,name,price`` baskets with an empty size for
Regular and one-size items, ``"visa16,4924..."`` or ``None`` cards, a last line holding one
space; "D": "C" plus a header line.
"""

from cafe_etl.generate.dataset import (
    Branch,
    GenerateResult,
    Signals,
    branch_profile,
    file_name,
    generate,
    towns,
)
from cafe_etl.generate.menu import LAUNCH_PRODUCT, MENU, Product
from cafe_etl.generate.writer import VARIANTS, write_branch_day

__all__ = [
    "LAUNCH_PRODUCT",
    "MENU",
    "VARIANTS",
    "Branch",
    "GenerateResult",
    "Product",
    "Signals",
    "branch_profile",
    "file_name",
    "generate",
    "towns",
    "write_branch_day",
]
