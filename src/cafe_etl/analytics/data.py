"""The figures behind the report: plain queries over the analytics views, one table each.

Every query takes the period, and the region or branch when one is chosen, as parameters;
the previous period (the same number of days just before) gives the changes.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from cafe_etl.errors import ConfigError
from cafe_etl.regions import UNASSIGNED
from cafe_etl.warehouse.base import Warehouse

DEFAULT_DAYS = 28


@dataclass(frozen=True)
class Request:
    """What the manager asked for: a period (default: the last 28 days with data), and
    optionally one region or one branch."""

    first: date | None = None
    last: date | None = None
    region: str | None = None
    branch: str | None = None


@dataclass(frozen=True)
class Table:
    """Rows of one query, with their column names (what csv and json exports write)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Scope:
    """The period and filter reported on, checked against what the warehouse holds."""

    first: date
    last: date
    region: str | None
    branch: str | None
    data_first: date
    data_last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        return self.first - timedelta(days=self.days), self.first - timedelta(days=1)

    @property
    def previous_gap(self) -> str | None:
        """Why the previous period cannot be compared with, or None when the warehouse's
        data covers all of it: a change against a partly loaded period overstates growth."""
        start, end = self.previous
        if self.data_first <= start:
            return None
        covered = max(0, (end - self.data_first).days + 1)
        if not covered:
            return f"the warehouse holds no sales for the previous {self.days} days"
        return (
            f"the previous {self.days} days are only partly loaded ({covered} of {self.days} days)"
        )

    @property
    def label(self) -> str:
        where = self.branch or self.region or "all branches"
        return f"{where}, {self.first:%d %b %Y} to {self.last:%d %b %Y}"


@dataclass
class ReportData:
    """Every table the report shows, by name."""

    scope: Scope
    tables: dict[str, Table] = field(default_factory=dict)


