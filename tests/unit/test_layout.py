"""The shape of the code, measured from its own imports and definitions: the arrows point
down (entry points -> services -> extract, transform, load -> model), functions stay short."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "cafe_etl"
MODULES = sorted(SOURCE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    tree = ast.parse(path.read_text())
    found = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    found |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return found


def part(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0]


def test_the_layout_shows_the_flow() -> None:
    folders = {
        path.name for path in SOURCE.iterdir() if path.is_dir() and path.name != "__pycache__"
    }

    assert {"extract", "transform", "load", "warehouse", "service", "entrypoints"} <= folders


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (
            "extract",
            ("cafe_etl.transform", "cafe_etl.load", "cafe_etl.warehouse", "cafe_etl.service"),
        ),
        ("transform", ("cafe_etl.load", "cafe_etl.warehouse", "cafe_etl.service")),
        ("load", ("cafe_etl.transform", "cafe_etl.extract", "cafe_etl.service")),
        (
            "warehouse",
            ("cafe_etl.transform", "cafe_etl.extract", "cafe_etl.load", "cafe_etl.service"),
        ),
        ("service", ("cafe_etl.entrypoints", "cafe_etl.bootstrap")),
    ],
)
def test_no_layer_imports_one_above_or_beside_it(layer: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        str(path.relative_to(SOURCE)): sorted(m for m in imported(path) if m.startswith(forbidden))
        for path in MODULES
        if part(path) == layer
    }

    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_function_is_longer_than_50_lines_and_no_command_longer_than_30() -> None:
    too_long = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            command = any("command" in ast.unparse(d) for d in node.decorator_list)
            limit = 30 if command else 50
            length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            if length > limit:
                too_long.append(f"{path.relative_to(SOURCE)}:{node.lineno} {node.name}: {length}")

    assert too_long == []
