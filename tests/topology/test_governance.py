"""Guardrails and workspaces in the stack file: validation (every problem at once, with paths),
the registrations the program makes under mocks (order from data, parents, inputs), the outputs
it records, and the guard's refusals and warnings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pytest

from tests.support.sentinel import make_sentinel
from tests.topology.harness import (
    API_KEY_TYPE,
    ASSIGNMENT_TYPE,
    BUDGETS_TYPE,
    DEFAULT_GUARDRAIL_TYPE,
    GUARDRAIL_TYPE,
    WORKSPACE_TYPE,
    fake_uuid,
    namespaced,
    run_program,
)
from topology.config import RawConfig, TopologyConfigError, validate
from topology.deployed import READ_STACK_OUTPUTS
from topology.governance_guard import LiveKey
from topology.governance_output import GOVERNANCE_OUTPUT, parse_governance_output
from topology.guard import TopologyGuardError
from topology.keys_output import KEYS_OUTPUT, parse_keys_output
from topology.preflight import guard
from topology.retirement import Seen

MANAGEMENT = "openrouter-keys:managementKey"
A_UUID = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"

GUARDRAILS = {
    "ci-cheap": {
        "limitUsd": 20,
        "resetInterval": "monthly",
        "allowedModels": ["openai/gpt-4o-mini"],
        "workspace": "agents",
    }
}
WORKSPACES = {
    "agents": {
        "name": "Agents",
        "budgets": {"monthly": 500, "weekly": 150},
        "defaultGuardrail": {"enforceZdr": {"other": True}},
    }
}
KEYS = {"ci": {"limit": 5, "workspace": "agents", "guardrail": "ci-cheap"}, "web": {}}


def raw(keys: Any = None, guardrails: Any = None, workspaces: Any = None) -> RawConfig:
    return RawConfig(
        keys=json.dumps(keys if keys is not None else {}),
        guardrails=None if guardrails is None else json.dumps(guardrails),
        workspaces=None if workspaces is None else json.dumps(workspaces),
        management_key=make_sentinel(),
        management_key_is_secret=True,
        github_owner="f8ai",
    )


def problems(config: RawConfig) -> list[str]:
    with pytest.raises(TopologyConfigError) as caught:
        validate(config, "dev", {})
    return [problem.render() for problem in caught.value.problems]


# --- validation ---------------------------------------------------------------------------------


def test_a_whole_governed_stack_validates_and_plans_in_order():
    config = validate(raw(KEYS, GUARDRAILS, WORKSPACES), "dev", {})
    [guardrail] = config.plan.guardrails
    assert (guardrail.name, guardrail.workspace, guardrail.workspace_uuid) == (
        "dev-ci-cheap",
        "agents",
        None,
    )
    [workspace] = config.plan.workspaces
    assert (workspace.settings.name, workspace.settings.slug) == ("Agents", "agents")
    assert workspace.budgets is not None
    assert workspace.budgets.limits() == {"monthly": 500, "weekly": 150}
    ci = config.plan.keys[0].generations[0]
    assert (ci.workspace, ci.workspace_id, ci.guardrail) == ("agents", None, "ci-cheap")


def test_every_governance_problem_is_reported_at_once_with_its_path():
    found = problems(
        raw(
            {
                "ci": {"guardrail": "ci-chep", "workspace": "agent"},
                "web": {"workspace": "agents", "workspaceId": A_UUID},
                "ops": {"guardrail": "elsewhere"},
            },
            {
                "ci-cheap": {"limitUsd": 5},
                "elsewhere": {"workspace": "tools"},
                "empty": {"allowedModels": []},
                "bad regex": {"contentFilters": [{"pattern": "(?=x)", "action": "block"}]},
                "bad id": {},
            },
            {
                "agents": {"budgets": {"monthly": 100, "weekly": 200}},
                "Bad_Slug": {},
                "tools": {},
                "byok": {"includeByokInBudgets": True},
            },
        )
    )
    text = "\n".join(found)
    assert (
        "guardrails.ci-cheap: `limitUsd` and `resetInterval` go together (OpenRouter refuses one"
        " alone). Fix: write both, or remove both for no spending cap." in text
    )
    assert "guardrails.empty.allowedModels: [] is not allowed; allowed: a non-empty list" in text
    assert "guardrails.bad regex.contentFilters[0]" in text
    assert "lookahead and lookbehind" in text
    assert "guardrails.bad id: guardrail id 'bad id' is not allowed" in text
    assert "workspaces.agents.budgets: the weekly budget (200) must be less" in text
    assert "Fix: lower the weekly budget or raise the monthly one." in text
    assert "workspaces.Bad_Slug: slug 'Bad_Slug' is not allowed" in text
    assert "workspaces.byok.includeByokInBudgets: is set but the workspace has no `budgets`" in text
    assert "keys.ci.workspace: 'agent' is not a workspace of this stack" in text
    assert "correct it to `agents`" in text
    assert "keys.web.workspace: both `workspace` and `workspaceId` are set" in text
    # The failed guardrails are still declared: no second problem for a reference to them.
    assert not any("keys.ci.guardrail" in line for line in found)
    # `ops` is in the default workspace, `elsewhere` in tools: OpenRouter would refuse.
    assert any(
        line.startswith(
            "keys.ops.guardrail: guardrail 'elsewhere' lives in workspace 'tools',"
            " and the key in the default workspace"
        )
        for line in found
    ), found


def test_an_unknown_guardrail_setting_names_the_allowed_ones_and_the_likely_fix():
    [problem] = problems(raw({}, {"ci": {"allowedModel": ["a/b"]}}))
    assert problem.startswith("guardrails.ci.allowedModel: unknown setting `allowedModel`;")
    assert "correct it to `allowedModels`" in problem
    [nested] = problems(raw({}, {"ci": {"enforceZdr": {"antropic": True}}}))
    assert nested.startswith("guardrails.ci.enforceZdr.antropic: unknown setting")
    assert "correct it to `anthropic`" in nested


def test_a_key_and_its_guardrail_in_the_same_adopted_workspace_pass():
    workspaces = {"legacy": {"adopt": A_UUID}}
    guardrails = {"g": {"workspace": "legacy"}}
    keys = {"k": {"workspaceId": A_UUID, "guardrail": "g"}}
    validate(raw(keys, guardrails, workspaces), "dev", {})


def test_two_guardrails_of_one_workspace_need_two_names_and_one_object_one_owner():
    found = problems(
        raw(
            {},
            {"a": {"name": "same", "adopt": A_UUID}, "b": {"name": "same", "adopt": A_UUID}},
        )
    )
    assert any("guardrails.b: name 'same' is also guardrails.a's" in p for p in found)
    assert any("guardrails.b.adopt:" in p and "also adopted by guardrails.a" in p for p in found)


# --- registration -------------------------------------------------------------------------------


def governed_run(updates_in_preview: bool = False, **more: Any) -> Any:
    values = {
        "keys": json.dumps(KEYS),
        "guardrails": json.dumps(GUARDRAILS),
        "workspaces": json.dumps(WORKSPACES),
        "managementKey": make_sentinel(),
        **more,
    }
    run = run_program(
        namespaced(values), [MANAGEMENT], stack="dev", updates_in_preview=updates_in_preview
    )
    assert run.error is None, run.error
    return run


def test_the_program_registers_each_object_once_wired_by_data():
    run = governed_run()
    [workspace] = run.of_type(WORKSPACE_TYPE)
    [budgets] = run.of_type(BUDGETS_TYPE)
    [default] = run.of_type(DEFAULT_GUARDRAIL_TYPE)
    [guardrail] = run.of_type(GUARDRAIL_TYPE)
    [assignment] = run.of_type(ASSIGNMENT_TYPE)
    ci = run.named(API_KEY_TYPE, "ci")
    web = run.named(API_KEY_TYPE, "web")
    assert workspace.inputs["slug"] == "agents"
    assert budgets.parent == default.parent == workspace.urn
    assert budgets.inputs["limits"] == {"monthly": 500, "weekly": 150}
    assert default.inputs["policy"]["enforce_zdr"]["other"] is True
    assert guardrail.inputs["policy"]["allowed_models"] == ["openai/gpt-4o-mini"]
    # Order from data: each takes the id of what it lives in or governs.
    workspace_uuid = fake_uuid("workspace", "agents")
    assert guardrail.inputs["workspace_id"] == workspace_uuid
    assert ci.inputs["workspace_id"] == workspace_uuid
    assert web.inputs.get("workspace_id") is None
    assert workspace.urn in ci.property_dependencies["workspace_id"]
    assert guardrail.urn in assignment.property_dependencies["guardrail_id"]
    assert ci.urn in assignment.property_dependencies["key_hash"]
    assert assignment.name == "ci"  # named like the generation it governs
    # The key is never touched for its guardrail: it has no guardrail input at all.
    assert "guardrail_id" not in ci.inputs


def test_a_rotated_keys_assignment_keeps_the_name_it_had():
    """The first generation's assignment answers to the key id's old name, as its key does, so a
    rotation moves it instead of deleting it (which unassigned the key consumers still held)."""
    keys = {**KEYS, "ci": {**KEYS["ci"], "rotations": ["2026-11-01", "2026-12-01"]}}
    run = governed_run(keys=json.dumps(keys))
    assignments = {a.name: a.alias_names for a in run.of_type(ASSIGNMENT_TYPE)}
    assert assignments == {"ci@2026-11-01": ("ci",), "ci@2026-12-01": ()}


def test_a_preview_of_updates_in_place_wires_every_id_known():
    """In a preview, the engine knows the id of a resource it updates in place and none of its
    other outputs: each dependent takes the id, so it keeps its value and shows no change (a
    guardrail's new allowlist previewed as a replacement of its assignments before)."""
    run = governed_run(updates_in_preview=True)
    [budgets] = run.of_type(BUDGETS_TYPE)
    [default] = run.of_type(DEFAULT_GUARDRAIL_TYPE)
    [guardrail] = run.of_type(GUARDRAIL_TYPE)
    [assignment] = run.of_type(ASSIGNMENT_TYPE)
    ci = run.named(API_KEY_TYPE, "ci")
    workspace_uuid = fake_uuid("workspace", "agents")
    wired = {
        "budgets": budgets.inputs["workspace_id"],
        "default guardrail": default.inputs["workspace_id"],
        "guardrail": guardrail.inputs["workspace_id"],
        "key": ci.inputs["workspace_id"],
        "assignment's guardrail": assignment.inputs["guardrail_id"],
        "assignment's key": assignment.inputs["key_hash"],
    }
    assert wired == {
        "budgets": workspace_uuid,
        "default guardrail": workspace_uuid,
        "guardrail": workspace_uuid,
        "key": workspace_uuid,
        "assignment's guardrail": fake_uuid("guardrail", "ci-cheap"),
        "assignment's key": hashlib.sha256(run.key_secrets["ci"].encode()).hexdigest(),
    }
    # Still wired by data, so `up` orders them as before.
    assert guardrail.urn in assignment.property_dependencies["guardrail_id"]
    assert ci.urn in assignment.property_dependencies["key_hash"]
    # The `governance` output keeps its value too, instead of previewing as unknown.
    governance = parse_governance_output(run.outputs[GOVERNANCE_OUTPUT])
    assert governance.guardrails["ci-cheap"].id == fake_uuid("guardrail", "ci-cheap")
    assert governance.workspaces["agents"].id == workspace_uuid


def test_the_outputs_name_each_keys_guardrail_and_map_ids_for_audit():
    run = governed_run()
    keys = parse_keys_output(run.outputs[KEYS_OUTPUT])
    assert (keys["ci"].guardrail, keys["ci"].workspace) == ("ci-cheap", "agents")
    assert (keys["web"].guardrail, keys["web"].workspace) == (None, None)
    governance = parse_governance_output(run.outputs[GOVERNANCE_OUTPUT])
    assert governance.guardrails["ci-cheap"].id == fake_uuid("guardrail", "ci-cheap")
    agents = governance.workspaces["agents"]
    assert (agents.slug, agents.default_guardrail) == (
        "agents",
        fake_uuid("default", agents.id),
    )
    assert governance.guardrail_ids() == {
        fake_uuid("guardrail", "ci-cheap"),
        fake_uuid("default", agents.id),
    }


def test_a_stack_of_keys_only_exports_no_governance_output():
    run = run_program(
        namespaced({"keys": json.dumps({"ci": {}}), "managementKey": make_sentinel()}),
        [MANAGEMENT],
    )
    assert run.error is None, run.error
    assert GOVERNANCE_OUTPUT not in run.outputs


def test_a_negative_cap_or_budget_is_told_its_bound_not_only_to_be_a_number():
    found = problems(
        raw(
            {"web": {}},
            {"g": {"limitUsd": -5, "resetInterval": "daily"}},
            {"w": {"budgets": {"monthly": -5}}},
        )
    )
    assert found == [
        "guardrails.g.limitUsd: -5 is not allowed; allowed: a number of US dollars >= 0, with"
        " `resetInterval`. Fix: write the cap as a number >= 0, e.g. 20.",
        "workspaces.w.budgets.monthly: -5 is not allowed; allowed: a number of US dollars > 0."
        " Fix: write the budget as a number > 0, e.g. 500, or remove the interval.",
    ]


# --- the guard ----------------------------------------------------------------------------------


def deployed() -> dict[str, Any]:
    """What the governed stack recorded, its keys unprotected (the key guard is not tested here)."""
    return dict(governed_run(protectKeys="false").outputs)


def never_used(_: Any, hashes: Sequence[str]) -> dict[str, Seen]:
    """OpenRouter's answer for keys nothing ever called (topology/retirement.py)."""
    return dict.fromkeys(hashes, Seen())


def test_removing_a_workspace_that_still_holds_a_foreign_key_is_refused_before_any_write():
    recorded = deployed()
    # `ci` moves out with the workspace gone; a hand-made key still lives there.
    config = validate(raw({"web": {}}, {}, {}), "dev", {})
    asked: list[list[str]] = []

    def living(_: Any, workspace_ids: list[str]) -> dict[str, list[LiveKey]]:
        asked.append(list(workspace_ids))
        ci = parse_keys_output(recorded[KEYS_OUTPUT])["ci"]
        return {workspace_ids[0]: [LiveKey(ci.hash, "dev-ci"), LiveKey("f" * 64, "hand-made")]}

    with pytest.raises(TopologyGuardError) as caught:
        guard(
            config,
            read=lambda _: recorded,
            list_keys=living,
            ask_usage=never_used,
        )
    assert asked == [[fake_uuid("workspace", "agents")]]
    [problem] = caught.value.problems
    assert problem.path == "workspaces.agents"
    assert (
        "would still hold 1 key this update does not delete: 'hand-made' (ffffffffffff...)"
        in problem.message
    )  # the hash shortened as every message shortens it (providers.short_hash)
    assert "docs/runbooks.md#delete-a-workspace" in problem.fix


def test_removing_a_workspace_whose_keys_all_go_with_it_is_allowed():
    recorded = deployed()
    config = validate(raw({"web": {}}, {}, {}), "dev", {})
    ci = parse_keys_output(recorded[KEYS_OUTPUT])["ci"]
    guard(
        config,
        read=lambda _: recorded,
        list_keys=lambda _, ids: {ids[0]: [LiveKey(ci.hash, "dev-ci")]},
        ask_usage=never_used,
    )


def test_a_key_losing_its_guardrail_is_named_in_a_warning(monkeypatch):
    recorded = deployed()
    warned: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *a, **k: warned.append(message))
    keys = {"ci": {"limit": 5, "workspace": "agents"}, "web": {}}
    config = validate(raw(keys, {}, WORKSPACES), "dev", {})
    guard(config, read=lambda _: recorded, list_keys=lambda *_: {})
    [warning] = warned
    assert warning.startswith(
        "guardrails.ci-cheap ('dev-ci-cheap') is removed: keys.ci loses its restrictions"
    )
    assert "and is then governed by its workspace's default guardrail" in warning
    moved = {**GUARDRAILS, "other": {"workspace": "agents"}}
    keys = {"ci": {"workspace": "agents", "guardrail": "other"}, "web": {}}
    warned.clear()
    guard(
        validate(raw(keys, moved, WORKSPACES), "dev", {}),
        read=lambda _: recorded,
    )
    assert warned == []  # moved to another guardrail: still governed


