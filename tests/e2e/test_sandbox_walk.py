"""The sandbox walk with the real Pulumi engine (built from source) against the local emulator.

What only the engine proves: Pulumi.yaml and `stackConfigDir` parsed by the CLI, the secret
config decrypted, the provider launched in the project's virtualenv, in-place updates, protection,
refresh and destroy reading the pickled provider back from state, and secrets encrypted in state.
The CLI is bin/pulumi when `scripts/build-engine.sh` built it, else a `pulumi` on PATH (a release,
as in the GitHub workflow); with neither, the tests skip and say why.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from e2e_harness import (
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

# The committed sandbox stack declares these keys (stacks/Pulumi.sandbox.yaml).
SANDBOX_KEY_IDS = ("ci", "preview", "production")
# OpenRouter names: `name` where the entry sets one, else "<stack>-<id>".
SANDBOX_KEY_NAMES = ("sandbox-ci", "sandbox-preview-deployments", "sandbox-production")
PROTECTED_KEY_ID = "production"


def resource_summary(output: str) -> dict[str, int]:
    """The counts of the last `Resources:` block, e.g. {"to update": 1, "unchanged": 3}.

    `up` prints the preview's block, then the update's: the last one is what happened.
    """
    block = output.rsplit("Resources:", 1)[1] if "Resources:" in output else ""
    counts: dict[str, int] = {}
    for line in block.splitlines():
        match = re.match(r"^\s+[+~\-±]?\s*(\d+) ([a-z][a-z ]*)$", line)
        if match:
            counts[match.group(2).strip()] = int(match.group(1))
        elif line.strip() and not line.startswith(" "):
            break
    return counts


def resource_ids(project: PulumiProject) -> set[str]:
    """The ids of the resources in the stack's state (stack outputs are not resources)."""
    deployment = json.loads(project.export_state())["deployment"]
    return {resource["id"] for resource in deployment.get("resources", []) if resource.get("id")}


def emulator_key_names(emulator: Emulator) -> set[str]:
    return {key["name"] for key in emulator.list_keys()}


def key_outputs(project: PulumiProject) -> dict[str, Any]:
    return project.stack_outputs()["keys"]


def start_sandbox(project: PulumiProject, emulator: Emulator) -> None:
    """`stack init sandbox` and point the copy's stack at this test's emulator."""
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    project.add_sandbox_scoped()  # the whole sandbox, its credential and destination included


