"""Issue 19's smaller defects through the real engine (bin/pulumi) and the emulator: what a user
reads when a plugin is missing, when a create gets no clear answer, and when `keys:` is indented
one level too deep; and `scripts/sandbox.sh --stack NAME` on a stack of one's own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import (
    PROJECT,
    REPO,
    STACK,
    Emulator,
    PulumiProject,
    engine_skip_reason,
    free_port,
)

from topology.engine_stop import STOPPED

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

PLUGIN_LINE = (
    "error: no resource plugin 'pulumi-resource-github' found in the workspace at version"
    " v6.15.0 or on your $PATH"
)
KEYS_PATH = "/api/v1/keys"


def new_stack(project: PulumiProject, emulator: Emulator) -> None:
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)


def test_a_github_consumer_without_its_plugin_ends_in_one_line_not_a_traceback(
    project: PulumiProject, emulator: Emulator
) -> None:
    new_stack(project, emulator)
    keys = project.keys_config()
    keys["ci"]["github"] = [{"repository": "f8ai/agents"}]
    project.edit_config("keys", keys)

    for args in (("preview",), ("up", "--yes", "--skip-preview")):
        result = project.pulumi(*args, check=False)
        assert result.returncode != 0
        assert PLUGIN_LINE in result.output
        assert "Traceback" not in result.output
        assert "unhandled exception" not in result.output
        assert "context canceled" not in result.output
        # The program's one line, on the progress line and once under Diagnostics; or none,
        # when the engine gives up before the program reaches its first registration (the
        # checks before it ask OpenRouter, so which comes first depends on the machine).
        assert result.output.count(STOPPED) in (0, 2), result.output
    # The plugin fails before any key: nothing reached OpenRouter.
    assert emulator.writes() == []


def test_a_create_without_a_clear_answer_says_so_once_per_key_with_one_fix(
    project: PulumiProject, emulator: Emulator
) -> None:
    new_stack(project, emulator)
    project.edit_config("keys", {"ci": {"limit": 5}})
    emulator.inject({"path": KEYS_PATH, "method": "POST", "drop": "after_commit", "times": 2})

    result = project.pulumi("up", "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    message = (
        "error: create: POST /keys: creating key 'sandbox-ci' got no clear answer, twice (the"
        " connection failed after the request was sent (RemoteProtocolError: Server"
        " disconnected without sending a response.)). Any key either attempt made was found and"
        " deleted, so nothing is left behind. Fix: run `pulumi up` again once OpenRouter"
        " answers. [api]"
    )
    assert message in result.output
    assert result.output.lower().count("run `pulumi up` again") == result.output.count(message)
    assert "Resource monitor has terminated" not in result.output
    assert emulator.list_keys() == []

    # The one fix works: the next run creates the key once.
    project.pulumi("up", "--yes")
    assert [key["name"] for key in emulator.list_keys()] == ["sandbox-ci"]


def test_key_ids_indented_one_level_too_deep_are_named_once_before_any_write(
    project: PulumiProject, emulator: Emulator
) -> None:
    new_stack(project, emulator)
    keys = project.keys_config()
    production = keys.pop("production")
    project.edit_config("keys", {"production": {**production, **keys}})

    result = project.pulumi("preview", check=False)
    assert result.returncode != 0
    assert "unknown setting" not in result.output
    problem = (
        "keys.production: `ci` and `preview` sit inside keys.production but hold key settings"
        " of their own: key ids indented one level too deep;"
    )
    assert problem in result.output
    assert emulator.writes() == []


# --- scripts/sandbox.sh --stack NAME ------------------------------------------------------------


def own_stack(sandbox: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's objects as a user's own stack file: no management key, no URL, no salt,
    so none of the sandbox's encrypted values (its BYOK key and destination secret)."""
    left_out = ("managementKey", "apiBaseUrl", "byok", "observability")
    config = {
        name: value
        for name, value in sandbox["config"].items()
        if name not in {f"{PROJECT}:{setting}" for setting in left_out}
    }
    return {"config": config}


@pytest.fixture
def script_project(tmp_path: Path) -> Path:
    """What scripts/sandbox.sh needs, in a project copy: the program, the emulator, the script."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy2(REPO / name, root / name)
    for package in ("providers", "topology", "emulator", "scripts"):
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(REPO / package, root / package, ignore=ignore)
    (root / "stacks").mkdir()
    (root / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    (root / "bin").symlink_to(REPO / "bin", target_is_directory=True)
    return root


def test_sandbox_script_runs_an_own_stack_on_an_emulator_of_its_own(
    script_project: Path, tmp_path: Path
) -> None:
    sandbox = yaml.safe_load((REPO / "stacks" / f"Pulumi.{STACK}.yaml").read_text())
    (script_project / "stacks" / "Pulumi.mine.yaml").write_text(yaml.safe_dump(own_stack(sandbox)))
    home = tmp_path / "pulumi-home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PULUMI_HOME": str(home),
        # A management key in the caller's environment never reaches the emulator's stack.
        "OPENROUTER_MANAGEMENT_KEY": "not-the-emulators-key",
    }
    script = str(script_project / "scripts" / "sandbox.sh")
    result = subprocess.run(
        ["bash", script, "--stack", "mine", "--port", str(free_port()), "demo"],  # noqa: S607
        cwd=script_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "+ 9 created" in output
    # The sandbox's own objects, under this stack's names, with nothing of the sandbox's around.
    for name in ("mine-ci", "mine-production", "sandbox-preview-deployments"):
        assert name in output
    assert not (script_project / ".pulumi").exists()  # the demo's backend was a throwaway
