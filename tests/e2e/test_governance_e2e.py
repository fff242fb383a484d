"""Issue 12 through the real engine (bin/pulumi) and the emulator: a workspace with budgets and a
default guardrail, guardrails, and a key assigned to one, each change an update of the right
resource and never of the key, a preview without changes after every step, and the refusals
the program makes before any write."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_harness import STACK, Emulator, PulumiProject, Result, engine_skip_reason

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

WORKSPACES = {
    "agents": {
        "name": "Agents",
        "budgets": {"monthly": 500, "weekly": 150},
        "defaultGuardrail": {"enforceZdr": {"other": True}},
    }
}
GUARDRAILS: dict[str, Any] = {
    "cheap": {
        "limitUsd": 20,
        "resetInterval": "monthly",
        "allowedModels": ["openai/gpt-4o-mini"],
        "workspace": "agents",
    },
    "strict": {"allowedProviders": ["anthropic"], "workspace": "agents"},
}


def up(project: PulumiProject, *args: str) -> Result:
    """`up`, then a preview that must show no change (drift or a perpetual diff would)."""
    result = project.pulumi("up", "--yes", *args)
    project.pulumi("preview", "--expect-no-changes")
    return result


def new_stack(project: PulumiProject, emulator: Emulator, **config: Any) -> None:
    """`stack init` against this emulator, with `config` (setting -> value) in the stack file."""
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    for setting, value in config.items():
        project.edit_config(setting, value)


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


def test_a_governed_key_walks_through_every_change_without_being_touched(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = {"agent": {"limit": 5, "workspace": "agents", "guardrail": "cheap", "protect": True}}
    new_stack(project, emulator, workspaces=WORKSPACES, guardrails=GUARDRAILS, keys=keys)

    up(project)
    outputs = project.stack_outputs()
    agent = outputs["keys"]["agent"]["hash"]
    workspace = by_name(emulator.workspaces(), "Agents")
    cheap = outputs["governance"]["guardrails"]["cheap"]["id"]
    strict = outputs["governance"]["guardrails"]["strict"]["id"]
    assert outputs["governance"]["workspaces"]["agents"]["id"] == workspace["id"]
    assert emulator.assignments() == {agent: cheap}
    assert by_name(emulator.guardrails(), f"{STACK}-cheap")["workspace_id"] == workspace["id"]
    default = next(g for g in emulator.guardrails() if g["id"] == workspace["default_guardrail_id"])
    assert default["enforce_zdr_other"] is True
    key = next(k for k in emulator.list_keys() if k["hash"] == agent)
    assert key["workspace_id"] == workspace["id"]

    # Move the key to another guardrail: the assignment is replaced, the key is not touched.
    keys["agent"]["guardrail"] = "strict"
    project.edit_config("keys", keys)
    emulator.clear_requests()
    up(project)
    assert emulator.assignments() == {agent: strict}
    assert not any(path.startswith("/api/v1/keys") for _, path in emulator.writes())
    assert project.stack_outputs()["keys"]["agent"]["hash"] == agent

    # Change an allowlist: an update of the guardrail, its id unchanged.
    GUARDRAILS["strict"]["allowedProviders"] = ["anthropic", "openai"]
    project.edit_config("guardrails", GUARDRAILS)
    emulator.clear_requests()
    up(project)
    assert emulator.writes() == [("PATCH", f"/api/v1/guardrails/{strict}")]
    assert by_name(emulator.guardrails(), f"{STACK}-strict")["allowed_providers"] == [
        "anthropic",
        "openai",
    ]

    # Lower the budgets below the old narrower one: the order OpenRouter accepts.
    WORKSPACES["agents"]["budgets"] = {"monthly": 100, "weekly": 50}
    project.edit_config("workspaces", WORKSPACES)
    up(project)

    # Remove the guardrail the key holds: the key is unassigned first, and the preview says so.
    del keys["agent"]["guardrail"]
    del GUARDRAILS["strict"]
    project.edit_config("keys", keys)
    project.edit_config("guardrails", GUARDRAILS)
    preview = project.pulumi("preview")
    assert "guardrails.strict" in preview.output
    assert "keys.agent loses its restrictions" in preview.output
    emulator.clear_requests()
    up(project)
    writes = emulator.writes()
    unassigned = writes.index(("POST", f"/api/v1/guardrails/{strict}/assignments/keys/remove"))
    assert unassigned < writes.index(("DELETE", f"/api/v1/guardrails/{strict}"))
    assert emulator.assignments() == {}
    assert project.stack_outputs()["keys"]["agent"]["hash"] == agent

    # Destroy: the key first, then its workspace (OpenRouter refuses the other order).
    keys["agent"]["protect"] = False
    project.edit_config("keys", keys)
    project.pulumi("up", "--yes")
    project.pulumi("destroy", "--yes")
    assert emulator.list_keys() == []
    assert workspace["id"] not in {w["id"] for w in emulator.workspaces()}
    assert emulator.guardrails() == []


def test_a_workspace_that_still_holds_a_foreign_key_is_kept_and_the_preview_says_why(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = {"tool": {"workspace": "tools", "protect": False}, "other": {}}
    new_stack(project, emulator, workspaces={"tools": {}}, keys=keys)
    project.pulumi("up", "--yes")
    workspace = by_name(emulator.workspaces(), "tools")["id"]
    emulator.seed_key("hand-made", workspace_id=workspace)

    project.edit_config("workspaces", {})
    project.edit_config("keys", {"other": {}})  # `tool` goes with its workspace: allowed
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        emulator.clear_requests()
        result = project.pulumi(*command, check=False)
        assert result.returncode != 0, result.output
        assert emulator.writes() == [], result.output
        assert "workspaces.tools: the change deletes workspace 'tools'" in result.output
        assert "'hand-made'" in result.output
        assert "docs/runbooks.md#delete-a-workspace" in result.output
        assert "Traceback" not in result.output
    assert workspace in {w["id"] for w in emulator.workspaces()}


def test_a_bad_guardrail_is_refused_before_any_write(
    project: PulumiProject, emulator: Emulator
) -> None:
    guardrails = {"g": {"allowedModel": ["x/y"]}, "h": {"limitUsd": 5}}
    new_stack(project, emulator, guardrails=guardrails, keys={"k": {"guardrail": "gg"}})
    emulator.clear_requests()
    result = project.pulumi("up", "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    assert emulator.writes() == []
    assert "guardrails.g.allowedModel: unknown setting `allowedModel`" in result.output
    assert "correct it to `allowedModels`" in result.output
    assert "guardrails.h: `limitUsd` and `resetInterval` go together" in result.output
    assert "keys.k.guardrail: 'gg' is not a guardrail of this stack" in result.output


def test_a_filter_pattern_is_judged_at_preview_as_openrouter_judges_it_at_up(
    project: PulumiProject, emulator: Emulator
) -> None:
    """Issue 20: `(a+?)+` passed the preview and failed `up` (the API refuses nested
    quantifiers); a JavaScript named group, which the API keeps, failed the preview."""
    nested = {"g": {"contentFilters": [{"pattern": "(a+?)+", "action": "block"}]}}
    new_stack(project, emulator, guardrails=nested, keys={"k": {"guardrail": "g"}})
    emulator.clear_requests()

    refused = project.pulumi("preview", check=False)

    assert refused.returncode != 0
    assert emulator.writes() == []
    assert "nested quantifiers such as (a+)+" in refused.output

    named = r"(?<ticket>ACME-\d{6})"
    project.edit_config("guardrails", {"g": {"contentFilters": [
        {"pattern": named, "action": "redact", "label": "ticket"}
    ]}})
    up(project)

    kept = [g["content_filters"] for g in emulator.guardrails() if g.get("content_filters")]
    assert [[f["pattern"] for f in filters] for filters in kept] == [[named]]


def test_a_workspace_left_by_an_interrupted_up_is_refused_at_preview_and_adopted_by_its_fix(
    project: PulumiProject, emulator: Emulator
) -> None:
    # A `pulumi up` killed after OpenRouter made the workspace but before the engine recorded it
    # leaves it in no state; here it is made by hand with the slug the stack file gives.
    new_stack(project, emulator, workspaces=WORKSPACES)
    leftover = emulator.seed_workspace("Agents", "agents")
    emulator.clear_requests()

    result = project.pulumi("preview", check=False)

    assert result.returncode != 0
    assert "[workspace-slug-taken]" in result.output
    assert "adopt: agents" in result.output
    assert emulator.writes() == []

    project.edit_config("workspaces", {"agents": {**WORKSPACES["agents"], "adopt": "agents"}})
    up(project)
    assert [w["id"] for w in emulator.workspaces() if w["slug"] == "agents"] == [leftover["id"]]


def test_a_rotation_keeps_the_guardrail_on_the_generation_consumers_still_hold(
    project: PulumiProject, emulator: Emulator
) -> None:
    """Issue 19, found trying the rotation runbook: listing a second generation deleted the
    first one's assignment after creating it under its new name, so the key every consumer still
    held lost its guardrail, and a plain preview then said nothing had changed."""
    keys: dict[str, Any] = {"agent": {"workspace": "agents", "guardrail": "cheap"}}
    new_stack(project, emulator, workspaces=WORKSPACES, guardrails=GUARDRAILS, keys=keys)
    up(project)
    old = project.stack_outputs()["keys"]["agent"]["hash"]
    cheap = project.stack_outputs()["governance"]["guardrails"]["cheap"]["id"]

    keys["agent"]["rotations"] = ["2026-11-01", "2026-12-01"]
    project.edit_config("keys", keys)
    emulator.clear_requests()
    up(project, "--refresh")
    new = project.stack_outputs()["keys"]["agent"]["hash"]
    assert new != old
    assert emulator.assignments() == {old: cheap, new: cheap}
    assert not any(path.endswith("/assignments/keys/remove") for _, path in emulator.writes())

    # Retiring the old generation (never used) removes its assignment, and only its own.
    keys["agent"]["rotations"] = ["2026-12-01"]
    project.edit_config("keys", keys)
    up(project)
    assert emulator.assignments() == {new: cheap}
