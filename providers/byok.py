"""A BYOK provider credential as a Pulumi resource: `ByokCredentialProvider` and `ByokCredential`.

The team's own key for an upstream provider (OpenAI, Anthropic, ...), held by OpenRouter and
used for its requests, optionally only for some OpenRouter keys (`allowed_key_hashes`). One
object at `/byok` (providers/base/object_resource.py). The key is a secret: the resource makes it a
Pulumi secret, the API never returns it (only a masked `label`), a read keeps it from state, and
a new key is a `PATCH` of the same credential, never a replacement. The provider and the
workspace are fixed at creation: changing either replaces the credential. The provider module
and class are pickled into state: never move or rename them. Facts:
docs/resources/byok-credential.md and https://openrouter.ai/docs/api/api-reference/byok/create-a-byok-key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import TYPE_CHECKING, Annotated, Any, Final

import pulumi
from pydantic import AfterValidator, BaseModel, Field, field_validator

from providers.base.fields import FIX_SEPARATOR
from providers.base.object_resource import (
    ObjectApi,
    ObjectArgs,
    ObjectProvider,
    ObjectRecord,
    ObjectResource,
    key_hashes,
)
from providers.http.formats import UUID
from providers.key_settings import SETTINGS_CONFIG

BYOK_PROVIDERS: Final = frozenset(
    """
    ai21 aion-labs akashml alibaba amazon-bedrock amazon-nova ambient anthropic arcee-ai
    assemblyai atlas-cloud avian azure baidu baseten black-forest-labs byteplus cerebras
    chutes cirrascale clarifai claude-on-aws cloudflare cohere coreweave cosine crusoe
    darkbloom databricks decart deepgram deepinfra deepseek dekallm digitalocean elevenlabs
    featherless fireworks fish-audio friendli gmicloud google-ai-studio google-vertex groq
    heygen inception inceptron inferact-vllm inference-net infermatic inflection io-net
    ionstream krea liquid makora mancer mara meta minimax mistral modal modelrun modular
    moonshotai morph near-ai nebius nex-agi nextbit novita nvidia ollama open-inference
    openai parasail pareto-alpha perceptron perplexity phala poolside primeintellect quiver
    recraft recursive reka relace respan runway sail-research sakana sakana-ai sambanova
    scaledown seed siliconflow sourceful stepfun streamlake switchpoint tencent tenstorrent
    thinkingmachines together typesafe unbiased upstage venice voyageai wafer wandb
    wandb-legacy xai xiaomi z-ai
    """.split()  # noqa: SIM905 - a table of 110 words reads better as words
)
"""OpenRouter's `BYOKProviderSlug` enum as its Python SDK 1.3.84 has it
(https://github.com/OpenRouterTeam/python-sdk, `components/byokproviderslug.py`), without its two
slash forms (`anthropic/2`, `amazon-bedrock/claude-on-aws`), which are no provider's slug a stack
file writes. tests/providers/test_byok.py compares it with the SDK and the emulator."""
MAX_LISTED: Final = 100
"""At most this many models or key hashes in one credential's allowlist."""


class ByokSettings(BaseModel):
    """What a credential is for; the stack file writes these at `byok.<id>` in camelCase."""

    model_config = SETTINGS_CONFIG

    provider: str
    """The upstream provider, as OpenRouter's slug (`openai`); fixed at creation."""
    allowed_models: list[str] | None = Field(default=None, min_length=1, max_length=MAX_LISTED)
    """Only these models may use it; None: any model of the provider."""
    fallback: bool = False
    """Tried only after the provider's other credentials (the API's `is_fallback`)."""
    disabled: bool = False

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, provider: str) -> str:
        if provider not in BYOK_PROVIDERS:
            squashed = {slug.replace("-", ""): slug for slug in BYOK_PROVIDERS}
            near = squashed.get(provider.lower().replace("-", "").replace("_", "")) or next(
                iter(get_close_matches(provider.lower(), sorted(BYOK_PROVIDERS), n=1)), None
            )
            fix = (
                f"correct it to {near}"
                if near
                else "write its lowercase slug, e.g. openai, anthropic, amazon-bedrock,"
                " google-vertex (docs/resources/byok-credential.md lists them)"
            )
            raise ValueError(
                f"{provider!r} is not a provider OpenRouter holds keys for{FIX_SEPARATOR}{fix}"
            )
        return provider


