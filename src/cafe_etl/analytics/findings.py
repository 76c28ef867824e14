"""The report's sections: for each, the figures a chart or table shows and one plain
sentence stating what they say (computed here from the data, never a chart's name)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cafe_etl.analytics.data import ReportData, Table

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP = 10


@dataclass
class Section:
    """One part of the report: a title, the finding, and what to draw or list."""

    key: str
    title: str
    caption: str
    chart: dict[str, Any] | None = None
    """A chart spec for ``charts.figure``: kind plus data."""
    table: Table | None = None
    notes: list[str] = field(default_factory=list)


def money(value: Any) -> str:
    amount = Decimal(value or 0).quantize(Decimal("1"), ROUND_HALF_UP)
    return f"£{amount:,}"


def pct(value: Any) -> str:
    number = Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{abs(number)} %"


def change(now: Any, before: Any) -> Decimal | None:
    if not before:
        return None
    return (Decimal(now) - Decimal(before)) * 100 / Decimal(before)


def day_name(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day:%B %Y}"


def _trend(value: Decimal | None, up: str = "up", down: str = "down") -> str:
    if value is None:
        return "with nothing to compare in the previous period"
    if abs(value) < Decimal("0.05"):
        return "level with the previous period"
    return f"{up if value > 0 else down} {pct(value)} on the previous period"


def headline(data: ReportData) -> Section:
    now = data.tables["headline"].dicts()[0]
    before = data.tables["previous_headline"].dicts()[0]
    revenue, transactions = Decimal(now["revenue"] or 0), int(now["transactions"] or 0)
    basket = (revenue / transactions).quantize(Decimal("0.01"), ROUND_HALF_UP)
    items = Decimal(sum(int(row[2]) for row in data.tables["products"].rows)) / transactions
    caption = (
        f"Sales were {money(revenue)}, {_trend(change(revenue, before['revenue']))},"
        f" from {transactions:,} transactions at {int(now['branches'])} branches;"
        f" the average basket was £{basket} for {items:.1f} items."
    )
    rows = [
        ("Sales", money(revenue), _change_text(change(revenue, before["revenue"]))),
        (
            "Transactions",
            f"{transactions:,}",
            _change_text(change(transactions, before["transactions"])),
        ),
        ("Average basket", f"£{basket}", _change_text(_basket_change(now, before))),
        ("Branches trading", str(int(now["branches"])), ""),
    ]
    return Section(
        "headline",
        "Headline figures",
        caption,
        table=Table(("figure", "this period", "change"), rows),
    )


def _basket_change(now: dict[str, Any], before: dict[str, Any]) -> Decimal | None:
    if not before["transactions"]:
        return None
    this = Decimal(now["revenue"]) / int(now["transactions"])
    return change(this, Decimal(before["revenue"]) / int(before["transactions"]))


def _change_text(value: Decimal | None) -> str:
    if value is None:
        return "no earlier data"
    return ("+" if value >= 0 else "-") + pct(value)


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
    rows = []
    for name, region, transactions, revenue, days in data.tables["branches"].rows:
        moved = change(revenue, before.get(name))
        rows.append(
            (name, region, money(revenue), f"{int(transactions):,}", int(days), _change_text(moved))
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
    table = Table(("branch", "region", "sales", "transactions", "days", "change"), shown)
    notes = [f"Top and bottom {TOP} of {len(rows)} branches."] if len(rows) > 2 * TOP else []
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


def new_products(data: ReportData) -> Section:
    scope = data.scope
    rows = data.tables["product_lifecycle"].rows
    new = [r for r in rows if r[7] == "new" and scope.first <= r[3] <= scope.last]
    gone = [r for r in rows if r[7] == "discontinued" and scope.previous[0] <= r[4] <= scope.last]
    names = sorted({r[0] for r in new})
    if names:
        first = min(r[3] for r in new)
        sold = sum(int(r[6]) for r in new)
        caption = (
            f"New this period: {', '.join(names)}, first sold on {day_name(first)};"
            f" {sold:,} sold since, at up to {max(int(r[5]) for r in new)} branches."
        )
    else:
        caption = "No product was launched in this period."
    if gone:
        caption += f" No longer sold: {', '.join(sorted({r[0] for r in gone}))}."
    listed = [(r[0], r[1] or "", r[7], str(r[3]), str(r[4]), f"{int(r[6]):,}") for r in new + gone]
    table = Table(("product", "size", "status", "first sold", "last sold", "sold"), listed)
    return Section("new_products", "New and discontinued products", caption, table=table)


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


def _weekly_means(rows: list[tuple[Any, ...]]) -> tuple[list[date], list[tuple[Any, ...]]]:
    """Each branch's mean like-for-like weekly change over the period's weeks (branches
    compared in at least half of them), largest first."""
    weeks = sorted({r[0] for r in rows})
    changes: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for _, name, region, *_rest, moved in rows:
        changes[(name, region)].append(Decimal(moved))
    means = [
        (name, region, len(c), sum(c) / len(c))
        for (name, region), c in changes.items()
        if 2 * len(c) >= len(weeks)
    ]
    return weeks, sorted(means, key=lambda m: (-m[3], m[0]))


def risers_fallers(data: ReportData) -> Section:
    weeks, ranked = _weekly_means(data.tables["week_change"].rows)
    title = "Risers and fallers, week on week"
    if not ranked:
        return Section(
            "risers_fallers",
            title,
            "No branch traded on the same weekdays in two weeks running in this"
            " period, so there is no like-for-like change to show.",
        )
    top, bottom = ranked[0], ranked[-1]
    over = (
        f"in the week of {weeks[0]:%d %B}"
        if len(weeks) == 1
        else f"a week on average over the {len(weeks)} weeks from {weeks[0]:%d %B}"
    )
    caption = (
        f"Like for like, {top[0]} {'grew' if top[3] >= 0 else 'fell'} {pct(top[3])}"
        f" {over}, the most of any branch"
    )
    if len(ranked) > 1:
        caption += (
            f"; {bottom[0]} {'fell' if bottom[3] < 0 else 'grew'} {pct(bottom[3])},"
            f" the {'largest fall' if bottom[3] < 0 else 'least'}"
        )
    shown = ranked[:5] + [r for r in ranked[-5:] if r not in ranked[:5]]
    chart = {
        "kind": "bars",
        "labels": [r[0] for r in shown],
        "values": [r[3] for r in shown],
        "unit": "%",
    }
    table = Table(
        ("branch", "region", "weeks compared", "mean weekly change"),
        [(r[0], r[1], r[2], _change_text(r[3])) for r in shown],
    )
    notes = ["Like for like: only days a branch traded in both weeks count."]
    return Section("risers_fallers", title, caption + ".", chart=chart, table=table, notes=notes)


def unusual_days(data: ReportData) -> Section:
    rows = sorted(data.tables["unusual_days"].rows, key=lambda r: (-abs(r[5]), r[0], r[1]))
    if not rows:
        return Section(
            "unusual_days",
            "Unusual days",
            "No branch had a day far outside its usual range for that weekday.",
        )
    day, name, _, revenue, usual, *_ = rows[0]
    ratio = Decimal(revenue) / Decimal(usual)
    size = f"{ratio:.1f} times" if ratio >= 1 else f"{pct(100 - ratio * 100)} below"
    caption = (
        f"{name} on {day_name(day)} sold {money(revenue)}, {size} its usual"
        f" {money(usual)} for a {WEEKDAYS[day.weekday()]}"
    )
    caption += (
        f"; {len(rows) - 1} other unusual day{'s' if len(rows) != 2 else ''} listed."
        if len(rows) > 1
        else "."
    )
    listed = [(str(r[0]), r[1], r[2], money(r[3]), money(r[4]), r[6]) for r in rows[:TOP]]
    chart = {
        "kind": "bars",
        "labels": [f"{r[1]} {r[0]:%d %b}" for r in rows[:TOP]],
        "values": [Decimal(r[5]) for r in rows[:TOP]],
        "unit": " sd",
    }
    return Section(
        "unusual_days",
        "Unusual days",
        caption,
        chart=chart,
        table=Table(("day", "branch", "region", "sales", "usual", "direction"), listed),
        notes=["Usual: the median of the branch's last 8 same weekdays."],
    )


def missing_reports(data: ReportData) -> Section:
    rows = data.tables["missing_reports"].rows
    if not rows:
        caption = "Every branch sent a report for every day it usually trades."
    else:
        day, name, _ = rows[0]
        caption = f"{name} sent no report on {day_name(day)}, a day it usually trades"
        caption += f"; {len(rows) - 1} more missing." if len(rows) > 1 else "."
    table = Table(("day", "branch", "region"), [(str(r[0]), r[1], r[2]) for r in rows])
    return Section("missing_reports", "Missing reports", caption, table=table)


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
        risers_fallers(data),
        unusual_days(data),
        missing_reports(data),
        products(data),
        new_products(data),
        busy_hours(data),
        repeat_visits(data),
        payment_mix(data),
        data_quality(data),
    ]
