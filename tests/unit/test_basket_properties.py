"""Property tests: baskets rendered from random items parse back to exactly those items."""

import string
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cafe_etl import keys
from cafe_etl.model import Item
from cafe_etl.transform.cache import ParseCache
from cafe_etl.transform.check import ROLE_SCHEMA, check
from cafe_etl.transform.fields import Rejected, parse_flat_basket, parse_item
from unit.conftest import TransformText

SIZE_WORDS = {"regular", "large"}

# A word of letters; the name's first word is never a size word (that would be ambiguous).
words = st.text(alphabet=string.ascii_letters + "éøß", min_size=1, max_size=10)
names = (
    st.lists(words, min_size=1, max_size=4)
    .filter(lambda ws: ws[0].lower() not in SIZE_WORDS)
    .map(" ".join)
)
flavours = st.none() | st.lists(words, min_size=1, max_size=3).map(" ".join)
pennies = st.integers(min_value=0, max_value=99_999)


def pounds(p: int) -> str:
    """Whole pennies as a price with two decimals, written by hand: 205 -> '2.05'."""
    return f"{p // 100}.{p % 100:02d}"


@st.composite
def items(draw: st.DrawFn, sizes: st.SearchStrategy[str | None]) -> Item:
    return Item(draw(names), draw(sizes), draw(flavours), draw(pennies))


dmy_items = items(st.sampled_from([None, "Regular", "Large"]))
iso_items = items(st.sampled_from(["Regular", "Large"]))
# Baskets drawn from a small menu, so the same item often appears more than once.
dmy_baskets = st.lists(dmy_items, min_size=1, max_size=4).flatmap(
    lambda menu: st.lists(st.sampled_from(menu), min_size=1, max_size=8)
)
iso_baskets = st.lists(iso_items, min_size=1, max_size=4).flatmap(
    lambda menu: st.lists(st.sampled_from(menu), min_size=1, max_size=8)
)


def description(item: Item) -> str:
    return item.name + (f" - {item.flavour}" if item.flavour else "")


def render_item(item: Item) -> str:
    """Variants B, C, D: ``[Size ]Name[ - Flavour] - price``."""
    size = f"{item.size} " if item.size else ""
    return f"{size}{description(item)} - {pounds(item.pennies)}"


def render_basket(basket: list[Item]) -> str:
    return ", ".join(render_item(item) for item in basket)


def render_flat_basket(basket: list[Item], blank_regular: list[bool]) -> str:
    """Variant A: ``size,name,price`` triples; Regular may be written as an empty size."""
    triples = []
    for item, blank in zip(basket, blank_regular, strict=False):
        size = "" if item.size == "Regular" and blank else item.size
        triples.append(f"{size},{description(item)},{pounds(item.pennies)}")
    return ",".join(triples)


@given(dmy_items)
def test_an_item_parses_back_to_its_name_size_flavour_and_pennies(item: Item) -> None:
    assert parse_item(render_item(item)) == item


def checked_basket(raw: str, total: str = "0") -> tuple[list[tuple[int, int]], str | None]:
    """The (product key, pennies) of each item of a basket as the checker reads it, in order,
    and the reason its row is rejected for (None: accepted)."""
    row = [1, 1, 1, False, 7, "25/08/2021 09:00", "Leeds", raw, total, "CASH", ""]
    verdict = check(pa.table([[v] for v in row], schema=ROLE_SCHEMA), flat_baskets=False,
                    cache=ParseCache())  # fmt: skip
    baskets = verdict.baskets
    kinds = baskets.per_row[0].values.to_pylist()
    ids, prices = baskets.product_ids.to_pylist(), baskets.prices.to_pylist()
    reasons = verdict.rejected_rows["reason"].to_pylist()
    lines = [(ids[k], prices[k]) for k in kinds if k is not None]
    return lines, reasons[0] if reasons else None


def as_lines(basket: list[Item]) -> list[tuple[int, int]]:
    return [(keys.product_key(i.name, i.size, i.flavour), i.pennies) for i in basket]


@given(dmy_baskets)
def test_a_basket_parses_back_to_exactly_its_items_in_order(basket: list[Item]) -> None:
    total = sum(p for *_, p in basket)

    lines, reason = checked_basket(render_basket(basket), f"{total // 100}.{total % 100:02d}")

    assert lines == as_lines(basket)
    assert reason is None


@given(iso_baskets, st.lists(st.booleans(), min_size=8))
def test_a_flat_basket_parses_back_to_exactly_its_items_in_order(
    basket: list[Item], blank_regular: list[bool]
) -> None:
    raw = render_flat_basket(basket, blank_regular)

    parsed = parse_flat_basket(raw)

    assert parsed == basket
    assert sum(item.pennies for item in parsed) == sum(p for *_, p in basket)


@settings(max_examples=50, deadline=None)
@given(dmy_baskets)
def test_a_transformed_basket_sums_to_its_total_with_repeats_as_quantities(
    transform_text: TransformText, basket: list[Item]
) -> None:
    # GIVEN one row whose total is the sum of its items, written as the till would
    total = sum(item.pennies for item in basket)
    row = f'25/08/2021 09:00,Leeds,Fake Person,"{render_basket(basket)}",{pounds(total)},CASH,'

    # WHEN it is transformed
    result = transform_text(row + "\n")

    # THEN it loads, and its basket lines add up to the total, repeats counted as quantity
    assert result.summary.rows_rejected == 0
    [transaction] = result.transactions.to_pylist()
    assert transaction["total_amount"] == Decimal(pounds(total))
    lines = result.basket_items.to_pylist()
    assert sum(line["unit_price"] * line["quantity"] for line in lines) == Decimal(pounds(total))
    assert sum(line["quantity"] for line in lines) == len(basket)
    distinct = {(item.name, item.size, item.flavour, item.pennies) for item in basket}
    assert len(lines) == len(distinct)


three_decimal_prices = st.builds(
    lambda p, d: f"{pounds(p)}{d}", pennies, st.integers(min_value=1, max_value=9)
)


@given(dmy_items, three_decimal_prices)
def test_an_item_price_with_a_third_decimal_is_a_bad_amount(item: Item, price: str) -> None:
    text = render_item(item).rpartition(" - ")[0] + f" - {price}"

    with pytest.raises(Rejected) as caught:
        parse_item(text)

    assert caught.value.reason == "bad_amount"
    assert price in caught.value.detail


@given(st.lists(dmy_items, min_size=1, max_size=4), three_decimal_prices, st.data())
def test_a_basket_with_one_third_decimal_price_is_a_bad_amount(
    basket: list[Item], price: str, data: st.DataObject
) -> None:
    parts = [render_item(item) for item in basket]
    at = data.draw(st.integers(min_value=0, max_value=len(parts) - 1))
    parts[at] = parts[at].rpartition(" - ")[0] + f" - {price}"

    _, reason = checked_basket(", ".join(parts))

    assert reason == "bad_amount"


@given(st.lists(iso_items, min_size=1, max_size=4), three_decimal_prices, st.data())
def test_a_flat_basket_with_one_third_decimal_price_is_a_bad_amount(
    basket: list[Item], price: str, data: st.DataObject
) -> None:
    triples = render_flat_basket(basket, [False] * len(basket)).split(",")
    at = data.draw(st.integers(min_value=0, max_value=len(basket) - 1))
    triples[3 * at + 2] = price

    with pytest.raises(Rejected) as caught:
        parse_flat_basket(",".join(triples))

    assert caught.value.reason == "bad_amount"
