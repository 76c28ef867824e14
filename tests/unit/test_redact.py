"""Redaction: a card field of 12-19 digits becomes HMAC-SHA256(key, digits); anything else null."""

import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cafe_etl.transform.redact import Tokeniser, key_fingerprint
from unit.conftest import TransformText

KEY = b"redaction unit-test key"
digit_strings = st.text(alphabet="0123456789", min_size=12, max_size=19)
keys = st.binary(min_size=0, max_size=200)


def reference(key: bytes, digits: str) -> str:
    return hmac.new(key, digits.encode(), "sha256").hexdigest()


@given(keys, digit_strings)
def test_a_token_is_the_hmac_sha256_of_the_digits(key: bytes, digits: str) -> None:
    assert Tokeniser(key)(digits) == reference(key, digits)


@given(keys, digit_strings, st.sampled_from(["visa16", "mastercard", "americanexpress"]))
def test_a_variant_a_card_field_is_tokenised_from_its_digits(
    key: bytes, digits: str, scheme: str
) -> None:
    assert Tokeniser(key)(f"{scheme},{digits}") == reference(key, digits)


@pytest.mark.parametrize("length", [65, 100, 1000])
def test_a_key_longer_than_the_sha256_block_gives_the_standard_hmac(length: int) -> None:
    key = bytes(range(256))[:length] if length <= 256 else b"k" * length
    digits = "4111111111111111"

    assert Tokeniser(key)(digits) == reference(key, digits)
    assert Tokeniser(key)("visa16," + digits) == reference(key, digits)


@pytest.mark.parametrize("length", [63, 64])
def test_a_key_at_the_block_size_boundary_gives_the_standard_hmac(length: int) -> None:
    key = b"x" * length

    assert Tokeniser(key)("4924000000000000") == reference(key, "4924000000000000")


def test_the_same_digits_under_two_keys_give_different_tokens() -> None:
    digits = "5555555555554444"

    assert Tokeniser(b"key one")(digits) != Tokeniser(b"key two")(digits)


def test_surrounding_spaces_do_not_change_the_token() -> None:
    digits = "4000056655665556"

    assert Tokeniser(KEY)(f"  {digits} ") == reference(KEY, digits)
    assert Tokeniser(KEY)(f"visa16, {digits}") == reference(KEY, digits)


@pytest.mark.parametrize(
    "card_field",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("None", id="variant_a_cash"),
        pytest.param("5.49E+15", id="spreadsheet_mangled"),
        pytest.param("12345678901", id="eleven_digits"),
        pytest.param("12345678901234567890", id="twenty_digits"),
        pytest.param("4111 1111 1111 1111", id="spaced_digits"),
        pytest.param("4111-1111-1111-1111", id="dashed_digits"),
        pytest.param("visa16,", id="scheme_without_number"),
        pytest.param("visa16,None", id="scheme_with_none"),
        pytest.param("٤١١١١١١١١١١١١١١١", id="non_ascii_digits"),
        pytest.param("411111111111111x", id="a_letter_among_digits"),
    ],
)
def test_a_field_that_is_not_12_to_19_digits_gives_no_token(card_field: str) -> None:
    assert Tokeniser(KEY)(card_field) is None


@given(digit_strings)
def test_without_a_key_no_card_gives_a_token(digits: str) -> None:
    assert Tokeniser(None)(digits) is None
    assert Tokeniser(None)("visa16," + digits) is None


def test_a_cash_sale_gets_no_token_even_with_digits_in_the_card_field(
    transform_text: TransformText,
) -> None:
    # DESIGN: "anything else (no key, a CASH sale, ...) gives a null token"
    text = (
        '25/08/2021 09:00,Leeds,Fake Person,"Regular Latte - 2.15",2.15,CASH,4111111111111111\n'
        '25/08/2021 09:01,Leeds,Fake Person,"Regular Latte - 2.15",2.15,CARD,4111111111111111\n'
    )

    result = transform_text(text, key=KEY)

    assert result.transactions["customer_token"].to_pylist() == [
        None,
        reference(KEY, "4111111111111111"),
    ]


def test_a_repeat_customer_gets_the_same_token_across_variants(
    transform_text: TransformText,
) -> None:
    # GIVEN the same card in a variant A file and a variant C file
    a = (
        '2021-02-23 09:00:48,Isle of Wight,Fake Person,",Latte,2.15",CARD,2.15,'
        '"visa16,4111111111111111"\r\n'
    )
    c = "25/08/2021 09:00,Leeds,Fake Person,Regular Latte - 2.15,2.15,CARD,4111111111111111\n"

    from_a = transform_text(a, key=KEY)
    from_c = transform_text(c, key=KEY)

    # THEN both rows carry one token, so repeat visits can be counted
    token_a = from_a.transactions["customer_token"].to_pylist()
    token_c = from_c.transactions["customer_token"].to_pylist()
    assert token_a == token_c == [reference(KEY, "4111111111111111")]


def test_the_key_fingerprint_is_stable_and_differs_per_key() -> None:
    one, two = b"first secret token key", b"second secret token key"

    assert key_fingerprint(one) == key_fingerprint(one)
    assert key_fingerprint(one) != key_fingerprint(two)


@pytest.mark.parametrize(
    "key", [b"correct horse battery staple", b"0123456789abcdef", b"\xff" * 80]
)
def test_the_key_fingerprint_does_not_reveal_the_key(key: bytes) -> None:
    fingerprint = key_fingerprint(key)

    assert key.hex() not in fingerprint
    assert key.decode("latin-1") not in fingerprint
