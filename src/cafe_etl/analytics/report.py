"""``cafe-etl report``: the figures, their findings, and the page or the tables written out."""

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cafe_etl.analytics import findings, page
from cafe_etl.analytics.data import ReportData, Request, collect
from cafe_etl.errors import ConfigError
from cafe_etl.warehouse.base import Warehouse

FORMATS = ("html", "csv", "json")


def default_out(fmt: str) -> Path:
    return Path({"html": "report.html", "csv": "report", "json": "report.json"}[fmt])


def write_report(
    warehouse: Warehouse,
    request: Request,
    out: Path | None = None,
    fmt: str = "html",
    now: datetime | None = None,
) -> Path:
    """Write the report (or, for csv and json, its underlying tables); return where."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out = out or default_out(fmt)
    if not out.parent.is_dir():
        raise ConfigError(f"folder {out.parent} does not exist: create it or choose another --out")
    warehouse.prepare_for_analytics()
    data = collect(warehouse, request)
    try:
        _write(data, out, fmt, now or datetime.now())
    except OSError as error:
        raise ConfigError(f"cannot write {out}: {error.strerror or error}") from None
    return out


def _write(data: ReportData, out: Path, fmt: str, now: datetime) -> None:
    if fmt == "html":
        text = page.render(data.scope, findings.sections(data), now)
        out.write_text(text, encoding="utf-8")
    elif fmt == "json":
        tables = {name: t.dicts() for name, t in data.tables.items()}
        out.write_text(json.dumps(tables, default=_plain, indent=1), encoding="utf-8")
    else:
        out.mkdir(exist_ok=True)
        for name, table in data.tables.items():
            with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as fp:
                writer = csv.writer(fp)
                writer.writerow(table.columns)
                writer.writerows(table.rows)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal | date):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__}")
