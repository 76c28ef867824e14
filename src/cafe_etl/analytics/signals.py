"""The report's signals: risers and fallers, unusual days, missing reports, new products;
each a section with one plain sentence naming what was found."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from cafe_etl.analytics.data import ReportData, Table
from cafe_etl.analytics.wording import (
    TOP,
    WEEKDAYS,
    Section,
    change_text,
    day_name,
    money,
    pct,
)


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
    scope = data.scope
    monday = scope.first + timedelta(days=-scope.first.weekday() % 7)
    if not ranked and monday + timedelta(days=6) > scope.last:
        return Section(
            "risers_fallers",
            title,
            "The period holds no whole week (Monday to Sunday), so there is no"
            " week-on-week change to show.",
        )
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
        [(r[0], r[1], r[2], change_text(r[3])) for r in shown],
    )
    notes = ["Like for like: only days a branch traded in both weeks count."]
    return Section("risers_fallers", title, caption + ".", chart=chart, table=table, notes=notes)


def unusual_days(data: ReportData) -> Section:
    rows = sorted(data.tables["unusual_days"].rows, key=lambda r: (-abs(r[5]), r[0], r[1]))
    if not rows:
        judged = int(data.tables["judged"].rows[0][1])
        return Section(
            "unusual_days",
            "Unusual days",
            "No branch had a day far outside its usual range for that weekday."
            if judged
            else "Not enough history yet to judge unusual days (needs at least 4 earlier"
            " same weekdays).",
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
    if not rows and not int(data.tables["judged"].rows[0][0]):
        caption = "Not enough history yet to judge missing reports (needs 4 weeks of files)."
    elif not rows:
        caption = "Every branch sent a report for every day it usually trades."
    else:
        day, name, _ = rows[0]
        caption = f"{name} sent no report on {day_name(day)}, a day it usually trades"
        caption += f"; {len(rows) - 1} more missing." if len(rows) > 1 else "."
    table = Table(("day", "branch", "region"), [(str(r[0]), r[1], r[2]) for r in rows])
    return Section("missing_reports", "Missing reports", caption, table=table)
