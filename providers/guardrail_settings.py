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
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from providers.base.fields import FIX_SEPARATOR
from providers.http.formats import LimitReset
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


def policy_of(value: object) -> GuardrailPolicy:
    """A policy from state or from the engine (a dict by the model's names)."""
    return GuardrailPolicy.model_validate(value or {}, strict=False)


_QUANTIFIER: Final = re.compile(r"[+*?]|\{\d+(?:,\d*)?\}")
_NAMED_GROUP: Final = re.compile(r"\(\?<(?=[A-Za-z_$])")
_NESTED: Final = "nested quantifiers such as (a+)+"
_POSSESSIVE: Final = (
    "the pattern is not a valid regular expression (a quantifier follows a quantifier:"
    " JavaScript has no possessive quantifiers such as a++)"
)


def regex_problem(pattern: str) -> str | None:
    """Why OpenRouter would refuse this custom filter pattern, or None.

    The guardrails guide: a JavaScript regular expression; lookahead, lookbehind, backreferences
    and nested quantifiers such as `(a+)+` are refused with `invalid_regex_pattern`. OpenRouter's
    check itself is not published, so a nested quantifier is read as the guide's example
    generalised: a group repeated by `+`, `*` or `{n,m}` whose last item (in any alternative,
    through inner groups) is itself repeated so: `(a+?)+`, `((a*))*`, `(a|b+){2}`. The emulator
    implements the same reading independently (tests/test_one_rule_two_implementations.py)."""
    reader = _PatternReader(pattern)
    while reader.index < len(pattern):
        problem = reader.step()
        if problem is not None:
            return problem
    try:
        re.compile(_NAMED_GROUP.sub("(?P<", pattern))
    except re.error as error:
        return f"the pattern is not a valid regular expression ({error})"
    return None


@dataclass
class _Group:
    """A group open while a pattern is read: whether the item last read in it ends in a
    repetition, and whether an earlier alternative (`a+|b`) did."""

    last_repeats: bool = False
    an_alternative_repeats: bool = False


@dataclass
class _PatternReader:
    """Reads a pattern item by item, as JavaScript does: escapes and classes are single items."""

    pattern: str
    index: int = 0
    groups: list[_Group] = field(default_factory=lambda: [_Group()])
    after_quantifier: bool = False

    def step(self) -> str | None:
        """Read one item; why OpenRouter refuses the pattern there, or None."""
        char = self.pattern[self.index]
        group = self.groups[-1]
        repeats_before, group.last_repeats = group.last_repeats, False
        quantified, self.after_quantifier = self.after_quantifier, False
        if char == "\\":
            self.index += 2
            escaped = self.pattern[self.index - 1 : self.index]
            return _refused("backreferences") if escaped and escaped in "123456789k" else None
        if char == "[":
            self.index = self._class_end()
        elif char == "(":
            return self._open()
        elif char == "|":
            group.an_alternative_repeats |= repeats_before
            self.index += 1
        elif char == ")" and len(self.groups) > 1:
            return self._close(repeats_before)
        else:
            return self._quantifier(quantified)
        return None

    def _class_end(self) -> int:
        """Past the class opening here (JavaScript: the first unescaped `]` closes it)."""
        end = self.index + 1
        while end < len(self.pattern) and self.pattern[end] != "]":
            end += 2 if self.pattern[end] == "\\" else 1
        return end + 1

    def _open(self) -> str | None:
        """JavaScript knows `(`, `(?:`, a named group `(?<name>` and the lookarounds; anything
        else after `(?` is another dialect's (inline flags `(?i)`, `(?P<name>`, `(?#`, `(?>`)."""
        head = self.pattern[self.index : self.index + 4]
        if head.startswith(("(?=", "(?!", "(?<=", "(?<!")):
            return _refused("lookahead and lookbehind")
        if head.startswith("(?") and not (head.startswith("(?:") or _NAMED_GROUP.match(head)):
            return _refused("group syntax JavaScript lacks, such as inline flags (?i) or (?P<name>")
        self.groups.append(_Group())
        self.index += 1
        return None

    def _close(self, repeats_before: bool) -> str | None:
        closed = self.groups.pop()
        ends_repeated = closed.an_alternative_repeats or repeats_before
        self.index += 1
        quantifier = _QUANTIFIER.match(self.pattern, self.index)
        if quantifier is None:
            self.groups[-1].last_repeats = ends_repeated
        elif ends_repeated and quantifier.group() != "?":
            return _refused(_NESTED)
        return None

    def _quantifier(self, quantified: bool) -> str | None:
        quantifier = _QUANTIFIER.match(self.pattern, self.index)
        if quantifier is None:
            self.index += 1
            return None
        if quantified:
            return _POSSESSIVE
        self.index = quantifier.end() + self.pattern.startswith("?", quantifier.end())
        self.groups[-1].last_repeats = quantifier.group() != "?"
        self.after_quantifier = True
        return None


def _refused(feature: str) -> str:
    return f"OpenRouter refuses {feature} in a custom filter pattern"
