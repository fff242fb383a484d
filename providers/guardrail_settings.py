"""What a guardrail enforces, declared once: `GuardrailPolicy`.

The same policy is a guardrail's (`openrouter-keys:guardrails.<id>`) and a workspace's default
guardrail's (`workspaces.<id>.defaultGuardrail`). This model is the one declaration: the stack
config's specs inherit it (topology/model.py), the resources carry it as their `policy` input,
the provider validates it again in `check` and turns it into the request body with `body()`.
A stack file writes camelCase (`allowedModels`); state and the provider use the model's names.

Facts: docs/reference/openrouter-governance-api.md §2.2, §2.3.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from providers.fields import FIX_SEPARATOR, LimitReset
from providers.key_settings import SETTINGS_CONFIG

FilterAction = Literal["redact", "block", "flag"]
BuiltinFilterName = Literal[
    "email",
    "phone",
    "ssn",
    "credit-card",
    "ip-address",
    "secrets",
    "person-name",
    "address",
    "regex-prompt-injection",
]
ScanScope = Literal["user_only", "all_messages"]
DataRegion = Literal["global", "europe", "us"]
PATTERN_MAX: Final = 100_000
_UNSUPPORTED_REGEX: Final = (
    (re.compile(r"\(\?<?[=!]"), "lookahead and lookbehind"),
    (re.compile(r"\\[1-9]|\\k<"), "backreferences"),
    (re.compile(r"\([^()]*[+*}]\)[+*{]"), "nested quantifiers such as (a+)+"),
    (re.compile(r"\(\?[a-zA-Z]+[):]"), "inline flags such as (?i)"),
)
"""What OpenRouter refuses in a custom filter (docs/reference/openrouter-governance-api.md §2.2)."""


class PolicyModel(BaseModel):
    """Read as the key settings are (`SETTINGS_CONFIG`)."""

    model_config = SETTINGS_CONFIG


class ZeroDataRetention(PolicyModel):
    """`enforceZdr`: only endpoints that keep no data, per model family."""

    anthropic: bool | None = None
    openai: bool | None = None
    google: bool | None = None
    xai: bool | None = None
    other: bool | None = None
    """Every model outside the four labs above."""


class Training(PolicyModel):
    """`allowTraining`: whether endpoints that publish or train on prompts may be used."""

    free_model_publication: bool | None = None
    free_model_training: bool | None = None
    paid_model_training: bool | None = None


class BuiltinFilter(PolicyModel):
    """A built-in detector: `{builtin: email, action: redact}`."""

    builtin: BuiltinFilterName
    action: FilterAction
    scan_scope: ScanScope | None = None
    """Only for `regex-prompt-injection`; OpenRouter's default is all_messages."""

    @model_validator(mode="after")
    def _scope_only_for_injection(self) -> BuiltinFilter:
        if self.scan_scope is not None and self.builtin != "regex-prompt-injection":
            raise ValueError(
                "`scanScope` applies only to the regex-prompt-injection detector"
                f"{FIX_SEPARATOR}remove `scanScope` from this filter"
            )
        return self


class PatternFilter(PolicyModel):
    """A custom regular expression: `{pattern: "ACME-[0-9]{6}", action: redact, label: ticket}`."""

    pattern: str = Field(min_length=1, max_length=PATTERN_MAX)
    action: FilterAction
    label: str | None = Field(default=None, max_length=100)

    @field_validator("pattern")
    @classmethod
    def _supported(cls, pattern: str) -> str:
        problem = regex_problem(pattern)
        if problem is not None:
            raise ValueError(f"{problem}{FIX_SEPARATOR}rewrite the pattern without it")
        return pattern


FILTER_TAGS: Final[dict[str, type[PolicyModel]]] = {
    "builtin filter": BuiltinFilter,
    "pattern filter": PatternFilter,
}
"""The tag pydantic adds to an error's location to say which kind of filter it checked; spaces
keep it apart from any setting's name."""


def _filter_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "builtin" in value:
            return "builtin filter"
        return "pattern filter" if "pattern" in value else None
    return "builtin filter" if isinstance(value, BuiltinFilter) else "pattern filter"


