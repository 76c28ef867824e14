"""``cafe-etl run s3://bucket/prefix`` reads raw files from S3 through the same storage code
as the transform handler, and loads them as it loads a folder."""

from datetime import date
from pathlib import Path

import boto3
import pytest

from cafe_etl.generate import generate
from conftest import Cli, Etl


def test_run_loads_an_s3_prefix_as_it_loads_the_same_folder(
    aws: None, cli: Cli, etl: Etl, tmp_path: Path
) -> None:
    # GIVEN three branch files under a prefix (keys with a space among them) and one beside it
    files = generate(tmp_path / "landing", branches=3, days=1, start=date(2026, 12, 4)).files
    s3 = boto3.client("s3")
    for path in files:
        s3.put_object(Bucket="cafe-clean", Key=f"raw 2026/{path.name}", Body=path.read_bytes())
    s3.put_object(Bucket="cafe-clean", Key="elsewhere/x.csv", Body=b"not, this")
    # WHEN the CLI runs on the prefix
    result = cli("run", "s3://cafe-clean/raw 2026/")
    # THEN the three files are loaded, located in S3, and the rows are the folder's
    assert result.exit_code == 0, result.output
    ledger = etl.ledger()
    assert sorted(row["file_name"] for row in ledger) == sorted(p.name for p in files)
    assert all(row["source_uri"].startswith("s3://cafe-clean/raw%202026/") for row in ledger)
    reference = Etl(f"duckdb:///{tmp_path}/reference.duckdb")
    reference.run(tmp_path / "landing")
    assert etl.scalar("SELECT SUM(total_amount) FROM transactions") == reference.scalar(
        "SELECT SUM(total_amount) FROM transactions"
    )
    # AND reprocess reads the objects back from S3
    again = cli("reprocess", "--all")
    assert again.exit_code == 0, again.output
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == reference.scalar(
        "SELECT COUNT(*) FROM transactions"
    )


def test_a_missing_bucket_is_one_line_naming_it(aws: None, cli: Cli) -> None:
    result = cli("run", "s3://no-such-bucket/raw")
    assert result.exit_code == 1
    assert "cannot list s3://no-such-bucket/raw: NoSuchBucket" in result.output


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("NoSuchVersion", "skipped"), ("AccessDenied", "retried"), ("SlowDown", "retried")],
)
def test_only_an_object_that_is_gone_is_skipped_any_other_s3_failure_is_retried(
    aws: None, code: str, outcome: str
) -> None:
    import boto3
    from botocore.exceptions import ClientError

    from cafe_etl.errors import TransientError
    from cafe_etl.extract.s3 import S3Location, S3Storage
    from cafe_etl.service.stage_files import StageFiles
    from cafe_etl.transform.redact import Tokeniser

    s3 = boto3.client("s3")
    s3.put_object(Bucket="cafe-clean", Key="in/leeds_04-12-2026_09-00-00.csv", Body=b"x")

    def fail(**_: object) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "GetObject")

    s3.meta.events.register("before-call.s3.GetObject", fail)
    stage = StageFiles(S3Storage(s3), "cafe-clean", Tokeniser(None))
    where = S3Location("cafe-clean", "in/leeds_04-12-2026_09-00-00.csv", None)
    if outcome == "skipped":  # deleted since its event: nothing to load, nothing to retry
        assert stage.stage(where) is None
    else:  # the message fails: SQS redelivers it, then dead-letters it
        with pytest.raises(TransientError, match=code):
            stage.stage(where)
