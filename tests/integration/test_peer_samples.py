"""The six real raw exports in ../shared load completely, correctly and only once."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from cafe_etl.transform.file import Reader, arrow_first, csv_only, transform_file
from cafe_etl.transform.redact import Tokeniser

from .rawfiles import expected

if TYPE_CHECKING:
    from conftest import Etl

# From ../shared/data/peer-samples/SOURCES.md: data rows and format variant of each file.
SAMPLES = {
    "Generation-De-lon-3__team-4-project__london_brixton_07-09-2021_08-00-00.csv": (
        531,
        "C",
        date(2021, 9, 7),
        "London Brixton",
    ),
    "JRoloS__Generation_UK_Group_Project__chesterfield_25-08-2021_09-00-00.csv": (
        268,
        "C",
        date(2021, 8, 25),
        "Chesterfield",
    ),
    "JRoloS__Generation_UK_Group_Project__leeds_01-01-2020_09-00-00.csv": (
        382,
        "C",
        date(2020, 1, 1),
        "Leeds",
    ),
    "Wright18Ted__ETL-GenerationUK-TeamProject-2__leeds_28-03-2025_09-00-00.csv": (
        382,
        "D",
        date(2025, 3, 28),
        "Leeds",
    ),
    "mnofonagoro__generation_etl_pipeline_group_project__2021-02-23-isle-of-wight.csv": (
        540,
        "A",
        date(2021, 2, 23),
        "Isle of Wight",
    ),
    "mnofonagoro__generation_etl_pipeline_group_project__london_brixton_23-03-2021_08-00-00.csv": (
        531,
        "B",
        date(2021, 3, 23),
        "London Brixton",
    ),
}
REGIONS = {
    "Chesterfield": "East Midlands",
    "Leeds": "Yorkshire and The Humber",
    "London Brixton": "London",
    "Isle of Wight": "South East",
}


def test_every_peer_sample_row_loads_with_no_rejects(etl: Etl, peer_samples: Path) -> None:
    summary = etl.run(peer_samples)

    assert sorted(o.name for o in summary.outcomes) == sorted(SAMPLES)
    assert {o.status for o in summary.outcomes} == {"loaded"}
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (2634, 2634, 0)
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2634
    assert etl.scalar("SELECT COUNT(*) FROM rejected_rows") == 0


def test_the_ledger_describes_each_peer_sample(etl: Etl, peer_samples: Path) -> None:
    etl.run(peer_samples)

    ledger = etl.query(
        "SELECT f.file_name, f.rows_read, f.rows_loaded, f.rows_rejected, f.variant,"
        " f.business_date, b.branch_name, f.status, f.reason"
        " FROM loaded_files f JOIN branches b ON b.branch_id = f.branch_id"
    )
    assert {row[0]: row[1:] for row in ledger} == {
        name: (rows, rows, 0, variant, day, branch, "loaded", None)
        for name, (rows, variant, day, branch) in SAMPLES.items()
    }


def test_peer_sample_revenue_equals_the_sum_of_their_totals(etl: Etl, peer_samples: Path) -> None:
    etl.run(peer_samples)

    raw = expected(*(peer_samples / name for name in SAMPLES))
    assert raw.transactions == 2634
    assert etl.scalar("SELECT SUM(total_amount) FROM transactions") == raw.revenue


def test_every_peer_sample_basket_adds_up_to_its_total(etl: Etl, peer_samples: Path) -> None:
    etl.run(peer_samples)

    mismatched = etl.query(
        "SELECT t.transaction_id, t.total_amount, SUM(i.unit_price * i.quantity)"
        " FROM transactions t LEFT JOIN basket_items i USING (transaction_id)"
        " GROUP BY t.transaction_id, t.total_amount"
        " HAVING SUM(i.unit_price * i.quantity) IS NULL"
        " OR SUM(i.unit_price * i.quantity) <> t.total_amount"
    )
    assert mismatched == []
    assert etl.scalar("SELECT COUNT(DISTINCT transaction_id) FROM basket_items") == 2634
    assert etl.scalar("SELECT MIN(quantity) FROM basket_items") >= 1


def test_peer_sample_branches_carry_their_regions(etl: Etl, peer_samples: Path) -> None:
    etl.run(peer_samples)

    assert dict(etl.query("SELECT branch_name, region FROM branches")) == REGIONS


def test_peer_sample_products_keep_case_sensitive_names(etl: Etl, peer_samples: Path) -> None:
    etl.run(peer_samples)

    prices = etl.query(
        "SELECT p.product_name, p.size, MIN(i.unit_price), MAX(i.unit_price)"
        " FROM products p JOIN basket_items i USING (product_id)"
        " WHERE LOWER(p.product_name) = 'hot chocolate' GROUP BY 1, 2"
    )
    by_name = {(name, size): (low, high) for name, size, low, high in prices}
    assert by_name[("Hot Chocolate", "Regular")] == (Decimal("1.40"), Decimal("1.40"))
    assert by_name[("Hot chocolate", "Regular")] == (Decimal("2.20"), Decimal("2.20"))


def test_a_second_run_of_the_peer_samples_changes_nothing(etl: Etl, peer_samples: Path) -> None:
    etl.run(peer_samples)
    before = etl.snapshot()

    again = etl.run(peer_samples)

    assert [o.status for o in again.outcomes] == ["unchanged"] * len(SAMPLES)
    assert (again.rows_read, again.rows_loaded) == (0, 0)
    assert etl.snapshot() == before


@pytest.mark.parametrize("reader", [arrow_first, csv_only], ids=["arrow first", "csv only"])
def test_the_transform_alone_reads_every_peer_sample_with_no_warehouse(
    peer_samples: Path, reader: Reader
) -> None:
    # GIVEN each real export, WHEN the pure transform reads it (no warehouse, no ledger)
    for name, (rows, variant, day, branch) in SAMPLES.items():
        path = peer_samples / name
        with path.open("rb") as raw:
            batches = list(transform_file(raw, 1, Tokeniser(b"k"), reader=reader))

        # THEN its summary, rows and sums are those of the file, and no name or card is in them
        summary, raw_file = batches[-1].summary, expected(path)
        assert batches[-1].last and summary.reason is None, name
        assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (rows, rows, 0)
        assert (summary.variant, summary.business_date) == (variant, day), name
        names = {n for batch in batches for n in batch.branch_names.values()}
        assert names == {branch}
        transactions = pa.concat_tables(batch.transactions for batch in batches)
        assert transactions.num_rows == raw_file.transactions
        assert sum(transactions["total_amount"].to_pylist()) == raw_file.revenue
        text = str(
            [batch.transactions.to_pylist() + batch.products.to_pylist() for batch in batches]
        )
        assert not any(secret in text for secret in raw_file.names | raw_file.cards)


def test_the_transform_imports_no_warehouse_driver_and_no_loading_code(peer_samples: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from cafe_etl.transform.file import transform_file\n"
        "from cafe_etl.transform.redact import Tokeniser\n"
        f"for path in Path({str(peer_samples)!r}).glob('*.csv'):\n"
        "    with path.open('rb') as raw:\n"
        "        list(transform_file(raw, 1, Tokeniser(b'k')))\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('duckdb', 'psycopg', 'boto3',"
        " 'redshift_connector') or m.startswith(('cafe_etl.warehouse', 'cafe_etl.load',"
        " 'cafe_etl.service'))]\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