def resolve_scope(warehouse: Warehouse, request: Request) -> Scope:
    """The period and filter to report on, or a one-line ``ConfigError`` saying what is wrong."""
    span = warehouse.execute("SELECT MIN(business_date), MAX(business_date) FROM transactions")
    data_first, data_last = span[0] if span else (None, None)
    if data_first is None:
        raise ConfigError(_no_sales(warehouse))
    last = request.last or data_last
    first = request.first or max(data_first, last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last and request.last is None:
        raise ConfigError(f"--from {first} is after the last day with sales ({data_last})")
    if first > last:
        raise ConfigError(f"--from {first} is after --to {last}: swap them")
    _check_name(warehouse, "region", request.region)
    _check_name(warehouse, "branch_name", request.branch)
    _check_branch_region(warehouse, request)
    scope = Scope(first, last, request.region, request.branch, data_first, data_last)
    if not warehouse.execute(*_filtered("SELECT 1 FROM branch_daily_sales", scope)):
        raise ConfigError(
            f"no sales for {scope.label}: the warehouse holds {data_first} to {data_last}"
        )
    return scope


def _no_sales(warehouse: Warehouse) -> str:
    """Why the warehouse holds no sales: nothing loaded yet, or every row rejected."""
    files = warehouse.execute("SELECT COUNT(*) FROM loaded_files")
    count = int(files[0][0]) if files else 0
    if not count:
        return "the warehouse holds no sales yet: load till exports first (cafe-etl run)"
    # a file rejected whole has its reason on the ledger, a row its own in rejected_rows
    reasons = warehouse.execute(
        "SELECT reason, COUNT(*) FROM (SELECT reason FROM rejected_rows UNION ALL"
        " SELECT reason FROM loaded_files WHERE reason IS NOT NULL) AS r"
        " GROUP BY reason ORDER BY 2 DESC, 1"
    )
    top = f", most often for {reasons[0][0]}" if reasons else ""
    loaded = (
        f"{count:,} files were loaded but all their rows were"
        if count > 1
        else ("1 file was loaded but all its rows were")
    )
    return f"{loaded} rejected{top}: see cafe-etl status"


def _check_name(warehouse: Warehouse, column: str, value: str | None) -> None:
    if value is None:
        return
    known = [row[0] for row in warehouse.execute(
        f"SELECT DISTINCT {column} FROM branches ORDER BY 1"
    )]  # fmt: skip
    if value not in known:
        kind = "region" if column == "region" else "branch"
        listed = ", ".join(known[:20]) + (", …" if len(known) > 20 else "")
        raise ConfigError(f"unknown {kind} {value!r}: choose one of {listed}")


def _check_branch_region(warehouse: Warehouse, request: Request) -> None:
    """A branch and a region together must agree: else the report would be empty."""
    if request.branch is None or request.region is None:
        return
    rows = warehouse.execute(
        "SELECT region FROM branches WHERE branch_name = ? ORDER BY 1", (request.branch,)
    )
    regions = [row[0] for row in rows]
    if request.region not in regions:
        raise ConfigError(f"{request.branch} is in {' and '.join(regions)}, not {request.region}")


def _filtered(
    sql: str,
    scope: Scope,
    *,
    period: tuple[date, date] | None = None,
    day_column: str | None = "business_date",
) -> tuple[str, list[Any]]:
    """``sql`` (a SELECT over a view with a day column, region and branch_name) restricted to
    the scope; ``period`` replaces the scope's days (the previous period)."""
    clauses: list[str] = []
    params: list[Any] = []
    if day_column:
        clauses.append(f"{day_column} BETWEEN ? AND ?")
        params += list(period or (scope.first, scope.last))
    if scope.region:
        clauses.append("region = ?")
        params.append(scope.region)
    if scope.branch:
        clauses.append("branch_name = ?")
        params.append(scope.branch)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    cut = min(
        (i for i in (sql.find(" GROUP BY "), sql.find(" ORDER BY ")) if i >= 0), default=len(sql)
    )
    return sql[:cut] + where + sql[cut:], params


def query(warehouse: Warehouse, sql: str, scope: Scope, columns: str, **options: Any) -> Table:
    if options.pop("whole_weeks", False):
        # only weeks wholly inside the period: a week's later days may lie after --to
        options["period"] = (scope.first, scope.last - timedelta(days=6))
    statement, params = _filtered(sql, scope, **options)
    return Table(tuple(columns.split()), warehouse.execute(statement, params))


def unassigned(warehouse: Warehouse) -> list[str]:
    rows = warehouse.execute(
        "SELECT branch_name FROM branches WHERE region = ? ORDER BY branch_name", (UNASSIGNED,)
    )
    return [row[0] for row in rows]


QUERIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "region_daily": (
        "SELECT business_date, region, SUM(revenue), COUNT(*) FROM branch_daily_sales"
        " GROUP BY business_date, region ORDER BY business_date, region",
        "business_date region revenue branches",
        {},
    ),
    "branches": (
        "SELECT branch_name, region, SUM(transactions), SUM(revenue), COUNT(*)"
        " FROM branch_daily_sales GROUP BY branch_name, region ORDER BY 4 DESC, 1",
        "branch_name region transactions revenue days",
        {},
    ),
    "busy_hours": (
        "SELECT weekday, hour, SUM(transactions) FROM busy_hours GROUP BY weekday, hour"
        " ORDER BY weekday, hour",
        "weekday hour transactions",
        {},
    ),
    "payment_mix": (
        "SELECT payment_method, SUM(transactions), SUM(revenue) FROM payment_mix"
        " GROUP BY payment_method ORDER BY payment_method",
        "payment_method transactions revenue",
        {},
    ),
    "week_change": (
        "SELECT week_start, branch_name, region, days_compared, revenue, previous_revenue,"
        " change_pct FROM branch_week_change ORDER BY week_start, change_pct DESC, branch_name",
        "week_start branch_name region days_compared revenue previous_revenue change_pct",
        {"day_column": "week_start", "whole_weeks": True},
    ),
    "unusual_days": (
        "SELECT business_date, branch_name, region, revenue, usual_revenue, deviation,"
        " direction FROM unusual_days ORDER BY business_date, branch_name",
        "business_date branch_name region revenue usual_revenue deviation direction",
        {},
    ),
    "missing_reports": (
        "SELECT business_date, branch_name, region FROM missing_reports"
        " ORDER BY business_date, branch_name",
        "business_date branch_name region",
        {},
    ),
    "repeat_visits": (
        "SELECT business_date, SUM(identified_transactions), SUM(repeat_transactions)"
        " FROM repeat_visits GROUP BY business_date ORDER BY business_date",
        "business_date identified_transactions repeat_transactions",
        {},
    ),
    "rejected_rows": (
        "SELECT business_date, reason, SUM(rejected_rows) FROM rejected_rows_daily"
        " GROUP BY business_date, reason ORDER BY business_date, reason",
        "business_date reason rejected_rows",
        {},
    ),
}


