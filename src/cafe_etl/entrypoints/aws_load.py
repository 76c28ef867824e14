"""Lambda handler: clean queue -> every message's staged file into the warehouse, the whole
batch in one transaction (one COPY per table, one commit). A file that fails returns only its
own message in ``batchItemFailures``; the others stay loaded. No DuckDB here."""

import functools
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cafe_etl.bootstrap import load_wiring
from cafe_etl.config import load_settings
from cafe_etl.service.load_staged import LoadStaged, StagedRun, version
from cafe_etl.service.staged import BadMessage, StagedFile

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
copy_config_to_registered_loggers(source_logger=logger, include={"cafe_etl"})


@functools.cache
def service() -> LoadStaged:
    """Built at the first invocation (cold start): settings, password, connection, schema;
    a failure is not cached, so the next invocation tries again."""
    return load_wiring(load_settings())


def load_batch(records: list[dict[str, Any]]) -> dict[str, Exception]:
    """Load the batch's staged files together; the failure of each message that failed."""
    parsed: dict[str, StagedFile] = {}
    failed: dict[str, Exception] = {}
    for record in records:
        try:
            parsed[record["messageId"]] = StagedFile.from_json(record["body"])
        except BadMessage as error:
            failed[record["messageId"]] = error
    started = time.perf_counter()
    run = service().load(parsed.values())
    _report(run, time.perf_counter() - started)
    for message_id, staged in parsed.items():
        if (problem := run.failed.get(version(staged))) is not None:
            failed[message_id] = problem
    return failed


def _report(run: StagedRun, seconds: float) -> None:
    for outcome in run.outcomes:
        metrics.add_metric(f"Files{outcome.status.value.title()}", MetricUnit.Count, 1)
    metrics.add_metric("RowsLoaded", MetricUnit.Count, sum(o.rows_loaded for o in run.outcomes))
    metrics.add_metric("FilesFailed", MetricUnit.Count, len(run.failed))
    metrics.add_metric("LoadBatchMilliseconds", MetricUnit.Milliseconds, seconds * 1000)
    logger.info("batch loaded", files=len(run.outcomes), failed=len(run.failed))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    failed = load_batch(event["Records"])

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise failed[record.message_id]

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def shutdown() -> None:
    """Close the warehouse connection, as a container's end does."""
    if service.cache_info().currsize:
        service().warehouse.close()
        service.cache_clear()
