"""The one shape both parsers produce: a file's records as columns, before any rule.

Columns: ``line`` (the 1-based physical line on which a record starts, a header line
counted), ``span`` (how many physical lines it covers: more than one where a quoted value
holds line breaks), ``fields`` (how many fields it had) and ``f0`` … ``f6``, its raw fields
in file order (empty where a record had fewer; fields past the seventh are dropped, their
count kept). Blank and whitespace-only lines are not records.
"""

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

FIELD_COUNT = 7
"""Fields in every record of every variant."""
FIELDS = tuple(f"f{i}" for i in range(FIELD_COUNT))
SCHEMA = pa.schema(
    [
        ("line", pa.int64()),
        ("span", pa.int32()),
        ("fields", pa.int32()),
        *((name, pa.string()) for name in FIELDS),
    ]
)


def from_records(
    lines: Sequence[int], records: Sequence[Sequence[str]], spans: Sequence[int] | None = None
) -> pa.Table:
    """The shape for records given as lists of fields (the csv module's, a test's)."""
    padded = [[*record[:FIELD_COUNT], *[""] * (FIELD_COUNT - len(record))] for record in records]
    columns = list(zip(*padded, strict=True)) if padded else [()] * FIELD_COUNT
    return pa.table(
        [
            pa.array(lines, pa.int64()),
            pa.array(spans or [1] * len(records), pa.int32()),
            pa.array([len(record) for record in records], pa.int32()),
            *(pa.array(column, pa.string()) for column in columns),
        ],
        schema=SCHEMA,
    )


def from_fields(first_line: int, table: pa.Table) -> pa.Table:
    """The shape for a table of seven string columns whose records are one line each."""
    count = table.num_rows
    return pa.table(
        [
            pa.array(np.arange(first_line, first_line + count, dtype=np.int64)),
            pa.repeat(pa.scalar(1, pa.int32()), count),
            pa.repeat(pa.scalar(FIELD_COUNT, pa.int32()), count),
            *table.columns,
        ],
        schema=SCHEMA,
    )
