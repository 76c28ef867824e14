"""Row validation through the transform (both readers): reason codes, line numbers, details, and the
edge cases that must load. Every row is hand-written; names and cards are fake and distinctive.
"""

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pyarrow as pa
import pytest

from cafe_etl import keys
from unit.conftest import Transformed, TransformText

FILE_ID = 4242
NAME = "Zephyrine Quillfeather"
CARD = "4917610000000000"
HEADER = "Timestamp,Location,Customer Name,Items Ordered,Total Amount,Payment Method,Card Number"


def dmy(
    *,
    timestamp: str = "25/08/2021 09:00",
    branch: str = "Chesterfield",
    basket: str = "Regular Latte - 2.15",
    total: str = "2.15",
    payment: str = "CARD",
    card: str = CARD,
) -> str:
    """One variant B/C/D row (total before payment), the basket quoted."""
    return f'{timestamp},{branch},{NAME},"{basket}",{total},{payment},{card}'


def iso(
    *,
    timestamp: str = "2021-02-23 09:00:48",
    basket: str = ",Latte,2.15",
    payment: str = "CARD",
    total: str = "2.15",
    card: str = f"visa16,{CARD}",
) -> str:
    """One variant A row (payment before total, flat triples, card "scheme,number")."""
    return f'{timestamp},Isle of Wight,{NAME},"{basket}",{payment},{total},"{card}"'


def rejected(result: Transformed) -> list[tuple[int, str]]:
    return [(row["line_number"], row["reason"]) for row in result.rejected_rows.to_pylist()]


def details(result: Transformed) -> list[str]:
    return result.rejected_rows["detail"].to_pylist()


