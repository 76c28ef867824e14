"""``infra/template.yaml`` read as a stack would resolve it, for the emulated AWS: resources
with ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` resolved (cfn-lint's YAML reader handles the
short tags), the functions' SQS event source mappings and environment."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK, ACCOUNT, REGION = "cafe-local", "123456789012", "eu-west-2"
TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "template.yaml"


@dataclass
class Mapping:
    """One SQS event source mapping: a queue and the function it feeds."""

    function: str
    queue: str
    batch_size: int
    visibility: int


class Template:
    """The template's resources, with ``Ref``/``GetAtt``/``Sub`` resolved as a stack named
    ``cafe-local`` in account 123456789012 would resolve them."""

    def __init__(self, path: Path = TEMPLATE, endpoint: str = "") -> None:
        from cfnlint.decode import decode_str

        self.body, problems = decode_str(path.read_text())
        if problems or self.body is None:
            raise ValueError(f"{path}: {problems}")
        self.endpoint = endpoint
        self.resources: dict[str, Any] = self.body["Resources"]
        self.parameters = {n: p.get("Default") for n, p in self.body["Parameters"].items()}

    def name(self, logical: str) -> str:
        """The physical name: the bucket's own, or a queue named after its logical ID."""
        props = self.resources[logical].get("Properties", {})
        return str(self.resolve(props.get("BucketName", logical)))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()  # fmt: skip
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                return self.attribute(*argument)
            if function == "Fn::Sub":
                return self._sub(argument)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::StackName": STACK, "AWS::AccountId": ACCOUNT, "AWS::Region": REGION,
                  "AWS::Partition": "aws"}  # fmt: skip
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if self.resources[name]["Type"] == "AWS::SQS::Queue":
            return f"{self.endpoint}/{ACCOUNT}/{self.name(name)}"
        return self.name(name)

    def attribute(self, logical: str, attribute: str) -> str:
        kind = self.resources[logical]["Type"]
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.name(logical)}"
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return self.name(logical)
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{self.name(logical)}"
        raise ValueError(f"cannot emulate {logical}.{attribute}")

    def _sub(self, text: str) -> str:
        import re

        def one(match: re.Match[str]) -> str:
            name, _, attribute = match[1].partition(".")
            value = self.attribute(name, attribute) if attribute else self.ref(name)
            return str(value)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def of_type(self, kind: str) -> list[str]:
        return [name for name, r in self.resources.items() if r["Type"] == kind]

    def mappings(self) -> dict[str, Mapping]:
        """The functions' SQS event sources, by function."""
        found = {}
        for function in self.of_type("AWS::Serverless::Function"):
            for event in self.resources[function]["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                    visibility = self.resources[queue]["Properties"]["VisibilityTimeout"]
                    found[function] = Mapping(function, queue, event["Properties"]["BatchSize"],
                                              visibility)  # fmt: skip
        return found

    def environment(self) -> dict[str, str]:
        variables = self.body["Globals"]["Function"]["Environment"]["Variables"]
        return {name: str(self.resolve(value)) for name, value in variables.items()}
