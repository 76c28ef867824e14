"""Record reading and layout detection for the raw variants A-D."""

import io

import pytest

from cafe_etl.formats import (
    DMY_LAYOUT,
    ISO_LAYOUT,
    Layout,
    Record,
    detect_layout,
    is_header,
    read_records,
    variant_name,
)


def records(text: str) -> list[Record]:
    return list(read_records(io.StringIO(text, newline="")))


def test_line_numbers_count_blank_lines_without_yielding_them() -> None:
    text = "a,b\n\nc,d\n\n\ne,f\n"

    assert records(text) == [(1, ["a", "b"]), (3, ["c", "d"]), (6, ["e", "f"])]


def test_whitespace_only_lines_are_skipped_but_counted() -> None:
    text = "a,b\n   \n\t\nc,d\n "

    assert records(text) == [(1, ["a", "b"]), (4, ["c", "d"])]


def test_crlf_lines_number_like_lf_lines_and_keep_no_carriage_return() -> None:
    text = "a,b\r\n\r\nc,d\r\n \r\ne,f"

    assert records(text) == [(1, ["a", "b"]), (3, ["c", "d"]), (5, ["e", "f"])]


def test_a_quoted_field_spanning_lines_keeps_its_start_line() -> None:
    # GIVEN a record whose quoted basket holds two line breaks
    text = 'first,x\nsecond,"Latte - 2.15,\nMocha - 2.30,\r\nTea - 1.30",y\nthird,z\n'

    # THEN it is one record on line 2, and the next record starts on line 5
    assert records(text) == [
        (1, ["first", "x"]),
        (2, ["second", "Latte - 2.15,\nMocha - 2.30,\r\nTea - 1.30", "y"]),
        (5, ["third", "z"]),
    ]


def test_a_line_of_empty_fields_is_a_record_not_a_blank_line() -> None:
    assert records("\n,,,,,,\n") == [(2, [""] * 7)]


def test_an_empty_stream_has_no_records() -> None:
    assert records("") == []


@pytest.mark.parametrize(
    "timestamp", ["2021-02-23 09:01:45", "2021-02-23T09:01:45", " 2021-02-23 09:01:45"]
)
def test_an_iso_timestamp_means_the_variant_a_layout(timestamp: str) -> None:
    layout = detect_layout((1, [timestamp, "Isle of Wight", "N", "b", "CASH", "2.15", "None"]))

    assert layout is ISO_LAYOUT
    assert (layout.payment, layout.total, layout.flat_basket) == (4, 5, True)


@pytest.mark.parametrize("timestamp", ["23/03/2021 08:00", "25/08/2021 09:00:30", "garbage"])
def test_any_other_first_timestamp_means_the_dmy_layout(timestamp: str) -> None:
    layout = detect_layout((1, [timestamp, "Leeds", "N", "b", "2.15", "CASH", ""]))

    assert layout is DMY_LAYOUT
    assert (layout.payment, layout.total, layout.flat_basket) == (5, 4, False)


@pytest.mark.parametrize(
    ("layout", "header", "two_decimals", "variant"),
    [
        (ISO_LAYOUT, False, True, "A"),
        (ISO_LAYOUT, False, False, "A"),
        (ISO_LAYOUT, True, True, "A"),
        (DMY_LAYOUT, False, True, "B"),
        (DMY_LAYOUT, False, False, "C"),
        (DMY_LAYOUT, True, False, "D"),
        (DMY_LAYOUT, True, True, "D"),
    ],
)
def test_variant_name_follows_the_design_table(
    layout: Layout, header: bool, two_decimals: bool, variant: str
) -> None:
    assert variant_name(layout, header=header, totals_two_decimals=two_decimals) == variant


@pytest.mark.parametrize(
    "first_field",
    ["Timestamp", "timestamp", " TIMESTAMP ", "Date", "datetime", "date_time", "Time"],
)
def test_a_first_field_naming_a_time_column_is_a_header(first_field: str) -> None:
    assert is_header((1, [first_field, "Location", "Customer Name"]))


@pytest.mark.parametrize(
    "first_field", ["28/03/2025 09:00", "2021-02-23 09:00:48", "Location", "", "Timestamps"]
)
def test_a_data_row_or_another_word_is_not_a_header(first_field: str) -> None:
    assert not is_header((1, [first_field, "Leeds", "Fake Person"]))


def test_the_variant_d_header_line_is_recognised_as_read_from_text() -> None:
    header = (
        "Timestamp,Location,Customer Name,Items Ordered,Total Amount,Payment Method,Card Number"
    )

    [first] = records(header + "\r\n")

    assert first[0] == 1
    assert len(first[1]) == 7
    assert is_header(first)