# (bad row, reason, text the detail should show the user, or None). Words that do not look
# like the field (a timestamp of letters, a size nobody sells) are not shown: they could be
# a customer name shifted into that field. Free text (a payment word, an item) is never shown.
DMY_CASES = {
    "a_six_field_row": (dmy().rpartition(",")[0], "field_count", None),
    "an_eight_field_row": (dmy() + ",extra", "field_count", None),
    "an_impossible_date_31_02": (dmy(timestamp="31/02/2021 09:00"), "bad_timestamp", "31/02/2021"),
    "an_impossible_hour": (dmy(timestamp="25/08/2021 25:00"), "bad_timestamp", "25:00"),
    "a_date_without_time": (dmy(timestamp="25/08/2021"), "bad_timestamp", "25/08/2021"),
    "words_for_a_timestamp": (dmy(timestamp="yesterday"), "bad_timestamp", None),
    "a_total_of_2_755": (dmy(total="2.755"), "bad_amount", "2.755"),
    "a_negative_total": (dmy(total="-2.15"), "bad_amount", "-2.15"),
    "a_total_too_large_for_numeric_10_2": (
        dmy(basket="Regular Latte - 100000000.00", total="100000000.00"),
        "bad_amount",
        "100000000.00",
    ),
    "a_total_that_is_not_a_number": (dmy(total="two pounds"), "bad_amount", None),
    "an_empty_total": (dmy(total=""), "bad_amount", None),
    "an_item_price_of_2_755": (
        dmy(basket="Regular Latte - 2.755", total="2.76"),
        "bad_amount",
        "2.755",
    ),
    "a_negative_item_price": (dmy(basket="Regular Latte - -2.15"), "bad_amount", "-2.15"),
    "an_empty_basket": (dmy(basket=""), "bad_basket", None),
    "a_blank_basket": (dmy(basket="   "), "bad_basket", None),
    "an_item_without_a_price": (dmy(basket="Regular Latte"), "bad_basket", None),
    "a_trailing_comma_in_the_basket": (dmy(basket="Regular Latte - 2.15,"), "bad_basket", None),
    "a_payment_of_cheque": (dmy(payment="CHEQUE"), "bad_payment", None),
    "an_empty_payment": (dmy(payment=""), "bad_payment", None),
    "an_empty_branch": (dmy(branch=""), "bad_branch", None),
    "a_branch_name_too_long_for_the_warehouse": (dmy(branch="B" * 201), "bad_branch", None),
    "a_product_name_too_long_for_the_warehouse": (
        dmy(basket="Regular " + "L" * 201 + " - 2.15"),
        "bad_basket",
        None,
    ),
    "a_blank_branch": (dmy(branch="   "), "bad_branch", None),
    "a_nul_byte_in_the_branch": (dmy(branch="Le\x00eds"), "bad_branch", None),
    "a_control_character_in_an_item": (dmy(basket="Regular La\x07tte - 2.15"), "bad_basket", None),
    "fullwidth_digits_in_the_total": (dmy(total="\uff12.\uff11\uff15"), "bad_amount", None),
    "fullwidth_digits_in_an_item_price": (
        dmy(basket="Regular Latte - \uff12.15"),
        "bad_amount",
        None,
    ),
    "fullwidth_digits_in_the_timestamp": (
        dmy(timestamp="\uff12\uff15/08/2021 09:00"),
        "bad_timestamp",
        None,
    ),
    "the_year_0001": (dmy(timestamp="25/08/0001 09:00"), "bad_timestamp", "25/08/0001"),
    "the_year_9999": (dmy(timestamp="25/08/9999 09:00"), "bad_timestamp", "25/08/9999"),
    "a_branch_of_150_characters_and_300_bytes": (dmy(branch="\u00e9" * 150), "bad_branch", None),
    "a_flavour_too_long_for_the_warehouse": (
        dmy(basket="Large Latte - " + "V" * 201 + " - 2.15"),
        "bad_basket",
        None,
    ),
    "a_basket_of_20000_characters": (
        dmy(basket=", ".join(["Regular Latte - 2.15"] * 1000)),
        "bad_basket",
        None,
    ),
    "a_basket_beyond_the_csv_modules_default_field_limit": (
        dmy(basket="Regular " + "L" * 140_000 + " - 2.15"),
        "bad_basket",
        None,
    ),
    "items_summing_to_less_than_the_total": (
        dmy(basket="Regular Latte - 2.15, Large Latte - 2.45", total="4.70"),
        "total_mismatch",
        "4.60",
    ),
    "items_summing_to_more_than_the_total": (
        dmy(basket="Regular Latte - 2.15", total="2.10"),
        "total_mismatch",
        "2.15",
    ),
}

ISO_CASES = {
    "an_impossible_iso_date_30_02": (
        iso(timestamp="2021-02-30 09:00:00"),
        "bad_timestamp",
        "2021-02-30",
    ),
    "an_iso_total_of_2_755": (iso(total="2.755"), "bad_amount", "2.755"),
    "a_flat_basket_that_is_not_triples": (iso(basket="Large,Latte"), "bad_basket", None),
    "a_flat_basket_with_an_unknown_size": (iso(basket="Medium,Latte,2.15"), "bad_basket", None),
    "a_flat_item_price_of_2_155": (iso(basket=",Latte,2.155", total="2.16"), "bad_amount", "2.155"),
    "an_iso_payment_of_voucher": (iso(payment="VOUCHER"), "bad_payment", None),
    "flat_items_not_summing_to_the_total": (iso(total="2.25"), "total_mismatch", "2.25"),
}


def dmy_file_around(bad_row: str) -> tuple[str, int]:
    """Header (line 1), a good row (2), a blank line (3), the bad row (4), a good row (5)."""
    good = dmy()
    return f"{HEADER}\n{good}\n\n{bad_row}\n{good}\n", 4


def iso_file_around(bad_row: str) -> tuple[str, int]:
    """A good row (1), a blank line (2), the bad row (3), a good row (4), CRLF endings."""
    good = iso()
    return f"{good}\r\n\r\n{bad_row}\r\n{good}\r\n", 3


CASES = [pytest.param(dmy_file_around, *case, id=name) for name, case in DMY_CASES.items()] + [
    pytest.param(iso_file_around, *case, id=name) for name, case in ISO_CASES.items()
]


