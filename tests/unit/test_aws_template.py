"""The SAM template passes cfn-lint, and says what the flow relies on; sequencers order as
AWS documents; a staged-file message carries what the ledger needs and nothing else."""

import json
from pathlib import Path
from typing import Any

import pytest

from cafe_etl.entrypoints.aws_template import TEMPLATE, Template
from cafe_etl.model import FileSummary
from cafe_etl.service.staged import BadMessage, StagedFile, StagedObject, newer

pytest.importorskip("cfnlint")


def test_the_template_passes_cfn_lint() -> None:
    from cfnlint.api import lint_all

    problems = lint_all(TEMPLATE.read_text())  # errors and warnings, as `cfn-lint` reports
    assert [str(p) for p in problems if p.rule.id[0] in "EW"] == []


def test_the_template_holds_the_flow_the_handlers_rely_on() -> None:
    template = Template(TEMPLATE)
    mappings = template.mappings()
    assert {m.function: m.queue for m in mappings.values()} == {
        "TransformFunction": "RawEventsQueue", "LoadFunction": "CleanEventsQueue"}  # fmt: skip
    for mapping in mappings.values():
        timeout = template.resources[mapping.function]["Properties"]["Timeout"]
        assert mapping.visibility >= 6 * timeout
    for dlq in ("RawEventsDeadLetterQueue", "CleanEventsDeadLetterQueue"):
        assert template.resources[dlq]["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    text = Path(TEMPLATE).read_text()
    assert 'Action: "*"' not in text and "Action: '*'" not in text


def test_with_iam_authentication_the_functions_store_no_password_and_may_get_credentials() -> None:
    by_password = Template(TEMPLATE)
    environment = by_password.environment()
    assert "auth=iam" not in environment["CAFE_ETL_WAREHOUSE"]
    assert environment["CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER"] == "/cafe-etl/redshift/password"
    by_iam = Template(TEMPLATE)
    by_iam.parameters |= {"RedshiftAuth": "iam", "RedshiftClusterIdentifier": "cafe"}
    environment = by_iam.environment()
    assert environment["CAFE_ETL_WAREHOUSE"].endswith(
        "&region=eu-west-2&auth=iam&cluster_identifier=cafe"
    )
    assert "CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER" not in environment
    assert "redshift:GetClusterCredentials" in _actions(by_iam, "LoadRole")
    assert "ssm:GetParameter" not in _actions(by_iam, "LoadRole")
    assert "redshift:GetClusterCredentials" not in _actions(by_password, "LoadRole")
    assert "ssm:GetParameter" in _actions(by_password, "LoadRole")


def _statements(template: Template, role: str) -> list[dict[str, Any]]:
    policies = template.resolve(template.resources[role]["Properties"]["Policies"])
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def _actions(template: Template, role: str) -> list[str]:
    return [a for statement in _statements(template, role) for a in _list(statement["Action"])]


@pytest.mark.parametrize("in_vpc", [False, True])
def test_every_function_has_its_own_role_and_no_statement_grants_a_wildcard(in_vpc: bool) -> None:
    template = Template(TEMPLATE)
    if in_vpc:
        template.parameters |= {"VpcSubnetIds": "subnet-1", "VpcSecurityGroupIds": "sg-1"}
    functions = template.of_type("AWS::Serverless::Function")
    # an explicit role: SAM then attaches none of its managed policies (which use "*")
    roles = {f: template.resources[f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions}
    assert len(set(roles.values())) == len(functions)
    for role in roles.values():
        for statement in _statements(template, role):
            actions = _list(statement["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement
            resources = _list(statement["Resource"])
            if "*" in resources:  # only what AWS offers no resource ARN for
                assert all((a.startswith("ec2:") and "NetworkInterface" in a)
                           or "PrivateIpAddresses" in a for a in actions), statement
    ec2 = [a for role in roles.values() for a in _actions(template, role) if a.startswith("ec2:")]
    assert bool(ec2) == in_vpc


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def test_sequencers_compare_as_hex_padded_to_equal_length() -> None:
    assert newer("0062A1F0B2C3D4E5F7", "62A1F0B2C3D4E5F6")
    assert not newer("62A1F0B2C3D4E5F6", "0062A1F0B2C3D4E5F7")
    assert not newer(None, "01") and not newer("01", None)


def test_a_staged_file_message_round_trips_and_nonsense_is_a_bad_message() -> None:
    summary = FileSummary(rows_read=3, rows_loaded=2, rows_rejected=1, variant="C")
    summary.branch_ids.add(7)
    objects = {"transactions": StagedObject("s3://c/t.parquet", 99)}
    uri = "s3://raw/leeds.csv?versionId=v1"
    staged = StagedFile("leeds.csv", uri, "ab" * 32, 42, summary, "0055", "f1", objects)
    back = StagedFile.from_json(staged.to_json())
    assert back == staged
    for body in ("", "{}", '{"format": 1}', "[1]"):
        with pytest.raises(BadMessage):
            StagedFile.from_json(body)


def test_s3_notifications_give_decoded_keys_versions_and_sequencers() -> None:
    from cafe_etl.extract.s3 import BadEvent, object_events

    def record(name: str, found: dict[str, str]) -> dict[str, Any]:
        return {"eventName": name, "s3": {"bucket": {"name": "raw"}, "object": found}}

    encoded = "evening+2026%2Fst+albans_04-12-2026.csv"
    records = [
        record("ObjectCreated:Put", {"key": encoded, "versionId": "v2", "sequencer": "0A"}),
        record("ObjectRemoved:Delete", {"key": "gone.csv"}),
        record("ObjectCreated:Copy", {"key": "leeds.csv"}),
    ]
    events = object_events(json.dumps({"Records": records}))
    assert [(e.where.key, e.where.version_id, e.sequencer) for e in events] == [
        ("evening 2026/st albans_04-12-2026.csv", "v2", "0A"),
        ("leeds.csv", None, None),
    ]
    assert events[0].where.uri == "s3://raw/evening%202026/st%20albans_04-12-2026.csv?versionId=v2"
    assert object_events(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    with pytest.raises(BadEvent):
        object_events("{not json")
