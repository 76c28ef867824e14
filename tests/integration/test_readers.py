"""Arrow's parser (the fast path) loads exactly what the csv module's loads.

Each raw file is loaded into two fresh warehouses: once as a run loads it (Arrow reads every
piece it reads as the csv module would, the csv module the rest), once with the csv module
only. Every contract table must be identical. Each case also says whether Arrow reads it
whole, so a case meant for one path cannot quietly pass through the other.
"""

import contextlib
import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pytest

from cafe_etl.extract.arrow_rows import arrow_rows
from cafe_etl.extract.csv_rows import csv_rows
from cafe_etl.generate import generate
from cafe_etl.transform.file import Reader, csv_only
from conftest import CONTRACT_TABLES, Etl, Rows

from .rawfiles import HEADER, lines, write

GOOD = (
    "25/08/2021 09:00,Leeds,Ann Example,Regular Latte - 2.15,2.15,CASH,",
    '25/08/2021 09:01,Leeds,Bob Example,"Large Tea - 1.60, Regular Latte - 2.15",3.75,CARD,'
    "4111111111111111",
    '25/08/2021 09:02,Leeds,Cy Example,"Regular Latte - 2.15, Regular Latte - 2.15",4.30,CARD,'
    "4222222222222",
)
"""Good rows of variant B/C: cash, card, and a basket holding one item twice."""

EVERY_REJECT = (
    "32/08/2021 09:03,Leeds,Di Example,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 25:61,Leeds,Ed Example,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 09:04, ,Flo Example,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 09:05,Leeds,Gus Example,Regular Latte - 2.15,2.155,CASH,",
    "25/08/2021 09:06,Leeds,Hal Example,Regular Latte - 2.15,two pounds,CASH,",
    "25/08/2021 09:07,Leeds,Ivy Example,Regular Latte,2.15,CASH,",
    "25/08/2021 09:08,Leeds,Jo Example,,2.15,CASH,",
    '25/08/2021 09:09,Leeds,Kit Example,"Regular Mocha - 2.45, Latte - x",4.60,CASH,',
    "25/08/2021 09:10,Leeds,Lu Example,Regular Latte - 2.15,2.15,BITCOIN,",
    "25/08/2021 09:11,Leeds,Mo Example,Regular Latte - 2.15,9.99,CARD,4333333333333333",
    "25/08/2021 09:12,Leeds,Ned Example,Large Flat white - 2.45,2.45,CARD,123",
)
"""One row per reject reason (and a card too short to tokenise), between good rows."""

