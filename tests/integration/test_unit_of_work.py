"""The unit of work on a real warehouse: it rolls back unless told to commit, and a file
rejected whole after some of its batches leaves nothing behind, not even a branch or a
product it named."""

import io
from pathlib import Path

from cafe_etl.load.unit_of_work import UnitOfWork
from cafe_etl.model import FileBatch, FileSummary, Reason
from cafe_etl.transform.file import transform_file
from cafe_etl.transform.redact import Tokeniser
from cafe_etl.warehouse import connect
from conftest import Etl

ROW = "25/08/2021 09:00,Secretbranch,Ann Other,Regular Uniqueproduct - 2.15,2.15,CASH,\n"


def batches_then_rejected(file_id: int) -> list[FileBatch]:
    """A file's first batches, then the last batch of a file rejected whole (as when bytes
    that are not UTF-8 turn up late in a stream nothing hashed first)."""
    early = list(transform_file(io.BytesIO((ROW * 50).encode()), file_id, Tokeniser(None),
                                batch_rows=10))  # fmt: skip
    early = [FileBatch(**{**vars(b), "last": False}) for b in early]
    rejected = FileSummary(reason=Reason.NOT_UTF8)
    empty = early[-1]
    last = FileBatch(file_id, empty.transactions.slice(0, 0), empty.basket_items.slice(0, 0),
                     empty.rejected_rows.slice(0, 0), {}, {}, rejected, True)  # fmt: skip
    return [*early, last]


def test_a_file_rejected_whole_after_its_first_batches_leaves_no_row_branch_or_product(
    etl: Etl, tmp_path: Path
) -> None:
    warehouse = connect(etl.url)
    try:
        warehouse.migrate()
        with UnitOfWork(warehouse, buffer_rows=10) as work:  # early batches are written
            for batch in batches_then_rejected(7):
                work.add(batch)
            work.commit()
    finally:
        warehouse.close()

    for table in ("transactions", "basket_items", "branches", "products"):
        assert etl.scalar(f"SELECT COUNT(*) FROM {table}") == 0, table


def test_a_unit_of_work_left_without_commit_rolls_everything_back(etl: Etl) -> None:
    warehouse = connect(etl.url)
    try:
        warehouse.migrate()
        with UnitOfWork(warehouse, buffer_rows=10) as work:
            for batch in transform_file(io.BytesIO(ROW.encode() * 30), 8, Tokeniser(None)):
                work.add(batch)
            work.flush()  # written inside the transaction, never committed
    finally:
        warehouse.close()

    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 0
    assert etl.scalar("SELECT COUNT(*) FROM branches") == 0
