import csv
import io
import random
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cafe_etl.generate import (
    LAUNCH_PRODUCT,
    MENU,
    GenerateResult,
    generate,
    towns,
    write_branch_day,
)

START = date(2021, 8, 23)
DAYS = 15
ITEM = re.compile(r"^(?:(Regular|Large) )?(.+?) - (\d+\.\d\d)$")
TRIPLE = re.compile(r"^(Large|),([^,]+),(\d+\.\d{1,2})$")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    out = tmp_path_factory.mktemp("raw")
    return generate(out, branches=4, days=DAYS, start=START, seed=7)


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def items(basket: str) -> list[tuple[str | None, str, Decimal]]:
    parsed = []
    for text in basket.split(", "):
        match = ITEM.match(text)
        assert match, text
        parsed.append((match[1], match[2], Decimal(match[3])))
    return parsed


def by_branch_day(result: GenerateResult) -> dict[tuple[str, date], list[list[str]]]:
    table = {}
    for path in result.files:
        data = rows(path)
        table[data[0][1], datetime.strptime(data[0][0], "%d/%m/%Y %H:%M").date()] = data
    return table


def test_file_names_follow_the_till_convention(dataset: GenerateResult) -> None:
    names = {p.name for p in dataset.files}
    assert "chesterfield_23-08-2021_09-00-00.csv" in names
    assert "london_brixton_23-08-2021_08-00-00.csv" in names
    assert "isle_of_wight_06-09-2021_09-00-00.csv" in names
    assert all(re.fullmatch(r"[a-z_]+_\d\d-\d\d-\d{4}_\d\d-00-00\.csv", n) for n in names)
    assert names == {p.name for p in dataset.files[0].parent.iterdir()}
    assert len(names) == 4 * DAYS - 1


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def contents(seed: int, folder: str) -> dict[str, bytes]:
        result = generate(tmp_path / folder, branches=2, days=2, start=START, seed=seed)
        return {p.name: p.read_bytes() for p in result.files}

    first = contents(1, "a")
    assert contents(1, "b") == first
    other = contents(2, "c")
    assert other.keys() == first.keys()
    assert all(other[name] != first[name] for name in first)


def test_variant_c_rows_look_like_real_exports(dataset: GenerateResult) -> None:
    for path in dataset.files:
        raw = path.read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw
        data = rows(path)
        assert 150 <= len(data) <= 600
        stamps = [datetime.strptime(row[0], "%d/%m/%Y %H:%M") for row in data]
        assert stamps == sorted(stamps)
        for time, _branch, name, basket, total, payment, card in data:
            assert name and basket and time
            assert 1 <= len(items(basket)) <= 5
            assert total == repr(float(total))
            assert (payment, card == "") in {("CASH", True), ("CARD", False)}
            assert payment == "CASH" or re.fullmatch(r"[1-9]\d{15}", card)


def test_item_prices_sum_exactly_to_the_total(dataset: GenerateResult) -> None:
    for path in dataset.files:
        for row in rows(path):
            assert sum(price for _, _, price in items(row[3])) == Decimal(row[4])


def test_prices_are_fixed_per_product_and_size(dataset: GenerateResult) -> None:
    prices = defaultdict(set)
    for path in dataset.files:
        for row in rows(path):
            for size, name, price in items(row[3]):
                prices[size, name.split(" - ")[0]].add(price)
    assert all(len(seen) == 1 for seen in prices.values())
    assert prices["Large", "Latte"] == {Decimal("2.45")}
    assert prices[None, "Glass of milk"] == {Decimal("0.70")}


def test_payment_mix_and_returning_customers(dataset: GenerateResult) -> None:
    payments: Counter[str] = Counter()
    days_of_card: dict[tuple[str, str], set[date]] = defaultdict(set)
    card_rows = []
    for (branch, day), data in by_branch_day(dataset).items():
        for row in data:
            payments[row[5]] += 1
            if row[5] == "CARD":
                days_of_card[branch, row[6]].add(day)
                card_rows.append((branch, row[6]))
    assert 0.30 < payments["CASH"] / payments.total() < 0.40
    returning = sum(len(days_of_card[key]) > 1 for key in card_rows) / len(card_rows)
    assert 0.2 < returning < 0.4


def test_morning_and_lunch_peaks(dataset: GenerateResult) -> None:
    hours = Counter(int(row[0][11:13]) for path in dataset.files for row in rows(path))
    assert hours[12] > hours[15] and hours[9] > hours[15]


