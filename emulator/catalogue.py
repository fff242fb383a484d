"""`GET /models` and `GET /providers`: OpenRouter's public catalogue, small and realistic.

A guardrail's `allowed_models`/`ignored_models` take a model's `id` or its `canonical_slug`, and
`allowed_providers`/`ignored_providers` a provider's `slug` (docs/reference/openrouter-api.md
§15). The project checks a stack's lists against these two answers before any
write, so every model and provider a test stack or the sandbox names is here.

Shapes follow the SDK's `ModelsListResponse` and `ListProvidersResponse` (tests/conformance/
test_catalogue.py parses them). Like OpenRouter: both are readable without a key, `/models`
lists only text-output models unless `output_modalities` says otherwise (`all` for every one),
and it answers the whole list when neither `offset` nor `limit` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from emulator.wire import MSG_INVALID, ApiError, Request, Response, single

MODELS_ROUTE: Final = "/models"
PROVIDERS_ROUTE: Final = "/providers"
MAX_MODELS_LIMIT: Final = 1000
DEFAULT_MODELS_LIMIT: Final = 500
OUTPUT_MODALITIES: Final = (
    "text", "image", "embeddings", "audio", "video", "rerank", "decisions", "speech",
    "transcription",
)
_CREATED: Final = 1_721_260_800  # 2024-07-18, a plausible `created` for every entry
_TEXT_PARAMETERS: Final = ["max_tokens", "temperature", "top_p", "stop", "tools", "tool_choice"]


@dataclass(frozen=True)
class CatalogueModel:
    """One model as the emulator lists it: what the project reads, plus its output kind."""

    id: str
    canonical_slug: str
    name: str
    output: str = "text"
    context_length: int = 128_000
    prompt_price: str = "0.00000015"
    completion_price: str = "0.0000006"


MODELS: Final = (
    CatalogueModel("openai/gpt-4o-mini", "openai/gpt-4o-mini-2024-07-18", "OpenAI: GPT-4o-mini"),
    CatalogueModel(
        "openai/gpt-4o", "openai/gpt-4o-2024-08-06", "OpenAI: GPT-4o",
        prompt_price="0.0000025", completion_price="0.00001",
    ),
    CatalogueModel(
        "openai/gpt-4.1-mini", "openai/gpt-4.1-mini-2025-04-14", "OpenAI: GPT-4.1 Mini",
        context_length=1_047_576, prompt_price="0.0000004", completion_price="0.0000016",
    ),
    CatalogueModel(
        "openai/o3-mini", "openai/o3-mini-2025-01-31", "OpenAI: o3 Mini",
        context_length=200_000, prompt_price="0.0000011", completion_price="0.0000044",
    ),
    CatalogueModel(
        "anthropic/claude-3.5-haiku", "anthropic/claude-3-5-haiku", "Anthropic: Claude 3.5 Haiku",
        context_length=200_000, prompt_price="0.0000008", completion_price="0.000004",
    ),
    CatalogueModel(
        "anthropic/claude-sonnet-4", "anthropic/claude-4-sonnet-20250522",
        "Anthropic: Claude Sonnet 4",
        context_length=200_000, prompt_price="0.000003", completion_price="0.000015",
    ),
    CatalogueModel(
        "google/gemini-2.5-flash", "google/gemini-2.5-flash", "Google: Gemini 2.5 Flash",
        context_length=1_048_576, prompt_price="0.0000003", completion_price="0.0000025",
    ),
    CatalogueModel(
        "google/gemini-2.5-flash-image", "google/gemini-2.5-flash-image",
        "Google: Gemini 2.5 Flash Image", output="image", context_length=32_768,
        prompt_price="0.0000003", completion_price="0.0000025",
    ),
    CatalogueModel(
        "meta-llama/llama-3.3-70b-instruct", "meta-llama/llama-3.3-70b-instruct",
        "Meta: Llama 3.3 70B Instruct", context_length=131_072,
        prompt_price="0.00000013", completion_price="0.0000004",
    ),
    CatalogueModel(
        "meta-llama/llama-3.3-70b-instruct:free", "meta-llama/llama-3.3-70b-instruct",
        "Meta: Llama 3.3 70B Instruct (free)", context_length=65_536,
        prompt_price="0", completion_price="0",
    ),
    CatalogueModel(
        "mistralai/mistral-small-3.2-24b-instruct",
        "mistralai/mistral-small-3.2-24b-instruct-2506",
        "Mistral: Mistral Small 3.2 24B",
        prompt_price="0.00000005",
        completion_price="0.0000001",
    ),
    CatalogueModel(
        "deepseek/deepseek-chat-v3-0324", "deepseek/deepseek-chat-v3-0324",
        "DeepSeek: DeepSeek V3 0324", context_length=163_840,
        prompt_price="0.00000025", completion_price="0.00000085",
    ),
    CatalogueModel(
        "x-ai/grok-3-mini", "x-ai/grok-3-mini", "xAI: Grok 3 Mini",
        context_length=131_072, prompt_price="0.0000003", completion_price="0.0000005",
    ),
    CatalogueModel(
        "openai/text-embedding-3-small", "openai/text-embedding-3-small",
        "OpenAI: Text Embedding 3 Small", output="embeddings", context_length=8_192,
        prompt_price="0.00000002", completion_price="0",
    ),
)
"""What `GET /models?output_modalities=all` lists: text models, an image and an embedding model
(absent from the default, text-only list), and a `:free` variant, which OpenRouter lists as a
model of its own."""


@dataclass(frozen=True)
class CatalogueProvider:
    slug: str
    name: str
    privacy_policy_url: str | None
    headquarters: str | None = "US"


PROVIDERS: Final = (
    CatalogueProvider("openai", "OpenAI", "https://openai.com/policies/privacy-policy/"),
    CatalogueProvider("anthropic", "Anthropic", "https://www.anthropic.com/legal/privacy"),
    CatalogueProvider(
        "google-vertex", "Google Vertex", "https://cloud.google.com/terms/cloud-privacy-notice"
    ),
    CatalogueProvider(
        "google-ai-studio", "Google AI Studio", "https://policies.google.com/privacy"
    ),
    CatalogueProvider("azure", "Azure", "https://www.microsoft.com/en-us/privacy/privacystatement"),
    CatalogueProvider("amazon-bedrock", "Amazon Bedrock", "https://aws.amazon.com/privacy/"),
    CatalogueProvider("deepinfra", "DeepInfra", "https://deepinfra.com/privacy"),
    CatalogueProvider("together", "Together", "https://www.together.ai/privacy"),
    CatalogueProvider("fireworks", "Fireworks", "https://fireworks.ai/privacy-policy"),
    CatalogueProvider("groq", "Groq", "https://groq.com/privacy-policy/"),
    CatalogueProvider("mistral", "Mistral", "https://mistral.ai/terms/#privacy-policy", "FR"),
    CatalogueProvider("deepseek", "DeepSeek", "https://platform.deepseek.com/downloads", "CN"),
    CatalogueProvider("xai", "xAI", "https://x.ai/legal/privacy-policy"),
)


def model_object(model: CatalogueModel) -> dict[str, Any]:
    """A `Model` as the SDK requires it (every required field, nothing it lacks)."""
    text = model.output == "text"
    return {
        "id": model.id,
        "canonical_slug": model.canonical_slug,
        "name": model.name,
        "created": _CREATED,
        "description": f"{model.name}, as the emulator lists it.",
        "context_length": model.context_length,
        "architecture": {
            "input_modalities": ["text"],
            "output_modalities": [model.output],
            "modality": f"text->{model.output}",
        },
        "pricing": {"prompt": model.prompt_price, "completion": model.completion_price},
        "top_provider": {
            "is_moderated": model.id.startswith("openai/"),
            "context_length": model.context_length,
            "max_completion_tokens": 16_384 if text else None,
        },
        "per_request_limits": None,
        "supported_parameters": list(_TEXT_PARAMETERS) if text else [],
        "default_parameters": None,
        "supported_voices": None,
        "links": {"details": f"/api/v1/models/{model.id}/endpoints"},
    }


def provider_object(provider: CatalogueProvider) -> dict[str, Any]:
    return {
        "name": provider.name,
        "slug": provider.slug,
        "privacy_policy_url": provider.privacy_policy_url,
        "headquarters": provider.headquarters,
    }


def _wanted_outputs(query: Mapping[str, list[str]]) -> frozenset[str]:
    written = single(query, "output_modalities")
    if written is None:
        return frozenset({"text"})
    chosen = {part.strip() for part in written.split(",") if part.strip()}
    if chosen == {"all"}:
        return frozenset(OUTPUT_MODALITIES)
    if not chosen or not chosen <= set(OUTPUT_MODALITIES):
        raise ApiError(400, MSG_INVALID)
    return frozenset(chosen)


def _number(query: Mapping[str, list[str]], name: str, high: int) -> int | None:
    written = single(query, name)
    if written is None:
        return None
    if not written.isdigit() or int(written) > high:
        raise ApiError(400, MSG_INVALID)
    return int(written)


def models_answer(request: Request) -> Response:
    """`GET /models`: the models whose output the query asks for, whole or one page."""
    outputs = _wanted_outputs(request.query)
    listed = [model_object(m) for m in MODELS if m.output in outputs]
    offset = _number(request.query, "offset", 10**9)
    limit = _number(request.query, "limit", MAX_MODELS_LIMIT)
    if offset is None and limit is None:
        page, following = listed, None
    else:
        start, size = offset or 0, DEFAULT_MODELS_LIMIT if limit is None else limit
        page = listed[start : start + size]
        following = start + size if start + size < len(listed) else None
    next_link = (
        None if following is None else f"/api/v1/models?offset={following}&limit={len(page)}"
    )
    return Response(
        200, {"data": page, "total_count": len(listed), "links": {"next": next_link}}
    )


def catalogue_route(request: Request, route: str) -> Response:
    """Answer `/models` or `/providers` (GET only; no key needed)."""
    if request.method != "GET":
        raise ApiError(405, "Method Not Allowed")
    if route == MODELS_ROUTE:
        return models_answer(request)
    return Response(200, {"data": [provider_object(p) for p in PROVIDERS]})
