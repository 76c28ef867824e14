"""Plotly figures for the report's sections, as JSON the page draws (no plotly.js here)."""

from typing import Any

COLOURS = (
    "#1b6ca8",
    "#d1495b",
    "#edae49",
    "#00798c",
    "#30638e",
    "#66a182",
    "#8d96a3",
    "#003d5b",
    "#b5651d",
    "#6a4c93",
    "#2a9d8f",
    "#e76f51",
)
LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
    "height": 360,
    "autosize": True,
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "legend": {"orientation": "h", "y": -0.2},
    "colorway": list(COLOURS),
}


def figure(spec: dict[str, Any]) -> str:
    """The JSON of a plotly figure for a section's chart spec."""
    import plotly.graph_objects as go

    build = {"lines": _lines, "bars": _bars, "heatmap": _heatmap, "pie": _pie}[spec["kind"]]
    fig = go.Figure(build(spec, go))
    fig.update_layout(**LAYOUT)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if spec["kind"] == "lines":
        # days are dates: a single day must not fall back to a numeric or category axis
        fig.update_xaxes(type="date")
    if spec["kind"] == "lines" and len(spec["series"]) > 3:
        # the legend sits under the plot, one name a line on a phone: room for every name
        fig.update_layout(height=300 + 22 * len(spec["series"]))
    if spec["kind"] == "bars":
        fig.update_layout(height=max(260, 28 * len(spec["labels"]) + 60))
        fig.update_yaxes(autorange="reversed")
    return str(fig.to_json())


def _lines(spec: dict[str, Any], go: Any) -> list[Any]:
    return [
        go.Scatter(
            x=[day.isoformat() for day, _ in points],
            y=[float(v) for _, v in points],
            # one day is one point: a line alone draws nothing, a marker shows it
            mode="lines+markers" if len(points) > 1 else "markers",
            name=name,
            hovertemplate=f"{name}: %{{y:,.1f}}{spec.get('unit', '')}<extra>%{{x}}</extra>",
        )
        for name, points in sorted(spec["series"].items())
    ]


def _bars(spec: dict[str, Any], go: Any) -> list[Any]:
    values = [float(v) for v in spec["values"]]
    unit = spec.get("unit", "")
    text = [
        f"£{v:,.0f}" if unit == "£" else f"{v:,.1f}{unit}" if unit else f"{v:,.0f}" for v in values
    ]
    colours = [COLOURS[0] if v >= 0 else COLOURS[1] for v in values]
    return [
        go.Bar(
            y=spec["labels"],
            x=values,
            orientation="h",
            text=text,
            textposition="auto",
            marker_color=colours,
            hoverinfo="y+text",
        )
    ]


def _heatmap(spec: dict[str, Any], go: Any) -> list[Any]:
    grid = spec["grid"]
    hours = sorted({hour for _, hour in grid})
    z = [[float(grid.get((weekday, hour), 0)) for hour in hours] for weekday in range(1, 8)]
    return [
        go.Heatmap(
            z=z,
            x=[f"{h:02d}:00" for h in hours],
            y=list(spec["weekdays"]),
            colorscale="Blues",
            hovertemplate="%{y} %{x}: %{z:.0f} sales<extra></extra>",
            showscale=False,
        )
    ]


def _pie(spec: dict[str, Any], go: Any) -> list[Any]:
    return [
        go.Pie(
            labels=spec["labels"],
            values=spec["values"],
            hole=0.5,
            sort=False,
            marker={"colors": list(COLOURS[:2])},
        )
    ]
