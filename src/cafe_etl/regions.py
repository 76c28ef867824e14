"""Each branch's UK region, from the reference file shipped with the package."""

import csv
import io
from functools import cache
from importlib import resources

UNASSIGNED = "Unassigned"


@cache
def _regions() -> dict[str, str]:
    text = (resources.files("cafe_etl") / "data" / "regions.csv").read_text(encoding="utf-8")
    return {row["town"].casefold(): row["region"] for row in csv.DictReader(io.StringIO(text))}


def region_of(branch_name: str) -> str:
    """The region of a branch named after its town, or ``Unassigned``."""
    return _regions().get(branch_name.strip().casefold(), UNASSIGNED)
