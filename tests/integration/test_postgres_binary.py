"""The fact tables' binary COPY (``pgbinary``): what PostgreSQL stores is what was sent.

Edge values written by hand (no cafe_etl code computes the expectation): money at zero and
at the largest NUMERIC(10,2), times either side of 2000-01-01 (PostgreSQL's binary epoch)
and of 2038, the largest key, null and non-null tokens of several lengths.
"""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from cafe_etl import contract as tables
from cafe_etl.warehouse import connect, pgbinary
from conftest import Etl

pytestmark = pytest.mark.postgres

LARGEST_KEY = 2**63 - 1
TRANSACTIONS = [
    (1, 7, datetime(2021, 3, 23, 8, 0), date(2021, 3, 23), "CARD", Decimal("0.00"), "a" * 64, 9),
    (LARGEST_KEY, 7, datetime(1999, 12, 31, 23, 59, 59), date(1999, 12, 31), "CASH",
     Decimal("99999999.99"), None, 9),
    (3, LARGEST_KEY, datetime(2000, 1, 1), date(2000, 1, 1), "CASH", Decimal("0.05"), None, 9),
    (4, 8, datetime(2040, 2, 29, 12, 30, 1), date(2040, 2, 29), "CARD", Decimal("10000.10"),
     "b" * 40, LARGEST_KEY),
    (5, 8, datetime(1970, 1, 1), date(1970, 1, 1), "CARD", Decimal("1234.56"), "", 9),
]  # fmt: skip
BASKET_ITEMS = [
    (1, 11, Decimal("2.15"), 1),
    (LARGEST_KEY, LARGEST_KEY, Decimal("99999999.99"), 2_147_483_647),
    (3, 12, Decimal("0.00"), 3),
]


def load(url: str, table: str, rows: list[tuple[object, ...]], schema: pa.Schema) -> None:
    warehouse = connect(url)
    try:
        warehouse.migrate()
        batch = pa.Table.from_pylist(
            [dict(zip(schema.names, r, strict=True)) for r in rows], schema
        )
        with warehouse.transaction():
            warehouse.insert_arrow(table, batch)
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    ("table", "rows", "schema"),
    [
        ("transactions", TRANSACTIONS, tables.TRANSACTIONS),
        ("basket_items", BASKET_ITEMS, tables.BASKET_ITEMS),
    ],
)
def test_binary_copy_stores_every_value_exactly(
    postgres_url: str,
    table: str,
    rows: list[tuple[object, ...]],
    schema: pa.Schema,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded: list[int] = []
    encode = pgbinary.encode

    def counting(batch: pa.Table) -> Iterator[bytes]:
        encoded.append(batch.num_rows)
        return encode(batch)

    monkeypatch.setattr(pgbinary, "encode", counting)
    load(postgres_url, table, rows, schema)

    assert encoded == [len(rows)]  # sent in binary, not as CSV

    stored = Etl(postgres_url).query(f"SELECT * FROM {table}")

    assert sorted(stored, key=lambda row: row[0]) == sorted(rows, key=lambda row: row[0])


def test_values_without_a_binary_form_here_are_not_sent_as_binary() -> None:
    rows = pa.Table.from_pylist(
        [{"transaction_id": 1, "product_id": 2, "unit_price": Decimal("-1.00"), "quantity": 1}],
        tables.BASKET_ITEMS,
    )
    assert not pgbinary.supports(rows)  # negative money: the fixed digits assume >= 0
    nulls = rows.set_column(3, "quantity", pa.array([None], pa.int32()))
    assert not pgbinary.supports(nulls)
