"""The one rule set (``check``) and the contract tables of accepted rows (``normalise``),
on records already placed by their layout: every rule, its order, its details."""

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from cafe_etl import keys
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.check import ROLE_SCHEMA, ROLES, Verdict, check
from cafe_etl.transform.normalise import normalise
from cafe_etl.transform.redact import Tokeniser

FILE_ID = 77
CARD = "4917610000000000"
GOOD = {
    "timestamp": "25/08/2021 09:00",
    "branch": "Leeds",
    "basket": "Regular Latte - 2.15",
    "total": "2.15",
    "payment": "CARD",
    "card": CARD,
}


def rows(*records: dict[str, Any]) -> pa.Table:
    """Records of one file on lines 2, 3, …: each a change to GOOD (``fields`` too)."""
    full = [{**GOOD, "fields": 7, "span": 1, "swallows": False, **record} for record in records]
    columns: list[list[Any]] = [
        [FILE_ID] * len(full),
        list(range(2, 2 + len(full))),
        [record["span"] for record in full],
        [record["swallows"] for record in full],
        [record["fields"] for record in full],
        *([record[role] for record in full] for role in ROLES),
    ]
    return pa.table(columns, schema=ROLE_SCHEMA)


def verdict(
    *records: dict[str, Any], flat: bool = False, cache: ParseCache | None = None
) -> Verdict:
    return check(rows(*records), flat_baskets=flat, cache=cache or ParseCache())


def rejected(result: Verdict) -> list[tuple[int, str, str]]:
    table = result.rejected_rows
    return list(
        zip(
            table["line_number"].to_pylist(),
            table["reason"].to_pylist(),
            table["detail"].to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"fields": 3, "timestamp": "garbage", "total": "x"}, "field_count"),
        ({"timestamp": "31/02/2021 09:00", "branch": " ", "total": "x"}, "bad_timestamp"),
        ({"branch": "", "total": "2.155", "basket": ""}, "bad_branch"),
        ({"total": "2.155", "basket": "", "payment": "BITCOIN"}, "bad_amount"),
        ({"basket": "Latte", "payment": "BITCOIN", "total": "9.99"}, "bad_basket"),
        ({"payment": "BITCOIN", "total": "9.99"}, "bad_payment"),
        ({"total": "9.99"}, "total_mismatch"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_row_is_rejected_for_the_first_rule_it_breaks(
    broken: dict[str, Any], reason: str
) -> None:
    result = verdict(GOOD, broken, GOOD)

    assert [(line, why) for line, why, _ in rejected(result)] == [(3, reason)]
    assert result.accepted.to_pylist() == [True, False, True]


def test_details_say_what_is_wrong_in_the_field_parsers_words() -> None:
    result = verdict(
        {"fields": 9},
        {"timestamp": "31/02/2021 09:00"},
        {"basket": "   "},
        {"basket": "Regular Latte - 2.15, Mocha - 2.155, Tea - y", "total": "4.30"},
        {"total": "9.99"},
    )

    assert rejected(result) == [
        (2, "field_count", "expected 7 fields, found 9"),
        (3, "bad_timestamp", "timestamp '31/02/2021 09:00' is impossible"),
        (4, "bad_basket", "basket is empty"),
        (5, "bad_amount", "item price '2.155' is not a whole number of pennies"),
        (6, "total_mismatch", "items sum to 2.15, total is 9.99"),
    ]


def test_parsed_values_are_null_only_where_a_field_was_rejected() -> None:
    result = verdict(GOOD, {"timestamp": "nonsense", "total": "1.5"})

    assert result.occurred_at.null_count == 1 and result.occurred_at[0].is_valid
    assert result.totals.to_pylist() == [215, 150]
    assert result.branch_ids.to_pylist() == [keys.branch_key("Leeds")] * 2


def test_a_cached_rejection_gives_the_same_detail_in_a_later_check() -> None:
    cache = ParseCache()
    first = verdict({"total": "two pounds"}, cache=cache)
    second = verdict(GOOD, {"total": "two pounds"}, cache=cache)

    assert [detail for *_, detail in rejected(first)] == [detail for *_, detail in rejected(second)]
    assert [line for line, *_ in rejected(second)] == [3]


def test_variant_a_flat_baskets_are_read_as_size_name_price_triples() -> None:
    result = verdict(
        {"basket": "Large,Latte,2.45,,Cortado,2.05", "total": "4.50"},
        {"basket": "Huge,Latte,2.45", "total": "2.45"},
        {"basket": "Large,Latte", "total": "2.45"},
        flat=True,
    )

    assert rejected(result) == [
        (3, "bad_basket", "an item's size is not Regular, Large or empty"),
        (4, "bad_basket", "basket is not a list of size,name,price triples"),
    ]
    items = normalise(result, Tokeniser(None)).basket_items
    latte, cortado = (
        keys.product_key("Latte", "Large", None),
        keys.product_key("Cortado", "Regular", None),
    )
    assert sorted(items["product_id"].to_pylist()) == sorted([latte, cortado])


def test_an_item_listed_three_times_is_one_basket_row_of_quantity_three() -> None:
    basket = "Regular Latte - 2.15, Regular Latte - 2.15, Large Tea - 1.60, Regular Latte - 2.15"
    facts = normalise(verdict({"basket": basket, "total": "8.05"}), Tokeniser(None))

    items = {(row["product_id"], row["unit_price"]): row["quantity"]
             for row in facts.basket_items.to_pylist()}  # fmt: skip
    assert items == {
        (keys.product_key("Latte", "Regular", None), Decimal("2.15")): 3,
        (keys.product_key("Tea", "Large", None), Decimal("1.60")): 1,
    }
    assert facts.transactions["total_amount"].to_pylist() == [Decimal("8.05")]


def test_a_card_becomes_a_token_only_on_a_card_sale_and_rows_are_keyed_by_file_and_line() -> None:
    key = b"unit-test-key"
    result = verdict(GOOD, {"payment": "CASH"}, {"payment": "card", "card": "5.49E+15"})
    facts = normalise(result, Tokeniser(key))

    expected_token = hmac.new(key, CARD.encode(), hashlib.sha256).hexdigest()
    assert facts.transactions["customer_token"].to_pylist() == [expected_token, None, None]
    assert facts.transactions["payment_method"].to_pylist() == ["CARD", "CASH", "CARD"]
    lines = pa.array([2, 3, 4], pa.int64())
    assert (
        facts.transactions["transaction_id"].to_pylist()
        == keys.row_keys(FILE_ID, lines).to_pylist()
    )
    assert CARD not in str(facts.transactions.to_pylist())


def test_rejected_rows_sell_nothing_and_leave_no_basket_items() -> None:
    result = verdict(GOOD, {"basket": "Large Mocha - 2.70", "total": "9.99"})
    facts = normalise(result, Tokeniser(None))

    assert facts.item_rows.tolist() == [0]
    assert facts.basket_items["product_id"].to_pylist() == [
        keys.product_key("Latte", "Regular", None)
    ]
