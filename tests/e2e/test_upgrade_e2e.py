"""A stack deployed by the previous release upgrades with one `pulumi up` that creates, replaces
and deletes no key (issue 13, part 3), through the real engine and the emulator.

The previous release is a commit of this repository: its program (`__main__.py`, `providers/`,
`topology/`, `Pulumi.yaml`) is taken from git history into the project copy, deploys the stack,
and the current program then takes over the same backend and stack.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import (
    API_KEY_TYPE,
    PROJECT_FILES,
    PROJECT_PACKAGES,
    REPO,
    STACK,
    Emulator,
    PulumiProject,
    engine_skip_reason,
)

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

PREVIOUS_RELEASE = "db1d587"
"""The last commit of the previous release (2026-11-28): one `KeyTopology` component per key,
no `fixed`/`protect` in the `keys` output, no guardrails."""
COMPONENT_TYPE = "openrouter-keys:index:KeyTopology"
KEYS = {
    "ci": {"limit": 5, "limitReset": "daily"},
    "preview": {"limit": 10, "rotations": ["2026-11-01", "2026-11-28"]},
    "production": {"limit": 25, "protect": True},
}


def previous_program(into: Path, commit: str = PREVIOUS_RELEASE) -> None:
    """Replace the project copy's program with the previous release's, from git history."""
    paths = [*PROJECT_FILES, *PROJECT_PACKAGES]
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", commit, *paths],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        pytest.fail(
            f"the previous release {commit} is not in this clone's history ({error});"
            " the upgrade test needs a full clone (`git fetch --unshallow`)."
        )
    for package in PROJECT_PACKAGES:
        shutil.rmtree(into / package)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def current_program(into: Path) -> None:
    for package in PROJECT_PACKAGES:
        shutil.rmtree(into / package)
        shutil.copytree(
            REPO / package, into / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, into / name)


def steps(project: PulumiProject) -> list[dict[str, Any]]:
    """The steps `pulumi preview --json` plans: op, type and name of each."""
    preview = json.loads(project.pulumi("preview", "--json").stdout)
    return [
        {"op": step["op"], "type": step["urn"].split("::")[2].split("$")[-1], "urn": step["urn"]}
        for step in preview.get("steps", [])
    ]


def test_a_stack_of_the_previous_release_upgrades_without_touching_a_key(
    project: PulumiProject, emulator: Emulator
) -> None:
    previous_program(project.root)
    project.pulumi("stack", "init", STACK)
    document = project.read_stack_config()
    config = document["config"]
    for name in [name for name in config if name.startswith("openrouter-keys:")]:
        if name not in {"openrouter-keys:managementKey"}:
            del config[name]  # the current sandbox file declares what the old program lacks
    config["openrouter-keys:apiBaseUrl"] = emulator.api_base_url
    config["openrouter-keys:protectKeys"] = False
    config["openrouter-keys:keys"] = KEYS
    project.write_stack_config(document)
    project.pulumi("up", "--yes")
    before = {key["hash"] for key in emulator.list_keys()}
    components = [r for r in project.state()["resources"] if r["type"] == COMPONENT_TYPE]
    assert len(before) == 4
    assert len(components) == 3  # the previous release's one component per key id

    current_program(project.root)
    planned = steps(project)
    # Moved by their alias (and given any new bookkeeping input): never created or replaced.
    touched = [
        s for s in planned if s["type"] == API_KEY_TYPE and s["op"] not in {"same", "update"}
    ]
    assert touched == [], json.dumps(planned, indent=1)
    assert [s["op"] for s in planned if s["type"] == COMPONENT_TYPE] == ["delete"] * 3, planned

    emulator.clear_requests()
    project.pulumi("up", "--yes")
    writes = emulator.writes()
    assert not [w for w in writes if w[0] in {"POST", "DELETE"}], writes
    assert {key["hash"] for key in emulator.list_keys()} == before
    state = project.state()["resources"]
    assert not [r for r in state if r["type"] == COMPONENT_TYPE]
    parents = {r.get("parent", "").split("::")[2] for r in state if r["type"] == API_KEY_TYPE}
    assert parents == {"pulumi:pulumi:Stack"}
    assert project.protected()["production"] is True
    project.pulumi("preview", "--expect-no-changes")


WIRED_BY_OUTPUTS = "a260ce3"
"""The last commit whose program wired governance dependents from outputs (`guardrail_id`,
`workspace_id`, `hash`) rather than ids (issue 19, faithful previews)."""


def test_a_governed_stack_wired_by_outputs_upgrades_with_no_change(
    project: PulumiProject, emulator: Emulator
) -> None:
    previous_program(project.root, WIRED_BY_OUTPUTS)
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    project.edit_config("protectKeys", False)
    project.edit_config(
        "workspaces", {"agents": {"budgets": {"monthly": 50}, "defaultGuardrail": {}}}
    )
    project.edit_config(
        "guardrails", {"cheap": {"allowedProviders": ["openai"], "workspace": "agents"}}
    )
    project.edit_config("keys", {"ci": {"workspace": "agents", "guardrail": "cheap"}})
    project.pulumi("up", "--yes", "--skip-preview")

    current_program(project.root)
    planned = steps(project)
    assert [s for s in planned if s["op"] != "same"] == [], json.dumps(planned, indent=1)
    emulator.clear_requests()
    project.pulumi("up", "--yes", "--skip-preview")
    assert emulator.writes() == []
