"""Every `/guardrails` answer the provider will rely on, parsed by OpenRouter's own SDK.

As in test_api_keys.py: each call goes through the SDK (retries off), each answer must parse into
the SDK's model and carry no field it lacks (`conforms`), and values are read back through the
SDK's objects. The rules checked here are the ones a client is built around: one guardrail per key
(assigning moves it), the workspace default guardrail that answers 404 until a PATCH configures
it, PATCH replacing whole collections, `total_count` on every list.
"""

from __future__ import annotations

import pytest
from openrouter import components, errors, operations
from openrouter.components import Guardrail

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from tests.conformance.endpoints import SDK_DEPRECATION, conforms
from tests.conformance.harness import Sdk, SdkFactory

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)

AGENTS = "7c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
EVERY_SETTING = {
    "description": "CI may call two small models",
    "limit_usd": 20,
    "reset_interval": "monthly",
    "include_byok_in_budgets": True,
    "allowed_models": ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"],
    "allowed_providers": ["openai", "anthropic"],
    "ignored_models": ["openai/gpt-4o"],
    "ignored_providers": ["deepinfra"],
    "enforce_zdr_anthropic": True,
    "enforce_zdr_openai": True,
    "enforce_zdr_google": False,
    "enforce_zdr_xai": True,
    "enforce_zdr_other": True,
    "enable_free_model_publication": False,
    "enable_free_model_training": False,
    "enable_paid_model_training": False,
    "allow_safety_retention_google": False,
    "allow_safety_retention_other": False,
    "content_filter_builtins": [
        {"slug": "regex-prompt-injection", "action": "block", "scan_scope": "user_only"},
        {"slug": "email", "action": "redact"},
    ],
    "content_filters": [{"pattern": "ACME-[0-9]{6}", "action": "redact", "label": "ticket"}],
    "allowed_data_regions": ["europe"],
}


@pytest.fixture
def agents(emulator: Emulator) -> str:
    return emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)["id"]


def make(sdk: Sdk, name: str, **settings: object) -> Guardrail:
    created = sdk.guardrails.create(name=name, **settings)
    conforms(sdk, created)
    return created.data


def key_in(sdk: Sdk, workspace_id: str, name: str) -> str:
    return sdk.api_keys.create(name=name, workspace_id=workspace_id).data.hash


# --- POST /guardrails ----------------------------------------------------------------------------


def test_create_with_every_setting(sdk: Sdk, agents: str):
    answer = sdk.guardrails.create(name="ci-cheap", workspace_id=agents, **EVERY_SETTING)

    assert isinstance(answer, components.CreateGuardrailResponse)
    assert sdk.answers[-1].status_code == 201
    conforms(sdk, answer)
    data = answer.data
    assert (data.name, data.workspace_id, data.limit_usd, data.reset_interval) == (
        "ci-cheap", agents, 20, "monthly"
    )
    assert (data.include_byok_in_budgets, data.allowed_data_regions) == (True, ["europe"])
    assert data.allowed_models == EVERY_SETTING["allowed_models"]
    assert (data.enforce_zdr_google, data.enforce_zdr_other) == (False, True)
    injection, email = data.content_filter_builtins
    assert (injection.slug, injection.scan_scope, injection.label) == (
        "regex-prompt-injection", "user_only", "[REGEX_PROMPT_INJECTION]"
    )
    assert (email.slug, email.action, email.label) == ("email", "redact", "[EMAIL]")
    assert data.content_filters[0].pattern == "ACME-[0-9]{6}"
    assert data.updated_at is None


def test_create_with_a_name_only_leaves_every_setting_null(sdk: Sdk):
    data = make(sdk, "bare")

    assert data.workspace_id == DEFAULT_WORKSPACE_ID
    assert data.include_byok_in_budgets is False
    assert (data.limit_usd, data.allowed_models, data.content_filters) == (None, None, None)


@pytest.mark.parametrize(
    "settings",
    [
        {"limit_usd": 20},  # without reset_interval
        {"reset_interval": "weekly"},  # without limit_usd
        {"allowed_models": []},
        {"description": "x" * 1001},
        {"content_filters": [{"pattern": "(?=lookahead)", "action": "block"}]},
        {"workspace_id": "0b0e2f9c-0000-4000-8000-000000000000"},  # no such workspace
    ],
)
def test_create_refused_is_the_sdks_bad_request_error(
    emulator: Emulator, sdk: Sdk, settings: dict[str, object]
):
    with pytest.raises(errors.BadRequestResponseError) as caught:
        sdk.guardrails.create(name="refused", **settings)

    assert caught.value.data.error.code == 400
    assert emulator.guardrails() == []


