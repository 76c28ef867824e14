"""Each analytics view against figures worked out by hand from a small fixture
(``analytics_fixture.py``), on every warehouse."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import postgres_server
from cafe_etl.analytics.reference import BranchRow, apply_branch_reference
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.base import Warehouse

from .analytics_fixture import BRISTOL, HULL, LEEDS, M, fill

D = Decimal
VIEWS = [
    "branch_daily_sales",
    "region_daily_sales",
    "basket_averages",
    "product_daily_sales",
    "product_region_daily_sales",
    "busy_hours",
    "payment_mix",
    "branch_week_change",
    "region_week_change",
    "product_lifecycle",
    "missing_reports",
    "unusual_days",
    "repeat_visits",
    "rejected_rows_daily",
]


def test_the_views_the_issue_asks_for_are_the_ones_the_migration_creates() -> None:
    from cafe_etl.warehouse.dialects import view_names

    assert view_names() == VIEWS


def filled(url: str) -> Warehouse:
    connection = connect(url)
    connection.migrate()
    fill(connection)
    return connection


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    """The fixture on each engine, filled once per module (the tests only read it)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('views')}/cafe.duckdb"
    else:
        server = request.getfixturevalue("postgres_server_url")
        url = postgres_server.fresh_database(server)
    connection = filled(url)
    yield connection
    connection.close()


@pytest.fixture
def own_warehouse(warehouse_url: str) -> Iterator[Warehouse]:
    """The fixture in a fresh warehouse, for a test that changes it."""
    connection = filled(warehouse_url)
    yield connection
    connection.close()


def rows(warehouse: Warehouse, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(_plain(v) for v in row) for row in warehouse.execute(sql, params)]


def _plain(value: Any) -> Any:
    """Counts as int and money as Decimal, whatever type the engine's driver returns."""
    if (
        isinstance(value, Decimal)
        and value == value.to_integral()
        and value.as_tuple().exponent == 0
    ):
        return int(value)
    return value


def test_every_view_has_the_same_columns_on_every_engine(warehouse: Warehouse) -> None:
    expected = {
        "branch_daily_sales": "business_date branch_id branch_name region transactions revenue",
        "missing_reports": "business_date branch_id branch_name region usual_weekdays_with_file",
        "unusual_days": "business_date branch_id branch_name region revenue usual_revenue"
        " weeks_compared deviation direction",
    }
    for view in VIEWS:
        columns = [
            r[0]
            for r in warehouse.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
                " ORDER BY ordinal_position",
                (view,),
            )
        ]
        assert columns, view
        if view in expected:
            assert columns == expected[view].split(), view


def test_daily_sales_per_branch_and_region(warehouse: Warehouse) -> None:
    assert rows(
        warehouse,
        "SELECT branch_name, transactions, revenue FROM branch_daily_sales"
        " WHERE business_date = ? ORDER BY branch_name",
        (M[0],),
    ) == [("Bristol", 2, D("3.05")), ("Hull", 1, D("10.00")), ("Leeds", 1, D("100.00"))]
    assert rows(
        warehouse,
        "SELECT region, branches, transactions, revenue FROM region_daily_sales"
        " WHERE business_date = ? ORDER BY region",
        (M[1],),
    ) == [
        ("South West", 1, 1, D("50.00")),
        ("Unassigned", 1, 1, D("10.00")),
        ("Yorkshire and The Humber", 1, 1, D("102.00")),
    ]


def test_basket_averages_round_half_a_penny_up_without_a_float(warehouse: Warehouse) -> None:
    # Bristol on M0: 1.00 (2 items) and 2.05 (1 item): mean 1.525 -> 1.53, 1.50 items
    assert rows(
        warehouse,
        "SELECT transactions, items, revenue, avg_basket_value, avg_basket_items"
        " FROM basket_averages WHERE branch_id = ? AND business_date = ?",
        (BRISTOL, M[0]),
    ) == [(2, 3, D("3.05"), D("1.53"), D("1.50"))]


def test_product_performance_per_branch_and_region(warehouse: Warehouse) -> None:
    assert rows(
        warehouse,
        "SELECT product_name, size, quantity, revenue FROM product_daily_sales"
        " WHERE branch_id = ? AND business_date = ? ORDER BY product_name",
        (BRISTOL, M[0]),
    ) == [("Flat white", "Large", 1, D("2.05")), ("Tea", None, 2, D("1.00"))]
    assert rows(
        warehouse,
        "SELECT region, branches, quantity, revenue FROM product_region_daily_sales"
        " WHERE product_name = 'Cake' AND business_date = ? ORDER BY region",
        (M[1],),
    ) == [("South West", 1, 1, D("50.00")), ("Unassigned", 1, 1, D("10.00"))]


def test_busy_hours_and_payment_mix(warehouse: Warehouse) -> None:
    assert rows(
        warehouse, "SELECT weekday, hour, SUM(transactions) FROM busy_hours GROUP BY weekday, hour"
    ) == [(1, 9, 18)]
    assert rows(
        warehouse,
        "SELECT payment_method, SUM(transactions), SUM(revenue) FROM payment_mix"
        " GROUP BY payment_method ORDER BY 1",
    ) == [("CARD", 9, D("1000.00")), ("CASH", 9, D("193.05"))]


