"""Every `/byok` answer the BYOK provider relies on, parsed by OpenRouter's own SDK.

As in test_guardrails.py: each call goes through the SDK (retries off), each answer must parse
into the SDK's model and carry no field it lacks (`conforms`). The rules checked here are the ones
a client is built around: the provider key is write-only (only its label comes back), a PATCH with
`key` rotates in place under the same id, `allowed_api_key_hashes` names keys of the account, and a
deleted credential answers 404.
"""

from __future__ import annotations

import pytest
from openrouter import components, errors, operations

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from tests.conformance.endpoints import SDK_DEPRECATION, assert_gone, conforms
from tests.conformance.harness import Sdk, SdkFactory
from tests.support.sentinel import assert_absent, make_sentinel

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)

AGENTS = "7c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
MISSING = "4d4d4d4d-0000-4000-8000-000000000000"


def make(sdk: Sdk, provider: str = "openai", **fields: object) -> components.BYOKKey:
    created = sdk.byok.create(provider=provider, key=make_sentinel(), **fields)
    conforms(sdk, created)
    return created.data


def test_create_with_every_field(emulator: Emulator, sdk: Sdk, sentinel: str):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)
    key_hash = sdk.api_keys.create(name="api", workspace_id=AGENTS).data.hash

    answer = sdk.byok.create(
        provider="anthropic", key=sentinel, name="Anthropic production", workspace_id=AGENTS,
        allowed_api_key_hashes=[key_hash], allowed_models=["anthropic/claude-3.5-haiku"],
        allowed_user_ids=["user_1"], declared_region="us", declared_zdr=True, disabled=False,
        is_fallback=True, is_required=False,
    )

    assert isinstance(answer, components.CreateBYOKKeyResponse)
    assert sdk.answers[-1].status_code == 201
    conforms(sdk, answer)
    data = answer.data
    assert (data.provider, data.name, data.workspace_id) == (
        "anthropic", "Anthropic production", AGENTS
    )
    assert (data.allowed_api_key_hashes, data.allowed_models, data.allowed_user_ids) == (
        [key_hash], ["anthropic/claude-3.5-haiku"], ["user_1"]
    )
    assert (data.declared_region, data.declared_zdr, data.is_fallback, data.sort_order) == (
        "us", True, True, 0
    )
    assert data.label == f"{sentinel[:3]}...{sentinel[-4:]}"
    assert_absent(sentinel, sdk.answers[-1].content)


@pytest.mark.parametrize(
    "fields",
    [
        {"key": ""},
        {"allowed_api_key_hashes": ["ab" * 32]},  # not a key of the account
        {"allowed_api_key_hashes": []},
        {"workspace_id": MISSING},
        {"is_fallback": True, "is_byok_only": True},
    ],
)
def test_create_refused_is_the_sdks_bad_request_error(
    emulator: Emulator, sdk: Sdk, fields: dict[str, object]
):
    with pytest.raises(errors.BadRequestResponseError) as caught:
        sdk.byok.create(**{"provider": "openai", "key": make_sentinel(), **fields})

    assert caught.value.data.error.code == 400
    assert emulator.objects("byok") == []


def test_create_with_a_regular_key_is_the_sdks_forbidden_error(
    emulator: Emulator, sdk_for: SdkFactory
):
    regular = sdk_for(emulator.seed_key("inference").secret)

    with pytest.raises(errors.ForbiddenResponseError):
        regular.byok.create(provider="openai", key=make_sentinel())

    assert emulator.objects("byok") == []


def test_a_failed_create_parses_and_is_sent_once_with_retries_off(emulator: Emulator, sdk: Sdk):
    emulator.inject(Fault(path="/api/v1/byok", method="POST", status=500))

    with pytest.raises(errors.InternalServerResponseError):
        sdk.byok.create(provider="openai", key=make_sentinel())

    assert [(r.method, r.status) for r in emulator.requests()] == [("POST", 500)]


def test_list_pages_one_workspace_and_filters_by_provider(emulator: Emulator, sdk: Sdk):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)
    made = [make(sdk, "openai" if index % 3 else "anthropic") for index in range(55)]
    elsewhere = make(sdk, workspace_id=AGENTS)

    first = sdk.byok.list()
    conforms(sdk, first.result)
    second = sdk.byok.list(offset=50, limit=50)
    conforms(sdk, second.result)
    anthropic = sdk.byok.list(provider="anthropic", limit=100)
    theirs = sdk.byok.list(workspace_id=AGENTS)

    assert isinstance(first, operations.ListBYOKKeysResponse)
    assert (len(first.result.data), len(second.result.data)) == (50, 5)
    assert first.result.total_count == second.result.total_count == 55
    assert {c.id for c in first.result.data + second.result.data} == {c.id for c in made}
    assert {c.provider for c in anthropic.result.data} == {"anthropic"}
    assert anthropic.result.total_count == 19
    assert [c.id for c in theirs.result.data] == [elsewhere.id]


def test_get_one_credential(sdk: Sdk):
    made = make(sdk, name="one")

    answer = sdk.byok.get(id=made.id)

    assert isinstance(answer, components.GetBYOKKeyResponse)
    conforms(sdk, answer)
    assert answer.data == made
    assert answer.data.workspace_id == DEFAULT_WORKSPACE_ID


def test_update_with_key_rotates_in_place(emulator: Emulator, sdk: Sdk):
    made = make(sdk, name="prod", allowed_models=["openai/gpt-4o-mini"])
    new_secret = make_sentinel()

    answer = sdk.byok.update(id=made.id, key=new_secret, disabled=True)

    assert isinstance(answer, components.UpdateBYOKKeyResponse)
    conforms(sdk, answer)
    data = answer.data
    assert (data.id, data.name, data.allowed_models, data.disabled) == (
        made.id, "prod", ["openai/gpt-4o-mini"], True
    )
    assert data.label == f"{new_secret[:3]}...{new_secret[-4:]}" != made.label
    assert [(r.method, r.status) for r in emulator.requests()][-1] == ("PATCH", 200)
    assert_absent(new_secret, sdk.answers[-1].content, emulator.requests())


def test_update_with_null_clears_the_key_restriction(emulator: Emulator, sdk: Sdk):
    key_hash = emulator.seed_key("api").hash
    made = make(sdk, allowed_api_key_hashes=[key_hash])

    answer = sdk.byok.update(id=made.id, allowed_api_key_hashes=None)

    conforms(sdk, answer)
    assert answer.data.allowed_api_key_hashes is None


def test_delete_then_every_route_is_the_sdks_not_found_error(emulator: Emulator, sdk: Sdk):
    made = make(sdk)

    answer = sdk.byok.delete(id=made.id)

    assert isinstance(answer, components.DeleteBYOKKeyResponse)
    assert sdk.last_json() == {"deleted": True}
    assert_gone(sdk.byok, made.id)
    assert emulator.objects("byok") == []
