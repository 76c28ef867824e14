"""Property: however a valid export is damaged (quotes, delimiters, line breaks, truncation,
stray bytes), every line is accounted for. A file is rejected whole only as ``not_utf8`` or
``not_csv`` and then counts no rows; otherwise rows read = loaded + rejected, and every line
that starts like a sale is a loaded transaction's line or a rejected row's, with both
parsers giving the same tables."""

import io
import random
import re
from datetime import date

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cafe_etl import keys
from cafe_etl.extract.layout import looks_dated
from cafe_etl.generate.writer import write_branch_day
from cafe_etl.model import FileBatch
from cafe_etl.transform.file import Reader, arrow_first, csv_only, transform_file
from cafe_etl.transform.redact import Tokeniser

FILE_ID = 99
BITS = [b'"', b",", b"\n", b"\r\n", b"\r", b"", b"\x00", b" ", b"\xff", b"9", b".", b"\n\n"]


def export(variant: str, seed: int) -> bytes:
    raw = io.BytesIO()
    write_branch_day(raw, branch="Leeds", day=date(2024, 5, 6), transactions=25,
                     rng=random.Random(seed), variant=variant)  # fmt: skip
    return raw.getvalue()


damage = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1),
        st.sampled_from(["insert", "delete", "replace", "truncate", "open a quote"]),
        st.sampled_from(BITS),
        st.integers(min_value=1, max_value=30),
    ),
    min_size=1,
    max_size=6,
)


def damaged(data: bytes, edits: list[tuple[float, str, bytes, int]]) -> bytes:
    out = bytearray(data)
    for where, kind, bit, length in edits:
        at = int(where * len(out))
        if kind == "insert":
            out[at:at] = bit
        elif kind == "delete":
            del out[at : at + length]
        elif kind == "replace":
            out[at : at + 1] = bit
        elif kind == "open a quote":  # at the start of a field: it may run over lines
            comma = out.find(b",", at)
            out[comma + 1 : comma + 1] = b'"' if comma >= 0 else b""
        else:
            del out[at:]
    return bytes(out)


def transformed(raw: bytes, reader: Reader) -> list[FileBatch]:
    return list(transform_file(io.BytesIO(raw), FILE_ID, Tokeniser(b"k"), reader=reader))


def loaded_lines(batches: list[FileBatch]) -> set[int]:
    """Each loaded transaction's line, from its key (the file's start plus the line)."""
    start = keys.row_keys(FILE_ID, pa.array([0], pa.int64()))[0].as_py()
    ids = [i for batch in batches for i in batch.transactions["transaction_id"].to_pylist()]
    return {(i - start) % (1 << 63) for i in ids}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from("ABCD"), st.integers(0, 3), damage)
def test_every_line_of_a_damaged_file_is_accounted_for(
    variant: str, seed: int, edits: list[tuple[float, str, bytes, int]]
) -> None:
    raw = damaged(export(variant, seed), edits)
    results = {reader: transformed(raw, reader) for reader in (arrow_first, csv_only)}

    for batches in results.values():
        summary = batches[-1].summary
        rejected = {line for b in batches for line in b.rejected_rows["line_number"].to_pylist()}
        if summary.reason is not None:
            assert summary.reason in ("not_utf8", "not_csv")
            assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (0, 0, 0)
            continue
        loaded = loaded_lines(batches)
        assert summary.rows_loaded == len(loaded)
        assert summary.rows_rejected == sum(b.rejected_rows.num_rows for b in batches)
        assert summary.rows_read == summary.rows_loaded + summary.rows_rejected
        text = raw.decode("utf-8-sig")
        for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
            if looks_dated(line):
                assert number in loaded | rejected, (number, line)
    tables = [
        [pa.concat_tables(getattr(b, name) for b in batches).to_pylist() for name in
         ("transactions", "basket_items", "rejected_rows")]
        for batches in results.values()
    ]  # fmt: skip
    assert tables[0] == tables[1]
