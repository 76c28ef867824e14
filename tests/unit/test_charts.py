"""The report's time charts: a one-day period still shows its point, on a date axis."""

import json
from datetime import date
from decimal import Decimal

from cafe_etl.analytics.charts import figure


def test_a_one_day_time_chart_draws_a_marker_on_a_date_axis() -> None:
    spec = {"kind": "lines", "series": {"London": [(date(2026, 11, 2), Decimal("120.50"))]}}
    drawn = json.loads(figure(spec))
    [trace] = drawn["data"]
    assert "markers" in trace["mode"] and trace["x"] == ["2026-11-02"]
    assert drawn["layout"]["xaxis"]["type"] == "date"


def test_a_longer_time_chart_draws_lines_with_markers() -> None:
    days = [(date(2026, 11, d), Decimal(d)) for d in (2, 3, 4)]
    drawn = json.loads(figure({"kind": "lines", "series": {"South West": days}}))
    assert drawn["data"][0]["mode"] == "lines+markers"
    assert drawn["layout"]["xaxis"]["type"] == "date"
