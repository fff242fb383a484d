"""`scripts/sandbox.sh --stack NAME`: a user's own stack on the emulator, checked first.

The e2e run of a whole own stack is tests/e2e/test_sandbox_script_e2e.py; here are the rules of
scripts/sandbox_stack.py and the script's refusals, which need no engine.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    path = ROOT / "scripts" / "sandbox_stack.py"
    spec = importlib.util.spec_from_file_location("sandbox_stack", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sandbox_stack = _load()
KEYS = {"ci": {"limit": 5}, "production": {"limit": 25, "protect": True}}


def stack(**config: Any) -> dict[str, Any]:
    return {"config": {f"openrouter-keys:{name}": value for name, value in config.items()}}


def test_the_sandbox_runs_on_the_port_its_file_names():
    document = yaml.safe_load((ROOT / "stacks/Pulumi.sandbox.yaml").read_text())
    assert sandbox_stack.emulator_port(document) == (8787, [])


def test_an_own_stack_gets_its_own_emulator_apart_from_the_sandboxs():
    assert sandbox_stack.emulator_port(stack(keys=KEYS)) == (8788, [])
    assert sandbox_stack.emulator_port(stack(keys=KEYS), 9001) == (9001, [])


def test_a_management_key_of_the_stack_file_is_refused_without_the_emulators_url():
    _, problems = sandbox_stack.emulator_port(stack(keys=KEYS, managementKey={"secure": "v1:x"}))
    assert problems == [
        "openrouter-keys:managementKey is set, and it would win over the emulator's key the"
        " script supplies. Fix: remove it from this stack file (a copy of a real stack keeps"
        " its key out), or also set apiBaseUrl to the emulator's URL."
    ]


def test_an_api_base_url_that_is_not_the_emulator_is_refused():
    _, problems = sandbox_stack.emulator_port(stack(apiBaseUrl="https://openrouter.ai/api/v1"))
    assert problems[0].startswith(
        "openrouter-keys:apiBaseUrl is 'https://openrouter.ai/api/v1', not the emulator"
    )
    _, problems = sandbox_stack.emulator_port(stack(apiBaseUrl="http://127.0.0.1:8787/api/v1"), 1)
    assert problems == [
        "--port 1 differs from the port of openrouter-keys:apiBaseUrl"
        " (http://127.0.0.1:8787/api/v1). Fix: leave out --port, or change apiBaseUrl."
    ]


def test_github_and_vercel_consumers_are_refused_they_would_be_written_for_real():
    keys = {"ci": {"github": [{"repository": "agents"}]}, "web": {"vercel": [{"project": "w"}]}}
    _, problems = sandbox_stack.emulator_port(
        stack(keys=keys, managementKeyTargets={"github": [{"repository": "infra"}]})
    )
    assert [problem.split(" is a ")[0] for problem in problems] == [
        "keys.ci.github",
        "keys.web.vercel",
        "managementKeyTargets",
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The script and its checker in a project copy (nothing of the real stacks/ is touched)."""
    (tmp_path / "scripts").mkdir()
    for name in ("sandbox.sh", "sandbox_stack.py"):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "stacks").mkdir()
    (tmp_path / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return tmp_path


def run_script(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(project)}
    return subprocess.run(
        ["bash", str(project / "scripts/sandbox.sh"), *args],  # noqa: S607 - bash from PATH
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_script_refuses_an_own_stack_that_would_leave_the_emulator(project: Path):
    document = stack(keys={"ci": {"github": [{"repository": "agents"}]}}, managementKey="x")
    (project / "stacks/Pulumi.mine.yaml").write_text(yaml.safe_dump(document))
    result = run_script(project, "--stack", "mine", "up")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sandbox: stacks/Pulumi.mine.yaml: openrouter-keys:managementKey is set, and it would win"
        " over the emulator's key the script supplies. Fix: remove it from this stack file (a"
        " copy of a real stack keeps its key out), or also set apiBaseUrl to the emulator's URL."
        " (docs/emulator.md#your-own-stack-on-the-emulator)",
        "sandbox: stacks/Pulumi.mine.yaml: keys.ci.github is a GitHub or Vercel consumer: the"
        " emulator stands in for OpenRouter only, so those secrets would be written for real."
        " Fix: remove it from this stack file. (docs/emulator.md#your-own-stack-on-the-emulator)",
    ]


def test_the_script_names_a_missing_stack_file(project: Path):
    result = run_script(project, "--stack", "mine", "up")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "sandbox: no stacks/Pulumi.mine.yaml: write the stack file first"
        " (docs/emulator.md#your-own-stack-on-the-emulator)"
    )


def test_the_checker_runs_as_the_script_calls_it(project: Path):
    (project / "stacks/Pulumi.mine.yaml").write_text(yaml.safe_dump(stack(keys=KEYS)))
    result = subprocess.run(
        [sys.executable, "scripts/sandbox_stack.py", "stacks/Pulumi.mine.yaml", "9100"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "9100\n")
