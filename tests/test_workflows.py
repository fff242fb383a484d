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
    assert sorted([*matrix, "sandbox"]) == stacks_in_repo()


def test_preview_runs_on_pull_requests_with_diff_refresh_and_pr_comment() -> None:
    preview = load_workflow("preview.yml")
    assert "pull_request" in preview["on"]
    assert preview["permissions"] == {"contents": "read"}
    job = preview["jobs"]["preview"]
    assert job["permissions"]["pull-requests"] == "write"
    [step] = [s for s in steps_using(job, "pulumi/actions") if s.get("with", {}).get("command")]
    assert step["with"]["command"] == "preview"
    assert step["with"]["diff"] is True
    assert step["with"]["refresh"] is True
    assert step["with"]["comment-on-pr"] is True


def test_fork_pull_requests_skip_with_a_notice_instead_of_failing() -> None:
    jobs = load_workflow("preview.yml")["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["if"] == same_repo
    assert jobs["forks"]["if"] == same_repo.replace("==", "!=")
    assert "forks get no secrets" in jobs["forks"]["steps"][0]["run"]


def test_sandbox_preview_runs_the_e2e_walk_with_an_installed_cli() -> None:
    job = load_workflow("preview.yml")["jobs"]["sandbox"]
    assert any(str(s.get("uses", "")).startswith("pulumi/actions") for s in job["steps"])
    assert any("pytest tests/e2e" in s.get("run", "") for s in job["steps"])


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
    steps = [s for s in steps_using(job, "pulumi/actions") if "command" in s.get("with", {})]
    # The Automation API's `up` skips the preview; a preview step first makes a protection or
    # missing-adoption refusal stop the job before any step is taken.
    assert [step["with"]["command"] for step in steps] == ["preview", "up"]
    assert {step["with"]["stack-name"] for step in steps} == {"${{ inputs.stack }}"}
    assert all(step["with"].get("refresh") is True for step in steps)


JOBS_THAT_RUN_PULUMI = [("preview.yml", "preview"), ("deploy-stack.yml", "up")]


@pytest.mark.parametrize(("name", "job_name"), JOBS_THAT_RUN_PULUMI)
def test_workflows_install_pinned_requirements_and_a_pinned_cli(name: str, job_name: str) -> None:
    job = load_workflow(name)["jobs"][job_name]
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


# --- the security model (README.md#security-model) ---------------------------------------------

SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")
README = ROOT / "README.md"


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, name, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in load_workflow(path.name)["jobs"].items()
    ]


def triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def secrets_in(value: Any) -> set[str]:
    return set(SECRET_REF.findall(str(value)))


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_no_workflow_runs_pull_request_code_with_the_base_repositorys_trust(name: str) -> None:
    # pull_request_target and workflow_run hand secrets to runs that can check out PR code.
    assert not triggers(load_workflow(name)) & {"pull_request_target", "workflow_run"}


def test_every_job_that_reads_a_secret_runs_in_a_protected_environment() -> None:
    """Repository secrets reach any workflow of any branch, including one a pull request edits;
    environment secrets reach only jobs that pass the environment's protection rules."""
    for name, job_name, job in all_jobs():
        if secrets_in(job):
            assert job.get("environment"), (name, job_name, secrets_in(job))


def test_pull_request_workflows_use_the_preview_environment_and_nothing_else() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = load_workflow(path.name)
        if "pull_request" not in triggers(workflow):
            continue
        for job_name, job in workflow["jobs"].items():
            assert job.get("environment") in (None, "preview"), (path.name, job_name)
            if job.get("environment") is None:
                assert not secrets_in(job), (path.name, job_name)
    jobs = load_workflow("preview.yml")["jobs"]
    assert jobs["preview"]["environment"] == "preview"
    assert not secrets_in(jobs["sandbox"])
    assert not secrets_in(jobs["forks"])


def test_the_preview_hands_the_backend_credentials_only_to_the_steps_that_need_them() -> None:
    job = load_workflow("preview.yml")["jobs"]["preview"]
    assert not secrets_in(job.get("env", {}))
    holders = [s for s in job["steps"] if "PULUMI_CONFIG_PASSPHRASE" in secrets_in(s)]
    names = [s.get("name") for s in holders]
    assert names == ["pulumi preview --diff", "Key inventory of the stack"]
    (comment,) = [s for s in job["steps"] if "gh api" in s.get("run", "")]
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert not secrets_in(comment)


def test_deploys_run_in_their_stack_environment_on_main_and_the_audit_in_its_own() -> None:
    assert triggers(load_workflow("deploy.yml")) == {"push", "workflow_dispatch"}
    assert load_workflow("deploy-stack.yml")["jobs"]["up"]["environment"] == "${{ inputs.stack }}"
    audit = load_workflow("audit.yml")
    assert triggers(audit) == {"schedule", "workflow_dispatch"}
    assert audit["jobs"]["audit"]["environment"] == "audit"


def test_checkouts_leave_no_token_in_the_git_config() -> None:
    """Code run later in the job (the program, tests) cannot reuse the job's GITHUB_TOKEN."""
    for name, job_name, job in all_jobs():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout"):
                assert step.get("with", {}).get("persist-credentials") is False, (name, job_name)


def test_the_readme_security_model_names_every_environment_and_its_rule() -> None:
    section = readme_section("Security model")
    environments = {
        str(job.get("environment")) for _, _, job in all_jobs() if job.get("environment")
    }
    environments = {e for e in environments if not e.startswith("${{")} | set(PROMOTION_ORDER)
    assert environments == {"preview", "audit", *PROMOTION_ORDER}
    for environment in environments:
        assert f"`{environment}`" in section, environment
    for rule in ("Required reviewers", "Prevent self-review", "Deployment branches"):
        assert rule in section, rule


@pytest.mark.parametrize(("name", "job_name"), JOBS_THAT_RUN_PULUMI)
def test_the_resource_plugins_are_installed_before_any_preview_or_update(
    name: str, job_name: str
) -> None:
    steps = load_workflow(name)["jobs"][job_name]["steps"]
    runs = [s.get("run", "") for s in steps]
    install = next(i for i, run in enumerate(runs) if run.strip() == "pulumi plugin install")
    commands = [i for i, s in enumerate(steps) if s.get("with", {}).get("command")]
    assert commands
    assert install < min(commands)


def test_the_pulumi_steps_leave_the_parallelism_to_the_engines_default() -> None:
    """README.md#commands: the refresh reads in pages (ADR 0014), so the recommended parallelism
    is the engine's own; a `parallel:` here would slow the preview or crowd OpenRouter."""
    for name, _job_name in JOBS_THAT_RUN_PULUMI:
        for job in load_workflow(name)["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("pulumi/actions"):
                    assert "parallel" not in step.get("with", {}), (name, step.get("name"))
                run = str(step.get("run", ""))
                assert not re.search(r"\bpulumi\b.*(--parallel|\s-p\s?\d)", run), (name, run)
