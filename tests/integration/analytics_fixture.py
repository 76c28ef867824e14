"""A small warehouse whose every analytics figure can be worked out by hand.

Nine Mondays, M0 = 2026-09-07 to M8 = 2026-11-02, three branches:

- Leeds (Yorkshire and The Humber): one CARD sale every Monday at 09:30, of 100, 102, 98,
  101, 99, 100, 103, 97 and then 200.00 on M8 (a Regular Latte at that price, plus a new
  Pumpkin spice latte of 100.00 on M8 only). Customer tokens a, a, b, a on M0-M3.
  Its M0 file also rejected 2 rows bad_amount and 1 total_mismatch.
- Bristol (South West): M0 two CASH sales, 1.00 (2 Tea at 0.50) and 2.05 (a Large Flat
  white); M1-M3 one CASH sale of 50.00 (a Cake). No file from M4 on.
- Hull (Unassigned): one CASH sale of 10.00 (a Cake) on M0-M3, no file from M4 on.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from cafe_etl.warehouse.base import Warehouse

M = [date(2026, 9, 7) + timedelta(days=7 * k) for k in range(9)]
LEEDS, BRISTOL, HULL = 1, 2, 3
LATTE, PSL, TEA, FLAT_WHITE, CAKE = 11, 12, 13, 14, 15
LEEDS_TOTALS = ["100", "102", "98", "101", "99", "100", "103", "97", "200"]

BRANCHES = [
    (LEEDS, "Leeds", "Yorkshire and The Humber"),
    (BRISTOL, "Bristol", "South West"),
    (HULL, "Hull", "Unassigned"),
]
PRODUCTS = [
    (LATTE, "Latte", "Regular", None),
    (PSL, "Pumpkin spice latte", "Regular", None),
    (TEA, "Tea", None, None),
    (FLAT_WHITE, "Flat white", "Large", None),
    (CAKE, "Cake", None, None),
]


def _sales() -> list[tuple[int, int, str, str, str | None, list[tuple[int, str, int]]]]:
    """(branch, week, payment, total, token, [(product, unit price, quantity)])."""
    tokens = ["a", "a", "b", "a"]
    sales = []
    for k, total in enumerate(LEEDS_TOTALS):
        items = [(LATTE, LEEDS_TOTALS[k] if k < 8 else "100", 1)]
        items += [(PSL, "100", 1)] if k == 8 else []
        sales.append((LEEDS, k, "CARD", total, tokens[k] if k < 4 else None, items))
    sales.append((BRISTOL, 0, "CASH", "1.00", None, [(TEA, "0.50", 2)]))
    sales.append((BRISTOL, 0, "CASH", "2.05", None, [(FLAT_WHITE, "2.05", 1)]))
    for k in (1, 2, 3):
        sales.append((BRISTOL, k, "CASH", "50.00", None, [(CAKE, "50.00", 1)]))
    for k in (0, 1, 2, 3):
        sales.append((HULL, k, "CASH", "10.00", None, [(CAKE, "10.00", 1)]))
    return sales


def fill(warehouse: Warehouse) -> None:
    """Write the fixture into a migrated, empty warehouse."""
    for row in BRANCHES:
        warehouse.execute("INSERT INTO branches VALUES (?, ?, ?)", row)
    for row in PRODUCTS:
        warehouse.execute("INSERT INTO products VALUES (?, ?, ?, ?)", row)
    files: dict[tuple[int, int], int] = {}
    for number, (branch, k, payment, total, token, items) in enumerate(_sales(), start=1):
        file_id = files.setdefault((branch, k), 1000 + 10 * branch + k)
        when = datetime.combine(M[k], time(9, 30))
        warehouse.execute(
            "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (number, branch, when, M[k], payment, Decimal(total), token, file_id),
        )
        for product, price, quantity in items:
            warehouse.execute(
                "INSERT INTO basket_items VALUES (?, ?, ?, ?)",
                (number, product, Decimal(price), quantity),
            )
    for (branch, k), file_id in files.items():
        warehouse.execute(
            "INSERT INTO loaded_files VALUES (?, ?, ?, ?, ?, ?, 'C', 'loaded', NULL, 1, 1, 0, ?)",
            (
                file_id,
                f"f{file_id}.csv",
                f"/landing/f{file_id}.csv",
                "0" * 64,
                branch,
                M[k],
                datetime.combine(M[k], time(21, 0)).astimezone(),
            ),
        )
    for line, reason in ((3, "bad_amount"), (4, "bad_amount"), (5, "total_mismatch")):
        warehouse.execute(
            "INSERT INTO rejected_rows VALUES (?, ?, ?, NULL)", (files[(LEEDS, 0)], line, reason)
        )