class ByokInputs(ByokSettings):
    """The inputs `check` accepts: the settings and what the stack wires in."""

    key: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=255)
    workspace_id: str | None = Field(default=None, pattern=UUID.pattern)
    allowed_key_hashes: Annotated[
        list[str] | None,
        Field(min_length=1, max_length=MAX_LISTED),
        AfterValidator(key_hashes),
    ] = None
    adopt: str | None = Field(default=None, pattern=UUID.pattern)
    config_path: str | None = None


class ByokRecord(ObjectRecord):
    provider: str = ""
    label: str = ""
    disabled: bool = False
    is_fallback: bool = False
    allowed_models: list[str] | None = None
    allowed_api_key_hashes: list[str] | None = None


BYOK_API: Final = ObjectApi("/byok", ByokRecord, "BYOK credential")


class ByokCredentialProvider(ObjectProvider):
    """Creates, adopts, reads, updates and deletes BYOK credentials; stateless."""

    INPUTS = ByokInputs
    REPLACE_ON = frozenset({"provider", "workspace_id"})
    SETS = frozenset({"allowed_key_hashes"})
    SECRETS = frozenset({"key"})
    API = BYOK_API
    ID_OUTPUT = "credential_id"
    WATCHED = (
        "name",
        "label",
        "disabled",
        "is_fallback",
        "allowed_models",
        "allowed_api_key_hashes",
    )

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        hashes = props.get("allowed_key_hashes")
        return {
            "key": props.get("key"),
            "name": props.get("name"),
            "disabled": bool(props.get("disabled")),
            "is_fallback": bool(props.get("fallback")),
            "allowed_models": props.get("allowed_models"),
            "allowed_api_key_hashes": sorted(hashes) if hashes is not None else None,
        }

    def create_only(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"provider": props.get("provider"), **super().create_only(props)}

    def shown(self, record: Any) -> dict[str, Any]:
        return {"label": record.label}

    def seen(self, props: Mapping[str, Any], record: Any) -> dict[str, Any]:
        """The server's values; the key is kept from state unless its masked label changed
        (rotated outside this stack): then it is dropped, so the next `up` sends it again."""
        rotated = props.get("label") not in (None, record.label)
        return {
            **props,
            "name": record.name,
            "disabled": record.disabled,
            "fallback": record.is_fallback,
            "allowed_models": record.allowed_models,
            "allowed_key_hashes": record.allowed_api_key_hashes,
            "key": None if rotated else props.get("key"),
        }


# --- the resource ------------------------------------------------------------------------------


@dataclass(kw_only=True)
class ByokCredentialArgs(ObjectArgs):
    """Inputs of a BYOK credential; see docs/resources/byok-credential.md."""

    settings: ByokSettings
    key: pulumi.Input[str]
    """The provider's API key; the resource makes it a secret."""

    def inputs(self) -> dict[str, Any]:
        return {
            **self.settings.model_dump(),
            "key": pulumi.Output.secret(self.key),
            **self.shared_inputs(),
        }


class ByokCredential(ObjectResource, module="openrouter", name="ByokCredential"):
    """A BYOK provider credential. The type token
    `pulumi-python:dynamic/openrouter:ByokCredential` is part of every URN: never change it."""

    # Outputs declared for type checkers only (see providers/guardrail.py).
    if TYPE_CHECKING:
        credential_id: pulumi.Output[str]
        label: pulumi.Output[str]
        name: pulumi.Output[str]
        provider: pulumi.Output[str]
        workspace_id: pulumi.Output[str | None]
        allowed_key_hashes: pulumi.Output[list[str] | None]
        observed: pulumi.Output[str]

    PROVIDER = ByokCredentialProvider
    OUTPUT_ONLY = ("credential_id", "label")
