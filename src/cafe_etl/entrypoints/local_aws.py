"""The serverless flow on an emulated AWS: moto's threaded server on the loopback address,
its buckets, queues, notification and SSM parameters made from ``infra/template.yaml``'s own
resource definitions, and a poller that plays the two SQS event source mappings.

The poller does what Lambda's does: it receives up to the mapping's ``BatchSize`` messages
with the queue's visibility timeout, calls the handler in-process with a genuine SQS event,
deletes only the messages not in ``batchItemFailures`` (none when the handler raises), and
leaves the rest for SQS to deliver again, to the dead-letter queue after ``maxReceiveCount``.
The one liberty: a failed message's visibility timeout is ended at once (time passes).
The handlers reach moto through ``AWS_ENDPOINT_URL`` and plain boto3: no test-only path.
Needs the dev dependencies (moto's server, cfn-lint's template reader).
"""

import importlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from cafe_etl.entrypoints.aws_template import ACCOUNT, REGION, TEMPLATE, Template
from cafe_etl.errors import ConfigError

HANDLERS = {
    "TransformFunction": "cafe_etl.entrypoints.aws_transform",
    "LoadFunction": "cafe_etl.entrypoints.aws_load",
}


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalAws:
    """moto on 127.0.0.1 with the template's storage, queues and parameters; ``pump()`` runs
    the event source mappings until the queues are empty."""

    def __init__(self, warehouse: str, *, token_key: str | None, password: str = "unused",
                 template: Path = TEMPLATE) -> None:  # fmt: skip
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._reset()  # moto keeps one state per process: start from an empty account
        self.template = Template(template, self.endpoint)
        self.env = {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                    **self.template.environment(), "CAFE_ETL_WAREHOUSE": warehouse}  # fmt: skip
        self._saved_env = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        self.mappings = self.template.mappings()
        self._loggers = _logger_state()
        self._containers: list[ModuleType] = []
        self.handlers: dict[str, ModuleType] = {}
        self._create(token_key, password)

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    def _create(self, token_key: str | None, password: str) -> None:
        template, s3, sqs = self.template, self.client("s3"), self.client("sqs")
        queues = template.of_type("AWS::SQS::Queue")
        for queue in sorted(queues, key=lambda q: "RedrivePolicy" in template.resources[q].get(
                "Properties", {})):  # fmt: skip
            props = template.resolve(template.resources[queue].get("Properties", {}))
            attributes = {k: json.dumps(v) if isinstance(v, dict) else str(v)
                          for k, v in props.items() if k in _QUEUE_ATTRIBUTES}  # fmt: skip
            sqs.create_queue(QueueName=template.name(queue), Attributes=attributes)
        for bucket in template.of_type("AWS::S3::Bucket"):
            self._create_bucket(s3, bucket)
        secrets = {"TokenKeyParameterName": token_key, "RedshiftPasswordParameterName": password}
        for parameter, value in secrets.items():
            if value is not None:
                self.client("ssm").put_parameter(Name=template.parameters[parameter],
                                                 Value=value, Type="SecureString")  # fmt: skip

    def _create_bucket(self, s3: Any, logical: str) -> None:
        props = self.template.resolve(self.template.resources[logical]["Properties"])
        name = props["BucketName"]
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props[
                "VersioningConfiguration"])  # fmt: skip
        notify = props.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
        configs = [
            {"QueueArn": q["Queue"], "Events": [q["Event"]]}
            | ({"Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}}
               if "Filter" in q else {})
            for q in notify
        ]  # fmt: skip
        if configs:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": configs}
            )

    # -- the event source mappings -----------------------------------------------------------

    def queue_url(self, logical: str) -> str:
        return str(self.template.ref(logical))

    def handler(self, function: str) -> ModuleType:
        """The function's handler module, imported at its first call (its cold start)."""
        if function not in self.handlers:  # loaded afresh: nothing cached from another run
            self.handlers[function] = importlib.reload(importlib.import_module(HANDLERS[function]))
        return self.handlers[function]

    def container(self, function: str) -> ModuleType:
        """Another container of a function: its handler module loaded again, apart from the
        first, with its own connection and caches (as two concurrent invocations have)."""
        import importlib.util

        spec = importlib.util.find_spec(HANDLERS[function])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self._containers.append(module)
        return module

    def update_environment(self, **variables: str) -> None:
        """Change the functions' environment, as ``UpdateFunctionConfiguration`` does: the
        next invocations start new containers."""
        for name in variables:
            self._saved_env.setdefault(name, os.environ.get(name))
        self.env.update(variables)
        os.environ.update(variables)
        self.cold_start()

    def cold_start(self) -> None:
        """New containers: each handler module is loaded afresh (what it cached is gone)."""
        for module in self.handlers.values():
            if hasattr(module, "shutdown"):
                module.shutdown()
            importlib.reload(module)

    def receive(self, function: str) -> list[dict[str, Any]]:
        """One batch as Lambda's poller takes it, as the records of a genuine SQS event."""
        mapping, sqs = self.mappings[function], self.client("sqs")
        url = self.queue_url(mapping.queue)
        records: list[dict[str, Any]] = []
        while len(records) < mapping.batch_size:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(10, mapping.batch_size - len(records)),
                VisibilityTimeout=mapping.visibility, MessageSystemAttributeNames=["All"],
            ).get("Messages", [])  # fmt: skip
            if not got:
                break
            records += [_record(message, self.template.attribute(mapping.queue, "Arn"))
                        for message in got]  # fmt: skip
        return records

    def invoke(self, function: str, records: list[dict[str, Any]]) -> list[str]:
        """Call the handler with these records; delete the ones it did not fail; return the
        failed message IDs (all of them when it raised), made visible again."""
        context = LambdaContext(function, invoked_function_arn=(
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"))  # fmt: skip
        try:
            result = self.handler(function).handler({"Records": records}, context)
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:
            failed = {record["messageId"] for record in records}
        self._settle(function, records, failed)
        return sorted(failed)

    def _settle(self, function: str, records: list[dict[str, Any]], failed: set[str]) -> None:
        sqs, url = self.client("sqs"), self.queue_url(self.mappings[function].queue)
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                       for i, r in enumerate(done[start : start + 10])]  # fmt: skip
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        for record in records:
            if record["messageId"] in failed:  # its visibility timeout runs out at once
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record[
                    "receiptHandle"], VisibilityTimeout=0)  # fmt: skip

    def pump(self, rounds: int = 100) -> int:
        """Run both mappings until their queues are empty (or ``rounds`` batches); the number
        of batches handled. The raw-events queue is drained before each load batch is taken,
        as the load mapping's batching window lets the evening's wave gather."""
        handled = 0
        for _ in range(rounds):
            busy = False
            for function in ("TransformFunction", "LoadFunction"):
                while records := self.receive(function):
                    self.invoke(function, records)
                    busy, handled = True, handled + 1
                    if function == "LoadFunction":
                        break
            if not busy:
                break
        return handled

    def messages(self, logical: str) -> Iterator[dict[str, Any]]:
        """Every message on a queue, left there (received with no visibility timeout)."""
        sqs, url, seen = self.client("sqs"), self.queue_url(logical), set()
        for _ in range(100):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            fresh = [m for m in got.get("Messages", []) if m["MessageId"] not in seen]
            if not fresh:
                return
            for message in fresh:
                seen.add(message["MessageId"])
                yield message

    def redrive(self, dead_letters: str, to: str) -> int:
        """Move every message of a dead-letter queue back to its source queue. SQS's own
        ``StartMessageMoveTask`` does this on AWS; moto has no such task, so the messages are
        sent again and deleted, as the task itself does."""
        sqs, moved = self.client("sqs"), 0
        source, target = self.queue_url(dead_letters), self.queue_url(to)
        while got := sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10,
                                         VisibilityTimeout=30).get("Messages", []):  # fmt: skip
            for message in got:
                sqs.send_message(QueueUrl=target, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return moved

    def upload(self, path: Path, key: str | None = None) -> str:
        """Put a file in the raw bucket (its event goes to the raw-events queue); its key."""
        key = key or path.name
        self.client("s3").put_object(Bucket=self.raw_bucket, Key=key, Body=path.read_bytes())
        return key

    def upload_folder(self, folder: Path) -> int:
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder of raw files")
        files = sorted(folder.rglob("*.csv"))
        for path in files:
            self.upload(path, str(path.relative_to(folder)))
        return len(files)

    @property
    def raw_bucket(self) -> str:
        return self.template.name("RawBucket")

    @property
    def clean_bucket(self) -> str:
        return self.template.name("CleanBucket")

    def _reset(self) -> None:
        import urllib.request

        reset = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass

    def close(self) -> None:
        for module in [*self.handlers.values(), *self._containers]:
            if hasattr(module, "shutdown"):
                module.shutdown()
        self._reset()
        self.server.stop()
        _restore_loggers(self._loggers)  # the handlers' JSON logging ends with their containers
        for name, value in self._saved_env.items():  # the environment as it was
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


LoggerState = dict[str, tuple[list[Any], bool, int]]


def _logger_state() -> LoggerState:
    import logging

    return {
        name: (logger.handlers[:], logger.propagate, logger.level)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }


def _restore_loggers(state: LoggerState) -> None:
    """The library's loggers as they were before the handlers configured them (Powertools
    gives them its JSON handler and stops their propagation)."""
    import logging

    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and name.startswith("cafe_etl"):
            logger.handlers[:], logger.propagate, logger.level = state.get(
                name, ([], True, logging.NOTSET))  # fmt: skip


_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as the record of a Lambda SQS event."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"], "attributes": message.get("Attributes", {}),
        "messageAttributes": {}, "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": REGION,
    }  # fmt: skip
