"""The report's sections on sales: for each, the figures a chart or table shows and one
plain sentence stating what they say (computed from the data, never a chart's name); the
signals (risers and fallers, unusual days, missing reports, new products) are in
``signals.py``, the wording both share in ``wording.py``."""

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cafe_etl.analytics import signals
from cafe_etl.analytics.data import ReportData, Table
from cafe_etl.analytics.wording import (
    TOP,
    WEEKDAYS,
    Section,
    change,
    change_text,
    money,
    pct,
    trend,
)


def headline(data: ReportData) -> Section:
    now = data.tables["headline"].dicts()[0]
    before = data.tables["previous_headline"].dicts()[0]
    gap = data.scope.previous_gap
    revenue, transactions = Decimal(now["revenue"] or 0), int(now["transactions"] or 0)
    basket = (revenue / transactions).quantize(Decimal("0.01"), ROUND_HALF_UP)
    items = Decimal(sum(int(row[2]) for row in data.tables["products"].rows)) / transactions
    moved = "" if gap else f", {trend(change(revenue, before['revenue']))}"
    caption = (
        f"Sales were {money(revenue)}{moved},"
        f" from {transactions:,} transactions at {int(now['branches'])} branches;"
        f" the average basket was £{basket} for {items:.1f} items."
    )
    rows: list[tuple[str, ...]] = [
        ("Sales", money(revenue), change_text(change(revenue, before["revenue"]))),
        (
            "Transactions",
            f"{transactions:,}",
            change_text(change(transactions, before["transactions"])),
        ),
        ("Average basket", f"£{basket}", change_text(_basket_change(now, before))),
        ("Branches trading", str(int(now["branches"])), ""),
    ]
    columns: tuple[str, ...] = ("figure", "this period", "change")
    if gap:
        # no change against a partly loaded period: it would read as growth that is not there
        caption += f" No change is shown: {gap}, so there is no full period to compare with."
        rows, columns = [row[:2] for row in rows], columns[:2]
    return Section("headline", "Headline figures", caption, table=Table(columns, rows))


def _basket_change(now: dict[str, Any], before: dict[str, Any]) -> Decimal | None:
    if not before["transactions"]:
        return None
    this = Decimal(now["revenue"]) / int(now["transactions"])
    return change(this, Decimal(before["revenue"]) / int(before["transactions"]))


def regions(data: ReportData) -> Section:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    series: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for day, region, revenue, _ in data.tables["region_daily"].rows:
        totals[region] += Decimal(revenue)
        series[region].append((day, Decimal(revenue)))
    best = max(totals, key=lambda r: (totals[r], r))
    share = totals[best] * 100 / sum(totals.values())
    caption = (
        f"{best} sold the most, {money(totals[best])} ({pct(share)} of all sales),"
        f" across {len(totals)} region{'s' if len(totals) != 1 else ''}."
    )
    return Section(
        "regions",
        "Sales over time by region",
        caption,
        chart={"kind": "lines", "series": dict(series)},
    )


def league(data: ReportData) -> Section:
    before = {row[0]: Decimal(row[3]) for row in data.tables["previous_branches"].rows}
    rows: list[tuple[Any, ...]] = []
    for name, region, transactions, revenue, days in data.tables["branches"].rows:
        moved = change(revenue, before.get(name))
        rows.append(
            (name, region, money(revenue), f"{int(transactions):,}", int(days), change_text(moved))
        )
    first, last = rows[0], rows[-1]
    caption = f"{first[0]} sold the most ({first[2]})"
    caption += f" and {last[0]} the least ({last[2]})." if len(rows) > 1 else "."
    shown = rows[:TOP] + (rows[-TOP:] if len(rows) > 2 * TOP else rows[TOP:])
    chart = {
        "kind": "bars",
        "labels": [r[0] for r in shown],
        "values": [Decimal(r[2][1:].replace(",", "")) for r in shown],
        "unit": "£",
    }
    columns: tuple[str, ...] = ("branch", "region", "sales", "transactions", "days", "change")
    notes = [f"Top and bottom {TOP} of {len(rows)} branches."] if len(rows) > 2 * TOP else []
    gap = data.scope.previous_gap
    if gap:
        shown, columns = [row[:5] for row in shown], columns[:5]
        notes.append(f"No change column: {gap}, so there is no full period to compare with.")
    table = Table(columns, shown)
    return Section("league", "Branch league table", caption, chart=chart, table=table, notes=notes)