def test_keys_losing_one_guardrail_together_are_named_in_one_plural_warning(monkeypatch):
    both = {**KEYS, "web": {"workspace": "agents", "guardrail": "ci-cheap"}}
    recorded = dict(governed_run(protectKeys="false", keys=json.dumps(both)).outputs)
    warned: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *a, **k: warned.append(message))
    keys = {"ci": {"workspace": "agents"}, "web": {"workspace": "agents"}}
    config = validate(raw(keys, {}, WORKSPACES), "dev", {})
    guard(config, read=lambda _: recorded, list_keys=lambda *_: {})
    [warning] = warned
    assert "is removed: keys.ci, keys.web lose its restrictions" in warning
    assert "and are then governed by their workspace's default guardrail" in warning


def test_a_workspace_refusal_is_not_headed_as_a_deleted_key():
    recorded = deployed()
    config = validate(raw({"web": {}}, {}, {}), "dev", {})

    def living(_: Any, workspace_ids: list[str]) -> dict[str, list[LiveKey]]:
        return {workspace_ids[0]: [LiveKey("f" * 64, "hand-made")]}

    with pytest.raises(TopologyGuardError) as caught:
        guard(
            config,
            read=lambda _: recorded,
            list_keys=living,
            ask_usage=never_used,
        )
    text = str(caught.value)
    assert text.startswith(
        "The topology guard refuses 1 change the stack config asks for; nothing was created,"
        " changed or deleted:"
    )
    assert "delete a live key" not in text
    assert "would still hold 1 key this update does not delete: 'hand-made'" in text


