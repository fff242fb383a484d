"""The GitHub workflows preview every stack, promote in order and keep secrets where they belong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PROMOTION_ORDER = ["dev", "staging", "prod"]


def load_workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def stacks_in_repo() -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )


def pinned_pulumi_version() -> str:
    match = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert match, "requirements.txt must pin pulumi"
    return match.group(1)


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


def test_preview_matrix_lists_exactly_the_stacks_in_stacks_dir() -> None:
    preview = load_workflow("preview.yml")
    matrix = preview["jobs"]["preview"]["strategy"]["matrix"]["stack"]
    assert sorted(matrix) == stacks_in_repo()


def test_preview_runs_on_pull_requests_with_diff_refresh_and_pr_comment() -> None:
    preview = load_workflow("preview.yml")
    assert "pull_request" in preview["on"]
    assert preview["permissions"]["pull-requests"] == "write"
    job = preview["jobs"]["preview"]
    [step] = [s for s in steps_using(job, "pulumi/actions") if s.get("with", {}).get("command")]
    assert step["with"]["command"] == "preview"
    assert step["with"]["diff"] is True
    assert step["with"]["refresh"] is True
    assert step["with"]["comment-on-pr"] is True


def test_fork_pull_requests_skip_with_a_notice_instead_of_failing() -> None:
    job = load_workflow("preview.yml")["jobs"]["preview"]
    gate = job["steps"][0]
    assert gate["id"] == "gate"
    assert "forks get no secrets" in gate["run"]
    for step in job["steps"][1:]:
        assert "steps.gate.outputs.run == 'true'" in step["if"], step


def test_sandbox_preview_runs_the_e2e_walk_with_an_installed_cli() -> None:
    job = load_workflow("preview.yml")["jobs"]["preview"]
    sandbox_steps = [s for s in job["steps"] if "matrix.stack == 'sandbox'" in s.get("if", "")]
    assert any(str(s.get("uses", "")).startswith("pulumi/actions") for s in sandbox_steps)
    assert any("pytest tests/e2e" in s.get("run", "") for s in sandbox_steps)


def test_deploy_promotes_dev_then_staging_then_prod() -> None:
    deploy = load_workflow("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert [jobs[name]["with"]["stack"] for name in PROMOTION_ORDER] == PROMOTION_ORDER
    assert "needs" not in jobs["dev"]
    assert jobs["staging"]["needs"] == "dev"
    assert jobs["prod"]["needs"] == "staging"


def test_each_deploy_runs_up_in_the_environment_named_after_its_stack() -> None:
    job = load_workflow("deploy-stack.yml")["jobs"]["up"]
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    steps = steps_using(job, "pulumi/actions")
    # The Automation API's `up` skips the preview; a preview step first makes a protection or
    # missing-adoption refusal stop the job before any step is taken.
    assert [step["with"]["command"] for step in steps] == ["preview", "up"]
    assert {step["with"]["stack-name"] for step in steps} == {"${{ inputs.stack }}"}
    assert all(step["with"].get("refresh") is True for step in steps)


@pytest.mark.parametrize("name", ["preview.yml", "deploy-stack.yml"])
def test_workflows_install_pinned_requirements_and_a_pinned_cli(name: str) -> None:
    job = next(iter(load_workflow(name)["jobs"].values()))
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "pip install -r requirements.txt" in runs
    versions = {s["with"]["pulumi-version"] for s in steps_using(job, "pulumi/actions")}
    assert versions == {pinned_pulumi_version()}


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_management_key_is_only_in_the_env_of_steps_that_need_it(name: str) -> None:
    workflow = load_workflow(name)
    assert "OPENROUTER_MANAGEMENT_KEY" not in str(workflow.get("env", {}))
    for job_name, job in workflow["jobs"].items():
        assert "OPENROUTER_MANAGEMENT_KEY" not in str(job.get("env", {})), job_name
        for step in job.get("steps", []):
            if "OPENROUTER_MANAGEMENT_KEY" in str(step.get("env", {})):
                # Only the audit reads the management key from the environment.
                assert "cli audit" in step.get("run", ""), (job_name, step)
