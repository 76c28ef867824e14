"""Deterministic 63-bit surrogate keys: same input, same key, in every run and on every engine."""

import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cafe_etl import keys

MAX_63 = 2**63


def test_natural_keys_are_the_same_in_another_process_with_another_hash_seed() -> None:
    # GIVEN keys computed here
    here = [
        keys.branch_key("Leeds"),
        keys.product_key("Latte", "Large", None),
        keys.file_key("leeds_28-03-2025_09-00-00.csv", "ab" * 32),
        keys.row_keys(12345, pa.array([1, 2, 3])).to_pylist(),
    ]

    # WHEN a fresh interpreter with a different str hash seed computes them again
    script = (
        "import pyarrow as pa; from cafe_etl import keys; print(["
        "keys.branch_key('Leeds'), keys.product_key('Latte', 'Large', None),"
        "keys.file_key('leeds_28-03-2025_09-00-00.csv', 'ab' * 32),"
        "keys.row_keys(12345, pa.array([1, 2, 3])).to_pylist()])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout

    # THEN they are identical
    assert out.strip() == repr(here)


@pytest.mark.parametrize(
    "key",
    [
        keys.branch_key("Chesterfield"),
        keys.branch_key(""),
        keys.product_key("Hot chocolate", "Large", None),
        keys.product_key("Glass of milk", None, None),
        keys.file_key("a.csv", "0" * 64),
    ],
)
def test_a_natural_key_is_a_non_negative_63_bit_int(key: int) -> None:
    assert isinstance(key, int)
    assert 0 <= key < MAX_63


def test_many_natural_keys_are_63_bit_and_distinct() -> None:
    names = [f"branch {i}" for i in range(20_000)]

    found = [keys.branch_key(name) for name in names]

    assert all(0 <= key < MAX_63 for key in found)
    assert len(set(found)) == len(names)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(("Hot Chocolate", "Large", None), ("Hot chocolate", "Large", None), id="case"),
        pytest.param(("Latte", "Regular", None), ("Latte", "Large", None), id="size"),
        pytest.param(("Latte", "Regular", None), ("Latte", None, None), id="size_or_none"),
        pytest.param(("Frappes", "Regular", "Coffee"), ("Frappes", "Regular", None), id="flavour"),
        pytest.param(
            ("Frappes", "Regular", "Coffee"), ("Frappes", "Regular", "Mocha"), id="flavours"
        ),
        pytest.param(("Tea", None, "Large"), ("Tea", "Large", None), id="size_vs_flavour_slot"),
        pytest.param(("Latte ", None, None), ("Latte", None, None), id="trailing_space"),
    ],
)
def test_distinct_products_get_distinct_keys(
    one: tuple[str, str | None, str | None], other: tuple[str, str | None, str | None]
) -> None:
    assert keys.product_key(*one) != keys.product_key(*other)


def test_the_same_product_always_gets_the_same_key() -> None:
    assert keys.product_key("Latte", "Large", None) == keys.product_key("Latte", "Large", None)


def test_distinct_branches_get_distinct_keys() -> None:
    assert keys.branch_key("London Brixton") != keys.branch_key("London brixton")
    assert keys.branch_key("Leeds") != keys.branch_key("Leeds ")


def test_a_file_key_depends_on_both_name_and_checksum() -> None:
    sha_a, sha_b = "a" * 64, "b" * 64

    assert keys.file_key("leeds.csv", sha_a) == keys.file_key("leeds.csv", sha_a)
    assert keys.file_key("leeds.csv", sha_a) != keys.file_key("leeds.csv", sha_b)
    assert keys.file_key("leeds.csv", sha_a) != keys.file_key("york.csv", sha_a)


def test_a_branch_and_a_product_with_the_same_name_get_different_keys() -> None:
    assert keys.branch_key("Latte") != keys.product_key("Latte", None, None)


MASK_64 = 2**64 - 1


def _splitmix64(value: int) -> int:
    """The reference mix (the SplitMix64 finaliser), written out one int at a time."""
    z = value
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK_64
    return z ^ (z >> 31)