def test_a_key_moving_into_a_workspace_the_stack_adopts_is_no_replacement():
    # As the provider records a key declared with `workspaceId` (its `fixed` settings).
    recorded = {
        KEYS_OUTPUT: {
            "ci": {
                "hash": "c" * 64,
                "label": "sk-or-v1-ccc...ccc",
                "name": "dev-ci",
                "fixed": {"workspaceId": A_UUID},
                "generation": 1,
                "consumers": [],
                "protect": True,
            }
        }
    }
    adopted = {"legacy": {"adopt": A_UUID}}
    config = validate(raw({"ci": {"workspace": "legacy"}}, {}, adopted), "dev", {})
    guard(config, read=lambda _: recorded)
    moved = validate(raw({"ci": {"workspace": "fresh"}}, {}, {"fresh": {}}), "dev", {})
    with pytest.raises(TopologyGuardError) as caught:
        guard(moved, read=lambda _: recorded)
    assert caught.value.problems[0].path == "keys.ci.workspaceId"


def test_the_guard_reads_only_the_stack_record_when_nothing_is_removed():
    recorded = deployed()
    values = {
        "keys": json.dumps(KEYS),
        "guardrails": json.dumps(GUARDRAILS),
        "workspaces": json.dumps(WORKSPACES),
        "managementKey": make_sentinel(),
    }
    run = run_program(
        namespaced(values), [MANAGEMENT], stack="dev", stack_outputs={"dev": recorded}
    )
    assert run.error is None, run.error
    assert [i.token for i in run.invocations] == [READ_STACK_OUTPUTS]
