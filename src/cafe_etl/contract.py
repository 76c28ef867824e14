"""The warehouse contract as Arrow schemas: the shape of every batch, on every engine."""

from collections.abc import Mapping

import pyarrow as pa

from cafe_etl.model import Item
from cafe_etl.regions import region_of

MONEY = pa.decimal128(10, 2)

BRANCHES = pa.schema(
    [("branch_id", pa.int64()), ("branch_name", pa.string()), ("region", pa.string())]
)
PRODUCTS = pa.schema(
    [
        ("product_id", pa.int64()),
        ("product_name", pa.string()),
        ("size", pa.string()),
        ("flavour", pa.string()),
    ]
)
TRANSACTIONS = pa.schema(
    [
        ("transaction_id", pa.int64()),
        ("branch_id", pa.int64()),
        ("occurred_at", pa.timestamp("s")),
        ("business_date", pa.date32()),
        ("payment_method", pa.string()),
        ("total_amount", MONEY),
        ("customer_token", pa.string()),
        ("file_id", pa.int64()),
    ]
)
BASKET_ITEMS = pa.schema(
    [
        ("transaction_id", pa.int64()),
        ("product_id", pa.int64()),
        ("unit_price", MONEY),
        ("quantity", pa.int32()),
    ]
)
REJECTED_ROWS = pa.schema(
    [
        ("file_id", pa.int64()),
        ("line_number", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)
LOADED_FILES = pa.schema(
    [
        ("file_id", pa.int64()),
        ("file_name", pa.string()),
        ("source_uri", pa.string()),
        ("sha256", pa.string()),
        ("branch_id", pa.int64()),
        ("business_date", pa.date32()),
        ("variant", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)

FACT_TABLES = {
    "transactions": TRANSACTIONS,
    "basket_items": BASKET_ITEMS,
    "rejected_rows": REJECTED_ROWS,
}


def money(pennies: pa.Array) -> pa.Array:
    """Exact NUMERIC(10,2) from integer pennies (the unscaled value is the penny count)."""
    return pennies.cast(pa.decimal128(19, 0)).view(pa.decimal128(19, 2)).cast(MONEY)


def branch_table(names: Mapping[int, str]) -> pa.Table:
    """``branches`` rows for branch names by key, each with its region (``regions.csv``)."""
    return pa.table(
        [list(names), list(names.values()), [region_of(name) for name in names.values()]],
        schema=BRANCHES,
    )


def product_table(items: Mapping[int, Item]) -> pa.Table:
    """``products`` rows for parsed items by key."""
    values = list(items.values())
    return pa.table(
        [
            list(items),
            [i.name for i in values],
            [i.size for i in values],
            [i.flavour for i in values],
        ],
        schema=PRODUCTS,
    )


PARQUET_OPTIONS: dict[str, object] = {
    "compression": "snappy",
    "version": "1.0",
    "coerce_timestamps": "us",
    "allow_truncated_timestamps": False,
    "use_deprecated_int96_timestamps": False,
}
"""How every Parquet file of the contract's tables is written, for Redshift's COPY above all:
format 1.0 logical types and no INT96, as AWS SDK for pandas writes Parquet for Redshift COPY
(awswrangler/s3/_write_parquet.py); unlike its default of milliseconds, microseconds,
Redshift's TIMESTAMP precision: a nanosecond value fails the write rather than being cut."""
