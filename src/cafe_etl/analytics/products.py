"""The product tables of the report from one scan of the product views: the period's mix,
and each product's life (first and last day sold), which a second scan of every sale with
its items (``product_lifecycle``) would cost as much again."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from cafe_etl.analytics.data import Scope, Table

PRODUCT_DAYS = (
    "SELECT business_date, product_name, size, flavour, SUM(quantity), SUM(revenue), COUNT(*)"
    " FROM product_daily_sales GROUP BY business_date, product_name, size, flavour"
)
LIFE_COLUMNS = "product_name size flavour first_sold last_sold branches quantity status"


def product_tables(days: list[tuple[Any, ...]], scope: Scope) -> dict[str, Table]:
    """``products`` (the period's mix) and ``product_lifecycle`` (new and discontinued)."""
    mix: dict[tuple[str, str | None], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    life: dict[tuple[str, str | None, str | None], list[Any]] = {}
    for day, name, size, flavour, quantity, revenue, branches in days:
        if scope.first <= day <= scope.last:
            mix[name, size][0] += int(quantity)
            mix[name, size][1] += Decimal(revenue)
        seen = life.setdefault((name, size, flavour), [day, day, 0, 0])
        seen[0], seen[1] = min(seen[0], day), max(seen[1], day)
        seen[2], seen[3] = max(seen[2], int(branches)), seen[3] + int(quantity)
    products = sorted(((*key, *value) for key, value in mix.items()),
                      key=lambda r: (-r[2], r[0], r[1] or ""))  # fmt: skip
    lives = [(*key, *seen, _status(seen[0], seen[1], scope)) for key, seen in life.items()]
    lives = sorted((r for r in lives if r[7] != "regular"), key=lambda r: (r[3], r[0], r[1] or ""))
    return {
        "products": Table(("product_name", "size", "quantity", "revenue"), products),
        "product_lifecycle": Table(tuple(LIFE_COLUMNS.split()), lives),
    }


def _status(first_sold: Any, last_sold: Any, scope: Scope) -> str:
    """The rule of the ``product_lifecycle`` view (migrations/common/021_analytics_views.sql):
    new when first sold after the warehouse's first day of sales, discontinued when last
    sold before its last day."""
    if first_sold > scope.data_first:
        return "new"
    return "discontinued" if last_sold < scope.data_last else "regular"
