"""Accepted rows into the contract's fact tables (third normal form).

A transaction is keyed by its file and line (two real sales can be identical once the
customer is gone); ``basket_items`` has one row per product and unit price within a
transaction, with its quantity; a card field becomes a customer token only on a CARD sale.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cafe_etl import contract, keys
from cafe_etl.transform.check import Baskets, Verdict
from cafe_etl.transform.redact import Tokeniser, tokens


@dataclass(frozen=True)
class Facts:
    """The fact rows of some checked rows."""

    transactions: pa.Table
    """One per accepted row, in row order."""
    basket_items: pa.Table
    """In transaction order."""
    item_rows: np.ndarray
    """Per basket item: the index of the checked row it came from (ascending)."""


def normalise(verdict: Verdict, tokenise: Tokeniser) -> Facts:
    """``transactions`` and ``basket_items`` of the rows the rules accepted."""
    accepted, rows = verdict.accepted, verdict.rows
    file_ids = rows["file_id"].combine_chunks()
    transaction_ids = keys.row_keys(file_ids, rows["line"].combine_chunks())
    when = verdict.occurred_at.filter(accepted).cast(pa.timestamp("s"))
    methods = verdict.payments.filter(accepted)
    cards = pc.if_else(
        pc.equal(methods, "CARD"),
        rows["card"].combine_chunks().filter(accepted),
        pa.scalar(None, pa.string()),
    )
    transactions = pa.table(
        [
            transaction_ids.filter(accepted),
            verdict.branch_ids.filter(accepted),
            when,
            when.cast(pa.date32()),
            methods,
            contract.money(verdict.totals.filter(accepted)),
            tokens(tokenise, cards),
            file_ids.filter(accepted),
        ],
        schema=contract.TRANSACTIONS,
    )
    basket_items, item_rows = _basket_items(verdict.baskets, accepted, transaction_ids)
    return Facts(transactions, basket_items, item_rows)


def _basket_items(
    baskets: Baskets, accepted: pa.Array, transaction_ids: pa.Array
) -> tuple[pa.Table, np.ndarray]:
    """One row per distinct (product, unit price) of each accepted basket, with its count:
    counting a basket's repeats is counting one integer per item, ``row * kinds + kind``."""
    rows = pc.list_parent_indices(baskets.per_row).cast(pa.int64())
    keep = accepted.take(rows)
    width = pa.scalar(max(baskets.kinds, 1), pa.int64())
    counted = pc.value_counts(
        pc.add(pc.multiply(rows.filter(keep), width), baskets.per_row.values.filter(keep))
    )  # in order of first appearance: by row
    found = counted.field("values")
    row = pc.divide(found, width)  # integer division: both are integers
    kind = pc.subtract(found, pc.multiply(row, width))
    table = pa.table(
        [
            transaction_ids.take(row),
            baskets.product_ids.take(kind),
            contract.money(baskets.prices.take(kind)),
            counted.field("counts").cast(pa.int32()),
        ],
        schema=contract.BASKET_ITEMS,
    )
    return table, row.to_numpy(zero_copy_only=False)
