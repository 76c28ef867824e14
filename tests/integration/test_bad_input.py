"""Bad input is data, never lost: rejected with a reason, counted, and the raw file untouched."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cafe_etl.generate import generate

from .rawfiles import HEADER, file_states, lines, write

if TYPE_CHECKING:
    from conftest import Etl

GOOD_NAME = "leeds_25-08-2021_09-00-00.csv"
GOOD = lines(
    "25/08/2021 09:00,Leeds,Bo Peep,Regular Latte - 2.15,2.15,CASH,",
    "25/08/2021 10:00,Leeds,Bo Peep,Large Latte - 2.45,2.45,CASH,",
)  # 2 sales, 4.60

# Variant D with every row-level reason, skipped lines and a record spanning two lines.
MIXED_NAME = "chesterfield_25-08-2021_09-00-00.csv"
MIXED = (
    lines(
        HEADER,  # 1  header: skipped
        "25/08/2021 09:00,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CASH,",  # 2
        "",  # 3  blank: skipped
        "25/08/2021 09:01,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CASH",  # 4
        "31/02/2021 09:02,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CASH,",  # 5
        "25/08/2021 09:03,Chesterfield,Ann Other,Regular Latte - 2.755,2.755,CASH,",  # 6
        "25/08/2021 09:04,Chesterfield,Ann Other,,2.15,CASH,",  # 7
        "25/08/2021 09:05,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CHEQUE,",  # 8
        "25/08/2021 09:06,Chesterfield,Ann Other,Regular Latte - 2.15,2.20,CARD,4929000011112222",
        '25/08/2021 09:07,Chesterfield,"Ann',  # 10 (record continues on line 11)
        'Other",Regular Latte - 2.15,2.15,CASH,',  # 11
        '25/08/2021 09:08,Chesterfield,Ann Other,"Large Latte - 2.45, Large Latte - 2.45,'
        ' Large Latte - 2.45",7.35,CARD,4929000011112222',  # 12
        "   ",  # 13 whitespace only: skipped
        " 25/08/2021 09:09 , Chesterfield , Ann Other , Regular Mocha - 5.20 , 5.200 , CASH , ",
        "25/08/2021 09:10,Chesterfield,Ann Other,Large Mocha - 5,5,CASH,",  # 15
    )
    + " "  # 16 a last line holding one space: skipped
)
MIXED_REJECTS = [
    (4, "field_count"),
    (5, "bad_timestamp"),
    (6, "bad_amount"),
    (7, "bad_basket"),
    (8, "bad_payment"),
    (9, "total_mismatch"),
]
MIXED_LOADED = {  # occurred_at -> total (lines 2, 10, 12, 14, 15)
    datetime(2021, 8, 25, 9, 0): Decimal("2.15"),
    datetime(2021, 8, 25, 9, 7): Decimal("2.15"),
    datetime(2021, 8, 25, 9, 8): Decimal("7.35"),
    datetime(2021, 8, 25, 9, 9): Decimal("5.20"),
    datetime(2021, 8, 25, 9, 10): Decimal("5.00"),
}


@pytest.mark.parametrize(
    "raw",
    [
        "25/08/2021 09:00,Leeds,Zoë Brontë,Regular Latte - 2.15,2.15,CASH,\n".encode("latin-1"),
        "25/08/2021 09:00,Leeds,Bo Peep,Regular Latte - £2.15,2.15,CASH,\n".encode("cp1252"),
        "25/08/2021 09:00,Leeds,Bo Peep,Regular Latte - 2.15,2.15,CASH,\n".encode("utf-16"),
    ],
    ids=["latin-1", "windows-1252", "utf-16"],
)
def test_a_file_that_is_not_utf8_is_rejected_whole_and_the_run_goes_on(
    etl: Etl, landing: Path, raw: bytes
) -> None:
    write(landing, "york_25-08-2021_09-00-00.csv", raw, mtime=1_000)
    write(landing, GOOD_NAME, GOOD, mtime=2_000)

    summary = etl.run(landing)

    assert summary.exit_code == 2
    row = etl.ledger_row("york_25-08-2021_09-00-00.csv")
    assert (row["status"], row["reason"], row["sha256"]) == (
        "rejected",
        "not_utf8",
        hashlib.sha256(raw).hexdigest(),
    )
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (0, 0, 0)
    assert (row["branch_id"], row["business_date"]) == (None, None)
    assert etl.ledger_row(GOOD_NAME)["status"] == "loaded"
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (2, Decimal("4.60"))
    ]
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 0


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([{"time": "25/08/2021 09:00", "branch": "Leeds", "total": 2.15}] * 3, indent=2),
        lines("<!DOCTYPE html>", "<html>", "<body><p>Page not found, sorry.</p></body>", "</html>"),
    ],
    ids=["json", "html"],
)
def test_a_file_that_is_not_csv_is_rejected_whole_as_not_csv(
    etl: Etl, landing: Path, text: str
) -> None:
    write(landing, "york_25-08-2021_09-00-00.csv", text)
    write(landing, GOOD_NAME, GOOD)

    summary = etl.run(landing)

    assert summary.exit_code == 2
    row = etl.ledger_row("york_25-08-2021_09-00-00.csv")
    assert (row["status"], row["reason"]) == ("rejected", "not_csv")
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (0, 0, 0)
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 0
    assert etl.query("SELECT COUNT(*), SUM(total_amount) FROM transactions") == [
        (2, Decimal("4.60"))
    ]


@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["utf-8", "utf-8 with BOM"])
def test_rejected_rows_keep_their_reason_and_physical_line_number(
    etl: Etl, landing: Path, bom: str
) -> None:
    write(landing, MIXED_NAME, bom + MIXED)

    summary = etl.run(landing)

    assert summary.exit_code == 0
    assert etl.query("SELECT line_number, reason FROM rejected_rows ORDER BY 1") == MIXED_REJECTS
    row = etl.ledger_row(MIXED_NAME)
    assert (row["status"], row["variant"], row["business_date"]) == (
        "loaded",
        "D",
        date(2021, 8, 25),
    )
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (11, 5, 6)
    assert dict(etl.query("SELECT occurred_at, total_amount FROM transactions")) == MIXED_LOADED
    assert etl.query("SELECT branch_name FROM branches") == [("Chesterfield",)]


def test_an_item_listed_three_times_is_one_basket_line_of_quantity_three(
    etl: Etl, landing: Path
) -> None:
    write(landing, MIXED_NAME, MIXED)

    etl.run(landing)

    assert etl.query(
        "SELECT p.product_name, p.size, p.flavour, i.unit_price, i.quantity"
        " FROM basket_items i JOIN transactions t USING (transaction_id)"
        " JOIN products p USING (product_id) WHERE t.occurred_at = ?",
        (datetime(2021, 8, 25, 9, 8),),
    ) == [("Latte", "Large", None, Decimal("2.45"), 3)]


def test_an_unknown_branch_and_product_become_new_rows(etl: Etl, landing: Path) -> None:
    write(
        landing,
        "atlantis.csv",
        "25/08/2021 09:00,Atlantis,Bo Peep,Kelp Shake - Sea Salt - 4.10,4.10,CARD,\n",
    )

    etl.run(landing)

    assert etl.query("SELECT branch_name FROM branches") == [("Atlantis",)]
    assert etl.query("SELECT product_name, size, flavour FROM products") == [
        ("Kelp Shake", None, "Sea Salt")
    ]
    assert etl.scalar("SELECT SUM(total_amount) FROM transactions") == Decimal("4.10")


def test_every_file_reads_as_many_rows_as_it_loads_and_rejects(etl: Etl, landing: Path) -> None:
    generate(landing, branches=2, days=2, start=date(2024, 5, 6), seed=5)
    write(landing, MIXED_NAME, MIXED)
    write(landing, "york_25-08-2021_09-00-00.csv", b"\xff\xfe not text")

    etl.run(landing)

    ledger = etl.query(
        "SELECT f.file_name, f.rows_read, f.rows_loaded, f.rows_rejected,"
        " (SELECT COUNT(*) FROM transactions t WHERE t.file_id = f.file_id),"
        " (SELECT COUNT(*) FROM rejected_rows r WHERE r.file_id = f.file_id)"
        " FROM loaded_files f"
    )
    assert len(ledger) == 4 + 2
    for name, read, loaded, rejected, transactions, rejected_rows in ledger:
        assert read == loaded + rejected, name
        assert (transactions, rejected_rows) == (loaded, rejected), name
    assert sum(row[3] for row in ledger) == len(MIXED_REJECTS)


def test_raw_files_are_never_changed(etl: Etl, landing: Path) -> None:
    generate(landing, branches=2, days=1, start=date(2024, 5, 6), seed=5)
    write(landing, MIXED_NAME, MIXED)
    write(landing, "york_25-08-2021_09-00-00.csv", b"\xff\xfe not text")
    write(landing, "sub/leeds_25-08-2021_09-00-00.csv", GOOD)
    before = file_states(landing)

    etl.run(landing)
    etl.run(landing)
    etl.forget(MIXED_NAME)
    etl.reprocess([MIXED_NAME])
    etl.reprocess()

    assert file_states(landing) == before