def test_sandbox_walk_from_first_up_to_destroy(project: PulumiProject, emulator: Emulator) -> None:
    start_sandbox(project, emulator)

    # 1. up: one regular key per declared entry appears in the emulator.
    project.pulumi("up", "--yes")
    assert emulator_key_names(emulator) == set(SANDBOX_KEY_NAMES)
    keys = key_outputs(project)
    assert set(keys) == set(SANDBOX_KEY_IDS)
    assert {entry["hash"] for entry in keys.values()} == {
        key["hash"] for key in emulator.list_keys()
    }

    # 2. preview right after up: no changes (no perpetual diff through the real engine).
    project.pulumi("preview", "--expect-no-changes")

    # 3. a limit edit: preview shows one in-place update, up sends exactly one PATCH.
    config = project.project_config()
    entries = config["openrouter-keys:keys"]
    entries["ci"]["limit"] = entries["ci"].get("limit", 1) + 2
    project.edit_config("keys", entries)
    preview = project.pulumi("preview", "--diff")
    assert resource_summary(preview.output).get("to update") == 1, preview.output
    assert "to replace" not in resource_summary(preview.output), preview.output
    emulator.clear_requests()
    project.pulumi("up", "--yes")
    writes = [(r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]
    assert writes == [("PATCH", f"/api/v1/keys/{keys['ci']['hash']}")], writes
    ci_limit = next(
        key["limit"] for key in emulator.list_keys() if key["hash"] == keys["ci"]["hash"]
    )
    assert ci_limit == entries["ci"]["limit"]

    # 4. rotation, step 1: a new generation is created, nothing is deleted.
    before_rotation = {key["hash"] for key in emulator.list_keys()}
    old_hash = keys["preview"]["hash"]
    entries["preview"]["rotations"] = ["2026-11-01", "2026-11-28"]
    project.edit_config("keys", entries)
    preview = project.pulumi("preview", "--diff")
    summary = resource_summary(preview.output)
    assert summary.get("to create") == 1, preview.output
    assert "to delete" not in summary, preview.output
    assert "to replace" not in summary, preview.output
    project.pulumi("up", "--yes")
    after_rotation = {key["hash"] for key in emulator.list_keys()}
    assert before_rotation < after_rotation
    assert len(after_rotation - before_rotation) == 1
    wired_hash = key_outputs(project)["preview"]["hash"]
    assert wired_hash in after_rotation - before_rotation, "the newest generation must be wired"

    # 5. rotation, step 2: retiring the old generation deletes that key and only that key.
    entries["preview"]["rotations"] = ["2026-11-28"]
    project.edit_config("keys", entries)
    preview = project.pulumi("preview", "--diff")
    summary = resource_summary(preview.output)
    assert summary.get("to delete") == 1, preview.output
    assert "to create" not in summary, preview.output
    project.pulumi("up", "--yes")
    remaining = {key["hash"] for key in emulator.list_keys()}
    assert old_hash not in remaining
    assert wired_hash in remaining
    assert key_outputs(project)["preview"]["hash"] == wired_hash

    # 6. drift: a key deleted behind Pulumi's back is reported by refresh and leaves the state,
    # and so does its guardrail assignment (OpenRouter dropped it with the key).
    emulator.delete_key_behind_pulumis_back(keys["ci"]["hash"])
    refresh = project.pulumi("refresh", "--yes")
    assert resource_summary(refresh.output).get("deleted") == 2, refresh.output
    assert keys["ci"]["hash"] not in resource_ids(project)

    # 7. destroy: the protected key is refused until it is unprotected; then the emulator is empty.
    destroy = project.pulumi("destroy", "--yes", check=False)
    assert destroy.returncode != 0
    assert "protected" in destroy.output, destroy.output
    assert keys[PROTECTED_KEY_ID]["hash"] in {key["hash"] for key in emulator.list_keys()}
    entries[PROTECTED_KEY_ID]["protect"] = False
    project.edit_config("keys", entries)
    project.pulumi("up", "--yes")
    project.pulumi("destroy", "--yes")
    assert emulator.list_keys() == []


def resources_holding(export: str, value: str) -> set[str]:
    """The types of the state's resources whose record contains `value`."""
    deployment = json.loads(export)["deployment"]
    return {r["type"] for r in deployment.get("resources", []) if value in json.dumps(r)}


def test_state_holds_no_plaintext_key_and_no_plaintext_management_key(
    project: PulumiProject, emulator: Emulator
) -> None:
    start_sandbox(project, emulator)
    management_key = emulator.add_management_key(f"e2e-{secrets.token_hex(16)}")
    project.pulumi("config", "set", "--secret", "managementKey", management_key)
    project.pulumi("up", "--yes")

    revealed = project.export_state(show_secrets=True)
    plain = project.export_state()
    on_disk = "".join(path.read_text() for path in project.state_dir.rglob("*.json"))
    regular_keys = set(re.findall(r"sk-or-v1-[0-9a-f]{32,}", revealed))
    assert len(regular_keys) == len(SANDBOX_KEY_IDS), "the state must hold each key, as a secret"
    for value in regular_keys:
        assert value not in plain
        assert value not in on_disk
    assert management_key not in plain
    assert management_key not in on_disk
    # The engine records the whole stack config as the inputs of the default dynamic provider, so
    # a management key set with `config set --secret` is in state there, encrypted, and nowhere
    # else: never in a key resource, never in the pickled provider.
    assert resources_holding(revealed, management_key) == {"pulumi:providers:pulumi-python"}


def test_management_key_from_the_environment_never_reaches_state(
    project: PulumiProject, emulator: Emulator
) -> None:
    start_sandbox(project, emulator)
    management_key = emulator.add_management_key(f"e2e-{secrets.token_hex(16)}")
    document = project.read_stack_config()
    del document["config"]["openrouter-keys:managementKey"]
    project.write_stack_config(document)

    project.pulumi("up", "--yes", env={"OPENROUTER_MANAGEMENT_KEY": management_key})

    assert len(emulator.list_keys()) == len(SANDBOX_KEY_IDS)
    revealed = project.export_state(show_secrets=True)
    assert management_key not in revealed
    assert resources_holding(revealed, "sk-or-v1-") >= {"pulumi-python:dynamic/openrouter:ApiKey"}


def test_regular_key_as_management_key_fails_preview_and_creates_nothing(
    project: PulumiProject, emulator: Emulator
) -> None:
    start_sandbox(project, emulator)
    management_key = emulator.add_management_key(f"e2e-{secrets.token_hex(8)}")
    regular_key = emulator.create_regular_key(management_key, "e2e-wrong-slot")
    before = emulator.list_keys()
    project.pulumi("config", "set", "--secret", "managementKey", regular_key)

    preview = project.pulumi("preview", check=False)

    assert preview.returncode != 0
    assert "regular" in preview.output.lower()
    assert "management key" in preview.output.lower()
    assert regular_key not in preview.output
    assert emulator.list_keys() == before



def _protected_replace(entries: dict[str, Any]) -> None:
    entries["production"]["expiresAt"] = "2031-01-01T00:00:00Z"  # replace; production is protected


def _missing_adoption(entries: dict[str, Any]) -> None:
    entries["legacy"] = {"adopt": secrets.token_hex(32)}  # no such key


@pytest.mark.parametrize(
    ("refusal", "said"),
    [
        (_protected_replace, "keys.production.expiresAt: OpenRouter cannot change expiresAt"),
        (_missing_adoption, "nothing to adopt"),
    ],
    ids=["protected-replace", "missing-adoption"],
)
def test_an_update_the_preview_refuses_takes_no_step_at_all(
    project: PulumiProject, emulator: Emulator, refusal: Callable[[dict[str, Any]], None], said: str
) -> None:
    """`pulumi up` previews first: a replace (refused by the program's guard, ADR 0008) or an
    `adopt` of a missing key refuses the whole update, so no earlier step (here a PATCH of
    another key) runs. The consumer-ordering
    model (tests/topology/step_model.py) relies on this, and deploy-stack.yml previews before its
    Automation-API `up`, which would skip the preview."""
    start_sandbox(project, emulator)
    project.pulumi("up", "--yes")
    entries = project.project_config()["openrouter-keys:keys"]
    entries["ci"]["limit"] = entries["ci"].get("limit", 1) + 3  # ci is registered first
    refusal(entries)
    project.edit_config("keys", entries)
    emulator.clear_requests()

    refused = project.pulumi("up", "--yes", check=False)

    assert refused.returncode != 0
    assert said in refused.output
    assert [r["method"] for r in emulator.requests() if r["method"] != "GET"] == []