@pytest.mark.parametrize(("make_file", "bad_row", "reason", "shown"), CASES)
def test_rejects_the_bad_row_with_its_reason_and_physical_line_number(
    transform_text: TransformText,
    make_file: Callable[[str], tuple[str, int]],
    bad_row: str,
    reason: str,
    shown: str | None,
) -> None:
    # GIVEN a file with one bad row between good ones (a header and a blank line counted)
    text, bad_line = make_file(bad_row)

    # WHEN it is transformed
    result = transform_text(text, file_id=FILE_ID)

    # THEN only that row is rejected, at its physical line, with its reason
    assert rejected(result) == [(bad_line, reason)]
    assert result.rejected_rows["file_id"].to_pylist() == [FILE_ID]
    assert result.summary.rows_read == 3
    assert result.summary.rows_loaded == 2
    assert result.summary.rows_rejected == 1
    assert result.summary.rejects == Counter({reason: 1})
    assert result.transactions.num_rows == 2

    # AND the detail tells the user what was wrong without any personal data
    [detail] = details(result)
    assert NAME not in detail
    assert CARD not in detail
    if shown is not None:
        assert shown in detail


@pytest.mark.parametrize(
    "bad_row",
    [
        pytest.param(dmy().replace(NAME, "Quillfeather, Zephyrine"), id="a_comma_in_the_name"),
        pytest.param(dmy().rpartition(",")[0], id="a_missing_card_field"),
        pytest.param(dmy() + f",{CARD}", id="a_repeated_card_field"),
    ],
)
def test_a_field_count_detail_quotes_no_field_at_all(
    transform_text: TransformText, bad_row: str
) -> None:
    text, _ = dmy_file_around(bad_row)

    result = transform_text(text)

    [detail] = details(result)
    for field in bad_row.replace('"', "").split(","):
        if len(field.strip()) > 2:
            assert field.strip() not in detail
    assert "Quillfeather" not in detail
    assert "Zephyrine" not in detail


@pytest.mark.parametrize(
    "bad_row",
    [
        pytest.param(
            dmy(total=CARD, payment="CARD", card="2.15"), id="card_number_in_the_total_column"
        ),
        pytest.param(
            dmy(total="2.15", payment=CARD, card="CARD"), id="card_number_in_the_payment_column"
        ),
    ],
)
def test_a_card_number_shifted_into_another_column_never_reaches_the_detail(
    transform_text: TransformText, bad_row: str
) -> None:
    # GIVEN a row whose card number landed in a column the detail may quote
    text, bad_line = dmy_file_around(bad_row)

    # WHEN it is rejected
    result = transform_text(text)

    # THEN the detail does not carry the card number (DESIGN: no card number in rejected rows)
    assert [line for line, _ in rejected(result)] == [bad_line]
    [detail] = details(result)
    assert CARD not in detail


def test_every_reason_in_one_file_keeps_its_physical_line_number(
    transform_text: TransformText,
) -> None:
    # GIVEN one file holding a header, blank and whitespace-only lines, a quoted basket that
    # spans two lines, and one row of every row-level reason
    lines = [
        HEADER,  # 1
        dmy(),  # 2 good
        "",  # 3 blank
        dmy().rpartition(",")[0],  # 4 field_count
        dmy(timestamp="31/02/2021 09:02"),  # 5 bad_timestamp
        "   ",  # 6 whitespace only
        dmy(total="2.755"),  # 7 bad_amount
        dmy(basket=""),  # 8 bad_basket
        dmy(basket="Regular Latte - 2.15,\nLarge Latte - 2.45", total="4.50"),  # 9-10 mismatch
        dmy(payment="CHEQUE"),  # 11 bad_payment
        dmy(branch=""),  # 12 bad_branch
        dmy(payment="CASH", card=""),  # 13 good
    ]
    text = "\n".join(lines) + "\n"

    # WHEN it is transformed
    result = transform_text(text, file_id=FILE_ID)

    # THEN each reject has its own line (a rejected record over two lines is rejected on
    # both), and the good rows are loaded
    assert rejected(result) == [
        (4, "field_count"),
        (5, "bad_timestamp"),
        (7, "bad_amount"),
        (8, "bad_basket"),
        (9, "total_mismatch"),
        (10, "total_mismatch"),
        (11, "bad_payment"),
        (12, "bad_branch"),
    ]
    summary = result.summary
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (10, 2, 8)
    assert summary.rows_read == summary.rows_loaded + summary.rows_rejected
    assert summary.rejects == Counter(reason for _, reason in rejected(result))
    expected_ids = keys.row_keys(FILE_ID, pa.array([2, 13])).to_pylist()
    assert sorted(result.transactions["transaction_id"].to_pylist()) == sorted(expected_ids)
    assert all(NAME not in detail and CARD not in detail for detail in details(result))


