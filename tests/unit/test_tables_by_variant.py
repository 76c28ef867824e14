"""Each 3NF table, built by hand from a few raw lines of each variant A-D, against the transform.

The raw lines are hand-written (never copied from real exports). Expected keys come from the
``keys`` functions applied to natural keys written here by hand; expected money is Decimal.
"""

import hashlib
import hmac
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pyarrow as pa
import pytest

from cafe_etl import contract as tables
from cafe_etl import keys
from cafe_etl.regions import region_of
from cafe_etl.transform.file import transform_file, transform_files
from cafe_etl.transform.redact import Tokeniser
from unit.conftest import Transformed, TransformText

KEY = b"unit-test token key, not a real secret"

Product = tuple[str, str | None, str | None]


def token(digits: str) -> str:
    return hmac.new(KEY, digits.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Txn:
    line: int
    branch: str
    occurred_at: datetime
    payment: str
    total: str
    card_digits: str | None


@dataclass(frozen=True)
class Line:
    line: int
    product: Product
    unit_price: str
    quantity: int


@dataclass(frozen=True)
class Case:
    file_name: str
    text: str
    variant: str
    branches: list[tuple[str, str]]
    products: list[Product]
    transactions: list[Txn]
    basket_items: list[Line]
    personal: tuple[str, ...]

    @property
    def file_id(self) -> int:
        return keys.file_key(self.file_name, hashlib.sha256(self.text.encode()).hexdigest())

    def transaction_id(self, line: int) -> int:
        return keys.row_keys(self.file_id, pa.array([line], pa.int64()))[0].as_py()


# Variant A: ISO timestamps, payment before total, flat size,name,price triples (an empty size
# means Regular), card "scheme,number" or None, CRLF, and a last line holding one space.
VARIANT_A = Case(
    file_name="isle_of_wight_23-02-2021_09-00-00.csv",
    text=(
        "2021-02-23 09:00:48,Isle of Wight,Zebedee Quuxworth,"
        '"Large,Hot chocolate,2.90,,Latte,2.15,Large,Hot chocolate,2.90",CASH,7.95,None\r\n'
        "2021-02-23 09:01:45,Isle of Wight,Wilhelmina Fakenham,"
        '"Regular,Frappes - Coffee,2.75",CARD,2.75,"visa16,4111111111111111"\r\n'
        " "
    ),
    variant="A",
    branches=[("Isle of Wight", "South East")],
    products=[
        ("Hot chocolate", "Large", None),
        ("Latte", "Regular", None),
        ("Frappes", "Regular", "Coffee"),
    ],
    transactions=[
        Txn(1, "Isle of Wight", datetime(2021, 2, 23, 9, 0, 48), "CASH", "7.95", None),
        Txn(
            2, "Isle of Wight", datetime(2021, 2, 23, 9, 1, 45), "CARD", "2.75", "4111111111111111"
        ),
    ],
    basket_items=[
        Line(1, ("Hot chocolate", "Large", None), "2.90", 2),
        Line(1, ("Latte", "Regular", None), "2.15", 1),
        Line(2, ("Frappes", "Regular", "Coffee"), "2.75", 1),
    ],
    personal=("Zebedee Quuxworth", "Wilhelmina Fakenham", "4111111111111111"),
)

# Variant B: DD/MM/YYYY HH:MM, total before payment, "Size Name[ - Flavour] - price" items,
# totals with two decimals, 16 digits or an empty card field, a last line holding one space.
VARIANT_B = Case(
    file_name="london_brixton_23-03-2021_08-00-00.csv",
    text=(
        "23/03/2021 08:00,London Brixton,Ophelia Testcase,"
        '"Regular Latte - 2.15, Large Flavoured latte - Hazelnut - 2.85, Regular Latte - 2.15",'
        "7.15,CARD,5555555555554444\n"
        "23/03/2021 08:01,London Brixton,Bartholomew Nobody,Regular Espresso - 1.50,1.50,CASH,\n"
        " "
    ),
    variant="B",
    branches=[("London Brixton", "London")],
    products=[
        ("Latte", "Regular", None),
        ("Flavoured latte", "Large", "Hazelnut"),
        ("Espresso", "Regular", None),
    ],
    transactions=[
        Txn(1, "London Brixton", datetime(2021, 3, 23, 8, 0), "CARD", "7.15", "5555555555554444"),
        Txn(2, "London Brixton", datetime(2021, 3, 23, 8, 1), "CASH", "1.50", None),
    ],
    basket_items=[
        Line(1, ("Latte", "Regular", None), "2.15", 2),
        Line(1, ("Flavoured latte", "Large", "Hazelnut"), "2.85", 1),
        Line(2, ("Espresso", "Regular", None), "1.50", 1),
    ],
    personal=("Ophelia Testcase", "Bartholomew Nobody", "5555555555554444"),
)

# Variant C: as B with totals like 5.2; an item sold in one size has no size; a branch that
# is not in the region list; a CARD sale with no card number.
VARIANT_C = Case(
    file_name="chesterfield_25-08-2021_09-00-00.csv",
    text=(
        "25/08/2021 09:00,Chesterfield,Henrietta Placeholder,"
        '"Regular Flavoured iced latte - Caramel - 2.75, Large Latte - 2.45",5.2,CARD,'
        "4000056655665556\n"
        "25/08/2021 09:02,Chesterfield,Ignatius Sample,Glass of milk - 0.70,0.7,CASH,\n"
        "25/08/2021 09:03,Nether Wallop,Ignatius Sample,Large Latte - 2.45,2.45,CARD,\n"
    ),
    variant="C",
    branches=[("Chesterfield", "East Midlands"), ("Nether Wallop", "Unassigned")],
    products=[
        ("Flavoured iced latte", "Regular", "Caramel"),
        ("Latte", "Large", None),
        ("Glass of milk", None, None),
    ],
    transactions=[
        Txn(1, "Chesterfield", datetime(2021, 8, 25, 9, 0), "CARD", "5.20", "4000056655665556"),
        Txn(2, "Chesterfield", datetime(2021, 8, 25, 9, 2), "CASH", "0.70", None),
        Txn(3, "Nether Wallop", datetime(2021, 8, 25, 9, 3), "CARD", "2.45", None),
    ],
    basket_items=[
        Line(1, ("Flavoured iced latte", "Regular", "Caramel"), "2.75", 1),
        Line(1, ("Latte", "Large", None), "2.45", 1),
        Line(2, ("Glass of milk", None, None), "0.70", 1),
        Line(3, ("Latte", "Large", None), "2.45", 1),
    ],
    personal=("Henrietta Placeholder", "Ignatius Sample", "4000056655665556"),
)

# Variant D: as C with a header line (counted in line numbers, not as a row); product names
# are case-sensitive, so "Hot Chocolate" and "Hot chocolate" are two products.
VARIANT_D = Case(
    file_name="leeds_28-03-2025_09-00-00.csv",
    text=(
        "Timestamp,Location,Customer Name,Items Ordered,Total Amount,Payment Method,Card Number\n"
        "28/03/2025 09:01,Leeds,Jessamine Madeup,"
        '"Large Chai latte - 2.60, Large Chai latte - 2.60, Regular Hot Chocolate - 1.40",'
        "6.6,CARD,378282246310005\n"
        "28/03/2025 09:05,Leeds,Peregrine Unreal,Regular Hot chocolate - 2.20,2.2,CASH,\n"
    ),
    variant="D",
    branches=[("Leeds", "Yorkshire and The Humber")],
    products=[
        ("Chai latte", "Large", None),
        ("Hot Chocolate", "Regular", None),
        ("Hot chocolate", "Regular", None),
    ],
    transactions=[
        Txn(2, "Leeds", datetime(2025, 3, 28, 9, 1), "CARD", "6.60", "378282246310005"),
        Txn(3, "Leeds", datetime(2025, 3, 28, 9, 5), "CASH", "2.20", None),
    ],
    basket_items=[
        Line(2, ("Chai latte", "Large", None), "2.60", 2),
        Line(2, ("Hot Chocolate", "Regular", None), "1.40", 1),
        Line(3, ("Hot chocolate", "Regular", None), "2.20", 1),
    ],
    personal=("Jessamine Madeup", "Peregrine Unreal", "378282246310005"),
)

CASES = {case.variant: case for case in (VARIANT_A, VARIANT_B, VARIANT_C, VARIANT_D)}
variants = pytest.mark.parametrize("variant", sorted(CASES))


def run(transform_text: TransformText, case: Case) -> Transformed:
    return transform_text(case.text, file_id=case.file_id, key=KEY)


Row = dict[str, object]


def typed_rows(rows: list[Row], schema: pa.Schema, sort_by: list[str]) -> list[Row]:
    """Rows typed by a table's schema (so money is Decimal), in key order."""
    return table_rows(pa.Table.from_pylist(rows, schema=schema), sort_by)


def table_rows(table: pa.Table, sort_by: list[str]) -> list[Row]:
    rows: list[Row] = table.sort_by([(column, "ascending") for column in sort_by]).to_pylist()
    return rows


@variants
def test_branches_table_matches_the_rows_built_by_hand(
    transform_text: TransformText, variant: str
) -> None:
    # GIVEN a few raw lines of one variant
    case = CASES[variant]

    # WHEN the file is transformed (the pipeline adds each branch's region by name)
    result = run(transform_text, case)
    actual = [
        {"branch_id": k, "branch_name": name, "region": region_of(name)}
        for k, name in result.branches.items()
    ]

    # THEN there is one row per branch named in the rows, keyed by its name
    expected = [
        {"branch_id": keys.branch_key(name), "branch_name": name, "region": region}
        for name, region in case.branches
    ]
    assert typed_rows(actual, tables.BRANCHES, ["branch_id"]) == typed_rows(
        expected, tables.BRANCHES, ["branch_id"]
    )


@variants
def test_products_table_matches_the_rows_built_by_hand(
    transform_text: TransformText, variant: str
) -> None:
    case = CASES[variant]

    result = run(transform_text, case)
    actual = [
        {
            "product_id": k,
            "product_name": item.name,
            "size": item.size,
            "flavour": item.flavour,
        }
        for k, item in result.products.items()
    ]

    expected = [
        {
            "product_id": keys.product_key(name, size, flavour),
            "product_name": name,
            "size": size,
            "flavour": flavour,
        }
        for name, size, flavour in case.products
    ]
    assert typed_rows(actual, tables.PRODUCTS, ["product_id"]) == typed_rows(
        expected, tables.PRODUCTS, ["product_id"]
    )


@variants
def test_transactions_table_matches_the_rows_built_by_hand(
    transform_text: TransformText, variant: str
) -> None:
    case = CASES[variant]

    result = run(transform_text, case)

    expected = [
        {
            "transaction_id": case.transaction_id(t.line),
            "branch_id": keys.branch_key(t.branch),
            "occurred_at": t.occurred_at,
            "business_date": date(t.occurred_at.year, t.occurred_at.month, t.occurred_at.day),
            "payment_method": t.payment,
            "total_amount": Decimal(t.total),
            "customer_token": token(t.card_digits) if t.card_digits else None,
            "file_id": case.file_id,
        }
        for t in case.transactions
    ]
    assert result.transactions.schema == tables.TRANSACTIONS
    assert table_rows(result.transactions, ["transaction_id"]) == typed_rows(
        expected, tables.TRANSACTIONS, ["transaction_id"]
    )


@variants
def test_basket_items_table_matches_the_rows_built_by_hand(
    transform_text: TransformText, variant: str
) -> None:
    case = CASES[variant]

    result = run(transform_text, case)

    expected = [
        {
            "transaction_id": case.transaction_id(item.line),
            "product_id": keys.product_key(*item.product),
            "unit_price": Decimal(item.unit_price),
            "quantity": item.quantity,
        }
        for item in case.basket_items
    ]
    order = ["transaction_id", "product_id", "unit_price"]
    assert result.basket_items.schema == tables.BASKET_ITEMS
    assert table_rows(result.basket_items, order) == typed_rows(
        expected, tables.BASKET_ITEMS, order
    )


@variants
def test_every_row_loads_and_the_file_is_labelled_with_its_variant(
    transform_text: TransformText, variant: str
) -> None:
    case = CASES[variant]

    result = run(transform_text, case)

    summary = result.summary
    assert summary.variant == variant
    assert summary.reason is None
    assert summary.rows_read == summary.rows_loaded == len(case.transactions)
    assert summary.rows_rejected == 0
    assert result.rejected_rows.num_rows == 0


@variants
def test_basket_items_add_up_to_each_transaction_total(
    transform_text: TransformText, variant: str
) -> None:
    result = run(transform_text, CASES[variant])

    sums: defaultdict[int, Decimal] = defaultdict(Decimal)
    for item in result.basket_items.to_pylist():
        sums[item["transaction_id"]] += item["unit_price"] * item["quantity"]
    totals = result.transactions.to_pylist()
    assert sums == {row["transaction_id"]: row["total_amount"] for row in totals}


@variants
def test_no_customer_name_or_card_number_reaches_any_table(
    transform_text: TransformText, variant: str
) -> None:
    case = CASES[variant]

    result = run(transform_text, case)

    text = repr(
        [
            result.transactions.to_pylist(),
            result.basket_items.to_pylist(),
            result.rejected_rows.to_pylist(),
            result.branches,
            result.products,
        ]
    )
    for personal in case.personal:
        assert personal not in text


def test_a_variant_a_empty_size_and_a_variant_b_regular_size_are_one_product(
    transform_text: TransformText,
) -> None:
    # GIVEN a Regular Latte in variant A (empty size) and in variant B ("Regular Latte")
    a = run(transform_text, VARIANT_A)
    b = run(transform_text, VARIANT_B)

    # THEN both files name the same product id
    regular_latte = keys.product_key("Latte", "Regular", None)
    assert regular_latte in a.products
    assert regular_latte in b.products
    assert a.products[regular_latte].name == b.products[regular_latte].name == "Latte"


def test_the_same_rows_in_two_files_get_different_transaction_ids(
    transform_text: TransformText,
) -> None:
    # Two real transactions can be identical once PII is gone: identity is file and line.
    text = VARIANT_C.text
    first = transform_text(text, file_id=keys.file_key("a.csv", "0" * 64))
    second = transform_text(text, file_id=keys.file_key("b.csv", "0" * 64))

    ids = first.transactions["transaction_id"].to_pylist()
    ids += second.transactions["transaction_id"].to_pylist()
    assert len(set(ids)) == 2 * len(VARIANT_C.transactions)


def test_files_checked_together_give_exactly_the_rows_of_each_file_alone() -> None:
    # Many files' rows are checked in one pass: each file must get back exactly its own rows,
    # keyed by its own file, whatever the batch boundaries (here two rows a batch).
    files = [(keys.file_key(f"{n}.csv", "0" * 64), case.text.encode())
             for n, case in enumerate((VARIANT_A, VARIANT_B, VARIANT_C, VARIANT_D))]  # fmt: skip
    together = list(transform_files(((k, io.BytesIO(raw)) for k, raw in files),
                                    Tokeniser(b"k"), batch_rows=2))  # fmt: skip
    for file_id, raw in files:
        alone = list(transform_file(io.BytesIO(raw), file_id, Tokeniser(b"k")))
        mine = [batch for batch in together if batch.file_id == file_id]
        assert mine[-1].last and mine[-1].summary == alone[-1].summary
        for name in tables.FACT_TABLES:
            got = pa.concat_tables(getattr(batch, name) for batch in mine).to_pylist()
            assert got == pa.concat_tables(getattr(b, name) for b in alone).to_pylist(), name
    assert [batch.file_id for batch in together] == sorted(
        (batch.file_id for batch in together), key=[k for k, _ in files].index
    )  # batches come in file order


def test_a_batch_shifts_baskets_past_rejected_rows_repeats_and_all_rejected_files() -> None:
    # GIVEN three files checked two records at a time: a rejected row whose basket was
    # parsed, a basket listed twice and one repeated, and a file whose every row is rejected
    leeds = (
        "25/08/2021 09:00,Leeds,Ann,Regular Latte - 2.15,2.15,CASH,\n"
        "25/08/2021 09:05,Leeds,Bob,Large Tea - 1.50,9.99,CASH,\n"
        '25/08/2021 09:10,Leeds,Cy,"Regular Latte - 2.15, Regular Latte - 2.15",4.30,CASH,\n'
        "25/08/2021 09:15,Leeds,Di,Regular Latte - 2.15,2.15,CASH,\n"
    )
    york_rejected = "25/08/2021 09:00,York,Ed,Large Tea - 1.50,1.00,CASH,\ngarbage\n"
    york = "25/08/2021 11:00,York,Fi,Large Tea - 1.50,1.50,CASH,\n"
    files = ((11, leeds), (22, york_rejected), (33, york))

    # WHEN they are transformed together
    batches = list(transform_files(((k, io.BytesIO(t.encode())) for k, t in files),
                                   Tokeniser(None), batch_rows=2))  # fmt: skip
    batch = SimpleNamespace(**{
        name: pa.concat_tables(getattr(b, name) for b in batches) for name in tables.FACT_TABLES
    })  # fmt: skip
    products = {k: set() for k, _ in files}
    for one in batches:
        products[one.file_id] |= set(one.items)

    # THEN each accepted row has exactly its own items, keyed by its own file and line
    def key(file_id: int, line: int) -> int:
        return int(keys.row_keys(file_id, pa.array([line], pa.int64()))[0].as_py())

    latte, tea = keys.product_key("Latte", "Regular", None), keys.product_key("Tea", "Large", None)
    assert sorted(batch.basket_items.to_pylist(), key=lambda r: r["transaction_id"]) == sorted(
        [
            {"transaction_id": key(11, 1), "product_id": latte, "unit_price": Decimal("2.15"),
             "quantity": 1},
            {"transaction_id": key(11, 3), "product_id": latte, "unit_price": Decimal("2.15"),
             "quantity": 2},
            {"transaction_id": key(11, 4), "product_id": latte, "unit_price": Decimal("2.15"),
             "quantity": 1},
            {"transaction_id": key(33, 1), "product_id": tea, "unit_price": Decimal("1.50"),
             "quantity": 1},
        ],
        key=lambda r: r["transaction_id"],
    )  # fmt: skip
    totals = {r["transaction_id"]: r["total_amount"] for r in batch.transactions.to_pylist()}
    assert totals == {key(11, 1): Decimal("2.15"), key(11, 3): Decimal("4.30"),
                      key(11, 4): Decimal("2.15"), key(33, 1): Decimal("1.50")}  # fmt: skip
    assert [r["file_id"] for r in batch.transactions.to_pylist()] == [11, 11, 11, 33]
    rejected = [
        (r["file_id"], r["line_number"], r["reason"]) for r in batch.rejected_rows.to_pylist()
    ]
    assert rejected == [
        (11, 2, "total_mismatch"),
        (22, 1, "total_mismatch"),
        (22, 2, "field_count"),
    ]
    # AND a product only a rejected row held was not sold
    assert list(products.values()) == [{latte}, set(), {tea}]