ContentFilter = Annotated[
    Annotated[BuiltinFilter, Tag("builtin filter")]
    | Annotated[PatternFilter, Tag("pattern filter")],
    Discriminator(
        _filter_kind,
        custom_error_type="content_filter",
        custom_error_message="a content filter has either `builtin` or `pattern`",
    ),
]
NonEmptyText = Annotated[str, Field(min_length=1)]


class GuardrailPolicy(PolicyModel):
    """What a guardrail enforces; every setting optional, an omitted one is no restriction."""

    description: str | None = Field(default=None, max_length=1000)
    limit_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    reset_interval: LimitReset | None = None
    include_byok_in_budgets: bool | None = None
    allowed_models: list[NonEmptyText] | None = Field(default=None, min_length=1)
    allowed_providers: list[NonEmptyText] | None = Field(default=None, min_length=1)
    ignored_models: list[NonEmptyText] | None = None
    ignored_providers: list[NonEmptyText] | None = None
    enforce_zdr: ZeroDataRetention | None = None
    allow_training: Training | None = None
    content_filters: list[ContentFilter] | None = None
    allowed_data_regions: list[DataRegion] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _limit_with_its_reset(self) -> GuardrailPolicy:
        if (self.limit_usd is None) != (self.reset_interval is None):
            raise ValueError(
                "`limitUsd` and `resetInterval` go together (OpenRouter refuses one alone)"
                f"{FIX_SEPARATOR}write both, or remove both for no spending cap"
            )
        builtins = [f.builtin for f in self.content_filters or () if isinstance(f, BuiltinFilter)]
        repeated = sorted({name for name in builtins if builtins.count(name) > 1})
        if repeated:
            raise ValueError(
                f"the detector {', '.join(repeated)} is listed more than once in"
                f" `contentFilters`{FIX_SEPARATOR}keep one entry per detector"
            )
        return self

    def body(self) -> dict[str, Any]:
        """The full request body: every field, null where unset, so a PATCH (which replaces
        each field it carries) leaves exactly this policy and nothing of an older one."""
        zdr = self.enforce_zdr or ZeroDataRetention()
        training = self.allow_training or Training()
        builtins = [f for f in self.content_filters or () if isinstance(f, BuiltinFilter)]
        patterns = [f for f in self.content_filters or () if isinstance(f, PatternFilter)]
        return {
            "description": self.description,
            "limit_usd": self.limit_usd,
            "reset_interval": self.reset_interval,
            "include_byok_in_budgets": bool(self.include_byok_in_budgets),
            "allowed_models": self.allowed_models,
            "allowed_providers": self.allowed_providers,
            "ignored_models": self.ignored_models or None,
            "ignored_providers": self.ignored_providers or None,
            **{f"enforce_zdr_{lab}": getattr(zdr, lab) for lab in ZeroDataRetention.model_fields},
            **{f"enable_{name}": getattr(training, name) for name in Training.model_fields},
            "content_filter_builtins": [
                {
                    "slug": f.builtin,
                    "action": f.action,
                    **({"scan_scope": f.scan_scope} if f.scan_scope else {}),
                }
                for f in builtins
            ]
            or None,
            "content_filters": [
                {"pattern": f.pattern, "action": f.action, "label": f.label} for f in patterns
            ]
            or None,
            "allowed_data_regions": self.allowed_data_regions,
        }


ENFORCED_FIELDS: Final = tuple(GuardrailPolicy().body())
"""The guardrail fields this project manages: the ones `body()` sends (and a drift check reads)."""


def regex_problem(pattern: str) -> str | None:
    """Why OpenRouter would refuse this custom filter pattern, or None."""
    for feature, name in _UNSUPPORTED_REGEX:
        if feature.search(pattern):
            return f"OpenRouter refuses {name} in a custom filter pattern"
    try:
        re.compile(pattern)
    except re.error as error:
        return f"the pattern is not a valid regular expression ({error})"
    return None


def policy_of(value: object) -> GuardrailPolicy:
    """A policy from state or from the engine (a dict by the model's names)."""
    return GuardrailPolicy.model_validate(value or {}, strict=False)
