"""Take the README's screenshot of a report with the headless Chromium the tests use.

    uv run cafe-etl demo && uv run python docs/screenshot.py demo/report.html docs/report.png
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PHONE = {"width": 430, "height": 1400}


def main(report: Path, png: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport=PHONE, device_scale_factor=1)
        page.goto(report.resolve().as_uri())
        page.wait_for_function("document.body.dataset.charts === 'drawn'", timeout=60_000)
        page.screenshot(path=str(png), full_page=False)
        browser.close()
    print(f"wrote {png}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