def test_signals_are_planted(dataset: GenerateResult) -> None:
    signals = dataset.signals
    assert (signals.rising_branch, signals.falling_branch) == ("Leeds", "Chesterfield")
    table = by_branch_day(dataset)

    def week(branch: str, n: int) -> int:
        return sum(len(table[branch, START + timedelta(days=7 * n + d)]) for d in range(7))

    assert week("Leeds", 1) > week("Leeds", 0) * 1.04
    assert week("Chesterfield", 1) < week("Chesterfield", 0) * 0.96
    assert signals.skipped_branch == "London Brixton"
    assert signals.skipped_day == START + timedelta(days=7)
    assert ("London Brixton", signals.skipped_day) not in table
    assert signals.launched_product == LAUNCH_PRODUCT.name == "Pumpkin spice latte"
    assert signals.launch_day == START + timedelta(days=7)
    for (_, day), data in table.items():
        sold = any(name == LAUNCH_PRODUCT.name for row in data for _, name, _ in items(row[3]))
        assert sold == (day >= signals.launch_day)


def test_an_unusual_day_is_planted_once_four_same_weekdays_lie_before_it(tmp_path: Path) -> None:
    # GIVEN five weeks of the first four towns (Isle of Wight is the 4th)
    result = generate(tmp_path, branches=4, days=35, start=START, seed=7)
    signals = result.signals
    # THEN the 29th day is its unusual day: 2.5 times the sales of its 4 same weekdays before
    assert (signals.unusual_branch, signals.unusual_day) == (
        "Isle of Wight",
        START + timedelta(days=28),
    )
    table = by_branch_day(result)
    before = [len(table["Isle of Wight", START + timedelta(days=7 * k)]) for k in range(4)]
    assert len(table["Isle of Wight", signals.unusual_day]) > 2.2 * max(before)
    # and a period of four weeks or less has none
    assert (
        generate(tmp_path / "short", branches=4, days=28, start=START).signals.unusual_day is None
    )


def test_few_branches_or_days_drop_signals(tmp_path: Path) -> None:
    result = generate(tmp_path, branches=1, days=1, start=START)
    assert result.branches == ("Chesterfield",)
    signals = result.signals
    assert signals.falling_branch == "Chesterfield"
    assert signals.rising_branch is signals.skipped_branch is signals.launched_product is None


def write(variant: str, transactions: int = 200) -> bytes:
    buffer = io.BytesIO()
    written = write_branch_day(
        buffer, branch="Isle of Wight", day=date(2021, 2, 23), transactions=transactions,
        rng=random.Random(3), variant=variant,
    )  # fmt: skip
    assert written == transactions and not buffer.closed
    return buffer.getvalue()


def test_variant_a_bytes() -> None:
    raw = write("A")
    assert raw.endswith(b"\r\n ") and raw.count(b"\r\n") == 200 == raw.count(b"\n")
    scheme = r"(visa16|visa13|americanexpress|mastercard|discover),\d{13,16}"
    data = csv.reader(io.StringIO(raw[:-1].decode()))
    for time, branch, _name, basket, payment, total, card in data:
        assert re.fullmatch(r"2021-02-23 \d\d:\d\d:\d\d", time) and branch == "Isle of Wight"
        assert re.fullmatch(r"\d+\.\d\d", total)
        if payment == "CASH":
            assert card == "None"
        else:
            assert re.fullmatch(scheme, card)
        parts = basket.split(",")
        triples = [",".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
        assert all(TRIPLE.match(t) for t in triples), basket
        assert sum(Decimal(parts[i]) for i in range(2, len(parts), 3)) == Decimal(total)


def test_variant_b_bytes() -> None:
    raw = write("B")
    assert raw.endswith(b"\n ") and b"\r" not in raw
    data = list(csv.reader(io.StringIO(raw.decode())))
    assert data[-1] == [" "] and len(data) == 201
    assert all(re.fullmatch(r"\d+\.\d\d", row[4]) for row in data[:-1])
    assert all(re.fullmatch(r"23/02/2021 \d\d:\d\d", row[0]) for row in data[:-1])


def test_variant_d_adds_the_2025_header() -> None:
    raw = write("D")
    header, rest = raw.split(b"\n", 1)
    assert header == (
        b"Timestamp,Location,Customer Name,Items Ordered,Total Amount,Payment Method,Card Number"
    )
    assert rest == write("C")


def test_unknown_variant_and_bad_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="variant"):
        write("E")
    with pytest.raises(ValueError, match="branches"):
        generate(tmp_path, branches=len(towns()) + 1, days=1, start=START)


def test_reference_towns_and_menu() -> None:
    table = dict(towns())
    assert len(table) == len(towns()) >= 120
    assert len(set(table.values())) == 12
    assert table["London Brixton"] == "London" and table["Leeds"] == "Yorkshire and The Humber"
    assert table["Chesterfield"] == "East Midlands" and table["Isle of Wight"] == "South East"
    assert len({p.name for p in MENU}) == len(MENU) >= 35
    assert all(p.large is None or p.large > p.regular for p in MENU)
    assert LAUNCH_PRODUCT.name not in {p.name for p in MENU}


def test_many_branches_work(tmp_path: Path) -> None:
    result = generate(tmp_path, branches=120, days=1, start=START)
    assert len(result.files) == len({p.name for p in result.files}) == 120
