"""The serverless flow end to end on an emulated AWS (``entrypoints/local_aws.py``): moto's
threaded server built from infra/template.yaml, both handlers called with genuine SQS
events by a poller that deletes only what they processed, PostgreSQL standing in for
Redshift. After every fault the warehouse must hold what the CLI makes of the same files.
"""

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cafe_etl.entrypoints.local_aws import LambdaContext, LocalAws
from cafe_etl.errors import ConfigError
from cafe_etl.generate import generate
from conftest import Cli, Etl

from .test_personal_data import write_identifying_inputs

pytestmark = pytest.mark.postgres
KEY = "aws-flow-token-key"
DAY = date(2026, 12, 4)


@pytest.fixture
def flow(postgres_url: str) -> Iterator[LocalAws]:
    emulated = LocalAws(postgres_url, token_key=KEY)
    try:
        yield emulated
    finally:
        emulated.close()


def cli_run(folder: Path, url: str) -> dict[str, Any]:
    """What the CLI makes of a folder: the comparison for every case."""
    etl = Etl(url, token_key=KEY)
    etl.run(folder)
    return contents(etl)


def contents(etl: Any) -> dict[str, Any]:
    snapshot = etl.snapshot(loaded_at=False)
    snapshot.pop("source_sequencers", None)  # the serverless flow's own bookkeeping
    snapshot.pop("schema_migrations", None)  # applied at other moments
    snapshot["loaded_files"] = sorted(
        (row[1], *row[3:])
        for row in etl.query(  # no source_uri: s3:// here, file:// there
            "SELECT file_id, file_name, source_uri, sha256, branch_id, business_date, variant,"
            " status, reason, rows_read, rows_loaded, rows_rejected FROM loaded_files"
        )
    )
    return snapshot


def warehouse(url: str) -> Etl:
    return Etl(url, token_key=KEY)


def branch_files(folder: Path, branches: int) -> list[Path]:
    return generate(folder, branches=branches, days=1, start=DAY, seed=12).files


def dead_letters(flow: LocalAws) -> dict[str, int]:
    return {q: len(list(flow.messages(q)))
            for q in ("RawEventsDeadLetterQueue", "CleanEventsDeadLetterQueue")}  # fmt: skip


def test_120_branch_files_reach_the_warehouse_exactly_once(
    flow: LocalAws, tmp_path: Path, postgres_server_url: str
) -> None:
    import postgres_server

    # GIVEN an evening of 120 branch files dropped into the raw bucket
    files = branch_files(tmp_path / "landing", 120)
    for path in files:
        flow.upload(path)
    # WHEN the event source mappings run until the queues are empty
    flow.pump()
    # THEN every file is loaded once, exactly as the CLI loads the same folder
    served = contents(warehouse(flow.env["CAFE_ETL_WAREHOUSE"]))
    expected = cli_run(tmp_path / "landing", postgres_server.fresh_database(postgres_server_url))
    assert [row[5] for row in served["loaded_files"]] == ["loaded"] * 120
    assert served == expected
    assert dead_letters(flow) == {"RawEventsDeadLetterQueue": 0, "CleanEventsDeadLetterQueue": 0}


@pytest.fixture
def six(tmp_path: Path) -> list[Path]:
    return branch_files(tmp_path / "landing", 6)


@pytest.fixture
def expected(six: list[Path], tmp_path: Path, postgres_server_url: str) -> dict[str, Any]:
    import postgres_server

    return cli_run(tmp_path / "landing", postgres_server.fresh_database(postgres_server_url))


def served(flow: LocalAws) -> dict[str, Any]:
    return contents(warehouse(flow.env["CAFE_ETL_WAREHOUSE"]))


def test_a_message_delivered_twice_changes_nothing(
    flow: LocalAws, six: list[Path], expected: dict[str, Any]
) -> None:
    for path in six:
        flow.upload(path)
    raw = flow.receive("TransformFunction")
    # WHEN every raw event and every clean message comes twice
    sqs = flow.client("sqs")
    for record in raw:
        sqs.send_message(QueueUrl=flow.queue_url("RawEventsQueue"), MessageBody=record["body"])
    flow.invoke("TransformFunction", raw)
    clean = flow.receive("LoadFunction")
    for record in clean:
        sqs.send_message(QueueUrl=flow.queue_url("CleanEventsQueue"), MessageBody=record["body"])
    flow.invoke("LoadFunction", clean)
    flow.pump()
    # THEN the warehouse holds each file once
    assert served(flow) == expected