CASES: dict[str, tuple[str | bytes, bool]] = {
    "variant C, LF": (lines(*GOOD), True),
    "variant B totals, CRLF": (lines(*GOOD, end="\r\n"), True),
    "lone CR line ends": (lines(*GOOD, end="\r"), True),
    "no line end after the last row": (lines(*GOOD).rstrip("\n"), True),
    "every reject reason": (lines(GOOD[0], *EVERY_REJECT, *GOOD[1:]), True),
    "card numbers with spaces": (
        lines(
            *GOOD,
            "25/08/2021 09:30,Leeds,Ann,Regular Latte - 2.15,2.15,CARD, 4111111111111111 ",
            "25/08/2021 09:31,Leeds,Bob,Regular Latte - 2.15,2.15,CARD,4111 1111 1111 1111",
        ),
        True,
    ),
    "header": (lines(HEADER, *GOOD), True),
    "header with a BOM": ("\ufeff" + lines(HEADER, *GOOD), True),
    "header naming columns in another order": (
        lines(
            "Timestamp,Location,Customer Name,Payment Method,Total Amount,Card Number,Items",
            "25/08/2021 09:00,Leeds,Ann Example,CASH,2.15,,Regular Latte - 2.15",
            "25/08/2021 09:01,Leeds,Bob Example,CARD,1.60,4111111111111111,Large Tea - 1.60",
        ),
        True,
    ),
    "a blank line between rows": (lines(GOOD[0], "", *GOOD[1:]), False),
    "a blank line at the end": (lines(*GOOD, ""), False),
    "lines holding spaces at the end (variant B)": (lines(*GOOD, " ", "  "), True),
    "a line holding one space between rows": (lines(GOOD[0], " ", *GOOD[1:]), False),
    "a basket over two lines": (
        lines(
            GOOD[0],
            '25/08/2021 09:20,Leeds,Pat,"Regular Latte - 2.15,\nLarge Tea - 1.60",3.75,CASH,',
        ),
        False,
    ),
    "a row of six fields": (
        lines(GOOD[0], "25/08/2021 09:20,Leeds,Pat,Latte - 2.15,2.15,CASH"),
        False,
    ),
    "a row of eight fields": (
        lines(*GOOD, "25/08/2021 09:20,Leeds,Pat,Latte - 2.15,2.15,CASH,,"),
        False,
    ),
    "variant A flat baskets": (
        lines(
            "2021-02-23 09:00:00,Isle of Wight,Ann,Large,Hot chocolate,1.70,CASH,1.70,None",
            '2021-02-23 09:01:00,Isle of Wight,Bob,"Regular,Latte,2.15",CARD,2.15,'
            '"visa16,4111111111111111"',
            end="\r\n",
        ),
        False,
    ),
    "a header with ISO times and flat baskets (variant A)": (
        lines(HEADER, '2021-02-23 09:00:00,Isle of Wight,Ann,"Large,Latte,2.45",CASH,2.45,None'),
        True,
    ),
    "a BOM without a header": ("\ufeff" + lines(*GOOD), True),
    "every field quoted, and odd quoting in a name": (
        lines(
            '"25/08/2021 09:00","Leeds","Ann","Regular Latte - 2.15","2.15","CASH",""',
            '25/08/2021 09:01,Leeds,"Bob"by,Regular Latte - 2.15,2.15,"CARD","4111111111111111"',
        ),
        True,
    ),
    "names beyond ASCII": (
        lines(
            "25/08/2021 09:00,Llanfair \u2013 Gwynedd,Zoë,Crème brûlée - 2.50,2.50,CASH,",
            "25/08/2021 09:01,Llanfair \u2013 Gwynedd,Siân,Regular Café au lait - 2.15,2.15,CASH,",
        ),
        True,
    ),
    "spaces on the last line, no line end": (lines(*GOOD) + "  ", True),
    "a name longer than the csv module's default field limit": (
        lines(GOOD[0], "25/08/2021 09:01,Leeds," + "N" * 140_000 + ",Latte - 2.15,2.15,CASH,"),
        True,
    ),
    "first row without a date": (lines(",Leeds,Ann,Regular Latte - 2.15,2.15,CASH,", *GOOD), True),
    "a header only": (lines(HEADER), True),
    "a header of other columns": (lines("Timestamp,A,B,C,D,E,F", *GOOD), True),
    "an empty file": ("", True),
}


def small_pieces(stream: BinaryIO, chunk_rows: int) -> Iterator[pa.Table]:
    """Arrow's reader in pieces of 4 KiB: line numbers must run on across them."""
    return arrow_rows(stream, chunk_rows=chunk_rows, piece_bytes=4096)


def load(landing: Path, url: str, reader: Reader | None = None, **settings: Any) -> None:
    Etl(url).run(landing, seams={"reader": reader} if reader else None, **settings)


def arrow_reads_whole(content: str | bytes) -> bool:
    """Whether Arrow's reader reads a file without handing any of it to the csv module."""
    raw = content.encode() if isinstance(content, str) else content
    handed: list[int] = []

    def fallback(text: Any, **options: Any) -> Iterator[pa.Table]:
        handed.append(options["first_line"])
        return csv_rows(text, **options)

    with contextlib.suppress(csv.Error):  # the csv module refuses the file: not_csv
        list(arrow_rows(io.BytesIO(raw), fallback=fallback))
    return not handed


