"""``python -m cafe_etl``: the same as the ``cafe-etl`` command."""

from cafe_etl.entrypoints.cli import app

app(prog_name="cafe-etl")
