"""Lambda handler: raw-events queue (S3 ``ObjectCreated`` notifications) -> each object's
clean tables as Parquet in the clean bucket -> one small message per file on the clean queue.

A message fails (and returns in ``batchItemFailures``, for SQS to retry and, after
``maxReceiveCount``, to dead-letter) only when retrying can help or a person must look: a
body that is no S3 notification, S3 or SQS failing. A file that is not a CSV is a rejected
file, sent on like any other; an object deleted since its event is skipped with a warning.
Imports no database driver: the function's artifact carries none.
"""

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

from cafe_etl.bootstrap import TransformWiring, transform_wiring
from cafe_etl.config import load_settings
from cafe_etl.extract.s3 import object_events

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
copy_config_to_registered_loggers(source_logger=logger, include={"cafe_etl"})


@functools.cache
def wiring() -> TransformWiring:
    """Built at the first invocation (cold start): settings, SSM secrets, clients; a failure
    is not cached, so the next invocation tries again."""
    return transform_wiring(load_settings())


def record_handler(record: SQSRecord) -> None:
    events = object_events(record.body)
    if not events:
        logger.info("no ObjectCreated record (an s3:TestEvent?): nothing to do")
    for event in events:
        started = time.perf_counter()
        staged = wiring().stage.stage(event.where, event.sequencer)
        if staged is None:
            metrics.add_metric("FilesGone", MetricUnit.Count, 1)
            continue
        wiring().send(staged)
        logger.info("staged", file=staged.name, rows_read=staged.summary.rows_read,
                    reason=staged.summary.reason)  # fmt: skip
        metrics.add_metric("FilesStaged", MetricUnit.Count, 1)
        metrics.add_metric("RowsRead", MetricUnit.Count, staged.summary.rows_read)
        metrics.add_metric("RowsRejected", MetricUnit.Count, staged.summary.rows_rejected)
        seconds = time.perf_counter() - started
        metrics.add_metric("TransformMilliseconds", MetricUnit.Milliseconds, seconds * 1000)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    wiring()  # a missing setting or SSM parameter fails the invocation, naming it
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