def test_a_good_basket_spanning_two_lines_loads_under_its_start_line(
    transform_text: TransformText,
) -> None:
    text = "\n".join(
        [
            dmy(basket="Regular Latte - 2.15,\nLarge Latte - 2.45", total="4.60"),  # 1-2
            dmy(payment="BITCOIN"),  # 3
        ]
    )

    result = transform_text(text, file_id=FILE_ID)

    [transaction] = result.transactions.to_pylist()
    assert transaction["transaction_id"] == keys.row_keys(FILE_ID, pa.array([1]))[0].as_py()
    assert transaction["total_amount"] == Decimal("4.60")
    assert result.basket_items.num_rows == 2
    assert rejected(result) == [(3, "bad_payment")]


# -- accepted edge cases ------------------------------------------------------------------


FIVE_TWENTY = "Regular Latte - 2.75, Large Latte - 2.45"
FIVE_POUNDS = "Regular Latte - 2.55, Large Latte - 2.45"


@pytest.mark.parametrize(
    ("total", "basket", "expected"),
    [
        ("5.200", FIVE_TWENTY, "5.20"),
        ("5.2", FIVE_TWENTY, "5.20"),
        ("5.20", FIVE_TWENTY, "5.20"),
        ("5", FIVE_POUNDS, "5.00"),
        ("5.000", FIVE_POUNDS, "5.00"),
    ],
)
def test_accepts_a_total_written_as(
    transform_text: TransformText, total: str, basket: str, expected: str
) -> None:
    text = dmy(basket=basket, total=total) + "\n"

    result = transform_text(text)

    assert result.summary.rows_rejected == 0
    assert result.transactions["total_amount"].to_pylist() == [Decimal(expected)]


def test_accepts_fields_padded_with_spaces(transform_text: TransformText) -> None:
    key = b"padding key"
    text = (
        f" 25/08/2021 09:00 ,  Chesterfield  , {NAME} ,"
        '"  Regular Latte - 2.15 ,  Large Flavoured latte - Hazelnut - 2.85  ",'
        f"  5.00 ,  CARD  ,  {CARD}  \n"
    )

    result = transform_text(text, key=key)

    assert result.summary.rows_rejected == 0
    [row] = result.transactions.to_pylist()
    assert row["branch_id"] == keys.branch_key("Chesterfield")
    assert result.branches == {keys.branch_key("Chesterfield"): "Chesterfield"}
    assert row["payment_method"] == "CARD"
    assert row["total_amount"] == Decimal("5.00")
    assert row["customer_token"] == hmac.new(key, CARD.encode(), hashlib.sha256).hexdigest()
    assert {(i.name, i.size, i.flavour) for i in result.products.values()} == {
        ("Latte", "Regular", None),
        ("Flavoured latte", "Large", "Hazelnut"),
    }


