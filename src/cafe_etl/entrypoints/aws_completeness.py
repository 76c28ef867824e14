"""Lambda handler run by the EventBridge Scheduler after the evening's deadline: which
branches sent no file today (Europe/London)? Their number is the ``MissingBranches`` metric
(its alarm notifies the team) and their names are in the log. An event may name the day
(``{"date": "2026-12-05"}``) to check another."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from cafe_etl.config import load_settings
from cafe_etl.service.completeness import missing_branches
from cafe_etl.warehouse import connect

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings()
    given = (event or {}).get("date")
    day = date.fromisoformat(given) if given else datetime.now(ZoneInfo(settings.timezone)).date()
    warehouse = connect(settings.warehouse, create=False, password=settings.warehouse_password())
    try:
        missing = missing_branches(warehouse, day, settings.expected_within_days)
    finally:
        warehouse.close()
    metrics.add_metric("MissingBranches", MetricUnit.Count, len(missing))
    if missing:
        logger.warning("branches with no file", date=day.isoformat(), missing=missing)
    else:
        logger.info("every expected branch sent a file", date=day.isoformat())
    return {"date": day.isoformat(), "missing": missing}
