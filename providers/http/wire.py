"""JSON <-> domain: pydantic models of OpenRouter's payloads, and the frozen values we hand out.

The wire models are private and lenient where the API is: unknown fields are ignored (the API
adds fields often), and fields the API added late (`expires_at`, `workspace_id`, `last_used_at`,
`external_user`, the budget layers of `GET /key`) may be missing. The domain values are plain
frozen dataclasses, so nothing outside `providers/` depends on pydantic or on the JSON shape. A
payload that lacks what it must hold raises `WireError`, which the client turns into
`InvalidResponseError`.

Shapes: the published spec (https://openrouter.ai/openapi.json, rendered under
https://openrouter.ai/docs/api/api-reference/api-keys/), as OpenRouter's generated SDK models it;
tests/providers/test_wire_sdk_shapes.py feeds these parsers answers built from those models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

LimitReset = Literal["daily", "weekly", "monthly"]
_M = TypeVar("_M", bound="_Wire")


class WireError(ValueError):
    """A 2xx body that does not hold what the endpoint promises; the text names what is missing."""


# --- domain values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRecord:
    """One regular key as OpenRouter describes it (never holds the secret)."""

    hash: str
    name: str
    label: str
    disabled: bool
    limit: float | None
    limit_remaining: float | None
    limit_reset: str | None
    include_byok_in_limit: bool
    usage: float
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    created_at: str
    updated_at: str | None
    expires_at: str | None
    creator_user_id: str | None
    workspace_id: str | None
    last_used_at: str | None = None
    """When the key was last used; None if never (or not since the end of 2025, the API says)."""
    external_user: str | None = None
    """A partner's end-user id (keys made through OpenRouter Connect); None otherwise."""


@dataclass(frozen=True)
class BudgetLayer:
    """One budget that governs requests made with a key (`GET /key` `budgets`).

    `scope` says which layer: `workspace_default_member`, `workspace_default_key`, `member`,
    `api_key` (guardrail budgets), `workspace` (a workspace budget) or `key_limit` (the key's own
    limit); a scope this client does not know yet is kept as the API spells it.
    """

    scope: str
    limit_usd: float
    spend_usd: float
    remaining_usd: float
    reset_interval: str | None = None
    resets_at: str | None = None
    include_byok: bool = False
    guardrail_id: str | None = None
    budget_id: str | None = None


@dataclass(frozen=True)
class CurrentKey:
    """What `GET /key` says about the key making the call."""

    label: str
    limit: float | None
    limit_remaining: float | None
    limit_reset: str | None
    include_byok_in_limit: bool
    usage: float
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    is_management_key: bool
    is_free_tier: bool
    expires_at: str | None
    creator_user_id: str | None
    workspace_id: str | None = None
    budgets: tuple[BudgetLayer, ...] | None = None
    """Every budget layer, in the order enforcement checks them (guardrails, workspace, the key's
    own limit); empty when nothing is budgeted; None when the answer did not say, or said it in
    a shape this client cannot read (so the key-type check never fails on it)."""
    effective_budget: BudgetLayer | None = None
    """The layer that blocks requests first (the API's choice); None when nothing is budgeted."""


@dataclass(frozen=True)
class CreatedKey:
    """A key just created: its record, and the secret OpenRouter shows exactly once."""

    record: KeyRecord
    secret: str = field(repr=False)


class CreateKeyRequest:
    """The body of `POST /keys`: the name, and exactly the fields given (`None` sends null).

    Which fields a create may carry is the key's field table's business (providers/key_inputs.py
    `create_fields`); this only carries them.
    """

    __slots__ = ("_fields", "name")

    def __init__(self, name: str, **fields: object) -> None:
        self.name = name
        self._fields = dict(fields)

    @property
    def workspace_id(self) -> str | None:
        """Where the key is made: the sweep of an ambiguous create looks there."""
        value = self._fields.get("workspace_id")
        return value if isinstance(value, str) else None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, **self._fields}

    def __repr__(self) -> str:
        return f"CreateKeyRequest(name={self.name!r}, fields={sorted(self._fields)})"


@dataclass(frozen=True)
class CatalogueModel:
    """One model of OpenRouter's public list (`GET /models`): the names a guardrail's model
    lists accept, its `id` and its `canonical_slug` (docs/reference/openrouter-api.md §15)."""

    id: str
    canonical_slug: str | None = None


@dataclass(frozen=True)
class CatalogueProvider:
    """One provider of OpenRouter's public list (`GET /providers`): the `slug` a guardrail's
    provider lists take, and the display name a user may write instead."""

    slug: str
    name: str = ""


# --- wire models --------------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _KeyObject(_Wire):
    hash: str = Field(min_length=1)
    name: str
    label: str = ""
    disabled: bool
    limit: float | None
    limit_remaining: float | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    usage: float = 0.0
    usage_daily: float = 0.0
    usage_weekly: float = 0.0
    usage_monthly: float = 0.0
    byok_usage: float = 0.0
    byok_usage_daily: float = 0.0
    byok_usage_weekly: float = 0.0
    byok_usage_monthly: float = 0.0
    created_at: str = Field(min_length=1)
    updated_at: str | None = None
    expires_at: str | None = None
    creator_user_id: str | None = None
    workspace_id: str | None = None
    last_used_at: str | None = None
    external_user: str | None = None

    def domain(self) -> KeyRecord:
        return KeyRecord(**self.model_dump())


