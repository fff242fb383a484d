"""`GET /models` and `GET /providers`, the public catalogue a guardrail's lists are checked
against, parsed by OpenRouter's own SDK (as in test_api_keys.py: retries off, every answer must
parse into the SDK's model and carry no field it lacks)."""

from __future__ import annotations

import pytest
from openrouter import components, errors, operations

from emulator import Emulator
from emulator import catalogue as served
from providers.http.client import ClientSettings, OpenRouterClient
from tests.conformance.endpoints import SDK_DEPRECATION, conforms
from tests.conformance.harness import Sdk

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)


def test_every_model_of_every_output_kind_in_one_answer(sdk: Sdk):
    answer = sdk.models.list(offset=None, limit=None, output_modalities="all")

    assert isinstance(answer, operations.GetModelsResponse)
    listed = answer.result
    assert isinstance(listed, components.ModelsListResponse)
    conforms(sdk, listed)
    assert [m.id for m in listed.data] == [m.id for m in served.MODELS]
    assert listed.total_count == len(served.MODELS)
    assert listed.links.next is None
    mini = next(m for m in listed.data if m.id == "openai/gpt-4o-mini")
    assert mini.canonical_slug == "openai/gpt-4o-mini-2024-07-18"
    assert mini.architecture.output_modalities == ["text"]


def test_the_default_list_holds_text_models_only_and_pages_with_the_sdks_defaults(sdk: Sdk):
    answer = sdk.models.list(limit=5)

    conforms(sdk, answer.result)
    text = [m.id for m in served.MODELS if m.output == "text"]
    assert [m.id for m in answer.result.data] == text[:5]
    assert answer.result.total_count == len(text)
    assert answer.result.links.next is not None
    image = "google/gemini-2.5-flash-image"
    assert image not in {m.id for m in sdk.models.list(offset=None, limit=None).result.data}


def test_an_unknown_output_kind_is_the_sdks_bad_request(sdk: Sdk):
    with pytest.raises(errors.BadRequestResponseError):
        sdk.models.list(output_modalities="smell")


def test_every_provider_by_slug_and_name(sdk: Sdk):
    answer = sdk.providers.list()

    assert isinstance(answer, operations.ListProvidersResponse)
    conforms(sdk, answer)
    assert [(p.slug, p.name) for p in answer.data] == [(p.slug, p.name) for p in served.PROVIDERS]


def test_the_projects_client_reads_both_lists_in_one_request_each(
    emulator: Emulator, management_key: str
):
    settings = ClientSettings(api_key=management_key, base_url=emulator.api_base_url)
    with OpenRouterClient(settings) as client:
        models = client.list_models()
        providers = client.list_providers()

    assert [m.id for m in models] == [m.id for m in served.MODELS]
    assert {p.slug for p in providers} >= {"openai", "anthropic", "deepinfra"}
    assert [(r.path, r.query) for r in emulator.requests()] == [
        ("/api/v1/models", "output_modalities=all"),
        ("/api/v1/providers", ""),
    ]
