"""The intermediate shape both parsers give (line numbers, one column per field), and layout
detection for the raw variants A-D. Every record test runs on both parsers."""

import io
from collections.abc import Callable, Iterator

import pyarrow as pa
import pytest

from cafe_etl.extract.arrow_rows import arrow_rows
from cafe_etl.extract.csv_rows import csv_rows
from cafe_etl.extract.layout import (
    DMY_LAYOUT,
    ISO_LAYOUT,
    Layout,
    detect_layout,
    is_header,
    variant_name,
)
from cafe_etl.extract.rows import FIELDS, SCHEMA

Record = tuple[int, list[str]]
PARSERS: dict[str, Callable[[bytes], Iterator[pa.Table]]] = {
    "csv module": lambda raw: csv_rows(
        io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline=""), chunk_rows=2
    ),
    "arrow, small pieces": lambda raw: arrow_rows(io.BytesIO(raw), chunk_rows=2, piece_bytes=16),
    "arrow": lambda raw: arrow_rows(io.BytesIO(raw)),
}


@pytest.fixture(params=list(PARSERS))
def parse(request: pytest.FixtureRequest) -> Callable[[bytes], Iterator[pa.Table]]:
    return PARSERS[request.param]


def as_records(tables: Iterator[pa.Table]) -> list[Record]:
    found = []
    for table in tables:
        assert table.schema == SCHEMA
        for row in table.to_pylist():
            found.append((row["line"], [row[name] for name in FIELDS][: row["fields"]]))
    return found


@pytest.fixture
def records(parse: Callable[[bytes], Iterator[pa.Table]]) -> Callable[[str], list[Record]]:
    """The records of a text, as (line, fields) pairs, from the parser under test."""
    return lambda text: as_records(parse(text.encode("utf-8")))


Records = Callable[[str], list[Record]]


def test_line_numbers_count_blank_lines_without_yielding_them(records: Records) -> None:
    text = "a,b\n\nc,d\n\n\ne,f\n"

    assert records(text) == [(1, ["a", "b"]), (3, ["c", "d"]), (6, ["e", "f"])]


def test_whitespace_only_lines_are_skipped_but_counted(records: Records) -> None:
    text = "a,b\n   \n\t\nc,d\n "

    assert records(text) == [(1, ["a", "b"]), (4, ["c", "d"])]


def test_crlf_lines_number_like_lf_lines_and_keep_no_carriage_return(records: Records) -> None:
    text = "a,b\r\n\r\nc,d\r\n \r\ne,f"

    assert records(text) == [(1, ["a", "b"]), (3, ["c", "d"]), (5, ["e", "f"])]


def test_a_quoted_field_spanning_lines_keeps_its_start_line(records: Records) -> None:
    # GIVEN a record whose quoted basket holds two line breaks
    text = 'first,x\nsecond,"Latte - 2.15,\nMocha - 2.30,\r\nTea - 1.30",y\nthird,z\n'

    # THEN it is one record on line 2, and the next record starts on line 5
    assert records(text) == [
        (1, ["first", "x"]),
        (2, ["second", "Latte - 2.15,\nMocha - 2.30,\r\nTea - 1.30", "y"]),
        (5, ["third", "z"]),
    ]


def test_a_line_of_empty_fields_is_a_record_not_a_blank_line(records: Records) -> None:
    assert records("\n,,,,,,\n") == [(2, [""] * 7)]


def test_an_empty_stream_has_no_records(records: Records) -> None:
    assert records("") == []


@pytest.mark.parametrize(
    "timestamp", ["2021-02-23 09:01:45", "2021-02-23T09:01:45", " 2021-02-23 09:01:45"]
)
def test_an_iso_timestamp_means_the_variant_a_layout(timestamp: str) -> None:
    layout = detect_layout([timestamp, "Isle of Wight", "N", "b", "CASH", "2.15", "None"])

    assert layout is ISO_LAYOUT
    assert (layout.payment, layout.total, layout.flat_basket) == (4, 5, True)


