"""Customer tokens: HMAC-SHA256(key, card digits), the same in every file, one key a warehouse."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cafe_etl.errors import ConfigError

from .rawfiles import lines, write

if TYPE_CHECKING:
    from conftest import Cli, Etl

CARD = "4929000011112222"
AMEX = "371234567890123"
CHESTERFIELD = lines(
    f"25/08/2021 09:00,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,{CARD}",
    f"25/08/2021 09:01,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD, {CARD} ",
    "25/08/2021 09:02,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,123456789012",
    "25/08/2021 09:03,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,1234567890123456789",
    "25/08/2021 09:04,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,12345678901",
    "25/08/2021 09:05,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,12345678901234567890",
    "25/08/2021 09:06,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,5.49E+15",
    "25/08/2021 09:07,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CARD,",
    "25/08/2021 09:08,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CASH,",
)
CASH_WITH_A_CARD = (
    f"25/08/2021 09:09,Chesterfield,Ann Other,Regular Latte - 2.15,2.15,CASH,{CARD}\n"
)
ISLE_OF_WIGHT = lines(
    f'2021-02-23 09:00:00,Isle of Wight,Ann Other,",Latte,2.15",CARD,2.15,"visa16,{CARD}"',
    f'2021-02-23 09:01:00,Isle of Wight,Ann Other,",Latte,2.15",CARD,2.15,"americanexpress,{AMEX}"',
    '2021-02-23 09:02:00,Isle of Wight,Ann Other,",Latte,2.15",CASH,2.15,None',
    end="\r\n",
)


def token(key: str, digits: str) -> str:
    return hmac.new(key.encode(), digits.encode(), hashlib.sha256).hexdigest()


def tokens(etl: Etl) -> dict[datetime, str | None]:
    return dict(etl.query("SELECT occurred_at, customer_token FROM transactions"))


def test_a_card_of_12_to_19_digits_becomes_its_keyed_hmac_and_anything_else_null(
    etl: Etl, landing: Path
) -> None:
    write(landing, "chesterfield.csv", CHESTERFIELD)
    write(landing, "isle_of_wight.csv", ISLE_OF_WIGHT)
    key = str(etl.token_key)

    etl.run(landing)

    at = datetime
    assert tokens(etl) == {
        at(2021, 8, 25, 9, 0): token(key, CARD),
        at(2021, 8, 25, 9, 1): token(key, CARD),
        at(2021, 8, 25, 9, 2): token(key, "123456789012"),
        at(2021, 8, 25, 9, 3): token(key, "1234567890123456789"),
        at(2021, 8, 25, 9, 4): None,
        at(2021, 8, 25, 9, 5): None,
        at(2021, 8, 25, 9, 6): None,
        at(2021, 8, 25, 9, 7): None,
        at(2021, 8, 25, 9, 8): None,
        at(2021, 2, 23, 9, 0): token(key, CARD),
        at(2021, 2, 23, 9, 1): token(key, AMEX),
        at(2021, 2, 23, 9, 2): None,
    }


def test_the_same_card_in_two_files_gets_the_same_token(etl: Etl, landing: Path) -> None:
    write(landing, "chesterfield.csv", CHESTERFIELD)
    write(landing, "isle_of_wight.csv", ISLE_OF_WIGHT)

    etl.run(landing)

    by_branch = etl.query(
        "SELECT DISTINCT b.branch_name, t.customer_token FROM transactions t"
        " JOIN branches b USING (branch_id) WHERE t.customer_token = ?",
        (token(str(etl.token_key), CARD),),
    )
    assert sorted(branch for branch, _ in by_branch) == ["Chesterfield", "Isle of Wight"]


def test_a_cash_sale_gets_no_token_even_with_a_card_number(etl: Etl, landing: Path) -> None:
    write(landing, "chesterfield.csv", CASH_WITH_A_CARD)

    etl.run(landing)

    assert list(tokens(etl).values()) == [None]


def test_without_a_key_every_token_is_null(etl: Etl, landing: Path) -> None:
    write(landing, "chesterfield.csv", CHESTERFIELD)
    write(landing, "isle_of_wight.csv", ISLE_OF_WIGHT)

    summary = etl.run(landing, token_key=None)

    assert summary.rows_loaded == 12
    assert set(tokens(etl).values()) == {None}


def test_the_warehouse_keeps_no_copy_of_the_key(etl: Etl, landing: Path) -> None:
    write(landing, "chesterfield.csv", CHESTERFIELD)

    etl.run(landing)

    assert str(etl.token_key) not in etl.all_text()


@pytest.mark.parametrize("other_key", ["a different key", None], ids=["other key", "no key"])
def test_a_run_with_another_key_is_refused_and_loads_nothing(
    etl: Etl, landing: Path, tmp_path: Path, other_key: str | None
) -> None:
    write(tmp_path / "first", "chesterfield.csv", CHESTERFIELD)
    etl.run(tmp_path / "first")
    before = etl.snapshot()
    write(landing, "isle_of_wight.csv", ISLE_OF_WIGHT)

    with pytest.raises(ConfigError, match="CAFE_ETL_TOKEN_KEY") as refused:
        etl.run(landing, token_key=other_key)

    assert "\n" not in str(refused.value)
    assert etl.snapshot() == before


def test_the_cli_refuses_another_key_in_one_line_with_exit_code_1(
    cli: Cli, etl: Etl, landing: Path, tmp_path: Path
) -> None:
    write(tmp_path / "first", "chesterfield.csv", CHESTERFIELD)
    assert cli("run", tmp_path / "first").exit_code == 0
    before = etl.snapshot()
    write(landing, "isle_of_wight.csv", ISLE_OF_WIGHT)

    result = cli("run", landing, env={"CAFE_ETL_TOKEN_KEY": "a different key"})

    assert result.exit_code == 1
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("error: ") and "CAFE_ETL_TOKEN_KEY" in message
    assert "a different key" not in result.output
    assert etl.snapshot() == before
