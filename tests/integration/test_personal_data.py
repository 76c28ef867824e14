"""No direct identifiers leave extract: no name and no card number in tables, logs or output."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cafe_etl.generate import generate

from .rawfiles import HEADER, expected, lines, write

if TYPE_CHECKING:
    from conftest import Cli, Etl

FIRST = (
    "Ermintrude",
    "Balthazar",
    "Persephone",
    "Octavius",
    "Clementine",
    "Barnabus",
    "Hyacinth",
    "Fitzgerald",
    "Wilhelmina",
)
LAST = {"A": "Quistgaard", "B": "Zyskowski", "C": "Vandermolen", "D": "Threlkeld"}
CASES = (
    "card sale",
    "cash sale",
    "field_count",
    "field_count, name with a comma",
    "bad_timestamp",
    "bad_amount",
    "bad_basket",
    "bad_payment",
    "total_mismatch",
)


@dataclass(frozen=True)
class Identifiers:
    names: frozenset[str]
    cards: frozenset[str]

    def found_in(self, text: str) -> list[str]:
        folded = text.casefold()
        return sorted(
            {name for name in self.names if name.casefold() in folded}
            | {card for card in self.cards if card in text}
        )


def _line(fields: list[str], line_end: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerow(fields)
    return out.getvalue()


def hand_written(variant: str, landing: Path) -> Identifiers:
    """One file of a variant: good sales and one rejected row per reason, each its own person."""
    iso = variant == "A"
    town, day = {
        "A": ("Isle of Wight", "2021-02-23"),
        "B": ("Leeds", "23/03/2021"),
        "C": ("Chesterfield", "25/08/2021"),
        "D": ("York", "26/08/2021"),
    }[variant]
    end = "\r\n" if iso else "\n"
    text = _line(list(HEADER.split(",")), end) if variant == "D" else ""
    names, cards = set(), set()
    for index, case in enumerate(CASES):
        name = f"{FIRST[index]} {LAST[variant]}"
        card = f"49{'ABCD'.index(variant)}{index}817263544512"
        names |= {FIRST[index], LAST[variant]}
        names |= set() if case == "field_count, name with a comma" else {name}
        cards.add(card)
        stamp = f"{day} 09:{index:02d}" + (":30" if iso else "")
        basket, total, payment = (",Latte,2.15" if iso else "Regular Latte - 2.15"), "2.15", "CARD"
        card_field = f"visa16,{card}" if iso else card
        if case == "cash sale":
            payment = "CASH"
        elif case == "bad_timestamp":
            stamp = "2021-02-30 09:00:00" if iso else "30/02/2021 09:00"
        elif case == "bad_amount":
            total = "2.155"
        elif case == "bad_basket":
            basket = ",Latte" if iso else "Regular Latte"
        elif case == "bad_payment":
            payment = "VOUCHER"
        elif case == "total_mismatch":
            total = "9.99"
        fields = [stamp, town, name, basket, *((payment, total) if iso else (total, payment))]
        fields.append(card_field)
        if case == "field_count":
            fields.append("extra")
        if case == "field_count, name with a comma":
            surname, first = LAST[variant], FIRST[index]
            line = _line(fields, end).replace(name, f"{surname}, {first}", 1)
            text += line
            continue
        text += _line(fields, end)
    if variant in "AB":
        text += " "
    write(landing, f"hand_{variant}.csv", text)
    return Identifiers(frozenset(names), frozenset(cards))


def write_identifying_inputs(landing: Path) -> Identifiers:
    """Every variant, generated and hand-written, rejects of every reason, unreadable files."""
    names: set[str] = set()
    cards: set[str] = set()
    for offset, variant in enumerate("ABCD"):
        found = hand_written(variant, landing)
        names |= found.names
        cards |= found.cards
        files = generate(
            landing / variant,
            branches=1,
            days=1,
            start=date(2024, 1, 1 + offset),
            seed=9,
            variant=variant,
        ).files
        raw = expected(*files)
        names |= raw.names
        cards |= raw.cards
    names |= {"Hyacinth Bucketworth", "Bucketworth", "Zoë Brontësson", "Brontësson"}
    cards |= {"4000111122223333", "4000555566667777"}
    write(
        landing,
        "latin1.csv",
        "26/08/2021 09:00,York,Zoë Brontësson,Regular Latte - 2.15,"
        "2.15,CARD,4000555566667777\n".encode("latin-1"),
    )
    write(
        landing,
        "export.csv",
        json.dumps([{"customer": "Hyacinth Bucketworth", "card": "4000111122223333"}], indent=2),
    )
    return Identifiers(frozenset(names), frozenset(cards))


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@pytest.fixture
def identifiers(landing: Path) -> Identifiers:
    return write_identifying_inputs(landing)


def test_the_inputs_really_hold_names_cards_and_every_reject_reason(
    etl: Etl, landing: Path, identifiers: Identifiers
) -> None:
    raw = "\n".join(_text(path.read_bytes()) for path in landing.rglob("*.csv"))
    assert identifiers.found_in(raw) == sorted(identifiers.names | identifiers.cards)
    assert len(identifiers.cards) > 300

    summary = etl.run(landing)

    reasons = {row[0] for row in etl.query("SELECT DISTINCT reason FROM rejected_rows")}
    assert reasons == {
        "field_count",
        "bad_timestamp",
        "bad_amount",
        "bad_basket",
        "bad_payment",
        "total_mismatch",
    }
    assert sorted(o.reason for o in summary.outcomes if o.status == "rejected") == [
        "not_csv",
        "not_utf8",
    ]
    assert etl.scalar("SELECT COUNT(customer_token) FROM transactions") > 100


def test_no_name_or_card_number_is_in_any_column_of_any_table(
    etl: Etl, landing: Path, identifiers: Identifiers
) -> None:
    etl.run(landing)
    etl.forget("hand_C.csv")
    etl.reprocess()

    text = etl.all_text()
    assert set(etl.tables()) >= {"transactions", "rejected_rows", "loaded_files", "branches"}
    assert "bad_payment" in text and "Isle of Wight" in text
    assert identifiers.found_in(text) == []


def test_no_name_or_card_number_is_logged(
    etl: Etl, landing: Path, identifiers: Identifiers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    etl.run(landing)
    etl.reprocess()

    assert "hand_A.csv" in caplog.text and "not_utf8" in caplog.text
    assert identifiers.found_in(caplog.text) == []


@contextmanager
def logging_as_in_a_fresh_process() -> Iterator[None]:
    """No handler on the root logger, so ``-v`` configures logging onto the CLI's stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_no_name_or_card_number_is_in_the_clis_verbose_output(
    cli: Cli, landing: Path, identifiers: Identifiers
) -> None:
    results = []
    for args in (
        ["run", landing],
        ["status", "--by-branch"],
        ["forget", "hand_D.csv"],
        ["reprocess", "--all"],
    ):
        with logging_as_in_a_fresh_process():
            results.append(cli("-v", *args))

    output = "\n".join(result.output for result in results)
    assert [result.exit_code for result in results] == [2, 0, 0, 2], output
    assert "hand_B.csv: loaded" in results[0].output  # the per-file log lines are there
    assert "hand_B.csv: loaded" in results[3].output
    assert identifiers.found_in(output) == []