def contract(url: str) -> dict[str, Rows]:
    snapshot = Etl(url).snapshot(loaded_at=False)
    return {table: rows for table, rows in snapshot.items() if table in CONTRACT_TABLES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_loads_the_same_rows_whichever_reader_takes_it(
    case: str, landing: Path, tmp_path: Path
) -> None:
    content, arrow_takes_it = CASES[case]
    write(landing, "leeds_25-08-2021_09-00-00.csv", content)
    fast, rows_only = f"duckdb:///{tmp_path}/fast.duckdb", f"duckdb:///{tmp_path}/rows.duckdb"

    load(landing, fast)
    load(landing, rows_only, csv_only)

    assert arrow_reads_whole(content) == arrow_takes_it
    assert contract(fast) == contract(rows_only)
    assert len(contract(fast)["loaded_files"]) == 1


def test_every_reject_reason_keeps_its_line_and_reason_on_the_fast_path(
    landing: Path, tmp_path: Path
) -> None:
    content = lines(HEADER, GOOD[0], *EVERY_REJECT, *GOOD[1:])
    write(landing, "leeds.csv", content)
    url = f"duckdb:///{tmp_path}/fast.duckdb"

    load(landing, url)

    assert arrow_reads_whole(content)
    rejected = Etl(url).query("SELECT line_number, reason FROM rejected_rows ORDER BY line_number")
    assert rejected == [
        (3, "bad_timestamp"), (4, "bad_timestamp"), (5, "bad_branch"), (6, "bad_amount"),
        (7, "bad_amount"), (8, "bad_basket"), (9, "bad_basket"), (10, "bad_amount"),
        (11, "bad_payment"), (12, "total_mismatch"),
    ]  # fmt: skip
    loaded = Etl(url).query("SELECT COUNT(*), SUM(total_amount) FROM transactions")
    assert loaded == [(4, Decimal("12.65"))]  # the three good rows and the too-short card


@pytest.mark.parametrize("late_blank_line", [False, True])
def test_a_file_read_in_many_arrow_pieces_loads_the_same_rows(
    late_blank_line: bool, landing: Path, tmp_path: Path
) -> None:
    """Pieces of a few rows: line numbers and variant run on across pieces, and a blank line
    late in a file hands the rest of it to the csv module with the line numbers running on,
    leaving the rows of another file of the same transaction alone."""
    day = generate(landing, branches=2, days=1, start=date(2024, 5, 6), seed=3, variant="B").files
    for path in day:  # variant B ends with a line holding one space; add a late blank line
        body = path.read_text()
        cut = body.rfind("\n", 0, len(body) - 200)
        path.write_text(body[:cut] + ("\n" if late_blank_line else "") + body[cut:])
    write(landing, "zz_leeds.csv", lines(*GOOD))
    fast, rows_only = f"duckdb:///{tmp_path}/fast.duckdb", f"duckdb:///{tmp_path}/rows.duckdb"

    load(landing, fast, small_pieces, chunk_rows=50)
    load(landing, rows_only, csv_only, chunk_rows=50)

    assert [arrow_reads_whole(path.read_bytes()) for path in day] == [not late_blank_line] * 2
    assert contract(fast) == contract(rows_only)
    variants = Etl(fast).query("SELECT variant, COUNT(*) FROM loaded_files GROUP BY variant")
    assert variants == [("B", 3)]


@pytest.mark.parametrize(("odd_row", "variant"), [(900, "C"), (1_100, "B")])
def test_the_variant_is_judged_on_the_first_thousand_rows_on_both_paths(
    odd_row: int, variant: str, landing: Path, tmp_path: Path
) -> None:
    """Totals printed with two decimals make variant B; one ``2.150`` among the first
    1,000 rows makes it C, after them it does not, however the file is cut into batches."""
    rows = [
        f"25/08/2021 {8 + n // 60:02d}:{n % 60:02d},Leeds,Ann,Regular Latte - 2.15,"
        f"{'2.150' if n == odd_row else '2.15'},CASH,"
        for n in range(1_200)
    ]
    write(landing, "leeds.csv", lines(*rows))
    found = []
    for name, reader in (("fast", small_pieces), ("rows", csv_only)):
        url = f"duckdb:///{tmp_path}/{name}.duckdb"
        load(landing, url, reader, chunk_rows=50)
        found.append(Etl(url).scalar("SELECT variant FROM loaded_files"))

    assert found == [variant, variant]


def test_an_unexpected_error_while_reading_fails_the_run_and_loads_nothing(
    landing: Path, tmp_path: Path
) -> None:
    """Only what makes a file unreadable (bytes not UTF-8, text the csv module refuses)
    rejects it: any other fault fails the run, so no file is wrongly recorded as bad and no
    half-read group is committed."""
    generate(landing, branches=2, days=2, start=date(2024, 5, 6), seed=5)
    etl = Etl(f"duckdb:///{tmp_path}/fast.duckdb")
    read: list[int] = []

    def breaks_from_the_third_file(stream: BinaryIO, chunk_rows: int) -> Iterator[pa.Table]:
        read.append(1)
        if len(read) >= 3:
            raise pa.ArrowInvalid("a fault in the reader")
        return small_pieces(stream, chunk_rows)

    with pytest.raises(pa.ArrowInvalid):
        etl.run(landing, chunk_rows=50, seams={"reader": breaks_from_the_third_file})

    assert etl.scalar("SELECT COUNT(*) FROM loaded_files") == 0
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 0
    assert etl.run(landing).files("loaded") == 4