def products(data: ReportData) -> Section:
    rows = data.tables["products"].rows
    total = sum(int(r[2]) for r in rows)
    name, size, quantity, _ = rows[0]
    label = f"{size} {name}" if size else name
    share = pct(Decimal(int(quantity)) * 100 / total)
    caption = f"{label} sold best: {int(quantity):,} of {total:,} items ({share})."
    top = rows[:15]
    chart = {
        "kind": "bars",
        "labels": [f"{r[1]} {r[0]}" if r[1] else r[0] for r in top],
        "values": [int(r[2]) for r in top],
        "unit": "",
    }
    return Section("products", "Product mix", caption, chart=chart)


def busy_hours(data: ReportData) -> Section:
    days: dict[int, int] = defaultdict(int)
    for day, _, _, branches in data.tables["region_daily"].rows:
        days[day.weekday() + 1] += int(branches)
    grid = {
        (int(w), int(h)): Decimal(int(n)) / days[int(w)]
        for w, h, n in data.tables["busy_hours"].rows
        if days[int(w)]
    }
    (weekday, hour), peak = max(grid.items(), key=lambda item: (item[1], item[0]))
    caption = (
        f"The busiest hour is {WEEKDAYS[weekday - 1]} {hour:02d}:00 to {hour + 1:02d}:00,"
        f" with {peak:.0f} sales a branch on average."
    )
    return Section(
        "busy_hours",
        "Busy hours",
        caption,
        chart={"kind": "heatmap", "grid": grid, "weekdays": WEEKDAYS},
    )


def repeat_visits(data: ReportData) -> Section:
    rows = data.tables["repeat_visits"].rows
    identified = sum(int(r[1]) for r in rows)
    if not identified:
        return Section(
            "repeat_visits",
            "Returning customers",
            "No card sale carries a customer token (no token key was set), so"
            " returning customers cannot be counted.",
        )
    repeats = sum(int(r[2]) for r in rows)
    share = Decimal(repeats) * 100 / identified
    caption = (
        f"{pct(share)} of card sales ({repeats:,} of {identified:,}) came from"
        " returning customers, cards the same branch had seen before."
    )
    series = {
        "returning share": [(r[0], Decimal(int(r[2])) * 100 / int(r[1])) for r in rows if int(r[1])]
    }
    return Section(
        "repeat_visits",
        "Returning customers",
        caption,
        chart={"kind": "lines", "series": series, "unit": "%"},
    )


def payment_mix(data: ReportData) -> Section:
    rows = data.tables["payment_mix"].rows
    total = sum(int(r[1]) for r in rows)
    cash = sum(int(r[1]) for r in rows if r[0] == "CASH")
    caption = f"{pct(Decimal(cash) * 100 / total)} of sales were paid in cash, the rest by card."
    chart = {
        "kind": "pie",
        "labels": [r[0].title() for r in rows],
        "values": [int(r[1]) for r in rows],
    }
    return Section("payment_mix", "Card and cash", caption, chart=chart)


def data_quality(data: ReportData) -> Section:
    rows = data.tables["rejected_rows"].rows
    loaded = int(data.tables["headline"].rows[0][0] or 0)
    rejected = sum(int(r[2]) for r in rows)
    by_reason: dict[str, int] = defaultdict(int)
    for _, reason, count in rows:
        by_reason[reason] += int(count)
    if not rejected:
        caption = f"Every one of {loaded:,} sales rows was accepted: none was rejected."
    else:
        worst = max(by_reason, key=lambda r: (by_reason[r], r))
        caption = (
            f"{rejected:,} rows were rejected ({pct(Decimal(rejected) * 100 / (rejected + loaded))}"
            f" of {rejected + loaded:,}), most often for {worst} ({by_reason[worst]:,})."
        )
    unassigned = [r[0] for r in data.tables["unassigned"].rows]
    notes = (
        [f"No region for: {', '.join(unassigned)} (Unassigned): add them to the branch file."]
        if unassigned
        else []
    )
    table = Table(("reason", "rows rejected"), sorted(by_reason.items()))
    return Section("data_quality", "Data quality", caption, table=table, notes=notes)


def sections(data: ReportData) -> list[Section]:
    """Every section, in the order a manager reads them."""
    return [
        headline(data),
        regions(data),
        league(data),
        signals.risers_fallers(data),
        signals.unusual_days(data),
        signals.missing_reports(data),
        products(data),
        signals.new_products(data),
        busy_hours(data),
        repeat_visits(data),
        payment_mix(data),
        data_quality(data),
    ]
