"""BYOK provider credentials (`/byok`), as OpenRouter's management API serves them.

docs/emulator.md lists each rule with its public source and marks "(inferred)" what the sources
leave open. The rules that shape a client: the provider key (`key`) is write-only, only its masked
`label` comes back; a PATCH with `key` rotates the credential in place and regenerates the label;
`provider` and `workspace_id` are fixed at create; `allowed_api_key_hashes` names keys of this
account; a DELETE is soft (the record is kept, marked deleted, and answers 404 from then on).
The store never holds the provider key: only its label.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from emulator.book import Book
from emulator.wire import (
    MSG_INVALID,
    Account,
    ApiError,
    bounded_list_problems,
    flag_problems,
    is_uuid,
    key_hash_list_problems,
    mask_secret,
    now_iso,
    refuse_naming,
    single,
    text_problems,
    unknown_field_problems,
)

# The SDK's `BYOKProviderSlug` (openrouter 1.3.84), kept here as a table of our own (ADR 0005).
PROVIDER_SLUGS = frozenset({
    "ai21", "aion-labs", "akashml", "alibaba", "amazon-bedrock", "amazon-nova", "ambient",
    "anthropic", "arcee-ai", "assemblyai", "atlas-cloud", "avian", "azure", "baidu", "baseten",
    "black-forest-labs", "byteplus", "cerebras", "chutes", "cirrascale", "clarifai",
    "claude-on-aws", "cloudflare", "cohere", "coreweave", "cosine", "crusoe", "darkbloom",
    "databricks", "decart", "deepgram", "deepinfra", "deepseek", "dekallm", "digitalocean",
    "elevenlabs", "featherless", "fireworks", "fish-audio", "friendli", "gmicloud",
    "google-ai-studio", "google-vertex", "groq", "heygen", "inception", "inceptron",
    "inferact-vllm", "inference-net", "infermatic", "inflection", "io-net", "ionstream", "krea",
    "liquid", "makora", "mancer", "mara", "meta", "minimax", "mistral", "modal", "modelrun",
    "modular", "moonshotai", "morph", "near-ai", "nebius", "nex-agi", "nextbit", "novita",
    "nvidia", "ollama", "open-inference", "openai", "parasail", "pareto-alpha", "perceptron",
    "perplexity", "phala", "poolside", "primeintellect", "quiver", "recraft", "recursive", "reka",
    "relace", "respan", "runway", "sail-research", "sakana", "sakana-ai", "sambanova",
    "scaledown", "seed", "siliconflow", "sourceful", "stepfun", "streamlake", "switchpoint",
    "tencent", "tenstorrent", "thinkingmachines", "together", "typesafe", "unbiased", "upstage",
    "venice", "voyageai", "wafer", "wandb", "wandb-legacy", "xai", "xiaomi", "z-ai",
})
DECLARED_REGIONS = ("global", "europe", "us")
FLAGS = ("disabled", "is_byok_only", "is_fallback", "is_required")
LISTS = ("allowed_models", "allowed_user_ids")
# Every field a PATCH may send; a create adds `provider` and `workspace_id`.
UPDATE_FIELDS = frozenset({"key", "name", "allowed_api_key_hashes", *LISTS, "declared_region",
                           "declared_zdr", *FLAGS})
CREATE_FIELDS = UPDATE_FIELDS | {"provider", "workspace_id"}
NAME_LONGEST = 255
MOST_KEY_HASHES = 100
MOST_LIST_ITEMS = 100


# --- validation -----------------------------------------------------------------------------------


def is_provider(value: object) -> bool:
    return isinstance(value, str) and value in PROVIDER_SLUGS


def byok_problems(account: Account, body: Mapping[str, Any], *, creating: bool) -> list[str]:
    """Every way a create (or update) body breaks the published request schema."""
    problems = unknown_field_problems(body, CREATE_FIELDS if creating else UPDATE_FIELDS)
    if creating:
        problems += [f"{name} is required" for name in ("provider", "key") if name not in body]
        if "provider" in body and not is_provider(body["provider"]):
            problems.append("provider must be a BYOK provider slug")
        if "workspace_id" in body and not is_uuid(body["workspace_id"]):
            problems.append("workspace_id must be a uuid")
    if "key" in body and (not isinstance(body["key"], str) or not body["key"]):
        problems.append("key must be a non-empty string")
    problems += text_problems(body, "name", longest=NAME_LONGEST, nullable=True)
    problems += flag_problems(body, FLAGS, nullable=False)
    problems += flag_problems(body, ("declared_zdr",), nullable=True)
    if body.get("declared_region") not in (None, *DECLARED_REGIONS):
        problems.append(f"declared_region must be one of {DECLARED_REGIONS} or null")
    for name in LISTS:
        problems += bounded_list_problems(body, name, most=MOST_LIST_ITEMS)
    problems += key_hash_list_problems(account, body, "allowed_api_key_hashes",
                                       most=MOST_KEY_HASHES)
    return problems


# --- the store ------------------------------------------------------------------------------------


@dataclass
class StoredCredential:
    """A BYOK credential as the server knows it: everything but the provider key."""

    id: str
    provider: str
    workspace_id: str
    label: str
    sort_order: int
    sequence: int
    name: str | None = None
    disabled: bool = False
    is_byok_only: bool = False
    is_fallback: bool = False
    is_required: bool = False
    declared_region: str | None = None
    declared_zdr: bool | None = None
    allowed_api_key_hashes: list[str] | None = None
    allowed_models: list[str] | None = None
    allowed_user_ids: list[str] | None = None
    created_at: str = field(default_factory=now_iso)
    deleted: bool = False

    def apply(self, body: Mapping[str, Any]) -> None:
        """Write a validated body: each field sent replaces the stored one; `key` rotates the
        credential (only its new label is kept)."""
        for name in UPDATE_FIELDS - {"key"}:
            if name in body:
                value = body[name]
                setattr(self, name, list(value) if isinstance(value, list) else value)
        if "key" in body:
            self.label = mask_secret(body["key"])

    def to_object(self) -> dict[str, Any]:
        """The BYOKKey object, every field the SDK's model requires."""
        return {
            "id": self.id,
            "provider": self.provider,
            "workspace_id": self.workspace_id,
            "name": self.name,
            "label": self.label,
            "disabled": self.disabled,
            "is_byok_only": self.is_byok_only,
            "is_fallback": self.is_fallback,
            "is_required": self.is_required,
            "sort_order": self.sort_order,
            "declared_region": self.declared_region,
            "declared_zdr": self.declared_zdr,
            **{name: None if (v := getattr(self, name)) is None else list(v)
               for name in ("allowed_api_key_hashes", *LISTS)},
            "created_at": self.created_at,
        }