class _OneKey(_Wire):
    data: _KeyObject


class _KeyPage(_Wire):
    data: list[_KeyObject]


class _Created(_Wire):
    data: _KeyObject
    key: str = Field(min_length=1)


class _Budget(_Wire):
    scope: str = Field(min_length=1)
    limit_usd: float
    spend_usd: float
    remaining_usd: float
    reset_interval: str | None = None
    resets_at: str | None = None
    include_byok: bool = False
    guardrail_id: str | None = None
    budget_id: str | None = None

    def domain(self) -> BudgetLayer:
        return BudgetLayer(**self.model_dump())


class _CurrentKeyObject(_Wire):
    label: str = ""
    limit: float | None = None
    limit_remaining: float | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    usage: float = 0.0
    usage_daily: float = 0.0
    usage_weekly: float = 0.0
    usage_monthly: float = 0.0
    byok_usage: float = 0.0
    byok_usage_daily: float = 0.0
    byok_usage_weekly: float = 0.0
    byok_usage_monthly: float = 0.0
    is_management_key: bool | None = None
    is_provisioning_key: bool | None = None
    is_free_tier: bool = False
    expires_at: str | None = None
    creator_user_id: str | None = None
    workspace_id: str | None = None
    budgets: tuple[_Budget, ...] | None = None
    effective_budget: _Budget | None = None

    @field_validator("budgets", "effective_budget", mode="wrap")
    @classmethod
    def _unreadable_is_unknown(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Budget layers this client cannot read are unknown (None), never a failed `GET /key`:
        the provider's key-type guard reads the same answer and needs none of them."""
        try:
            return handler(value)
        except ValidationError:
            return None

    def domain(self) -> CurrentKey:
        values = self.model_dump(
            exclude={"is_management_key", "is_provisioning_key", "budgets", "effective_budget"}
        )
        management = self.is_management_key
        if management is None:
            management = bool(self.is_provisioning_key)
        budgets = None if self.budgets is None else tuple(b.domain() for b in self.budgets)
        effective = None if self.effective_budget is None else self.effective_budget.domain()
        return CurrentKey(
            is_management_key=management, budgets=budgets, effective_budget=effective, **values
        )


class _Current(_Wire):
    data: _CurrentKeyObject


class _ModelObject(_Wire):
    id: str = Field(min_length=1)
    canonical_slug: str | None = None


class _ModelList(_Wire):
    data: list[_ModelObject]
    total_count: int | None = None


class _ProviderObject(_Wire):
    slug: str = Field(min_length=1)
    name: str = ""


class _ProviderList(_Wire):
    data: list[_ProviderObject]


class _ErrorBody(_Wire):
    message: str | None = None


class _ErrorEnvelope(_Wire):
    error: _ErrorBody


# --- parsing ------------------------------------------------------------------------------------


def _problem(error: ValidationError) -> str:
    """Which fields were missing or wrong, without echoing any value (a value may be a key)."""
    places = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "body"
        places.append(f"{location} ({item['type']})")
    return "; ".join(dict.fromkeys(places))


def _validate(model: type[_M], payload: Any) -> _M:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise WireError(_problem(error)) from None


def parse_key(payload: Any) -> KeyRecord:
    """`{"data": <key object>}` from get and update."""
    return _validate(_OneKey, payload).data.domain()


def parse_key_page(payload: Any) -> list[KeyRecord]:
    """`{"data": [<key object>, ...]}` from list."""
    return [item.domain() for item in _validate(_KeyPage, payload).data]


def parse_created(payload: Any) -> CreatedKey:
    """`{"data": <key object>, "key": "sk-or-…"}` from create (the secret sits next to data)."""
    created = _validate(_Created, payload)
    return CreatedKey(record=created.data.domain(), secret=created.key)


def parse_current(payload: Any) -> CurrentKey:
    """`{"data": {...}}` from `GET /key`."""
    return _validate(_Current, payload).data.domain()


def parse_models(payload: Any) -> tuple[list[CatalogueModel], int | None]:
    """`{"data": [<model>, ...], "total_count": n}` from `GET /models`: the models, and how many
    the whole list holds (None when the answer does not say)."""
    page = _validate(_ModelList, payload)
    return [CatalogueModel(m.id, m.canonical_slug) for m in page.data], page.total_count


def parse_providers(payload: Any) -> list[CatalogueProvider]:
    """`{"data": [<provider>, ...]}` from `GET /providers`."""
    return [CatalogueProvider(p.slug, p.name) for p in _validate(_ProviderList, payload).data]


def parse_error_message(payload: Any) -> str | None:
    """OpenRouter's `error.message`, if the body has the documented envelope."""
    if not isinstance(payload, Mapping):
        return None
    try:
        return _ErrorEnvelope.model_validate(payload).error.message
    except ValidationError:
        return None