def test_accepts_a_utf8_bom_before_a_header(transform_text: TransformText) -> None:
    raw = ("\ufeff" + HEADER + "\r\n" + dmy() + "\r\n").encode("utf-8")
    result = transform_text(raw)

    assert result.summary.rows_read == 1
    assert result.summary.rows_loaded == 1
    assert result.summary.variant == "D"
    assert result.rejected_rows.num_rows == 0


def test_accepts_a_utf8_bom_before_the_first_iso_row(transform_text: TransformText) -> None:
    raw = ("\ufeff" + iso() + "\r\n").encode("utf-8")
    result = transform_text(raw)

    assert result.summary.rows_loaded == 1
    assert result.summary.variant == "A"


def test_crlf_line_endings_leave_no_carriage_return_in_any_field(
    transform_text: TransformText,
) -> None:
    text = iso(payment="CASH", card="None") + "\r\n" + iso() + "\r\n"

    result = transform_text(text, key=b"k")

    assert result.summary.rows_loaded == 2
    assert result.transactions["payment_method"].to_pylist() == ["CASH", "CARD"]
    tokens = result.transactions["customer_token"].to_pylist()
    assert tokens[0] is None
    assert tokens[1] is not None


def test_a_whitespace_only_last_line_is_not_counted(transform_text: TransformText) -> None:
    text = iso() + "\r\n" + iso() + "\r\n "

    result = transform_text(text)

    assert result.summary.rows_read == 2
    assert result.summary.rows_rejected == 0
    assert result.rejected_rows.num_rows == 0


def test_a_header_line_is_not_counted_but_numbers_the_lines(
    transform_text: TransformText,
) -> None:
    text = f"{HEADER}\n{dmy(payment='CHEQUE')}\n"

    result = transform_text(text)

    assert result.summary.rows_read == 1
    assert rejected(result) == [(2, "bad_payment")]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 100])
def test_chunk_size_changes_nothing_a_user_sees(
    transform_text: TransformText, chunk_rows: int
) -> None:
    text = "\n".join(
        [
            HEADER,
            dmy(total="2.15"),
            dmy(total="9.99"),
            "",
            dmy(timestamp="26/08/2021 10:00", payment="CASH", card=""),
            dmy(basket="Regular Latte - 2.15, Regular Latte - 2.15", total="4.3"),
        ]
    )

    result = transform_text(text, file_id=FILE_ID, chunk_rows=chunk_rows)

    summary = result.summary
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (4, 3, 1)
    assert rejected(result) == [(3, "total_mismatch")]
    assert summary.variant == "D"
    assert summary.branch_id == keys.branch_key("Chesterfield")
    assert summary.business_date is None  # two trading days in one file
    assert sum(result.transactions["total_amount"].to_pylist()) == Decimal("8.60")
    assert sorted(result.basket_items["quantity"].to_pylist()) == [1, 1, 2]


# -- whole-file outcomes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{\n  "branch": "Leeds",\n  "rows": [1, 2, 3],\n  "ok": true\n}\n', id="json"),
        pytest.param(
            "<!doctype html>\n<html><body><p>Not found, sorry</p></body></html>\n", id="html"
        ),
    ],
)
def test_a_file_with_no_seven_field_record_is_not_csv_and_counts_no_rows(
    transform_text: TransformText, text: str
) -> None:
    result = transform_text(text)

    summary = result.summary
    assert summary.reason == "not_csv"
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (0, 0, 0)
    assert summary.rejects == Counter()


@pytest.mark.parametrize("text", ["", "\n\n", " ", "\r\n \r\n"])
def test_an_empty_file_has_no_rows_and_no_reason(transform_text: TransformText, text: str) -> None:
    result = transform_text(text)

    summary = result.summary
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (0, 0, 0)
    assert summary.reason is None
    assert result.transactions.num_rows == result.rejected_rows.num_rows == 0


def test_a_file_with_only_a_header_has_no_rows_and_no_reason(
    transform_text: TransformText,
) -> None:
    result = transform_text(HEADER + "\n")

    assert result.summary.rows_read == 0
    assert result.summary.reason is None


