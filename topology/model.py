"""The stack config as pydantic models: shapes and single-value rules, camelCase as in YAML.

Only what one value can get wrong lives here (types, allowed words, formats); rules that look at
two values or at two keys live in `topology/rules.py`. Every model forbids unknown settings, so a
misspelt `limt:` is an error instead of a silently ignored line. `config.py` turns pydantic's errors
into messages that name the config path and the fix.

Usage::

    spec = KeySpec.model_validate({"limit": 250, "limitReset": "monthly"})
    spec.limit_reset  # 'monthly'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from providers import (
    KEY_HASH,
    UUID,
    BudgetLimits,
    GuardrailPolicy,
    KeySettings,
    WorkspaceSettings,
)

VERCEL_TARGETS: tuple[str, ...] = ("production", "preview", "development")
DEFAULT_VERCEL_TARGETS: tuple[str, ...] = ("production", "preview")
"""Where a sensitive variable may live (docs/adr/0007-consumers-as-github-and-vercel-behave.md)."""
SENSITIVE_TARGETS: frozenset[str] = frozenset(DEFAULT_VERCEL_TARGETS)
"""Vercel creates sensitive variables in production and preview only
(https://vercel.com/docs/environment-variables/sensitive-environment-variables)."""
VERCEL_RESERVED: frozenset[str] = frozenset(
    {
        "AWS_SECRET_KEY",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "NOW_REGION",
        "TZ",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""Names Vercel refuses:
https://vercel.com/docs/environment-variables/reserved-environment-variables"""
GITHUB_ENVIRONMENT_MAX = 255
"""GitHub's longest environment name:
https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments
"""
VISIBILITIES: tuple[str, ...] = ("all", "private", "selected")
DEFAULT_SECRET = "OPENROUTER_API_KEY"  # noqa: S105 - a variable name, not a secret
DEFAULT_MANAGEMENT_SECRET = "OPENROUTER_MANAGEMENT_KEY"  # noqa: S105 - a variable name

KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
"""Key ids are resource names: no `@` (the generation separator) and no `.` (the path separator)."""
GENERATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
GITHUB_SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""GitHub's rule, which the provider also enforces client side; `GITHUB_` is refused separately."""
VERCEL_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GITHUB_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
VercelTarget = Literal["production", "preview", "development"]
Visibility = Literal["all", "private", "selected"]


def openrouter_name(name: str | None, entry_id: str, stack: str) -> str:
    """OpenRouter's name of a stack-file entry (key, guardrail, credential, destination): its
    `name`, else `<stack>-<id>`, so two stacks of one account never share a name."""
    return name or f"{stack}-{entry_id}"


class _ConfigModel(BaseModel):
    """Strict: YAML gives real types, so "true" or "250" in quotes is a mistake worth naming."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        hide_input_in_errors=True,
    )


class GitHubConsumer(_ConfigModel):
    """One entry of `github:`: a repository, environment, organization or Dependabot secret.

    Exactly one of `repository` and `organization` is required (checked in rules.py, where the
    message can name both).
    """

    repository: str | None = None
    """`owner/name`, or `name` with `github:owner` set."""
    organization: str | None = None
    environment: str | None = None
    secret: str | None = None
    dependabot: bool = False
    visibility: Visibility | None = None
    repositories: list[str] | None = None


class VercelConsumer(_ConfigModel):
    """One entry of `vercel:`: a variable on one project, or one shared variable on many."""

    project: str | None = None
    """A project name or a `prj_` id."""
    projects: list[str] | None = None
    variable: str | None = None
    targets: list[VercelTarget] | None = None
    """Omitted: production and preview, where Vercel keeps the value write-only."""
    git_branch: str | None = None
    development_readable_by_team: bool = False
    """Allows the `development` target, whose variable Vercel cannot make sensitive: the key is
    then readable by every team member who can see the project's environment variables."""


class KeySpec(KeySettings, _ConfigModel):
    """One entry of `keys:`: a regular key, its settings (declared once, in the provider's
    `KeySettings`), its rotation and its consumers."""

    name: str | None = Field(default=None, min_length=1)
    workspace_id: str | None = Field(default=None, pattern=UUID.pattern)
    workspace: str | None = Field(default=None, min_length=1)
    """A workspace id from `workspaces` (or a workspace UUID, as `workspaceId` takes it)."""
    guardrail: str | None = Field(default=None, min_length=1)
    """A guardrail id from `guardrails`: the one guardrail this key holds."""
    adopt: str | None = Field(default=None, pattern=KEY_HASH.pattern)
    protect: bool | None = None
    rotations: list[str] | None = None
    github: list[GitHubConsumer] = Field(default_factory=list)
    vercel: list[VercelConsumer] = Field(default_factory=list)

    @field_validator("rotations", mode="before")
    @classmethod
    def _numbers_are_labels(cls, value: Any) -> Any:
        """`rotations: [1, 2]` is a natural way to number generations; keep it."""
        if isinstance(value, list):
            return [
                str(item) if isinstance(item, int) and not isinstance(item, bool) else item
                for item in value
            ]
        return value

    @property
    def consumer_count(self) -> int:
        return len(self.github) + len(self.vercel)


class GuardrailSpec(GuardrailPolicy, _ConfigModel):
    """One entry of `guardrails:`: a guardrail, its policy (declared once, in the provider's
    `GuardrailPolicy`), its workspace and what it adopts."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    """OpenRouter's name for it; default `<stack>-<id>`."""
    workspace: str | None = Field(default=None, min_length=1)
    """A workspace id from `workspaces`, or a workspace UUID; default: the default workspace."""
    adopt: str | None = Field(default=None, pattern=UUID.pattern)


class WorkspaceSpec(WorkspaceSettings, _ConfigModel):
    """One entry of `workspaces:`: a workspace, its budgets and its default guardrail."""

    name: str | None = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]  # optional here: the id stands in
    slug: str | None = Field(default=None, min_length=1, max_length=50)  # type: ignore[assignment]  # optional here: the id stands in
    budgets: BudgetLimits | None = None
    include_byok_in_budgets: bool | None = None
    default_guardrail: GuardrailPolicy | None = None
    adopt: str | None = Field(default=None, min_length=1)
    """A workspace's UUID or slug."""


class ManagementKeyTargets(_ConfigModel):
    """`managementKeyTargets`: where the management key itself is published (GitHub only).

    `vercel` is accepted by the model only so that rules.py can refuse it with the explanation of
    the two key types, instead of a bare "unknown setting".
    """

    github: list[GitHubConsumer] = Field(default_factory=list)
    vercel: Any = None


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every model an annotation names (`list[GitHubConsumer] | None` -> GitHubConsumer)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from models_in(arg)


def literal_words(annotation: Any) -> tuple[str, ...]:
    """The words a `Literal` annotation allows, wherever it sits (`list[Region] | None`)."""
    if get_origin(annotation) is Literal:
        return tuple(str(arg) for arg in get_args(annotation))
    return tuple(word for arg in get_args(annotation) for word in literal_words(arg))


def _with_nested(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield model
    for field in model.model_fields.values():
        for inner in models_in(field.annotation):
            yield from _with_nested(inner)


SETTING_NAMES: dict[type[BaseModel], tuple[str, ...]] = {
    model: tuple(field.alias or name for name, field in model.model_fields.items())
    for top in (KeySpec, ManagementKeyTargets, GuardrailSpec, WorkspaceSpec)
    for model in _with_nested(top)
}
"""The config names each model accepts, in declaration order: the "allowed" list of messages."""


def setting_names(model: type[BaseModel]) -> tuple[str, ...]:
    """`SETTING_NAMES` of a model, or of one declared elsewhere (topology/scoped.py)."""
    known = SETTING_NAMES.get(model)
    if known is not None:
        return known
    return tuple(field.alias or name for name, field in model.model_fields.items())
