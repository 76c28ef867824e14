"""The GitHub Actions workflow cannot run here: actionlint keeps it valid, and its deploy job is
read for the promises the README makes (OIDC, no stored keys, main only)."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as true
    return loaded


def test_actionlint_finds_nothing_to_fix() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint not found: uv sync installs it with the dev group")

    done = subprocess.run([actionlint, "-oneline", str(WORKFLOW)], capture_output=True, text=True)

    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_deploy_runs_on_main_only_with_a_role_assumed_through_oidc(
    workflow: dict[str, Any],
) -> None:
    deploy = workflow["jobs"]["deploy"]
    uses = {step.get("uses", "").split("@")[0]: step for step in deploy["steps"]}
    credentials = uses["aws-actions/configure-aws-credentials"]["with"]

    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert set(deploy["needs"]) == {"check", "test", "package"}
    assert deploy["permissions"]["id-token"] == "write"
    assert workflow["permissions"] == {"contents": "read"}
    assert "role-to-assume" in credentials
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials)
    assert "AWS_SECRET_ACCESS_KEY" not in WORKFLOW.read_text()
    assert "secrets." not in WORKFLOW.read_text()


def test_tests_run_against_a_postgresql_service(workflow: dict[str, Any]) -> None:
    test = workflow["jobs"]["test"]
    env = {k: v for step in test["steps"] for k, v in step.get("env", {}).items()}

    assert test["services"]["postgres"]["image"].startswith("postgres:")
    assert env["CAFE_ETL_TEST_POSTGRES"].startswith("postgresql://postgres@localhost:5432/")


def test_every_step_of_the_pipeline_is_there(workflow: dict[str, Any]) -> None:
    commands = "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]
    )

    expected = ["ruff check", "mypy src", "pytest", "cfn-lint@", "infra/build.py", "sam deploy"]
    assert [command for command in expected if command not in commands] == []
    assert "cfn-lint@1.58.0 infra/template.yaml" in commands