def test_a_header_with_columns_in_another_order_is_read_by_name(
    transform_text: TransformText,
) -> None:
    # GIVEN a header that puts the customer name where the branch usually is
    text = (
        "Timestamp,Customer Name,Location,Items Ordered,Payment Method,Total Amount,Card Number\n"
        f"25/08/2021 09:00,{NAME},Leeds,Regular Latte - 2.15,CASH,2.15,\n"
    )
    result = transform_text(text)
    # THEN the branch is Leeds, never the name, and the row loads
    assert list(result.branches.values()) == ["Leeds"]
    assert result.transactions.num_rows == 1 and result.summary.variant == "D"


def test_a_header_naming_columns_we_do_not_know_rejects_the_file_as_not_csv(
    transform_text: TransformText,
) -> None:
    text = f"Timestamp,Who,Where,What,How much,How,Card\n25/08/2021 09:00,{NAME},Leeds,x,1,CASH,\n"
    result = transform_text(text)
    assert result.summary.reason == "not_csv"
    assert result.transactions.num_rows == 0 and result.branches == {}


def test_a_file_whose_first_thousand_lines_are_short_still_loads_its_good_rows(
    transform_text: TransformText,
) -> None:
    text = "a,b,c\n" * 1001 + dmy() + "\n"
    result = transform_text(text)
    assert result.summary.reason is None
    assert (result.summary.rows_loaded, result.summary.rows_rejected) == (1, 1001)


@pytest.mark.parametrize(
    "bad_row",
    [
        dmy(total="4924 5157 7633 5673"),
        dmy(total="4924-5157-7633-5673"),
        dmy(payment="JOHN SMITH"),
        dmy(timestamp="4924 5157 7633 5673"),
    ],
    ids=[
        "card_with_spaces_as_total",
        "card_with_dashes_as_total",
        "upper_case_name_as_payment",
        "card_as_timestamp",
    ],
)
def test_a_card_or_name_written_another_way_never_reaches_the_detail(
    transform_text: TransformText, bad_row: str
) -> None:
    result = transform_text(bad_row + "\n")
    [detail] = details(result)
    assert "4924" not in detail and "5673" not in detail and "JOHN" not in detail


def test_a_quote_left_open_that_swallows_a_sale_rejects_every_line_it_took(
    transform_text: TransformText,
) -> None:
    # GIVEN a name whose quote closes two lines later, taking in a whole sale, so that the
    # merged record happens to have seven valid fields
    text = (
        '25/08/2021 09:00,Leeds,"Ann\n'
        "25/08/2021 09:01,Leeds,Bob,Regular Latte - 2.15,2.15,CASH,\n"
        'Other",Regular Latte - 2.15,2.15,CASH,\n'
        "25/08/2021 09:02,Leeds,Cy,Regular Latte - 2.15,2.15,CASH,\n"
    )

    result = transform_text(text)

    # THEN the sale on line 2 does not vanish into a name: lines 1-3 are rejected rows
    assert rejected(result) == [(1, "field_count"), (2, "field_count"), (3, "field_count")]
    assert result.transactions.num_rows == 1
    assert (result.summary.rows_read, result.summary.rows_rejected) == (4, 3)


def test_a_name_over_two_lines_is_one_sale_under_its_first_line(
    transform_text: TransformText,
) -> None:
    text = '25/08/2021 09:00,Leeds,"Ann\nOther",Regular Latte - 2.15,2.15,CASH,\n'

    result = transform_text(text)

    assert result.rejected_rows.num_rows == 0 and result.summary.rows_loaded == 1


