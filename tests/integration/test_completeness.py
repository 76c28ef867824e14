"""The completeness check the scheduler runs: branches expected on a day that sent no file."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from cafe_etl.entrypoints.local_aws import LambdaContext
from cafe_etl.generate import generate
from conftest import Etl


def test_the_completeness_check_names_the_branch_that_sent_nothing(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # GIVEN two days of three branches, the third of which skipped the second day
    start = date(2026, 12, 3)
    result = generate(tmp_path / "landing", branches=3, days=2, start=start, seed=4)
    assert result.signals.skipped_day == start + timedelta(days=1)
    skipped_branch = result.signals.skipped_branch
    Etl(postgres_url).run(tmp_path / "landing")
    monkeypatch.setenv("CAFE_ETL_WAREHOUSE", postgres_url)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CafeEtlTest")
    from cafe_etl.entrypoints import aws_completeness

    # WHEN the check runs for each day
    first = aws_completeness.handler({"date": start.isoformat()}, LambdaContext("Completeness"))
    second_day = (start + timedelta(days=1)).isoformat()
    second = aws_completeness.handler({"date": second_day}, LambdaContext("Completeness"))
    # THEN the first day is complete and the second names the branch, in the log and metric
    assert first == {"date": start.isoformat(), "missing": []}
    assert second == {"date": second_day, "missing": [skipped_branch]}
    output = capsys.readouterr().out
    assert '"MissingBranches":[1.0]' in output
