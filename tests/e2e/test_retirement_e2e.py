"""Issue 19, case 1, through the real engine (bin/pulumi) and the emulator: a key generation
OpenRouter says is still in use is not deleted, with `--skip-preview` too, unless a reviewed
line in the stack file says so (docs/adr/0011-usage-aware-retirement.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_harness import (
    PROJECT,
    Emulator,
    PulumiProject,
    engine_skip_reason,
    hashes,
    refused,
)

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

FIRST, SECOND = "2026-11-01", "2026-12-01"
RESOURCE = f"preview@{FIRST}"


def rotated(project: PulumiProject, emulator: Emulator) -> tuple[dict[str, Any], str]:
    """The sandbox's `preview` key deployed, then rotated (`rotations: [FIRST, SECOND]`, `up`):
    the keys config and the hash of the older generation."""
    project.pulumi("stack", "init", "sandbox")
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    keys = project.keys_config()
    keys["preview"] = {**keys["preview"], "rotations": [FIRST]}
    project.edit_config("keys", keys)
    project.pulumi("up", "--yes")
    keys["preview"]["rotations"] = [FIRST, SECOND]
    project.edit_config("keys", keys)
    project.pulumi("up", "--yes")
    record = project.stack_outputs()["keys"]["preview"]
    assert record["rotation"] == SECOND
    [older] = record["retiring"]
    # The record keeps when OpenRouter made each generation.
    assert older["created"]
    assert record["created"]
    return keys, str(older["hash"])


def secret_of(project: PulumiProject, resource: str) -> str:
    """The secret a consumer of that generation holds (from the state, never printed)."""
    state = json.loads(project.export_state(show_secrets=True))["deployment"]
    [found] = [r for r in state["resources"] if r["urn"].endswith(f"::{resource}")]
    value = found["outputs"]["key"]
    return str(value["plaintext"] if isinstance(value, dict) else value).strip('"')


def retire_first(project: PulumiProject, keys: dict[str, Any]) -> None:
    """The runbook's last step: `rotations: [SECOND]`."""
    keys["preview"]["rotations"] = [SECOND]
    project.edit_config("keys", keys)


def test_a_generation_used_after_the_rotation_is_not_deleted_unless_the_stack_file_says_so(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys, old = rotated(project, emulator)
    # A Vercel deployment built before the rotation still calls with generation FIRST.
    emulator.complete(secret_of(project, RESOURCE))
    retire_first(project, keys)

    for command in (("preview",), ("up", "--yes", "--skip-preview"), ("up", "--yes")):
        result = refused(project, emulator, *command)
        assert (
            f"keys.preview.rotations: the change deletes generation '{FIRST}' of keys.preview,"
            f" key 'sandbox-preview-deployments-{FIRST}'" in result.output
        )
        assert f"after its successor '{SECOND}' took over its consumers" in result.output
        assert "a Vercel deployment built before the rotation" in result.output
        assert f"add `preview@{FIRST}` to `openrouter-keys:retireInUse`" in result.output
        assert "OpenRouter says it was last used at" in result.output
    assert old in hashes(emulator)
    # Each run asked OpenRouter once for the generation it would delete (the last, `up`, was
    # refused in its preview).
    asked = [r for r in emulator.requests() if r["path"] == f"/api/v1/keys/{old}"]
    assert [r["method"] for r in asked] == ["GET"]

    project.edit_config("retireInUse", [f"preview@{FIRST}"])
    emulator.clear_requests()
    project.pulumi("up", "--yes", "--skip-preview")
    assert old not in hashes(emulator)
    assert [(r["method"], r["path"]) for r in emulator.requests()
            if r["path"] == f"/api/v1/keys/{old}"] == [("DELETE", f"/api/v1/keys/{old}")]

    stale = project.pulumi("preview")
    assert f"openrouter-keys:retireInUse lists 'preview@{FIRST}', which this update does not" in (
        stale.output
    )


def test_a_generation_quiet_for_the_quiet_period_retires_and_one_used_within_it_waits(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys, old = rotated(project, emulator)
    # Last used two hours ago, before the rotation: nothing called since, but within a day.
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    emulator.update_key_behind_pulumis_back(
        old, last_used_at=two_hours_ago.isoformat(), usage=0.5
    )
    retire_first(project, keys)
    result = refused(project, emulator, "up", "--yes", "--skip-preview")
    assert "(2 hours ago), within the quiet period (openrouter-keys:retireQuietPeriod: 1d)" in (
        result.output
    )
    # OpenRouter cannot say (the management key may not read keys): refused, fail closed.
    emulator.inject({"path": f"/api/v1/keys/{old}", "method": "GET", "status": 403, "times": 9})
    result = refused(project, emulator, "up", "--yes", "--skip-preview")
    assert "OpenRouter could not say when it was last used" in result.output
    emulator.clear_faults()
    assert old in hashes(emulator)

    document = project.read_stack_config()
    document["config"][f"{PROJECT}:retireQuietPeriod"] = "1h"
    project.write_stack_config(document)
    emulator.clear_requests()
    project.pulumi("up", "--yes", "--skip-preview")
    assert old not in hashes(emulator)