def test_create_with_a_regular_key_is_the_sdks_forbidden_error(
    emulator: Emulator, sdk_for: SdkFactory
):
    regular = sdk_for(emulator.seed_key("inference").secret)

    with pytest.raises(errors.ForbiddenResponseError):
        regular.guardrails.create(name="nope")

    assert emulator.guardrails() == []


def test_a_failed_create_parses_and_is_sent_once_with_retries_off(emulator: Emulator, sdk: Sdk):
    emulator.inject(Fault(path="/api/v1/guardrails", method="POST", status=500))

    with pytest.raises(errors.InternalServerResponseError):
        sdk.guardrails.create(name="once")

    assert [(r.method, r.status) for r in emulator.requests()] == [("POST", 500)]
    assert emulator.guardrails() == []


# --- GET /guardrails -----------------------------------------------------------------------------


def test_list_pages_one_workspace_with_total_count(sdk: Sdk, agents: str):
    for index in range(55):
        make(sdk, f"g{index:02d}")
    elsewhere = make(sdk, "elsewhere", workspace_id=agents)

    first = sdk.guardrails.list()
    conforms(sdk, first.result)
    second = sdk.guardrails.list(offset=50, limit=50)
    conforms(sdk, second.result)
    theirs = sdk.guardrails.list(workspace_id=agents)

    assert isinstance(first, operations.ListGuardrailsResponse)
    assert (len(first.result.data), len(second.result.data)) == (50, 5)
    assert first.result.total_count == second.result.total_count == 55
    names = {g.name for g in first.result.data + second.result.data}
    assert names == {f"g{index:02d}" for index in range(55)}
    assert [g.id for g in theirs.result.data] == [elsewhere.id]


# --- GET /guardrails/{id} ------------------------------------------------------------------------


def test_get_one_guardrail(sdk: Sdk):
    made = make(sdk, "one", limit_usd=5, reset_interval="daily")

    answer = sdk.guardrails.get(id=made.id)

    assert isinstance(answer, components.GetGuardrailResponse)
    conforms(sdk, answer)
    assert answer.data == made


def test_unknown_id_is_the_sdks_not_found_error_everywhere(sdk: Sdk):
    missing = "4d4d4d4d-0000-4000-8000-000000000000"
    for call in (
        lambda: sdk.guardrails.get(id=missing),
        lambda: sdk.guardrails.update(id=missing, description="x"),
        lambda: sdk.guardrails.delete(id=missing),
        lambda: sdk.guardrails.list_guardrail_key_assignments(id=missing),
        lambda: sdk.guardrails.bulk_assign_keys(id=missing, key_hashes=["a" * 64]),
    ):
        with pytest.raises(errors.NotFoundResponseError) as caught:
            call()
        assert caught.value.data.error.message == "Resource not found"


# --- PATCH /guardrails/{id} ----------------------------------------------------------------------


def test_update_replaces_what_it_sends_and_keeps_the_rest(sdk: Sdk):
    made = make(sdk, "ci", **EVERY_SETTING)

    answer = sdk.guardrails.update(
        id=made.id, allowed_models=["openai/gpt-4o-mini"], content_filters=None,
        limit_usd=30, reset_interval="weekly",
    )

    assert isinstance(answer, components.UpdateGuardrailResponse)
    conforms(sdk, answer)
    data = answer.data
    assert data.allowed_models == ["openai/gpt-4o-mini"]
    assert data.content_filters is None
    assert (data.limit_usd, data.reset_interval) == (30, "weekly")
    assert (data.description, data.allowed_providers) == (
        EVERY_SETTING["description"], EVERY_SETTING["allowed_providers"]
    )
    assert data.updated_at is not None


def test_update_with_limit_alone_is_the_sdks_bad_request_error(sdk: Sdk):
    made = make(sdk, "ci", limit_usd=5, reset_interval="daily")

    with pytest.raises(errors.BadRequestResponseError):
        sdk.guardrails.update(id=made.id, limit_usd=9)

    assert sdk.guardrails.get(id=made.id).data.limit_usd == 5


def test_the_workspace_default_guardrail_exists_only_once_configured(sdk: Sdk, agents: str):
    default_id = sdk.workspaces.get(id=agents).data.default_guardrail_id
    with pytest.raises(errors.NotFoundResponseError):
        sdk.guardrails.get(id=default_id)

    configured = sdk.guardrails.update(id=default_id, enforce_zdr_anthropic=True)
    conforms(sdk, configured)
    with pytest.raises(errors.BadRequestResponseError):
        sdk.guardrails.update(id=default_id, name="renamed")
    with pytest.raises(errors.BadRequestResponseError):
        sdk.guardrails.bulk_assign_keys(id=default_id, key_hashes=[key_in(sdk, agents, "k")])
    with pytest.raises(errors.ForbiddenResponseError):
        sdk.guardrails.delete(id=default_id)

    data = sdk.guardrails.get(id=default_id).data
    assert (data.id, data.workspace_id, data.enforce_zdr_anthropic) == (default_id, agents, True)
    assert data.name == f"Workspace {agents} Default"


