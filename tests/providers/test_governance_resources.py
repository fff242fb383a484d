"""Guardrails, workspaces, budgets, default guardrails and assignments against the emulator over
real loopback HTTP: each lifecycle, drift, the preview's checks and the lost-create rule."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

from emulator import Fault
from providers.base import session
from providers.base.fields import CONFIG_PATH
from providers.base.management_resource import ManagementProvider
from providers.base.messages import ProviderError
from providers.default_guardrail import DefaultGuardrailProvider
from providers.guardrail import GuardrailArgs, GuardrailProvider
from providers.guardrail_assignment import GuardrailAssignmentProvider
from providers.guardrail_settings import GuardrailPolicy
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.http.listing import LISTINGS
from providers.workspace import WorkspaceArgs, WorkspaceProvider
from providers.workspace_budgets import WorkspaceBudgetsProvider
from providers.workspace_settings import WorkspaceSettings


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


P = TypeVar("P", bound=ManagementProvider)


def configured(provider: P, emulator: Any, management_key: str) -> P:
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: emulator.api_base_url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    return provider


def guardrail_props(name: str = "ci-cheap", **policy: Any) -> dict[str, Any]:
    args = GuardrailArgs(name=name, policy=GuardrailPolicy.model_validate(policy))
    return {**args.inputs(), CONFIG_PATH: "guardrails.ci-cheap"}


CHEAP = {
    "limitUsd": 20,
    "resetInterval": "monthly",
    "allowedModels": ["openai/gpt-4o-mini"],
    "enforceZdr": {"anthropic": True},
    "contentFilters": [
        {"builtin": "regex-prompt-injection", "action": "block", "scanScope": "user_only"},
        {"pattern": "ACME-[0-9]{6}", "action": "redact", "label": "ticket"},
    ],
}


def writes(emulator: Any) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]


# --- guardrails ---------------------------------------------------------------------------------


def test_a_guardrail_is_created_with_its_whole_policy_and_reads_back_without_drift(
    emulator, management_key
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    props = guardrail_props(**CHEAP)
    created = provider.create(props)
    [stored] = [g for g in emulator.guardrails() if g["id"] == created.id]
    assert stored["limit_usd"] == 20
    assert stored["reset_interval"] == "monthly"
    assert stored["allowed_models"] == ["openai/gpt-4o-mini"]
    assert stored["enforce_zdr_anthropic"] is True
    assert stored["enforce_zdr_openai"] is None
    assert [f["pattern"] for f in stored["content_filters"]] == ["ACME-[0-9]{6}"]
    read = provider.read(created.id, created.outs)
    assert read.outs == created.outs
    assert read.inputs is not None
    assert not provider.diff(created.id, read.outs, props).changes


def test_canonical_model_slugs_do_not_make_a_diff_that_never_ends(emulator, management_key):
    emulator.set_canonical_models({"openai/gpt-4o-mini": "openai/gpt-4o-mini-2024-07-18"})
    provider = configured(GuardrailProvider(), emulator, management_key)
    props = guardrail_props(**CHEAP)
    created = provider.create(props)
    read = provider.read(created.id, created.outs)
    assert read.outs["policy"]["allowed_models"] == ["openai/gpt-4o-mini"]
    assert not provider.diff(created.id, read.outs, props).changes


def test_a_change_made_outside_the_stack_shows_as_drift_and_the_update_restores_it(
    emulator, management_key
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    props = guardrail_props(**CHEAP)
    created = provider.create(props)
    httpx.patch(
        f"{emulator.api_base_url}/guardrails/{created.id}",
        json={"allowed_models": ["openai/gpt-4o"]},
        headers={"Authorization": f"Bearer {management_key}"},
    ).raise_for_status()
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None
    assert read.inputs["policy"]["allowed_models"] == ["openai/gpt-4o"]
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes
    assert not diff.replaces
    updated = provider.update(created.id, read.outs, props)
    [stored] = [g for g in emulator.guardrails() if g["id"] == created.id]
    assert stored["allowed_models"] == ["openai/gpt-4o-mini"]
    assert provider.read(created.id, updated.outs).outs == updated.outs


def test_an_update_sends_the_whole_policy_so_a_removed_setting_is_cleared(
    emulator, management_key
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    created = provider.create(guardrail_props(**CHEAP))
    lighter = guardrail_props(allowedProviders=["openai"])
    assert provider.diff(created.id, created.outs, lighter).changes
    provider.update(created.id, created.outs, lighter)
    [stored] = [g for g in emulator.guardrails() if g["id"] == created.id]
    assert stored["allowed_providers"] == ["openai"]
    assert stored["allowed_models"] is None
    assert stored["limit_usd"] is None
    assert stored["content_filters"] is None
    assert stored["enforce_zdr_anthropic"] is None


def test_moving_a_guardrail_to_another_workspace_is_a_replacement(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    created = provider.create(guardrail_props())
    elsewhere = emulator.add_workspace("Agents", "agents")
    moved = {**created.outs, "workspace_id": elsewhere["id"]}
    diff = provider.diff(created.id, created.outs, moved)
    assert diff.replaces == ["workspace_id"]
    assert diff.delete_before_replace is False


def test_a_whole_number_and_its_float_are_the_same_limit(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    created = provider.create(guardrail_props(**CHEAP))
    same = guardrail_props(**{**CHEAP, "limitUsd": 20.0})
    assert not provider.diff(created.id, created.outs, same).changes


def test_adopting_a_guardrail_takes_it_over_without_creating_one(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    made = provider.create(guardrail_props("hand-made"))
    before = len(emulator.guardrails())
    adopted = provider.create({**guardrail_props(**CHEAP), "adopt": made.id})
    assert adopted.id == made.id
    assert len(emulator.guardrails()) == before
    [stored] = [g for g in emulator.guardrails() if g["id"] == made.id]
    assert stored["name"] == "ci-cheap"
    assert stored["limit_usd"] == 20


def test_deleting_a_guardrail_unassigns_its_keys_and_a_second_delete_is_done(
    emulator, management_key
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    created = provider.create(guardrail_props())
    key = emulator.seed_key("ci")
    assigner = configured(GuardrailAssignmentProvider(), emulator, management_key)
    assigner.create({"guardrail_id": created.id, "key_hash": key.hash})
    provider.delete(created.id, created.outs)
    assert emulator.key_guardrail(key.hash) is None
    provider.delete(created.id, created.outs)  # 404: gone either way


def test_a_guardrail_create_whose_answer_is_lost_leaves_nothing_behind(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    emulator.inject(Fault("/api/v1/guardrails", method="POST", drop="after_commit"))
    with pytest.raises(ProviderError) as raised:
        provider.create(guardrail_props())
    assert "got no clear answer" in str(raised.value)
    assert str(raised.value).endswith(
        "; the one it made was deleted, so nothing is left behind. Fix: run `pulumi up` again"
        " once OpenRouter answers."
    )
    assert [g for g in emulator.guardrails() if g["name"] == "ci-cheap"] == []
    assert [call for call in writes(emulator) if call[0] == "POST"] == [
        ("POST", "/api/v1/guardrails")
    ]


# --- check: the stack file's words, before any write --------------------------------------------


@pytest.mark.parametrize(
    ("policy", "where", "says"),
    [
        ({"limit_usd": 5}, "guardrails.ci-cheap", "`limitUsd` and `resetInterval` go together"),
        ({"allowed_models": []}, "guardrails.ci-cheap.allowedModels", "at least 1 item"),
        (
            {"content_filters": [{"pattern": "(?=x)", "action": "block"}]},
            "guardrails.ci-cheap.contentFilters",
            "lookahead and lookbehind",
        ),
        ({"reset_interval": "yearly", "limit_usd": 1}, "resetInterval", "'daily'"),
        ({"allowed_data_regions": ["mars"]}, "allowedDataRegions", "'global'"),
    ],
)
def test_check_refuses_a_bad_policy_naming_the_setting_as_written(
    emulator, management_key, policy, where, says
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    props = {**guardrail_props(), "policy": policy}
    failures = provider.check({}, props).failures
    assert failures
    assert any(where in f.reason and says in f.reason for f in failures), failures
    assert writes(emulator) == []


def test_check_asks_whether_the_management_key_may_write_only_when_a_write_follows(
    emulator, management_key
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    props = guardrail_props(**CHEAP)
    assert provider.check({}, props).failures == []
    created = provider.create(props)
    emulator.clear_requests()
    session.reset_process_memory()
    configured(provider, emulator, management_key)
    assert provider.check(created.outs, props).failures == []
    assert emulator.requests() == []


def test_check_fails_the_preview_when_the_management_key_is_a_regular_key(emulator):
    regular = emulator.seed_key("not-management").secret
    provider = configured(GuardrailProvider(), emulator, regular)
    failures = provider.check({}, guardrail_props()).failures
    assert [f.property for f in failures] == ["managementKey"]
    assert "regular key" in failures[0].reason


def test_check_refuses_a_new_guardrail_whose_name_a_guardrail_already_has(
    emulator, management_key
):
    # What a `pulumi up` killed after the create, before the engine recorded it, leaves behind.
    provider = configured(GuardrailProvider(), emulator, management_key)
    leftover = provider.create(guardrail_props(**CHEAP))
    emulator.clear_requests()

    [failure] = provider.check({}, guardrail_props(**CHEAP)).failures

    assert failure.property == "name"
    assert "[guardrail-name-taken]" in failure.reason
    assert f"adopt: {leftover.id}" in failure.reason
    assert "guardrails.ci-cheap" in failure.reason
    assert writes(emulator) == []
    assert provider.check({}, {**guardrail_props(**CHEAP), "adopt": leftover.id}).failures == []
    assert provider.check({}, guardrail_props("another-name")).failures == []


def test_the_same_guardrail_name_in_another_workspace_is_no_twin(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    provider.create(guardrail_props())
    other = configured(WorkspaceProvider(), emulator, management_key).create(workspace_props())
    elsewhere = {**guardrail_props(), "workspace_id": other.id}
    assert provider.check({}, elsewhere).failures == []


def test_a_guardrail_in_a_workspace_not_made_yet_asks_for_no_twin(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    provider.create(guardrail_props())
    provider.check({}, guardrail_props())  # the management key is asked once per process
    emulator.clear_requests()
    unknown = {**guardrail_props(), "workspace_id": Unknown()}
    assert provider.check({}, unknown).failures == []
    assert emulator.requests() == []


# --- workspaces and budgets ---------------------------------------------------------------------


def workspace_props(slug: str = "agents", **extra: Any) -> dict[str, Any]:
    settings = WorkspaceSettings(name="Agents", slug=slug, **extra)
    return {**WorkspaceArgs(settings=settings).inputs(), CONFIG_PATH: "workspaces.agents"}


def test_a_workspace_is_created_renamed_and_deleted(emulator, management_key):
    provider = configured(WorkspaceProvider(), emulator, management_key)
    created = provider.create(workspace_props(description="The agents"))
    assert created.outs["default_guardrail_id"]
    renamed = {**workspace_props(description="All agents"), "name": "Agents!"}
    assert provider.diff(created.id, created.outs, renamed).replaces == []
    provider.update(created.id, created.outs, renamed)
    [stored] = [w for w in emulator.workspaces() if w["id"] == created.id]
    assert (stored["name"], stored["description"]) == ("Agents!", "All agents")
    provider.delete(created.id, created.outs)
    assert created.id not in {w["id"] for w in emulator.workspaces()}


def test_check_refuses_a_new_workspace_whose_slug_a_workspace_already_has(
    emulator, management_key
):
    provider = configured(WorkspaceProvider(), emulator, management_key)
    leftover = provider.create(workspace_props())
    emulator.clear_requests()

    [failure] = provider.check({}, workspace_props()).failures

    assert failure.property == "slug"
    assert "[workspace-slug-taken]" in failure.reason
    assert leftover.id in failure.reason
    assert "adopt: agents" in failure.reason
    assert writes(emulator) == []
    assert provider.check({}, {**workspace_props(), "adopt": "agents"}).failures == []
    assert provider.check({}, workspace_props("research")).failures == []


def test_a_workspace_that_still_holds_a_key_the_stack_does_not_manage_is_refused_with_the_fix(
    emulator, management_key
):
    provider = configured(WorkspaceProvider(), emulator, management_key)
    created = provider.create(workspace_props())
    emulator.seed_key("hand-made", workspace_id=created.id)
    with pytest.raises(ProviderError) as raised:
        provider.delete(created.id, created.outs)
    assert raised.value.kind == "workspace-not-empty"
    assert "`workspaces.agents`" in str(raised.value)
    assert "python -m cli audit" in str(raised.value)


def test_a_workspace_create_whose_answer_is_lost_is_found_by_slug_and_removed(
    emulator, management_key
):
    provider = configured(WorkspaceProvider(), emulator, management_key)
    emulator.inject(Fault("/api/v1/workspaces", method="POST", drop="after_commit"))
    with pytest.raises(ProviderError) as raised:
        provider.create(workspace_props())
    assert "the one it made was deleted, so nothing is left behind" in str(raised.value)
    assert "agents" not in {w["slug"] for w in emulator.workspaces()}
    assert provider.create(workspace_props()).id  # the next run creates it once


def budget_props(workspace_id: str, **limits: float) -> dict[str, Any]:
    return {"workspace_id": workspace_id, "limits": limits, CONFIG_PATH: "workspaces.agents"}


def limits_of(emulator: Any, workspace_id: str) -> dict[str, float]:
    return {
        (b["reset_interval"] or "lifetime"): b["limit_usd"]
        for b in emulator.workspace_budgets(workspace_id) or []
    }


def test_budgets_are_lowered_in_an_order_openrouter_accepts(emulator, management_key):
    workspace = emulator.add_workspace("Agents", "agents")["id"]
    provider = configured(WorkspaceBudgetsProvider(), emulator, management_key)
    created = provider.create(budget_props(workspace, monthly=500, weekly=150, daily=30))
    assert limits_of(emulator, workspace) == {"monthly": 500, "weekly": 150, "daily": 30}
    lower = budget_props(workspace, monthly=100, weekly=50, daily=10)
    provider.update(created.id, created.outs, lower)  # weekly first, else 150 >= 100 is refused
    assert limits_of(emulator, workspace) == {"monthly": 100, "weekly": 50, "daily": 10}
    raised = budget_props(workspace, lifetime=5000, monthly=1000)
    updated = provider.update(created.id, created.outs, raised)
    assert limits_of(emulator, workspace) == {"lifetime": 5000, "monthly": 1000}
    provider.delete(created.id, updated.outs)
    assert limits_of(emulator, workspace) == {}


def test_a_budget_changed_outside_the_stack_shows_as_drift(emulator, management_key):
    workspace = emulator.add_workspace("Agents", "agents")["id"]
    provider = configured(WorkspaceBudgetsProvider(), emulator, management_key)
    props = budget_props(workspace, monthly=500)
    created = provider.create(props)
    httpx.put(
        f"{emulator.api_base_url}/workspaces/{workspace}/budgets/monthly",
        json={"limit_usd": 900},
        headers={"Authorization": f"Bearer {management_key}"},
    ).raise_for_status()
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None
    assert read.inputs["limits"] == {"monthly": 900}
    assert provider.diff(created.id, read.outs, props).changes


def test_check_refuses_budgets_that_do_not_decrease(emulator, management_key):
    provider = configured(WorkspaceBudgetsProvider(), emulator, management_key)
    workspace = emulator.add_workspace("A", "a")["id"]
    failures = provider.check({}, budget_props(workspace, monthly=100, weekly=100)).failures
    assert any("must be less than the monthly budget" in f.reason for f in failures), failures


def test_the_byok_flag_alone_is_set_with_a_budget_it_already_has(emulator, management_key):
    workspace = emulator.add_workspace("Agents", "agents")["id"]
    provider = configured(WorkspaceBudgetsProvider(), emulator, management_key)
    created = provider.create(budget_props(workspace, monthly=500))
    flagged = {**budget_props(workspace, monthly=500), "include_byok_in_budgets": True}
    provider.update(created.id, created.outs, flagged)
    response = httpx.get(
        f"{emulator.api_base_url}/workspaces/{workspace}/budgets",
        headers={"Authorization": f"Bearer {management_key}"},
    ).json()
    assert response["include_byok_in_budgets"] is True
    assert limits_of(emulator, workspace) == {"monthly": 500}


# --- default guardrail --------------------------------------------------------------------------


def test_a_default_guardrail_is_written_by_patch_and_cleared_on_delete(emulator, management_key):
    workspace = emulator.add_workspace("Agents", "agents")
    provider = configured(DefaultGuardrailProvider(), emulator, management_key)
    props = {
        "workspace_id": workspace["id"],
        "policy": GuardrailPolicy.model_validate({"enforceZdr": {"other": True}}).model_dump(),
        CONFIG_PATH: "workspaces.agents.defaultGuardrail",
    }
    created = provider.create(props)
    assert created.id == workspace["default_guardrail_id"]
    assert [w for w in writes(emulator) if w[0] == "POST"] == []
    [stored] = [g for g in emulator.guardrails() if g["id"] == created.id]
    assert stored["enforce_zdr_other"] is True
    assert provider.read(created.id, created.outs).outs == created.outs
    provider.delete(created.id, created.outs)
    [cleared] = [g for g in emulator.guardrails() if g["id"] == created.id]
    assert cleared["enforce_zdr_other"] is None


# --- assignments --------------------------------------------------------------------------------


def test_moving_a_key_to_another_guardrail_never_leaves_it_without_one(emulator, management_key):
    guardrails = configured(GuardrailProvider(), emulator, management_key)
    first = guardrails.create(guardrail_props("first"))
    second = guardrails.create(guardrail_props("second"))
    key = emulator.seed_key("ci")
    provider = configured(GuardrailAssignmentProvider(), emulator, management_key)
    old = provider.create({"guardrail_id": first.id, "key_hash": key.hash})
    assert emulator.key_guardrail(key.hash) == first.id
    moved = {"guardrail_id": second.id, "key_hash": key.hash}
    assert provider.diff(old.id, old.outs, moved).replaces == ["guardrail_id"]
    # The engine's create-before-delete replacement: new assignment, then the old one removed.
    new = provider.create(moved)
    assert emulator.key_guardrail(key.hash) == second.id
    provider.delete(old.id, old.outs)
    assert emulator.key_guardrail(key.hash) == second.id
    assert provider.read(new.id, new.outs).id == new.id
    assert provider.read(old.id, old.outs).id is None


def test_an_assignment_of_a_key_from_another_workspace_fails_with_the_fix(
    emulator, management_key
):
    guardrails = configured(GuardrailProvider(), emulator, management_key)
    guardrail = guardrails.create(guardrail_props())
    elsewhere = emulator.add_workspace("Agents", "agents")["id"]
    key = emulator.seed_key("ci", workspace_id=elsewhere)
    provider = configured(GuardrailAssignmentProvider(), emulator, management_key)
    with pytest.raises(ProviderError) as raised:
        provider.create({"guardrail_id": guardrail.id, "key_hash": key.hash})
    assert "own workspace" in str(raised.value)
    assert emulator.key_guardrail(key.hash) is None


def test_a_guardrail_in_a_workspace_that_does_not_exist_fails_the_preview_naming_it(
    emulator, management_key
):
    # Issue 19: it failed as [api-unavailable] ("check the network"), never naming the workspace.
    missing = "0badc0de-0000-4000-8000-000000000000"
    provider = configured(GuardrailProvider(), emulator, management_key)
    [failure] = provider.check({}, {**guardrail_props(), "workspace_id": missing}).failures
    assert failure.property == "workspace_id"
    assert failure.reason.startswith(
        f"`guardrails.ci-cheap.workspace`: OpenRouter has no workspace {missing} in this account"
    )
    assert failure.reason.endswith("[workspace-not-found]")
    assert writes(emulator) == []


# --- reads in pages (docs/adr/0014-reads-in-pages.md) --------------------------------------------


def reads_since(emulator: Any, start: int) -> list[str]:
    return [r.path for r in emulator.requests()[start:] if r.method == "GET"]


def test_guardrail_reads_are_one_listing_and_each_is_what_its_get_returns(
    emulator, management_key
):
    provider = configured(GuardrailProvider(), emulator, management_key)
    created = [provider.create(guardrail_props(f"g{i}", **CHEAP)) for i in range(3)]
    httpx.patch(
        f"{emulator.api_base_url}/guardrails/{created[1].id}",
        json={"allowed_models": ["openai/gpt-4o"]},
        headers={"Authorization": f"Bearer {management_key}"},
    ).raise_for_status()
    start = len(emulator.requests())
    listed = [provider.read(c.id, c.outs) for c in created]
    assert reads_since(emulator, start) == ["/api/v1/guardrails"]
    session.reset_process_memory()
    provider = configured(GuardrailProvider(), emulator, management_key)
    with LISTINGS.writing():  # nothing may answer from a listing: one GET each, as before
        fetched = [provider.read(c.id, c.outs) for c in created]
    assert [(r.id, r.outs, r.inputs) for r in listed] == [
        (r.id, r.outs, r.inputs) for r in fetched
    ]
    assert listed[1].inputs is not None
    assert listed[1].inputs["policy"]["allowed_models"] == ["openai/gpt-4o"]


def test_a_guardrail_gone_from_the_listing_is_confirmed_by_its_get(emulator, management_key):
    provider = configured(GuardrailProvider(), emulator, management_key)
    kept, gone = (provider.create(guardrail_props(n)) for n in ("kept", "gone"))
    httpx.delete(
        f"{emulator.api_base_url}/guardrails/{gone.id}",
        headers={"Authorization": f"Bearer {management_key}"},
    ).raise_for_status()
    start = len(emulator.requests())
    assert provider.read(kept.id, kept.outs).id == kept.id
    assert provider.read(gone.id, gone.outs).id is None
    assert reads_since(emulator, start) == ["/api/v1/guardrails", f"/api/v1/guardrails/{gone.id}"]


def test_assignment_reads_are_one_listing_per_guardrail(emulator, management_key):
    guardrail = configured(GuardrailProvider(), emulator, management_key).create(
        guardrail_props("held")
    )
    keys = [emulator.seed_key(f"k{i}") for i in range(3)]
    provider = configured(GuardrailAssignmentProvider(), emulator, management_key)
    made = [provider.create({"guardrail_id": guardrail.id, "key_hash": k.hash}) for k in keys]
    httpx.post(
        f"{emulator.api_base_url}/guardrails/{guardrail.id}/assignments/keys/remove",
        json={"key_hashes": [keys[2].hash]},
        headers={"Authorization": f"Bearer {management_key}"},
    ).raise_for_status()
    start = len(emulator.requests())
    assert [provider.read(m.id, m.outs).id for m in made] == [made[0].id, made[1].id, None]
    listing = f"/api/v1/guardrails/{guardrail.id}/assignments/keys"
    assert reads_since(emulator, start) == [listing, listing]  # the absent one asked again


def test_workspace_reads_are_one_listing_and_a_deleted_one_is_confirmed(
    emulator, management_key
):
    provider = configured(WorkspaceProvider(), emulator, management_key)
    kept = provider.create(workspace_props("kept"))
    gone = provider.create(workspace_props("gone"))
    httpx.delete(
        f"{emulator.api_base_url}/workspaces/{gone.id}",
        headers={"Authorization": f"Bearer {management_key}"},
    ).raise_for_status()
    start = len(emulator.requests())
    read = provider.read(kept.id, kept.outs)
    assert (read.id, read.outs["slug"]) == (kept.id, "kept")
    assert provider.read(gone.id, gone.outs).id is None
    assert reads_since(emulator, start) == ["/api/v1/workspaces", f"/api/v1/workspaces/{gone.id}"]


def test_a_guardrail_replacement_looks_for_twins_in_its_new_workspace_only(
    emulator, management_key
):
    # A guardrail is replaced only to move workspace, so the `check` of the replacement (with
    # no old inputs, as a create) lists the new workspace, where the guardrail it replaces is
    # not; a workspace is never replaced. The twin check of BYOK credentials and destinations
    # had to compare their `provider` / `type` for this (tests/providers/test_byok.py).
    provider = configured(GuardrailProvider(), emulator, management_key)
    current = provider.create(guardrail_props())
    other = configured(WorkspaceProvider(), emulator, management_key).create(workspace_props())
    moved = {**current.outs, "workspace_id": other.id}
    assert provider.diff(current.id, current.outs, moved).replaces == ["workspace_id"]
    assert set(GuardrailProvider.REPLACE_ON) == {"workspace_id"}
    assert not WorkspaceProvider.REPLACE_ON
    assert provider.check({}, {**guardrail_props(), "workspace_id": other.id}).failures == []
