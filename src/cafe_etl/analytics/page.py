"""The report as one self-contained HTML page: opens offline, requests nothing.

plotly.js (4.8 MB) is embedded gzip-compressed and base64-encoded (about 1.9 MB), and unpacked
by the browser's own DecompressionStream, so the file stays under 5 MB. A Content-Security-
Policy of ``default-src 'none'`` forbids every network request; the findings and tables are
plain HTML, readable even where scripts do not run.
"""

import base64
import gzip
import html
from datetime import datetime
from functools import cache

from cafe_etl.analytics.charts import figure
from cafe_etl.analytics.data import Scope, Table
from cafe_etl.analytics.wording import Section

POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline';"
    " img-src data: blob:; font-src data:"
)
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;
background:#f4f6f8}
header{background:#1b3a57;color:#fff;padding:16px}
header h1{margin:0;font-size:1.4em}header p{margin:4px 0 0;opacity:.85}
main{max-width:960px;margin:auto;padding:8px}
section{background:#fff;border-radius:8px;margin:12px 0;padding:12px 16px;
box-shadow:0 1px 2px #0002}
h2{font-size:1.1em;margin:0 0 4px}
.finding{font-size:1.05em;font-weight:600;margin:4px 0 8px}
.note{color:#5b6775;font-size:.9em}
.chart{width:100%;min-height:260px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e3e7eb;white-space:nowrap}
#charts-status{color:#d1495b}
"""
LOADER = """
(async () => {
  const packed = document.getElementById('plotly-gz').textContent;
  const bytes = Uint8Array.from(atob(packed), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const code = await new Response(stream).text();
  const script = document.createElement('script');
  script.textContent = code;
  document.head.appendChild(script);
  const config = {responsive: true, displaylogo: false, displayModeBar: false};
  for (const div of document.querySelectorAll('.chart')) {
    const fig = JSON.parse(document.getElementById(div.dataset.spec).textContent);
    await Plotly.newPlot(div, fig.data, fig.layout, config);
    div.dataset.drawn = 'yes';
  }
  document.body.dataset.charts = 'drawn';
})().catch(error => {
  document.body.dataset.charts = 'failed';
  document.getElementById('charts-status').textContent =
    'Charts cannot be drawn in this browser; the figures above each chart still hold.';
  console.error(error);
});
"""


@cache
def packed_plotly() -> str:
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode(), 6, mtime=0)).decode()


def render(scope: Scope, sections: list[Section], generated: datetime) -> str:
    """The whole page."""
    body = "\n".join(_section(number, s) for number, s in enumerate(sections))
    e = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<title>T2 Cafe trends: {e(scope.label)}</title><style>{STYLE}</style></head>
<body><header><h1>T2 Cafe trends</h1><p>{e(scope.label)}</p>
<p>Generated {generated:%d %b %Y %H:%M}; the warehouse holds sales from {scope.data_first:%d %b %Y}
to {scope.data_last:%d %b %Y}.</p><p id="charts-status"></p></header>
<main>
{body}
</main>
<script id="plotly-gz" type="application/octet-stream">{packed_plotly()}</script>
<script>{LOADER}</script>
</body></html>
"""


def _section(number: int, section: Section) -> str:
    parts = [
        f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>',
        f'<p class="finding">{html.escape(section.caption)}</p>',
    ]
    if section.chart:
        spec_id = f"spec-{number}"
        spec = figure(section.chart).replace("</", "<\\/")
        parts.append(
            f'<div class="chart" data-spec="{spec_id}" role="img"'
            f' aria-label="{html.escape(section.caption)}"></div>'
        )
        parts.append(f'<script id="{spec_id}" type="application/json">{spec}</script>')
    if section.table and section.table.rows:
        parts.append(_table(section.table))
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in section.notes]
    return "\n".join(parts) + "</section>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.rows
    )
    body = f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody>"
    return f'<div class="scroll"><table>{body}</table></div>'
