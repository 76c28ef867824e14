"""Deterministic surrogate keys, identical on every engine and in every run.

Keys are 63-bit integers (positive BIGINT everywhere): blake2b of the natural key for
dimensions and files. A transaction's key is its file's start (a splitmix64 mix of the file
key) plus its line number, modulo 2**63, computed column-wise so a million rows cost
milliseconds. A file's transactions thus hold consecutive keys: PostgreSQL's
``basket_items(transaction_id)`` index takes a file's rows into neighbouring leaf pages (one
or two for a branch-day file) instead of one random page per row, with no sort first.

Two files' keys can only meet if their starts lie closer than the longer file's line count:
for n files of L lines that has probability about n**2 * L / 2**63, some 3e-5 for ten years
of 150 branches' daily files of 1,000 lines (550,000 files), where a key hashed per row
(n*L keys, probability (n*L)**2 / 2**64) would give 1.6e-2. A meeting would be worse, though:
it shares up to L keys rather than one (nothing enforces unique keys, and replacing one of
the files would delete the other's basket items in the shared range), so the expected number
of shared keys is the same for both schemes, (n*L)**2 / 2**64: the gain is in speed and in
the odds of any meeting at all.
"""

from hashlib import blake2b

import pyarrow as pa
import pyarrow.compute as pc

_MASK_63 = (1 << 63) - 1
_SEPARATOR = "\x1f"


def natural_key(*parts: str | None) -> int:
    """A 63-bit key for a tuple of natural-key parts (None and "" are the same part)."""
    text = _SEPARATOR.join(part or "" for part in parts)
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big") & _MASK_63


def branch_key(branch_name: str) -> int:
    return natural_key("branch", branch_name)


def product_key(name: str, size: str | None, flavour: str | None) -> int:
    return natural_key("product", name, size, flavour)


def file_key(file_name: str, sha256: str) -> int:
    return natural_key("file", file_name, sha256)


def _u64(value: int) -> pa.Scalar:
    return pa.scalar(value, pa.uint64())


def row_keys(file_id: int | pa.Array, line_numbers: pa.Array) -> pa.Array:
    """Transaction keys for line numbers of one file, or of each row's own file: the file's
    start (a splitmix64 mix of its key) plus the line number, modulo 2**63."""
    z = _u64(file_id) if isinstance(file_id, int) else file_id.cast(pa.uint64())
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _u64(30))), _u64(0xBF58476D1CE4E5B9))
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _u64(27))), _u64(0x94D049BB133111EB))
    start = pc.bit_wise_xor(z, pc.shift_right(z, _u64(31)))
    z = pc.add(start, line_numbers.cast(pa.uint64()))  # wraps modulo 2**64, masked to 2**63
    return pc.bit_wise_and(z, _u64(_MASK_63)).cast(pa.int64())
