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
        """A value with its intrinsic functions applied; ``NO_VALUE`` where a property is
        left out (``!Ref AWS::NoValue``), which dicts and lists then drop."""
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()  # fmt: skip
            if function in _FUNCTIONS:
                return _FUNCTIONS[function](self, argument)
        if isinstance(value, dict):
            items = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in items.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        return value

    def condition(self, name_or_expression: Any) -> bool:
        """A named condition of the template, or a condition expression, evaluated."""
        if isinstance(name_or_expression, str):
            return self.condition(self.body.get("Conditions", {})[name_or_expression])
        (function, argument), = name_or_expression.items()  # fmt: skip
        if function == "Fn::Equals":
            left, right = (self.resolve(side) for side in argument)
            return bool(left == right)
        if function == "Fn::Not":
            return not self.condition(argument[0])
        if function == "Condition":
            return self.condition(argument)
        raise ValueError(f"cannot emulate the condition {function}")

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _join(self, argument: list[Any]) -> str:
        separator, items = argument
        values = self.resolve(items)
        if isinstance(values, str):  # a CommaDelimitedList parameter's default
            values = [v for v in values.split(",") if v]
        return str(separator).join(str(value) for value in values)

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::StackName": STACK, "AWS::AccountId": ACCOUNT, "AWS::Region": REGION,
                  "AWS::Partition": "aws"}  # fmt: skip
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
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
        resolved = {name: self.resolve(value) for name, value in variables.items()}
        return {name: str(value) for name, value in resolved.items() if value is not NO_VALUE}


NO_VALUE = object()
"""``!Ref AWS::NoValue``: the property is left out."""
_FUNCTIONS: dict[str, Any] = {
    "Ref": lambda template, name: template.ref(name),
    "Fn::GetAtt": lambda template, argument: template.attribute(*argument),
    "Fn::Sub": lambda template, text: template._sub(text),
    "Fn::If": lambda template, argument: template._if(argument),
    "Fn::Join": lambda template, argument: template._join(argument),
}