# --- DELETE /guardrails/{id} ---------------------------------------------------------------------


def test_delete_unassigns_its_keys_then_answers_404(emulator: Emulator, sdk: Sdk):
    made = make(sdk, "doomed")
    key_hash = key_in(sdk, DEFAULT_WORKSPACE_ID, "held")
    sdk.guardrails.bulk_assign_keys(id=made.id, key_hashes=[key_hash])

    answer = sdk.guardrails.delete(id=made.id)

    assert isinstance(answer, components.DeleteGuardrailResponse)
    conforms(sdk, answer)
    assert sdk.last_json() == {"deleted": True}  # the model defaults it: read the wire
    assert emulator.key_guardrail(key_hash) is None
    with pytest.raises(errors.NotFoundResponseError):
        sdk.guardrails.get(id=made.id)


# --- key assignments -----------------------------------------------------------------------------


def test_assigning_a_key_that_holds_another_guardrail_moves_it(sdk: Sdk):
    first, second = make(sdk, "first"), make(sdk, "second")
    key_hash = key_in(sdk, DEFAULT_WORKSPACE_ID, "mover")

    assigned = sdk.guardrails.bulk_assign_keys(id=first.id, key_hashes=[key_hash])
    assert isinstance(assigned, components.BulkAssignKeysResponse)
    conforms(sdk, assigned)
    moved = sdk.guardrails.bulk_assign_keys(id=second.id, key_hashes=[key_hash])
    on_first = sdk.guardrails.list_guardrail_key_assignments(id=first.id)
    conforms(sdk, on_first.result)
    on_second = sdk.guardrails.list_guardrail_key_assignments(id=second.id)

    assert (assigned.assigned_count, moved.assigned_count) == (1, 1)
    assert (on_first.result.data, on_first.result.total_count) == ([], 0)
    [held] = on_second.result.data
    assert (held.key_hash, held.key_name, held.guardrail_id) == (key_hash, "mover", second.id)
    assert held.key_label.startswith("sk-or-v1-")


def test_a_key_of_another_workspace_is_the_sdks_bad_request_error(
    emulator: Emulator, sdk: Sdk, agents: str
):
    theirs = make(sdk, "agents-only", workspace_id=agents)
    outsider = key_in(sdk, DEFAULT_WORKSPACE_ID, "outsider")

    with pytest.raises(errors.BadRequestResponseError):
        sdk.guardrails.bulk_assign_keys(id=theirs.id, key_hashes=[outsider])

    assert emulator.key_guardrail(outsider) is None


def test_unassign_counts_only_the_keys_that_held_it(emulator: Emulator, sdk: Sdk):
    mine, other = make(sdk, "mine"), make(sdk, "other")
    held, elsewhere = key_in(sdk, DEFAULT_WORKSPACE_ID, "a"), key_in(sdk, DEFAULT_WORKSPACE_ID, "b")
    sdk.guardrails.bulk_assign_keys(id=mine.id, key_hashes=[held])
    sdk.guardrails.bulk_assign_keys(id=other.id, key_hashes=[elsewhere])

    answer = sdk.guardrails.bulk_unassign_keys(id=mine.id, key_hashes=[held, elsewhere])

    assert isinstance(answer, components.BulkUnassignKeysResponse)
    conforms(sdk, answer)
    assert answer.unassigned_count == 1
    assert (emulator.key_guardrail(held), emulator.key_guardrail(elsewhere)) == (None, other.id)


def test_every_key_assignment_pages_with_total_count(sdk: Sdk):
    guardrail = make(sdk, "many")
    hashes = [key_in(sdk, DEFAULT_WORKSPACE_ID, f"k{index}") for index in range(3)]
    sdk.guardrails.bulk_assign_keys(id=guardrail.id, key_hashes=hashes)

    first = sdk.guardrails.list_key_assignments(limit=2)
    conforms(sdk, first.result)
    rest = sdk.guardrails.list_key_assignments(offset=2, limit=2)

    assert isinstance(first, operations.ListKeyAssignmentsResponse)
    assert first.result.total_count == rest.result.total_count == 3
    listed = [a.key_hash for a in first.result.data + rest.result.data]
    assert sorted(listed) == sorted(hashes)
