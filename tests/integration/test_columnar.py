"""Arrow's columnar reader (the fast path) loads exactly what the row reader loads.

Each raw file is loaded into two fresh warehouses: once as a run loads it (a file Arrow reads
as the row reader would goes through ``ColumnarBatch``), once with the columnar reader turned
away, so every file goes through ``FileTransform``. Every contract table must be identical.
Each case also says which reader takes it, so a case meant for one path cannot quietly pass
through the other.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cafe_etl.generate import generate
from cafe_etl.transform import columnar
from cafe_etl.transform.columnar import ColumnarBatch
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
        False,
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
    "a field longer than the row reader's limit": (
        lines(GOOD[0], "25/08/2021 09:01,Leeds," + "N" * 140_000 + ",Latte - 2.15,2.15,CASH,"),
        False,
    ),
    "first row without a date": (lines(",Leeds,Ann,Regular Latte - 2.15,2.15,CASH,", *GOOD), False),
    "a header only": (lines(HEADER), False),
    "a header of other columns": (lines("Timestamp,A,B,C,D,E,F", *GOOD), False),
    "an empty file": ("", False),
}


def load(
    landing: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    columnar_reader: bool,
    **settings: Any,
) -> list[bool]:
    """Run the pipeline over ``landing``; what the columnar reader answered for each file."""
    answers: list[bool] = []
    read = ColumnarBatch.read

    def answering(self: ColumnarBatch, *args: Any) -> bool:
        answers.append(read(self, *args) if columnar_reader else False)
        return answers[-1]

    with monkeypatch.context() as patched:
        patched.setattr(ColumnarBatch, "read", answering)
        Etl(url).run(landing, **settings)
    return answers


def contract(url: str) -> dict[str, Rows]:
    snapshot = Etl(url).snapshot(loaded_at=False)
    return {table: rows for table, rows in snapshot.items() if table in CONTRACT_TABLES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_loads_the_same_rows_whichever_reader_takes_it(
    case: str, landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, columnar_takes_it = CASES[case]
    write(landing, "leeds_25-08-2021_09-00-00.csv", content)
    fast, rows_only = f"duckdb:///{tmp_path}/fast.duckdb", f"duckdb:///{tmp_path}/rows.duckdb"

    answers = load(landing, fast, monkeypatch, columnar_reader=True)
    load(landing, rows_only, monkeypatch, columnar_reader=False)

    assert answers == [columnar_takes_it]
    assert contract(fast) == contract(rows_only)
    assert len(contract(fast)["loaded_files"]) == 1


def test_every_reject_reason_keeps_its_line_and_reason_on_the_columnar_path(
    landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(landing, "leeds.csv", lines(HEADER, GOOD[0], *EVERY_REJECT, *GOOD[1:]))
    url = f"duckdb:///{tmp_path}/fast.duckdb"

    assert load(landing, url, monkeypatch, columnar_reader=True) == [True]

    rejected = Etl(url).query("SELECT line_number, reason FROM rejected_rows ORDER BY line_number")
    assert rejected == [
        (3, "bad_timestamp"), (4, "bad_timestamp"), (5, "bad_branch"), (6, "bad_amount"),
        (7, "bad_amount"), (8, "bad_basket"), (9, "bad_basket"), (10, "bad_amount"),
        (11, "bad_payment"), (12, "total_mismatch"),
    ]  # fmt: skip
    loaded = Etl(url).query("SELECT COUNT(*), SUM(total_amount) FROM transactions")
    assert loaded == [(4, Decimal("12.65"))]  # the three good rows and the too-short card


@pytest.mark.parametrize("late_blank_line", [False, True])
def test_a_file_read_in_many_arrow_batches_loads_the_same_rows(
    late_blank_line: bool, landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of a few rows: line numbers and variant run on across batches, and a blank
    line found after rows were already sent takes them back out before the row reader,
    leaving the rows of another file of the same transaction alone."""
    day = generate(landing, branches=2, days=1, start=date(2024, 5, 6), seed=3, variant="B").files
    for path in day:  # variant B ends with a line holding one space; add a late blank line
        body = path.read_text()
        cut = body.rfind("\n", 0, len(body) - 200)
        path.write_text(body[:cut] + ("\n" if late_blank_line else "") + body[cut:])
    write(landing, "zz_leeds.csv", lines(*GOOD))
    monkeypatch.setattr(columnar, "_READ", columnar.pcsv.ReadOptions(
        column_names=columnar._RAW, use_threads=False, block_size=4096
    ))  # fmt: skip
    fast, rows_only = f"duckdb:///{tmp_path}/fast.duckdb", f"duckdb:///{tmp_path}/rows.duckdb"

    answers = load(landing, fast, monkeypatch, columnar_reader=True, chunk_rows=50)
    load(landing, rows_only, monkeypatch, columnar_reader=False, chunk_rows=50)

    assert sorted(answers) == sorted([not late_blank_line] * len(day) + [True])
    assert contract(fast) == contract(rows_only)
    variants = Etl(fast).query("SELECT variant, COUNT(*) FROM loaded_files GROUP BY variant")
    assert variants == [("B", 3)]


@pytest.mark.parametrize(("odd_row", "variant"), [(900, "C"), (1_100, "B")])
def test_the_variant_is_judged_on_the_first_thousand_rows_on_both_paths(
    odd_row: int, variant: str, landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Totals printed with two decimals make variant B; one ``2.150`` among the first
    1,000 rows makes it C, after them it does not, however the file is cut into batches."""
    rows = [
        f"25/08/2021 {8 + n // 60:02d}:{n % 60:02d},Leeds,Ann,Regular Latte - 2.15,"
        f"{'2.150' if n == odd_row else '2.15'},CASH,"
        for n in range(1_200)
    ]
    write(landing, "leeds.csv", lines(*rows))
    monkeypatch.setattr(columnar, "_READ", columnar.pcsv.ReadOptions(
        column_names=columnar._RAW, use_threads=False, block_size=4096
    ))  # fmt: skip
    found = []
    for name, fast_path in (("fast", True), ("rows", False)):
        url = f"duckdb:///{tmp_path}/{name}.duckdb"
        assert load(landing, url, monkeypatch, columnar_reader=fast_path, chunk_rows=50) == [
            fast_path
        ]
        found.append(Etl(url).scalar("SELECT variant FROM loaded_files"))

    assert found == [variant, variant]


def test_an_arrow_error_while_turning_rows_into_facts_fails_the_run_and_loads_nothing(
    landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only reading a file can send it to the row reader: a fault in the vectorised checks
    must not pass for a bad file (the files already read would be lost with it)."""
    generate(landing, branches=2, days=2, start=date(2024, 5, 6), seed=5)
    etl = Etl(f"duckdb:///{tmp_path}/fast.duckdb")

    def broken(*args: Any) -> None:
        raise pa.ArrowInvalid("a fault in the vectorised checks")

    monkeypatch.setattr(columnar, "_lookup", broken)
    with pytest.raises(pa.ArrowInvalid):
        etl.run(landing, chunk_rows=50)  # rows are sent while later files are being read
    monkeypatch.undo()

    assert etl.scalar("SELECT COUNT(*) FROM loaded_files") == 0
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 0
    assert etl.run(landing).files("loaded") == 4