def _file_id_starting_at(start: int) -> int:
    """The 64-bit value whose splitmix64 mix is ``start`` (the mix undone step by step)."""

    def undo_shift_xor(value: int, shift: int) -> int:
        result = value
        for _ in range(64 // shift):
            result = value ^ (result >> shift)
        return result

    z = undo_shift_xor(start, 31)
    z = z * pow(0x94D049BB133111EB, -1, 2**64) & MASK_64
    z = undo_shift_xor(z, 27)
    z = z * pow(0xBF58476D1CE4E5B9, -1, 2**64) & MASK_64
    return undo_shift_xor(z, 30)


def _both_ways(file_id: int, lines: list[int]) -> tuple[list[int], list[int]]:
    """Keys of one file's lines from its key as an int, and as a column (the columnar path)."""
    line_array = pa.array(lines, pa.int64())
    one = keys.row_keys(file_id, line_array).to_pylist()
    column = keys.row_keys(pa.array([file_id] * len(lines), pa.int64()), line_array).to_pylist()
    return one, column


def test_row_keys_are_the_file_key_mixed_plus_the_line_number_modulo_2_to_the_63() -> None:
    file_ids = [keys.file_key(f"branch_{i}_28-03-2025_09-00-00.csv", "c" * 64) for i in range(50)]
    lines = [1, 2, 3, 333, 1_000_000]

    for file_id in file_ids:
        reference = [(_splitmix64(file_id) + line) % MAX_63 for line in lines]
        assert _both_ways(file_id, lines) == (reference, reference)


def test_row_keys_are_deterministic_and_follow_the_line_order() -> None:
    file_id = keys.file_key("chesterfield_25-08-2021_09-00-00.csv", "e" * 64)

    forward = keys.row_keys(file_id, pa.array([1, 2, 3], pa.int64())).to_pylist()
    backward = keys.row_keys(file_id, pa.array([3, 2, 1], pa.int64())).to_pylist()

    assert forward == keys.row_keys(file_id, pa.array([1, 2, 3], pa.int64())).to_pylist()
    assert backward == forward[::-1]


def test_a_files_transactions_hold_consecutive_keys_a_line_apart() -> None:
    file_id = keys.file_key("leeds_28-03-2025_09-00-00.csv", "f" * 64)

    ids = keys.row_keys(file_id, pa.array([2, 3, 4, 10], pa.int64())).to_pylist()

    start = ids[0] - 2
    assert ids == [start + 2, start + 3, start + 4, start + 10]


def test_a_file_starting_just_below_2_to_the_63_wraps_round_to_zero() -> None:
    file_id = _file_id_starting_at(MAX_63 - 3)
    assert 0 <= file_id < MAX_63  # a key file_key could give

    one, column = _both_ways(file_id, [1, 2, 3, 4])

    assert one == column == [MAX_63 - 2, MAX_63 - 1, 0, 1]


@pytest.mark.parametrize(("gap", "shared"), [(1_000, 0), (999, 1), (1, 999)])
def test_two_files_share_keys_only_if_their_starts_lie_closer_than_their_lines(
    gap: int, shared: int
) -> None:
    start = 2**62
    lines = pa.array(range(1, 1_001), pa.int64())
    first = keys.row_keys(_file_id_starting_at(start), lines)
    second = keys.row_keys(_file_id_starting_at(start + gap), lines)

    both = pa.concat_arrays([first, second])

    assert 2_000 - pc.count_distinct(both).as_py() == shared


def test_row_keys_of_the_largest_file_id_stay_non_negative() -> None:
    ids = keys.row_keys(MAX_63 - 1, pa.array([1, 2, 3, 1_000_000], pa.int64()))

    assert all(0 <= key < MAX_63 for key in ids.to_pylist())
    assert len(set(ids.to_pylist())) == 4


def test_row_keys_of_no_lines_are_empty() -> None:
    assert len(keys.row_keys(1, pa.array([], pa.int64()))) == 0
