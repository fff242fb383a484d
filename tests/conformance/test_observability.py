"""Every `/observability/destinations` answer the observability provider relies on, parsed by
OpenRouter's own SDK.

As in test_guardrails.py: each call goes through the SDK (retries off), each answer must parse
into the SDK's model of its type (the list's `oneOf` included) and carry no field it lacks
(`conforms`). The rules checked here are the ones a client is built around: secrets come back
masked, a PATCH changes only what it sends and ignores a masked secret sent back, five of a type
per workspace then a 409, a deleted destination answers 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from openrouter import components, errors, operations

from emulator import Emulator
from tests.conformance.endpoints import SDK_DEPRECATION, assert_gone, conforms
from tests.conformance.harness import Sdk, SdkFactory
from tests.emulator.destination_configs import REQUIRED, URL_KEYS
from tests.support.sentinel import assert_absent, make_sentinel

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)

AGENTS = "7c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
URL = "https://collector.example.com"


def config_of(kind: str) -> dict[str, str]:
    """A config of `kind` with its required keys only (secrets generated per call)."""
    return {name: URL if name in URL_KEYS else make_sentinel() for name in REQUIRED[kind]}


def make(sdk: Sdk, kind: str = "webhook", name: str = "d", **fields: object) -> Any:
    created = sdk.observability.create(type_=kind, name=name, config=config_of(kind), **fields)
    conforms(sdk, created)
    return created.data


def test_create_with_every_field(emulator: Emulator, sdk: Sdk, sentinel: str):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)
    key_hash = sdk.api_keys.create(name="api", workspace_id=AGENTS).data.hash
    rules = {"enabled": True, "groups": [{"logic": "or", "rules": [
        {"field": "model", "operator": "starts_with", "value": "openai/"},
        {"field": "total_cost", "operator": "gt", "value": 0.01},
    ]}]}

    answer = sdk.observability.create(
        type_="langfuse", name="Langfuse production", workspace_id=AGENTS,
        config={"publicKey": "pk-lf-public", "secretKey": sentinel,
                "baseUrl": "https://cloud.langfuse.com", "headers": {"X-Team": "agents"}},
        api_key_hashes=[key_hash], privacy_mode=True, sampling_rate=0.5, enabled=False,
        broadcast_generation_cost=True, broadcast_generation_cost_allocation=True,
        broadcast_generation_identity=True, broadcast_generation_request_context=True,
        filter_rules=rules, regions=["eu"],
    )

    assert isinstance(answer, components.CreateObservabilityDestinationResponse)
    assert sdk.answers[-1].status_code == 201
    conforms(sdk, answer)
    data = answer.data
    assert isinstance(data, components.ObservabilityLangfuseDestination)
    assert (data.name, data.workspace_id, data.api_key_hashes) == (
        "Langfuse production", AGENTS, [key_hash]
    )
    assert (data.privacy_mode, data.sampling_rate, data.enabled, data.regions) == (
        True, 0.5, False, ["europe"]
    )
    assert data.config.public_key == "pk-lf-public"
    assert data.config.secret_key == f"{sentinel[:3]}...{sentinel[-4:]}"
    assert data.config.headers == {"X-Team": "agents"}
    assert data.filter_rules is not None
    assert data.filter_rules.groups[0].logic == "or"
    assert_absent(sentinel, sdk.answers[-1].content, emulator.requests())


def test_a_missing_config_key_is_the_sdks_bad_request_error_naming_it(
    emulator: Emulator, sdk: Sdk
):
    with pytest.raises(errors.BadRequestResponseError) as caught:
        sdk.observability.create(type_="datadog", name="d", config={"apiKey": make_sentinel()})

    assert "config.mlApp is required for type datadog" in caught.value.data.error.message
    assert emulator.objects("observability") == []


def test_a_sixth_of_a_type_is_the_sdks_conflict_error(emulator: Emulator, sdk: Sdk):
    for index in range(5):
        make(sdk, name=f"hook{index}")

    with pytest.raises(errors.ConflictResponseError) as caught:
        make(sdk, name="sixth")

    assert caught.value.data.error.code == 409
    assert len(emulator.objects("observability")) == 5


def test_create_with_a_regular_key_is_the_sdks_forbidden_error(
    emulator: Emulator, sdk_for: SdkFactory
):
    regular = sdk_for(emulator.seed_key("inference").secret)

    with pytest.raises(errors.ForbiddenResponseError):
        regular.observability.create(type_="webhook", name="d", config={"url": URL})

    assert emulator.objects("observability") == []


def test_list_pages_one_workspace_and_parses_every_type(emulator: Emulator, sdk: Sdk):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)
    made = [make(sdk, kind) for kind in REQUIRED]
    elsewhere = make(sdk, workspace_id=AGENTS)

    first = sdk.observability.list(limit=10)
    conforms(sdk, first.result)
    second = sdk.observability.list(offset=10, limit=10)
    conforms(sdk, second.result)
    theirs = sdk.observability.list(workspace_id=AGENTS)

    assert isinstance(first, operations.ListObservabilityDestinationsResponse)
    listed = first.result.data + second.result.data
    assert (len(first.result.data), len(second.result.data), first.result.total_count) == (
        10, 7, 17
    )
    assert not any(isinstance(d, components.UnknownObservabilityDestination) for d in listed)
    assert sorted(d.type for d in listed) == sorted(REQUIRED)
    assert {d.id for d in listed} == {d.id for d in made}
    assert [d.id for d in theirs.result.data] == [elsewhere.id]


def test_get_one_destination(sdk: Sdk):
    made = make(sdk, "s3")

    answer = sdk.observability.get(id=made.id)

    assert isinstance(answer, components.GetObservabilityDestinationResponse)
    conforms(sdk, answer)
    assert answer.data == made
    assert isinstance(answer.data, components.ObservabilityS3Destination)


def test_update_is_partial_and_ignores_a_masked_secret(emulator: Emulator, sdk: Sdk):
    made = make(sdk, "langfuse", name="prod")
    masked = made.config.secret_key

    answer = sdk.observability.update(
        id=made.id,
        config={"secretKey": masked, "baseUrl": "https://cloud.langfuse.com"},
        sampling_rate=0.25,
    )

    assert isinstance(answer, components.UpdateObservabilityDestinationResponse)
    conforms(sdk, answer)
    data = answer.data
    assert (data.name, data.sampling_rate) == ("prod", 0.25)
    assert data.config.secret_key == masked
    assert data.config.public_key == made.config.public_key
    assert data.config.base_url == "https://cloud.langfuse.com"


def test_delete_then_every_route_is_the_sdks_not_found_error(emulator: Emulator, sdk: Sdk):
    made = make(sdk)

    answer = sdk.observability.delete(id=made.id)

    assert isinstance(answer, components.DeleteObservabilityDestinationResponse)
    assert sdk.last_json() == {"deleted": True}
    assert_gone(sdk.observability, made.id)
    assert emulator.objects("observability") == []