def test_two_loads_of_overlapping_batches_at_once_load_each_file_once(
    flow: LocalAws, six: list[Path], expected: dict[str, Any]
) -> None:
    for path in six:
        flow.upload(path)
    flow.invoke("TransformFunction", flow.receive("TransformFunction"))
    records = flow.receive("LoadFunction")
    assert len(records) == 6
    handlers = [flow.handler("LoadFunction").handler, flow.container("LoadFunction").handler]
    results: list[Any] = []
    context = LambdaContext("LoadFunction")

    def invoke(handler: Any, part: list[dict[str, Any]]) -> None:
        results.append(handler({"Records": part}, context))

    # WHEN two containers take overlapping batches (files 0-3 and 2-5) at the same moment
    parts = (records[:4], records[2:])
    pairs = zip(handlers, parts, strict=True)
    threads = [threading.Thread(target=invoke, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN neither failed a message, and each file is in the warehouse once
    assert [r["batchItemFailures"] for r in results] == [[], []]
    assert served(flow) == expected


def s3_event(bucket: str, key: str, version_id: str, sequencer: str) -> str:
    """An ObjectCreated notification as S3 writes it (notification-content-structure.html).
    moto 5.2's own notifications carry neither ``versionId`` nor ``sequencer``, so the case
    that depends on them sends S3's shape itself."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": bucket},
            "object": {
                "key": key.replace(" ", "+"),
                "versionId": version_id,
                "sequencer": sequencer,
            },
        },
    }
    return json.dumps({"Records": [record]})


def test_a_corrected_file_wins_even_when_its_event_comes_first(
    flow: LocalAws, six: list[Path], tmp_path: Path, postgres_server_url: str
) -> None:
    import postgres_server

    # GIVEN a file uploaded, then a corrected version under the same key (versioned bucket)
    original = six[0]
    corrected = tmp_path / "corrected" / original.name
    corrected.parent.mkdir()
    corrected.write_bytes(b"".join(original.read_bytes().splitlines(keepends=True)[:-5]))
    s3, sqs = flow.client("s3"), flow.client("sqs")
    first = s3.put_object(Bucket=flow.raw_bucket, Key=original.name, Body=original.read_bytes())
    second = s3.put_object(Bucket=flow.raw_bucket, Key=original.name, Body=corrected.read_bytes())
    sqs.purge_queue(QueueUrl=flow.queue_url("RawEventsQueue"))
    raw = flow.queue_url("RawEventsQueue")
    # WHEN the corrected file's event is handled and loaded before the original's
    sqs.send_message(QueueUrl=raw, MessageBody=s3_event(
        flow.raw_bucket, original.name, second["VersionId"], "0062A1F0B2C3D4E5F7"))  # fmt: skip
    flow.pump()
    sqs.send_message(QueueUrl=raw, MessageBody=s3_event(
        flow.raw_bucket, original.name, first["VersionId"], "62A1F0B2C3D4E5F6"))  # fmt: skip
    flow.pump()
    # THEN the corrected rows stay loaded and the original is recorded as superseded
    state = served(flow)
    expected = cli_run(corrected.parent, postgres_server.fresh_database(postgres_server_url))
    assert sorted(r[5] for r in state["loaded_files"]) == ["loaded", "superseded"]
    loaded = [r for r in state["loaded_files"] if r[5] == "loaded"]
    assert loaded == expected["loaded_files"]
    assert {t: v for t, v in state.items() if t != "loaded_files"} == {
        t: v for t, v in expected.items() if t != "loaded_files"
    }


def test_a_database_down_ends_in_the_dead_letter_queue_and_a_redrive_loads_it(
    postgres_url: str, six: list[Path], expected: dict[str, Any]
) -> None:
    from cafe_etl.entrypoints.local_aws import free_port

    # GIVEN the warehouse unreachable while the files arrive
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    flow = LocalAws(down, token_key=KEY)
    try:
        for path in six:
            flow.upload(path)
        # WHEN the load is retried until SQS gives up (maxReceiveCount 5)
        flow.pump()
        assert dead_letters(flow) == {"RawEventsDeadLetterQueue": 0,
                                      "CleanEventsDeadLetterQueue": 6}  # fmt: skip
        # THEN, the database back, a redrive of the dead letters loads every file once
        flow.update_environment(CAFE_ETL_WAREHOUSE=postgres_url)
        assert flow.redrive("CleanEventsDeadLetterQueue", "CleanEventsQueue") == 6
        flow.pump()
        assert served(flow) == expected
        assert dead_letters(flow)["CleanEventsDeadLetterQueue"] == 0
    finally:
        flow.close()


def test_bad_objects_and_messages_are_recorded_or_dead_lettered_never_half_loaded(
    flow: LocalAws, six: list[Path], tmp_path: Path, postgres_server_url: str
) -> None:
    import postgres_server

    # GIVEN good files, a JSON file, an object whose version is deleted before its event is
    # handled, and a message that is no S3 event on each queue
    for path in six:
        flow.upload(path)
    export = tmp_path / "export.csv"
    export.write_text(json.dumps([{"customer": "someone", "total": 2}], indent=2))
    flow.upload(export)
    gone = tmp_path / "gone" / "york_04-12-2026_09-00-00.csv"
    gone.parent.mkdir()
    gone.write_bytes(six[0].read_bytes().replace(b"Chesterfield", b"York"))
    flow.upload(gone)
    s3 = flow.client("s3")
    versions = s3.list_object_versions(Bucket=flow.raw_bucket, Prefix=gone.name)["Versions"]
    s3.delete_object(Bucket=flow.raw_bucket, Key=gone.name, VersionId=versions[0]["VersionId"])
    sqs = flow.client("sqs")
    sqs.send_message(QueueUrl=flow.queue_url("RawEventsQueue"), MessageBody="{not json")
    sqs.send_message(QueueUrl=flow.queue_url("CleanEventsQueue"), MessageBody='{"format": 9}')
    # WHEN the flow runs
    flow.pump()
    # THEN the JSON file is a rejected file, the gone one is skipped, the malformed messages
    # are in the dead-letter queues, and the rest is what the CLI loads
    landing = tmp_path / "landing"
    (landing / "export.csv").write_bytes(export.read_bytes())
    expected = cli_run(landing, postgres_server.fresh_database(postgres_server_url))
    assert served(flow) == expected
    assert ("export.csv", "rejected", "not_csv") in {
        (r[0], r[5], r[6]) for r in served(flow)["loaded_files"]
    }
    assert dead_letters(flow) == {"RawEventsDeadLetterQueue": 1, "CleanEventsDeadLetterQueue": 1}


def test_a_missing_ssm_parameter_fails_the_cold_start_naming_it(postgres_url: str) -> None:
    flow = LocalAws(postgres_url, token_key=None)  # the token key's SecureString not created
    try:
        name = flow.template.parameters["TokenKeyParameterName"]
        with pytest.raises(ConfigError, match=f"cannot read SSM parameter {name}"):
            flow.handler("TransformFunction").handler({"Records": []}, LambdaContext("T"))
    finally:
        flow.close()


def test_no_name_or_card_number_reaches_a_log_a_message_an_object_or_a_table(
    flow: LocalAws, tmp_path: Path
) -> None:
    logs = capture_logs(flow)
    # GIVEN files full of names and card numbers, of every variant and reject reason
    landing = tmp_path / "pii"
    landing.mkdir()
    identifiers = write_identifying_inputs(landing)
    uploaded = flow.upload_folder(landing)
    assert uploaded > 5
    sqs = flow.client("sqs")
    sqs.send_message(QueueUrl=flow.queue_url("CleanEventsQueue"), MessageBody="garbage")
    # WHEN the flow runs, keeping a copy of every message it handles
    seen: list[str] = []
    for _ in range(50):
        busy = False
        for function in ("TransformFunction", "LoadFunction"):
            if records := flow.receive(function):
                seen += [r["body"] for r in records]
                flow.invoke(function, records)
                busy = True
        if not busy:
            break
    seen += [m["Body"] for q in ("RawEventsDeadLetterQueue", "CleanEventsDeadLetterQueue")
             for m in flow.messages(q)]  # fmt: skip
    # THEN none holds a name or a card number
    s3 = flow.client("s3")
    objects = s3.list_objects_v2(Bucket=flow.clean_bucket).get("Contents", [])
    clean = [s3.get_object(Bucket=flow.clean_bucket, Key=o["Key"])["Body"].read() for o in objects]
    assert len(clean) > 5
    texts = {
        "logs": logs.getvalue(),
        "messages": "\n".join(seen),
        "clean objects": "\n".join(body.decode("latin-1") for body in clean),
        "tables": warehouse(flow.env["CAFE_ETL_WAREHOUSE"]).all_text(),
    }
    assert "staged" in texts["logs"]  # the handlers' JSON lines were captured
    assert {where: identifiers.found_in(text) for where, text in texts.items()} == {
        where: [] for where in texts
    }


def capture_logs(flow: LocalAws) -> io.StringIO:
    """Every JSON line the handlers' loggers write from now on, also written here."""
    for function in ("TransformFunction", "LoadFunction"):
        flow.handler(function)  # cold start: the loggers exist
    lines = io.StringIO()
    formatter = logging.getLogger("cafe-etl").handlers[0].formatter
    names = ["cafe-etl", *(n for n in logging.root.manager.loggerDict if n.startswith("cafe_etl"))]
    for name in names:
        handler = logging.StreamHandler(lines)
        handler.setFormatter(formatter)
        logging.getLogger(name).addHandler(handler)
    return lines


def test_a_file_that_fails_to_load_fails_only_its_own_message(
    flow: LocalAws, six: list[Path]
) -> None:
    # GIVEN six staged files, one of whose clean objects has gone
    for path in six:
        flow.upload(path)
    flow.invoke("TransformFunction", flow.receive("TransformFunction"))
    records = flow.receive("LoadFunction")
    lost = json.loads(records[2]["body"])
    bucket, _, key = lost["objects"]["transactions"][0].removeprefix("s3://").partition("/")
    flow.client("s3").delete_object(Bucket=bucket, Key=key)
    # WHEN the load handler takes the batch
    failed = flow.invoke("LoadFunction", records)
    # THEN only that file's message fails; the other five are loaded, it has no row at all
    assert failed == [records[2]["messageId"]]
    state = warehouse(flow.env["CAFE_ETL_WAREHOUSE"])
    ledger = {row["file_name"]: row["status"] for row in state.ledger()}
    assert ledger == {path.name: "loaded" for path in six if path.name != lost["name"]}
    assert state.scalar("SELECT COUNT(*) FROM transactions WHERE file_id = ?",
                        (lost["file_id"],)) == 0  # fmt: skip


def test_the_local_aws_command_runs_the_flow_and_shows_what_was_loaded(
    postgres_url: str, tmp_path: Path
) -> None:
    files = branch_files(tmp_path / "evening", 3)
    cli = Cli({"CAFE_ETL_TOKEN_KEY": KEY})
    result = cli("local-aws", tmp_path / "evening", "-w", postgres_url)
    assert result.exit_code == 0, result.output
    assert "uploaded 3 files" in result.output
    ledger = warehouse(postgres_url).ledger()
    assert sorted((r["file_name"], r["status"]) for r in ledger) == sorted(
        (path.name, "loaded") for path in files
    )
    refused = cli("local-aws", tmp_path / "evening", "-w", f"duckdb:///{tmp_path}/x.duckdb")
    assert refused.exit_code == 1 and "give a PostgreSQL warehouse" in refused.output
    keyless = Cli({})("local-aws", tmp_path / "evening", "-w", postgres_url)
    assert keyless.exit_code == 1 and "set CAFE_ETL_TOKEN_KEY" in keyless.output
