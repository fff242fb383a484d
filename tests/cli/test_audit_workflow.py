"""The scheduled audit workflow: daily and on demand, pinned installs, the key in one step only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "audit.yml"


def load() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    if True in data:  # YAML 1.1 reads the bare key `on` as the boolean True.
        data["on"] = data.pop(True)
    return data


def steps() -> list[dict[str, Any]]:
    [job] = load()["jobs"].values()
    return job["steps"]


def test_audit_runs_daily_and_on_demand_with_read_only_permissions():
    workflow = load()
    [schedule] = workflow["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*")
    assert minute.isdigit()
    assert hour.isdigit()
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}


def test_management_key_comes_from_a_secret_into_the_audit_step_alone():
    workflow = load()
    [job] = workflow["jobs"].values()
    assert "OPENROUTER_MANAGEMENT_KEY" not in str(workflow.get("env", {}))
    assert "OPENROUTER_MANAGEMENT_KEY" not in str(job.get("env", {}))
    holders = [s for s in steps() if "OPENROUTER_MANAGEMENT_KEY" in str(s.get("env", {}))]
    assert len(holders) == 1
    [step] = holders
    assert step["env"] == {"OPENROUTER_MANAGEMENT_KEY": "${{ secrets.OPENROUTER_MANAGEMENT_KEY }}"}
    assert ".venv/bin/python -m cli audit" in step["run"]


def test_backend_credentials_and_management_key_never_share_a_step():
    for step in steps():
        env = str(step.get("env", {}))
        assert not ("OPENROUTER_MANAGEMENT_KEY" in env and "PULUMI_" in env), step["name"]


def test_audit_step_fails_the_job_on_findings():
    [audit] = [s for s in steps() if "cli audit" in s.get("run", "")]
    assert "continue-on-error" not in audit
    assert "|| true" not in audit["run"]
    assert "set -euo pipefail" in audit["run"]
    assert "--outputs" in audit["run"]


def test_installs_pinned_requirements_and_the_pinned_pulumi_cli():
    runs = "\n".join(s.get("run", "") for s in steps())
    assert "pip install -r requirements.txt" in runs
    pinned = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned
    versions = {
        s["with"]["pulumi-version"]
        for s in steps()
        if str(s.get("uses", "")).startswith("pulumi/actions")
    }
    assert versions == {pinned.group(1)}


def test_every_stack_but_the_emulator_sandbox_is_read():
    [reader] = [s for s in steps() if "pulumi stack output --json" in s.get("run", "")]
    assert "stacks/Pulumi.*.yaml" in reader["run"]
    assert '[ "$stack" = sandbox ]' in reader["run"]