def test_week_on_week_counts_only_days_traded_in_both_weeks(warehouse: Warehouse) -> None:
    # Leeds M8 200 vs M7 97: +106.2 %; M1 102 vs M0 100: +2.0 %. Bristol M1 50 vs M0 3.05;
    # Bristol and Hull have no M4, so there is no change for them that week (not a fall).
    week = rows(
        warehouse,
        "SELECT week_start, branch_name, days_compared, revenue,"
        " previous_revenue, change_pct, rise_rank, fall_rank FROM branch_week_change"
        " WHERE week_start IN (?, ?) ORDER BY week_start, rise_rank",
        (M[4], M[8]),
    )
    assert week == [
        (M[4], "Leeds", 1, D("99.00"), D("101.00"), D("-2.0"), 1, 1),
        (M[8], "Leeds", 1, D("200.00"), D("97.00"), D("106.2"), 1, 1),
    ]
    first = rows(
        warehouse,
        "SELECT branch_name, change_pct, rise_rank, fall_rank"
        " FROM branch_week_change WHERE week_start = ? ORDER BY rise_rank",
        (M[1],),
    )
    assert first == [
        ("Bristol", D("1539.3"), 1, 3),
        ("Leeds", D("2.0"), 2, 2),
        ("Hull", D("0.0"), 3, 1),
    ]
    assert rows(
        warehouse,
        "SELECT region, branches, revenue, previous_revenue, change_pct"
        " FROM region_week_change WHERE week_start = ? ORDER BY region",
        (M[8],),
    ) == [("Yorkshire and The Humber", 1, D("200.00"), D("97.00"), D("106.2"))]


def test_new_and_discontinued_products(warehouse: Warehouse) -> None:
    assert rows(
        warehouse,
        "SELECT product_name, size, first_sold, last_sold, days_sold, branches,"
        " quantity, status FROM product_lifecycle ORDER BY product_name",
    ) == [
        ("Cake", None, M[0], M[3], 4, 2, 7, "discontinued"),
        ("Flat white", "Large", M[0], M[0], 1, 1, 1, "discontinued"),
        ("Latte", "Regular", M[0], M[8], 9, 1, 9, "regular"),
        ("Pumpkin spice latte", "Regular", M[8], M[8], 1, 1, 1, "new"),
        ("Tea", None, M[0], M[0], 1, 1, 2, "discontinued"),
    ]


def test_missing_reports_need_3_of_the_last_4_same_weekdays(warehouse: Warehouse) -> None:
    # Bristol and Hull sent files M0-M3 only: M4 follows 4 such Mondays, M5 3, M6 only 2.
    sql = (
        "SELECT business_date, branch_name, usual_weekdays_with_file FROM missing_reports"
        " ORDER BY 1, 2"
    )
    assert rows(warehouse, sql) == [
        (M[4], "Bristol", 4),
        (M[4], "Hull", 4),
        (M[5], "Bristol", 3),
        (M[5], "Hull", 3),
    ]


def test_a_closed_branch_is_not_missing_and_regions_follow_the_branch_file(
    own_warehouse: Warehouse,
) -> None:
    warehouse = own_warehouse
    rows_ = [BranchRow("hull", "East Riding", None, M[5]), BranchRow("Bristol", "South West")]
    changed = apply_branch_reference(warehouse, rows_)
    assert changed == 1  # Hull: Unassigned -> East Riding; the others keep theirs
    sql = "SELECT business_date, branch_name FROM missing_reports ORDER BY 1, 2"
    assert rows(warehouse, sql) == [(M[4], "Bristol"), (M[4], "Hull"), (M[5], "Bristol")]
    assert rows(warehouse, "SELECT region FROM branches WHERE branch_id = ?", (HULL,)) == [
        ("East Riding",)
    ]


def test_unusual_days_lie_beyond_3_robust_deviations_of_8_same_weekdays(
    warehouse: Warehouse,
) -> None:
    # Leeds M0-M7: 97..103, median 100, MAD 1.5; M8 200 -> (200 - 100) / (1.4826 x 1.5) = 45.0
    assert rows(
        warehouse,
        "SELECT business_date, branch_name, revenue, usual_revenue,"
        " weeks_compared, deviation, direction FROM unusual_days",
    ) == [(M[8], "Leeds", D("200.00"), D("100.00"), 8, D("45.0"), "high")]


def test_repeat_visits_count_tokens_the_branch_has_seen_before(warehouse: Warehouse) -> None:
    # tokens a, a, b, a on M0-M3: the 2nd and 4th are returning customers
    assert rows(
        warehouse,
        "SELECT business_date, identified_transactions, repeat_transactions"
        " FROM repeat_visits WHERE branch_id = ? ORDER BY 1",
        (LEEDS,),
    ) == [(M[0], 1, 0), (M[1], 1, 1), (M[2], 1, 0), (M[3], 1, 1)]


def test_rejected_rows_per_branch_and_day(warehouse: Warehouse) -> None:
    assert rows(
        warehouse,
        "SELECT business_date, branch_name, region, reason, rejected_rows"
        " FROM rejected_rows_daily ORDER BY reason",
    ) == [
        (M[0], "Leeds", "Yorkshire and The Humber", "bad_amount", 2),
        (M[0], "Leeds", "Yorkshire and The Humber", "total_mismatch", 1),
    ]


def test_the_calendar_covers_every_day_a_till_may_print(warehouse: Warehouse) -> None:
    assert rows(warehouse, "SELECT MIN(day), MAX(day), COUNT(*) FROM calendar") == [
        (date(2000, 1, 1), date(2099, 12, 31), 36525)
    ]