@pytest.mark.parametrize("timestamp", ["23/03/2021 08:00", "25/08/2021 09:00:30", "garbage"])
def test_any_other_first_timestamp_means_the_dmy_layout(timestamp: str) -> None:
    layout = detect_layout([timestamp, "Leeds", "N", "b", "2.15", "CASH", ""])

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
    assert is_header([first_field, "Location", "Customer Name"])


@pytest.mark.parametrize(
    "first_field", ["28/03/2025 09:00", "2021-02-23 09:00:48", "Location", "", "Timestamps"]
)
def test_a_data_row_or_another_word_is_not_a_header(first_field: str) -> None:
    assert not is_header([first_field, "Leeds", "Fake Person"])


def test_the_variant_d_header_line_is_recognised_as_read_from_text(records: Records) -> None:
    header = (
        "Timestamp,Location,Customer Name,Items Ordered,Total Amount,Payment Method,Card Number"
    )

    [first] = records(header + "\r\n")

    assert first[0] == 1
    assert len(first[1]) == 7
    assert is_header(first[1])


SEVEN = '25/08/2021 09:{m:02d},Leeds,Ann,"Regular Latte - 2.15, Large Tea - 1.60",3.75,CASH,'


def test_line_numbers_run_on_across_pieces_of_plain_records(records: Records) -> None:
    # GIVEN twelve plain records, CRLF, a whitespace-only last line (variant B's)
    text = "".join(SEVEN.format(m=m) + "\r\n" for m in range(12)) + " \r\n"

    # THEN each is its own line, in order, whatever the pieces Arrow read
    found = records(text)
    assert [line for line, _ in found] == list(range(1, 13))
    assert [fields[0] for _, fields in found] == [f"25/08/2021 09:{m:02d}" for m in range(12)]
    assert {fields[3] for _, fields in found} == {"Regular Latte - 2.15, Large Tea - 1.60"}


def test_a_value_over_two_lines_late_in_a_file_keeps_every_line_number(records: Records) -> None:
    # GIVEN plain records, then one whose basket spans two lines, then a blank line, then more
    plain = [SEVEN.format(m=m) for m in range(6)]
    spanning = '25/08/2021 10:00,Leeds,Bo,"Regular Latte - 2.15,\nLarge Tea - 1.60",3.75,CASH,'
    text = "\n".join([*plain, spanning, "", SEVEN.format(m=59)]) + "\n"

    # THEN the csv module's numbering holds: the spanning record starts on line 7, the last
    # record is on line 10
    found = records(text)
    assert [line for line, _ in found] == [1, 2, 3, 4, 5, 6, 7, 10]
    assert found[6][1][3] == "Regular Latte - 2.15,\nLarge Tea - 1.60"


def test_a_quote_left_open_at_a_piece_boundary_is_read_as_one_record(records: Records) -> None:
    # GIVEN a record whose quoted value holds a line break exactly where a piece may end
    text = SEVEN.format(m=0) + '\n25/08/2021 09:01,Leeds,Cy,"Regular Latte - 2.15\n",2.15,CASH,\n'

    found = records(text)
    assert [line for line, _ in found] == [1, 2]
    assert found[1][1][3] == "Regular Latte - 2.15\n"


def test_records_of_other_lengths_keep_their_field_count(records: Records) -> None:
    text = SEVEN.format(m=0) + "\n25/08/2021 09:01,Leeds,Cy\n" + SEVEN.format(m=2) + ",extra\n"

    assert [(line, len(fields)) for line, fields in records(text)] == [(1, 7), (2, 3), (3, 7)]


def test_a_byte_order_mark_inside_a_file_is_kept_as_text_by_both_parsers(records: Records) -> None:
    # GIVEN two exports with a BOM each, joined into one file (the second BOM mid-file)
    one = "\ufeff" + SEVEN.format(m=0) + "\n" + SEVEN.format(m=1) + "\n"

    found = records(one + one)

    # THEN only the file's first BOM is dropped: the second stays in its record's first field
    assert [line for line, _ in found] == [1, 2, 3, 4]
    assert [fields[0][:1] for _, fields in found] == ["2", "2", "\ufeff", "2"]