# the history the signals' views need (021_analytics_views.sql): a missing report needs a file
# on 3 of the 4 same weekdays before it, an unusual day 4 traded of the 8 before it
MISSING_WEEKS, MISSING_NEEDED = 4, 3
UNUSUAL_WEEKS, UNUSUAL_NEEDED = 8, 4
FILE_DAYS = (
    "SELECT business_date, branch_name FROM (SELECT DISTINCT f.business_date, b.branch_name,"
    " b.region FROM loaded_files f JOIN branches b ON b.branch_id = f.branch_id"
    " WHERE f.status = 'loaded') AS h"
)
SALES_DAYS = "SELECT business_date, branch_name FROM branch_daily_sales"


def judged(warehouse: Warehouse, scope: Scope) -> Table:
    """How many branch-days of the period have the history each signal needs: with none,
    "no missing report" or "no unusual day" would claim more than the data can tell."""
    counts = []
    for sql, weeks, needed, traded_only in (
        (FILE_DAYS, MISSING_WEEKS, MISSING_NEEDED, False),
        (SALES_DAYS, UNUSUAL_WEEKS, UNUSUAL_NEEDED, True),
    ):
        since = (scope.first - timedelta(days=7 * weeks), scope.last)
        seen = {(row[1], row[0]) for row in warehouse.execute(*_filtered(sql, scope, period=since))}
        branches = {name for name, _ in seen}
        days = [scope.first + timedelta(days=n) for n in range(scope.days)]
        counts.append(sum(
            1
            for name in branches
            for day in days
            if (not traded_only or (name, day) in seen)
            and sum((name, day - timedelta(days=7 * k)) in seen for k in range(1, weeks + 1))
            >= needed
        ))  # fmt: skip
    return Table(("missing_reports", "unusual_days"), [tuple(counts)])


def headline(branches: Table) -> Table:
    """Transactions, revenue, branches and branch-days of a period, from its branch table."""
    rows = branches.rows
    totals = (
        sum(int(r[2]) for r in rows),
        sum((Decimal(r[3]) for r in rows), Decimal(0)),
        len(rows),
        sum(int(r[4]) for r in rows),
    )
    return Table(("transactions", "revenue", "branches", "branch_days"), [totals])


def collect(warehouse: Warehouse, request: Request) -> ReportData:
    """Every table the report shows, for the requested scope."""
    scope = resolve_scope(warehouse, request)
    data = ReportData(scope)
    for name, (sql, columns, options) in QUERIES.items():
        data.tables[name] = query(warehouse, sql, scope, columns, **options)
    sql, columns, _ = QUERIES["branches"]
    data.tables["previous_branches"] = query(warehouse, sql, scope, columns, period=scope.previous)
    # the totals from the branch tables: every query over the facts costs a scan of them
    data.tables["headline"] = headline(data.tables["branches"])
    data.tables["previous_headline"] = headline(data.tables["previous_branches"])
    from cafe_etl.analytics.products import PRODUCT_DAYS, product_tables

    days = warehouse.execute(*_filtered(PRODUCT_DAYS, scope, day_column=None))
    data.tables.update(product_tables(days, scope))
    data.tables["judged"] = judged(warehouse, scope)
    data.tables["unassigned"] = Table(("branch_name",), [(n,) for n in unassigned(warehouse)])
    return data
