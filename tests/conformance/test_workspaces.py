"""Every `/workspaces` answer the provider will rely on, parsed by OpenRouter's own SDK.

As in test_api_keys.py: each call goes through the SDK (retries off), each answer must parse into
the SDK's model and carry no field it lacks (`conforms`). The rules checked here are the ones a
client is built around: a workspace is addressed by id or slug, one that still holds keys cannot
be deleted (and the default one not at all), budgets are one per interval and strictly decrease
from lifetime to daily, a key can only be created in a workspace that exists.
"""

from __future__ import annotations

import pytest
from openrouter import components, errors, operations

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from tests.conformance.endpoints import SDK_DEPRECATION, conforms
from tests.conformance.harness import Sdk, SdkFactory

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)

EVERY_FIELD = {
    "description": "The 15 agent projects",
    "default_text_model": "openai/gpt-4o-mini",
    "default_image_model": "openai/dall-e-3",
    "default_provider_sort": "price",
    "io_logging_api_key_ids": [1, 2],
    "io_logging_sampling_rate": 0.5,
    "is_data_discount_logging_enabled": False,
    "is_observability_broadcast_enabled": True,
    "is_observability_io_logging_enabled": True,
    "disabled_server_tools": ["openrouter:web_search"],
}


def make(sdk: Sdk, slug: str, **fields: object) -> components.Workspace:
    created = sdk.workspaces.create(name=slug.title(), slug=slug, **fields)
    conforms(sdk, created)
    return created.data


# --- POST /workspaces ----------------------------------------------------------------------------


def test_create_with_every_field(sdk: Sdk):
    answer = sdk.workspaces.create(name="Agents", slug="agents", **EVERY_FIELD)

    assert isinstance(answer, components.CreateWorkspaceResponse)
    assert sdk.answers[-1].status_code == 201
    conforms(sdk, answer)
    data = answer.data
    assert (data.name, data.slug, data.description) == (
        "Agents", "agents", "The 15 agent projects"
    )
    assert (data.io_logging_api_key_ids, data.io_logging_sampling_rate) == ([1, 2], 0.5)
    assert data.disabled_server_tools == ["openrouter:web_search"]
    assert (data.include_byok_in_budgets, data.updated_at) == (False, None)
    assert data.default_guardrail_id not in (data.id, None)


@pytest.mark.parametrize(
    "fields",
    [
        {"slug": "Agents"},  # capitals
        {"slug": "agents-"},  # trailing hyphen
        {"slug": "a" * 51},
        {"name": ""},
        {"io_logging_sampling_rate": 0},
    ],
)
def test_create_refused_is_the_sdks_bad_request_error(
    emulator: Emulator, sdk: Sdk, fields: dict[str, object]
):
    with pytest.raises(errors.BadRequestResponseError):
        sdk.workspaces.create(**{"name": "Agents", "slug": "agents", **fields})

    assert [w["id"] for w in emulator.workspaces()] == [DEFAULT_WORKSPACE_ID]


def test_a_slug_names_one_workspace(sdk: Sdk):
    make(sdk, "agents")

    with pytest.raises(errors.BadRequestResponseError):
        sdk.workspaces.create(name="Again", slug="agents")


def test_create_with_a_regular_key_is_the_sdks_forbidden_error(
    emulator: Emulator, sdk_for: SdkFactory
):
    regular = sdk_for(emulator.seed_key("inference").secret)

    with pytest.raises(errors.ForbiddenResponseError):
        regular.workspaces.create(name="Nope", slug="nope")


def test_a_failed_create_parses_and_is_sent_once_with_retries_off(emulator: Emulator, sdk: Sdk):
    emulator.inject(Fault(path="/api/v1/workspaces", method="POST", status=500))

    with pytest.raises(errors.InternalServerResponseError):
        sdk.workspaces.create(name="Once", slug="once")

    assert [(r.method, r.status) for r in emulator.requests()] == [("POST", 500)]
    assert len(emulator.workspaces()) == 1


# --- GET /workspaces, GET /workspaces/{id} -------------------------------------------------------


def test_list_pages_with_total_count_default_included(sdk: Sdk):
    made = {make(sdk, f"w{index:02d}").id for index in range(60)}

    first = sdk.workspaces.list()
    conforms(sdk, first.result)
    second = sdk.workspaces.list(offset=50)

    assert isinstance(first, operations.ListWorkspacesResponse)
    assert (len(first.result.data), len(second.result.data)) == (50, 11)
    assert first.result.total_count == 61
    assert {w.id for w in first.result.data + second.result.data} == made | {DEFAULT_WORKSPACE_ID}


def test_get_by_id_or_slug(sdk: Sdk):
    made = make(sdk, "agents")

    by_id = sdk.workspaces.get(id=made.id)
    assert isinstance(by_id, components.GetWorkspaceResponse)
    conforms(sdk, by_id)
    by_slug = sdk.workspaces.get(id="agents")

    assert by_id.data == by_slug.data == made
    with pytest.raises(errors.NotFoundResponseError):
        sdk.workspaces.get(id="nowhere")


# --- PATCH /workspaces/{id} ----------------------------------------------------------------------


def test_update_renames_and_moves_the_slug(sdk: Sdk):
    made = make(sdk, "agents", description="before")

    answer = sdk.workspaces.update(id="agents", name="Agents 2", slug="agents-two")

    assert isinstance(answer, components.UpdateWorkspaceResponse)
    conforms(sdk, answer)
    assert (answer.data.id, answer.data.slug, answer.data.description) == (
        made.id, "agents-two", "before"
    )
    assert answer.data.updated_at is not None
    assert sdk.workspaces.get(id="agents-two").data.id == made.id
    with pytest.raises(errors.NotFoundResponseError):
        sdk.workspaces.get(id="agents")