def test_a_row_with_shifted_fields_quotes_no_name_or_card_in_its_reject_detail(
    etl: Etl, landing: Path
) -> None:
    name, latte = "Wilhelmina Quux", "Regular Latte - 2.15"
    shifted = lines(
        f"{name},25/08/2021 09:00,Chesterfield,{latte},2.15,CASH,",  # name as timestamp
        f"25/08/2021 09:01,Chesterfield,{name},{latte},4929111122223333,CARD,",  # card as total
        f"25/08/2021 09:02,Chesterfield,{name},{latte},2.15,4929111122224444,CARD",  # as payment
        f"25/08/2021 09:03,Chesterfield,{latte},{name},2.15,CARD,",  # name as basket
    )
    write(landing, "shifted.csv", shifted)

    etl.run(landing)

    rejects = etl.query("SELECT line_number, reason, detail FROM rejected_rows ORDER BY 1")
    assert [line for line, _, _ in rejects] == [1, 2, 3, 4]
    leaked = Identifiers(
        frozenset({"Wilhelmina", "Quux"}), frozenset({"4929111122223333", "4929111122224444"})
    ).found_in(etl.all_text())
    assert leaked == [], rejects


HIDDEN = "4917610000000000"
STYLES = {
    "plain": HIDDEN,
    "spaces": "4917 6100 0000 0000",
    "dashes": "4917-6100-0000-0000",
    "dots": "4917.6100.0000.0000",
    "slashes": "4917/6100/0000/0000",
}


def hidden_everywhere(card: str) -> str:
    """One export with the card number in every field a till could shift it into."""
    good = "25/08/2021 09:00,Leeds,Ann Other,Regular Latte - 2.15,2.15,CASH,"
    return lines(
        good,
        f"25/08/2021 09:01,Leeds {card},Ann Other,Regular Latte - 2.15,2.15,CASH,",
        f"25/08/2021 09:02,Leeds,Ann Other,Regular Latte {card} - 2.15,2.15,CASH,",
        f"25/08/2021 09:03,Leeds,Ann Other,Large Latte - {card} - 2.15,2.15,CASH,",
        f"25/08/2021 09:04,Leeds,Ann Other,Regular Latte - 2.15,2.15,{card},",
        f"{card},Leeds,Ann Other,Regular Latte - 2.15,2.15,CASH,",
        f"25/08/2021 09:05,Leeds,Ann Other,Regular Latte - 2.15,{card},CASH,",
        f"25/08/2021 09:06,Leeds,Ann Other,Regular Latte - {card},2.15,CASH,",
        f"25/08/2021 09:07,Leeds,{card},Regular Latte - 2.15,2.15,CARD,{card}",
        good.replace("09:00", "09:08"),
    )


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_card_number_in_any_field_and_separator_style_is_never_stored_or_logged(
    etl: Etl, landing: Path, style: str, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a file with a card number in every field, then a good file
    caplog.set_level(logging.DEBUG)
    write(landing, "leeds_25-08-2021_09-00-00.csv", hidden_everywhere(STYLES[style]))
    write(landing, "york_25-08-2021_09-00-00.csv", lines(
        "25/08/2021 09:00,York,Ann Other,Regular Latte - 2.15,2.15,CASH,"))  # fmt: skip

    summary = etl.run(landing)

    # THEN the rows holding it where a value is stored are rejected, the rest load (the card
    # sale becomes a token), and its digits are in no table or log line, whatever separates
    # them (a search for one group of four would meet random ids and timestamps)
    assert summary.rows_loaded == 3 + 1 and summary.rows_rejected == 7
    for text in (etl.all_text(), caplog.text):
        assert HIDDEN not in re.sub(r"[ .\-/]", "", text)