def test_a_line_longer_than_a_megabyte_is_one_rejected_row_and_the_rest_loads(
    transform_text: TransformText,
) -> None:
    # GIVEN a good row, a 3 MB line (no separator worth the name), a 2 MB basket, a good row
    good = dmy(payment="CASH", card="")
    text = "\n".join([good, "x" * 3_000_000, dmy(basket="Regular Latte - 2.15, " * 100_000), good])

    result = transform_text(text + "\n")

    # THEN each long line is one rejected row on its own line, and the good rows load
    assert rejected(result) == [(2, "field_count"), (3, "field_count")]
    assert set(details(result)) == {"a line longer than 1,048,576 bytes"}
    assert result.summary.rows_loaded == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(dmy(total="9" * 5000), "bad_amount", id="a 5000-digit total"),
        pytest.param(dmy(basket="Regular Latte - " + "9" * 5000), "bad_amount", id="a price"),
    ],
)
def test_a_number_too_long_for_any_amount_is_a_rejected_row(
    transform_text: TransformText, text: str, reason: str
) -> None:
    result = transform_text(text + "\n" + dmy() + "\n")

    assert rejected(result) == [(1, reason)] and result.summary.rows_loaded == 1


GOOD_DMY = dmy(payment="CASH", card="")


@pytest.mark.parametrize(
    "swallowed",
    [
        pytest.param("x" * 3_000_000, id="a line cut out for its length"),
        pytest.param("\x0b" + GOOD_DMY, id="a sale after a vertical tab"),
        pytest.param("\u00a0" + GOOD_DMY, id="a sale after a no-break space"),
    ],
)
def test_a_quote_left_open_over_any_line_a_sale_could_be_rejects_every_line(
    transform_text: TransformText, swallowed: str
) -> None:
    # GIVEN a name whose quote closes two lines later, around a line of another record
    text = "\n".join([GOOD_DMY, '25/08/2021 09:02,Leeds,"Bob', swallowed,
                      'Smith",Regular Latte - 2.15,2.15,CASH,', GOOD_DMY]) + "\n"  # fmt: skip

    result = transform_text(text)

    # THEN lines 2-4 are rejected rows, lines 1 and 5 load: no line is lost
    assert [line for line, _ in rejected(result)] == [2, 3, 4]
    assert result.summary.rows_loaded == 2


def test_a_header_whose_quote_runs_over_lines_hides_none_of_them(
    transform_text: TransformText,
) -> None:
    text = HEADER.replace("Card Number", '"Card Number') + "\n" + '25/08/2021 09:00,1,2,3,4,5,6"\n'

    result = transform_text(text + GOOD_DMY + "\n")

    assert [line for line, _ in rejected(result)] == [1, 2]
    assert result.summary.rows_read == 3 and result.summary.rows_loaded == 1


def test_a_line_over_the_limit_is_cut_wherever_it_falls_in_the_file(
    transform_text: TransformText,
) -> None:
    long_sale = dmy(payment="CASH", card="", basket="Regular Latte - 2.15", total="2.15")
    long_sale = long_sale.replace("Zephyrine", "Z" * 1_500_000)  # a 1.5 MB name
    early = transform_text(long_sale + "\n" + GOOD_DMY + "\n")
    late = transform_text((GOOD_DMY + "\n") * 10_000 + long_sale + "\n")

    assert [reason for _, reason in rejected(early)] == ["field_count"]
    assert [reason for _, reason in rejected(late)] == ["field_count"]


@pytest.mark.parametrize(
    "card", ["4924  5157  7633  5673", "4924,5157,7633,5673", "4924_5157_7633_5673",
             "4924\u00a05157\u00a07633\u00a05673", "4924:5157:7633:5673"],
)  # fmt: skip
def test_a_card_number_with_any_separators_is_never_stored_or_quoted(
    transform_text: TransformText, card: str
) -> None:
    text = "\n".join([
        dmy(branch=f"Leeds {card}"),
        dmy(basket=f"Regular Latte {card} - 2.15"),
        dmy(timestamp=card),
        dmy(total=card),
    ]) + "\n"  # fmt: skip

    result = transform_text(text)

    assert [line for line, _ in rejected(result)] == [1, 2, 3, 4]
    stored = str(result.transactions.to_pylist()) + str(result.branches) + str(result.products)
    assert "5157" not in stored and all("5157" not in detail for detail in details(result))