def combination_problems(stored: StoredCredential) -> list[str]:
    """The SDK: `is_fallback` "cannot be combined with `is_byok_only`"."""
    if stored.is_fallback and stored.is_byok_only:
        return ["is_fallback cannot be combined with is_byok_only"]
    return []


class ByokBook(Book[StoredCredential]):
    """Every BYOK credential: the shared book with BYOK's rules."""

    path = ("byok",)
    seeded_as = "a BYOK credential"

    def problems(self, account: Account, body: Mapping[str, Any], *, creating: bool
                 ) -> list[str]:
        return byok_problems(account, body, creating=creating)

    def new_record(self, body: Mapping[str, Any], workspace_id: str, sequence: int
                   ) -> StoredCredential:
        provider = body["provider"]
        # Tried in ascending order; a new credential goes last among its provider's (inferred).
        siblings = [c.sort_order for c in self.live()
                    if c.provider == provider and c.workspace_id == workspace_id]
        stored = StoredCredential(
            id=str(uuid.uuid4()), provider=provider, workspace_id=workspace_id,
            label=mask_secret(body["key"]), sort_order=max(siblings, default=-1) + 1,
            sequence=sequence,
        )
        stored.apply(body)
        refuse_naming(combination_problems(stored))
        return stored

    def update(self, stored: StoredCredential, body: Mapping[str, Any]) -> None:
        """Apply a checked PATCH body, unless the result combines what cannot be combined."""
        trial = replace(stored)
        trial.apply(body)
        refuse_naming(combination_problems(trial))
        stored.apply(body)

    def listed(self, account: Account, query: Mapping[str, list[str]]
               ) -> list[StoredCredential]:
        """`GET /byok`: one workspace's credentials, of one provider when `provider` is given."""
        in_workspace = super().listed(account, query)
        provider = single(query, "provider")
        if provider is not None and not is_provider(provider):
            raise ApiError(400, MSG_INVALID)
        return [c for c in in_workspace if provider in (None, c.provider)]

    def logged(self, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("key"), str):
            return {**body, "key": mask_secret(body["key"])}
        return body


AREA = ByokBook.area()