# --- DELETE /workspaces/{id} ---------------------------------------------------------------------


def test_delete_is_refused_while_keys_live_there(emulator: Emulator, sdk: Sdk):
    made = make(sdk, "agents")
    key = sdk.api_keys.create(name="resident", workspace_id=made.id)
    guardrail = sdk.guardrails.create(name="theirs", workspace_id=made.id).data
    sdk.workspaces.set_budget(workspace_ref=made.id, interval="monthly", limit_usd=50)

    with pytest.raises(errors.BadRequestResponseError) as caught:
        sdk.workspaces.delete(id="agents")
    assert "remove the keys first" in caught.value.data.error.message
    sdk.api_keys.delete(hash=key.data.hash)
    answer = sdk.workspaces.delete(id="agents")

    assert isinstance(answer, components.DeleteWorkspaceResponse)
    conforms(sdk, answer)
    assert sdk.last_json() == {"deleted": True}
    assert made.id not in {w["id"] for w in emulator.workspaces()}
    assert guardrail.id not in {g["id"] for g in emulator.guardrails()}
    with pytest.raises(errors.NotFoundResponseError):
        sdk.workspaces.list_budgets(workspace_ref=made.id)


def test_the_default_workspace_cannot_be_deleted(sdk: Sdk):
    with pytest.raises(errors.BadRequestResponseError):
        sdk.workspaces.delete(id=DEFAULT_WORKSPACE_ID)
    with pytest.raises(errors.ForbiddenResponseError):
        sdk.workspaces.delete(id=DEFAULT_WORKSPACE_ID, confirm_default_workspace_deletion=True)

    assert sdk.workspaces.get(id=DEFAULT_WORKSPACE_ID).data.id == DEFAULT_WORKSPACE_ID


# --- budgets -------------------------------------------------------------------------------------


def test_budgets_per_interval_broadest_first(sdk: Sdk):
    made = make(sdk, "agents")
    for interval, limit in (("daily", 30), ("monthly", 500), ("weekly", 150), ("lifetime", 900)):
        answer = sdk.workspaces.set_budget(
            workspace_ref="agents", interval=interval, limit_usd=limit,
            include_byok_in_budgets=interval == "lifetime",
        )
        assert isinstance(answer, components.UpsertWorkspaceBudgetResponse)
        conforms(sdk, answer)

    listed = sdk.workspaces.list_budgets(workspace_ref=made.id)
    assert isinstance(listed, components.ListWorkspaceBudgetsResponse)
    conforms(sdk, listed)
    lifetime = sdk.workspaces.get_budget(workspace_ref="agents", interval="lifetime")
    assert isinstance(lifetime, components.GetWorkspaceBudgetResponse)
    conforms(sdk, lifetime)

    assert [(b.reset_interval, b.limit_usd) for b in listed.data] == [
        (None, 900), ("monthly", 500), ("weekly", 150), ("daily", 30)
    ]
    assert {b.workspace_id for b in listed.data} == {made.id}
    assert (lifetime.data.reset_interval, lifetime.include_byok_in_budgets) == (None, True)
    assert sdk.workspaces.get(id=made.id).data.include_byok_in_budgets is True


@pytest.mark.parametrize(
    ("interval", "limit"), [("weekly", 500), ("weekly", 600), ("lifetime", 400), ("daily", 150)]
)
def test_a_budget_that_does_not_strictly_decrease_is_the_sdks_bad_request_error(
    sdk: Sdk, interval: str, limit: float
):
    make(sdk, "agents")
    sdk.workspaces.set_budget(workspace_ref="agents", interval="monthly", limit_usd=500)
    sdk.workspaces.set_budget(workspace_ref="agents", interval="weekly", limit_usd=150)

    with pytest.raises(errors.BadRequestResponseError):
        sdk.workspaces.set_budget(workspace_ref="agents", interval=interval, limit_usd=limit)

    listed = sdk.workspaces.list_budgets(workspace_ref="agents").data
    assert [(b.reset_interval, b.limit_usd) for b in listed] == [("monthly", 500), ("weekly", 150)]


def test_deleting_a_budget_answers_deleted_even_when_none_was_set(sdk: Sdk):
    make(sdk, "agents")
    sdk.workspaces.set_budget(workspace_ref="agents", interval="daily", limit_usd=5)

    answer = sdk.workspaces.delete_budget(workspace_ref="agents", interval="daily")
    assert isinstance(answer, components.DeleteWorkspaceBudgetResponse)
    conforms(sdk, answer)
    again = sdk.workspaces.delete_budget(workspace_ref="agents", interval="daily")

    assert (answer.DELETED, again.DELETED) == (True, True)
    assert sdk.last_json() == {"deleted": True}  # the model defaults it: read the wire
    with pytest.raises(errors.NotFoundResponseError):
        sdk.workspaces.get_budget(workspace_ref="agents", interval="daily")


# --- keys and workspaces -------------------------------------------------------------------------


def test_a_key_can_only_be_created_in_a_workspace_that_exists(emulator: Emulator, sdk: Sdk):
    with pytest.raises(errors.BadRequestResponseError):
        sdk.api_keys.create(name="lost", workspace_id="0b0e2f9c-0000-4000-8000-000000000000")
    with pytest.raises(errors.NotFoundResponseError):
        sdk.api_keys.list(workspace_id="0b0e2f9c-0000-4000-8000-000000000000")

    assert emulator.keys() == []
