"""An observability destination as a Pulumi resource: `ObservabilityDestinationProvider` and
`ObservabilityDestination`.

Where OpenRouter broadcasts its traces (Langfuse, Datadog, a webhook, S3, ...), optionally only
for some OpenRouter keys (`allowed_key_hashes`, the API's `api_key_hashes`). One object at
`/observability/destinations` (providers/base/object_resource.py). Its `config` holds secrets: the
resource makes the whole object a Pulumi secret, the API masks its secret fields, a read keeps
the declared config from state, and a new secret is a `PATCH` of the same destination. The type
and the workspace are fixed at creation: changing either replaces it. At most five destinations
of one type live in a workspace; the preview counts them. The provider module and class are
pickled into state: never move or rename them. Facts: docs/resources/observability-destination.md
and https://openrouter.ai/docs/guides/features/broadcast.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, get_args

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from providers.base.fields import FIX_SEPARATOR
from providers.base.messages import ProviderError, a_or_an, provider_error
from providers.base.object_resource import (
    ObjectApi,
    ObjectArgs,
    ObjectProvider,
    ObjectRecord,
    ObjectResource,
    key_hashes,
)
from providers.http.errors import BadRequestError
from providers.http.formats import UUID
from providers.key_settings import SETTINGS_CONFIG

DestinationType = Literal[
    "arize",
    "braintrust",
    "clickhouse",
    "datadog",
    "grafana",
    "langfuse",
    "langsmith",
    "newrelic",
    "opik",
    "otel-collector",
    "posthog",
    "ramp",
    "s3",
    "sentry",
    "snowflake",
    "weave",
    "webhook",
]
DESTINATION_TYPES: Final[tuple[str, ...]] = get_args(DestinationType)
"""The documented types (https://openrouter.ai/docs/guides/features/broadcast)."""
REQUIRED_CONFIG: Final[Mapping[str, tuple[str, ...]]] = {
    "arize": ("apiKey", "spaceKey", "modelId"),
    "braintrust": ("apiKey", "projectId"),
    "clickhouse": ("host", "database", "username", "password"),
    "datadog": ("apiKey", "mlApp"),
    "grafana": ("apiKey", "instanceId"),
    "langfuse": ("publicKey", "secretKey"),
    "langsmith": ("apiKey",),
    "newrelic": ("licenseKey",),
    "opik": ("apiKey", "workspace", "projectName"),
    "otel-collector": ("endpoint",),
    "posthog": ("apiKey",),
    "ramp": ("apiKey",),
    "s3": ("bucketName",),
    "sentry": ("dsn", "otlpEndpoint"),
    "snowflake": ("account", "token"),
    "weave": ("apiKey", "entity", "project"),
    "webhook": ("url",),
}
"""The `config` keys each type requires (OpenRouter's Python SDK 1.3.84,
`Observability<Type>DestinationConfig`)."""
OPTIONAL_CONFIG: Final[Mapping[str, tuple[str, ...]]] = {
    "arize": ("baseUrl",),
    "braintrust": ("baseUrl",),
    "clickhouse": ("table", "shouldIncludeCacheWriteTokens"),
    "datadog": ("url",),
    "grafana": ("baseUrl",),
    "langfuse": ("baseUrl",),
    "langsmith": ("endpoint", "project", "workspaceId"),
    "newrelic": ("region",),
    "opik": (),
    "otel-collector": (),
    "posthog": ("endpoint",),
    "ramp": ("baseUrl",),
    "s3": (
        "authMode",
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "roleArn",
        "externalId",
        "region",
        "endpoint",
        "prefix",
        "pathTemplate",
        "provider",
    ),
    "sentry": (),
    "snowflake": ("database", "schema", "table", "warehouse", "shouldIncludeCacheWriteTokens"),
    "weave": ("baseUrl",),
    "webhook": ("method",),
}
"""The other `config` keys each type takes, `headers` aside (every type takes it); any other
key is refused by the API."""
S3_AUTH: Final[Mapping[str, tuple[str, ...]]] = {
    "access_keys": ("accessKeyId", "secretAccessKey"),
    "iam_role": ("roleArn",),
}
"""What an S3 destination needs besides its bucket, by its `authMode` (default access_keys)."""
URL_KEYS: Final = frozenset({"url", "endpoint", "otlpEndpoint", "baseUrl"})
"""Config keys that hold an http(s) URL, whatever the type."""
_URL: Final = re.compile(r"^https?://[^\s/]+")
SECRET_CONFIG_KEYS: Final[Mapping[str, frozenset[str]]] = {
    type_: frozenset({"headers", *secret})
    for type_, secret in {
        "arize": ("apiKey", "spaceKey"),
        "braintrust": ("apiKey",),
        "clickhouse": ("password",),
        "datadog": ("apiKey",),
        "grafana": ("apiKey",),
        "langfuse": ("secretKey",),
        "langsmith": ("apiKey",),
        "newrelic": ("licenseKey",),
        "opik": ("apiKey",),
        "otel-collector": (),
        "posthog": ("apiKey",),
        "ramp": ("apiKey",),
        "s3": ("secretAccessKey", "sessionToken"),
        "sentry": (),
        "snowflake": ("token",),
        "weave": ("apiKey",),
        "webhook": (),
    }.items()
}
"""Per type, the `config` keys that hold secrets (set them with `--secret --path`; OpenRouter
returns them masked); `headers` (any type) may carry an authorization. The resource keeps the
whole `config` secret anyway."""
PER_TYPE_CAP: Final = 5
"""At most this many destinations of one type in a workspace (OpenRouter's rule)."""
FilterField = Literal[
    "model",
    "provider",
    "session_id",
    "user_id",
    "api_key_name",
    "finish_reason",
    "input",
    "output",
    "total_cost",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
]
FilterOperator = Literal[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "regex",
    "starts_with",
    "ends_with",
    "gt",
    "lt",
    "gte",
    "lte",
    "exists",
    "not_exists",
]
_NO_VALUE: Final = frozenset({"exists", "not_exists"})
_NUMERIC: Final = frozenset({"gt", "lt", "gte", "lte"})


def config_problem(
    type_: str, config: Mapping[str, object], where: str | None = None
) -> str | None:
    """What a destination of `type_` lacks in its `config`, with the fix; None when complete.
    The one rule: the provider's check and the stack file's model both call it (through
    `config_error`). `where` is the entry in the stack file (`observability.<id>`)."""
    found = _config_problem(type_, config, where)
    return None if found is None else found[1]


def config_error(
    type_: str, config: Mapping[str, object], where: str | None = None
) -> ValidationError | None:
    """`config_problem` as a validation error at the `config` key it is about
    (`config.secretKey`), so the message names that key, not the whole entry."""
    found = _config_problem(type_, config, where)
    if found is None:
        return None
    key, text = found
    detail = InitErrorDetails(
        type=PydanticCustomError("value_error", "Value error, {text}", {"text": text}),
        loc=("config", key) if key else ("config",),
        input=key or "config",  # a key's name, never a value: a config holds secrets
    )
    return ValidationError.from_exception_data("config", [detail])


def _config_problem(
    type_: str, config: Mapping[str, object], where: str | None
) -> tuple[str | None, str] | None:
    """(the config key at fault, or None for several, and the text)."""
    required = REQUIRED_CONFIG.get(type_)
    if required is None:
        return None  # the type's own rule names an unknown type
    known = {*required, *OPTIONAL_CONFIG[type_], "headers"}
    unknown = sorted(name for name in config if name not in known)
    if unknown:
        close = [get_close_matches(name, sorted(known), n=1) for name in unknown]
        fix = (
            f"correct it to `{close[0][0]}`"
            if len(unknown) == 1 and close[0]
            else f"remove {'it' if len(unknown) == 1 else 'them'}"
        )
        return unknown[0] if len(unknown) == 1 else None, (
            f"{a_or_an(type_)} destination takes no {', '.join(unknown)} in its config"
            f"{FIX_SEPARATOR}{fix}; it takes {', '.join(sorted(known))}"
        )
    if type_ == "s3":
        required = (*required, *S3_AUTH.get(str(config.get("authMode", "access_keys")), ()))
    missing = [name for name in required if config.get(name) in (None, "")]
    if not missing:
        not_url = sorted(
            name
            for name in URL_KEYS & set(config)
            if config[name] is not None and not _URL.match(str(config[name]))
        )
        if not_url:
            return not_url[0] if len(not_url) == 1 else None, (
                f"{', '.join(not_url)} must be an http or https URL{FIX_SEPARATOR}write"
                " it as https://host/..."
            )
        return None
    secret = [name for name in missing if name in SECRET_CONFIG_KEYS[type_]]
    setting = f"openrouter-keys:{where}" if where else "<...>"
    how = (
        f" (secrets: `pulumi config set --secret --path '{setting}.config.{secret[0]}'`)"
        if secret
        else ""
    )
    return missing[0] if len(missing) == 1 else None, (
        f"{a_or_an(type_)} destination needs {', '.join(required)} in its config, and"
        f" {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing{FIX_SEPARATOR}"
        f"set {', '.join(missing)}{how}"
    )


class _Settings(BaseModel):
    model_config = SETTINGS_CONFIG


class FilterRule(_Settings):
    """`{field: model, operator: starts_with, value: openai/}`: which generations to send."""

    field: FilterField
    operator: FilterOperator
    value: str | float | None = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> FilterRule:
        if self.operator in _NO_VALUE and self.value is not None:
            raise ValueError(
                f"the operator {self.operator} takes no value{FIX_SEPARATOR}remove `value`"
            )
        if self.operator in _NUMERIC and not isinstance(self.value, int | float):
            raise ValueError(
                f"the operator {self.operator} compares with a number{FIX_SEPARATOR}write"
                " `value` as a number"
            )
        if self.operator not in _NO_VALUE and self.value is None:
            raise ValueError(
                f"the operator {self.operator} compares with a value{FIX_SEPARATOR}add `value`,"
                " or use exists / not_exists"
            )
        return self


class FilterGroup(_Settings):
    logic: Literal["and", "or"] = "and"
    rules: list[FilterRule] = Field(min_length=1)


class FilterRules(_Settings):
    enabled: bool = True
    groups: list[FilterGroup] = Field(min_length=1)


class DestinationSettings(_Settings):
    """What a destination sends; the stack file writes these at `observability.<id>`."""

    type: DestinationType
    """Fixed at creation."""
    enabled: bool = True
    privacy_mode: bool = False
    """Send metadata only, never request or response bodies."""
    sampling_rate: float | None = Field(default=None, ge=0.0001, le=1, allow_inf_nan=False)
    """The share of generations sent; None: every one (1)."""
    filter_rules: FilterRules | None = None
    broadcast_generation_cost: bool = False
    broadcast_generation_identity: bool = False
    broadcast_generation_request_context: bool = False


class DestinationInputs(DestinationSettings):
    """The inputs `check` accepts: the settings and what the stack wires in."""

    config: dict[str, Any]
    name: str = Field(min_length=1, max_length=255)
    workspace_id: str | None = Field(default=None, pattern=UUID.pattern)
    allowed_key_hashes: Annotated[
        list[str] | None, Field(min_length=1), AfterValidator(key_hashes)
    ] = None
    adopt: str | None = Field(default=None, pattern=UUID.pattern)
    config_path: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> DestinationInputs:
        error = config_error(self.type, self.config, self.config_path)
        if error is not None:
            raise error
        return self


class DestinationRecord(ObjectRecord):
    type: str = ""
    config: dict[str, Any] | None = None
    enabled: bool = True
    privacy_mode: bool = False
    sampling_rate: float | None = None
    api_key_hashes: list[str] | None = None
    filter_rules: dict[str, Any] | None = None
    broadcast_generation_cost: bool = False
    broadcast_generation_identity: bool = False
    broadcast_generation_request_context: bool = False


DESTINATIONS_API: Final = ObjectApi(
    "/observability/destinations", DestinationRecord, "observability destination"
)
_FLAGS: Final = (
    "enabled",
    "privacy_mode",
    "broadcast_generation_cost",
    "broadcast_generation_identity",
    "broadcast_generation_request_context",
)


class ObservabilityDestinationProvider(ObjectProvider):
    """Creates, adopts, reads, updates and deletes observability destinations; stateless."""

    INPUTS = DestinationInputs
    REPLACE_ON = frozenset({"type", "workspace_id"})
    SETS = frozenset({"allowed_key_hashes"})
    SECRETS = frozenset({"config"})
    FAILURE_INPUTS: ClassVar[Mapping[str, str]] = {
        **ObjectProvider.FAILURE_INPUTS,
        "destination-type-full": "type",
    }
    API = DESTINATIONS_API
    ID_OUTPUT = "destination_id"
    WATCHED = (
        "name",
        "sampling_rate",
        "api_key_hashes",
        "filter_rules",
        *_FLAGS,
    )
    """Not `config`: the API masks its secrets, so a read cannot tell what it holds."""

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        hashes = props.get("allowed_key_hashes")
        rules = props.get("filter_rules")
        rate = props.get("sampling_rate")
        return {
            "name": props.get("name"),
            "config": props.get("config"),
            **{flag: bool(props.get(flag, flag == "enabled")) for flag in _FLAGS},
            "sampling_rate": 1.0 if rate is None else rate,
            "filter_rules": (
                FilterRules.model_validate(rules, strict=False).model_dump(exclude_none=True)
                if rules is not None
                else None
            ),
            "api_key_hashes": sorted(hashes) if hashes is not None else None,
        }

    def create_only(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": props.get("type"), **super().create_only(props)}

    def full(
        self, news: Mapping[str, Any], siblings: Sequence[ObjectRecord]
    ) -> ProviderError | None:
        type_ = news.get("type")
        same = [r.id for r in siblings if isinstance(r, DestinationRecord) and r.type == type_]
        if len(same) < PER_TYPE_CAP:
            return None
        return provider_error(
            "destination-type-full",
            where=self.where(news),
            type=type_,
            cap=PER_TYPE_CAP,
            ids=", ".join(same),
        )

    def refusal(self, verb: str, props: Mapping[str, Any], error: BadRequestError) -> ProviderError:
        """A 409 of a create: the cap of one type per workspace, passed since the preview (the
        program counted the stack file's new destinations with those listed then)."""
        if verb != "create" or error.status != 409:
            return super().refusal(verb, props, error)
        return provider_error(
            "destination-type-full-at-create",
            where=self.where(props),
            type=props.get("type"),
            cap=PER_TYPE_CAP,
            said=error.api_message or error.message,
        )

    def seen(self, props: Mapping[str, Any], record: Any) -> dict[str, Any]:
        """The server's values; the declared `config` stays (the API masks its secrets)."""
        return {
            **props,
            "name": record.name,
            **{flag: getattr(record, flag) for flag in _FLAGS},
            # None is sent as 1: the server's 1 is what None declares.
            "sampling_rate": (
                None
                if props.get("sampling_rate") is None and record.sampling_rate in (None, 1)
                else record.sampling_rate
            ),
            "filter_rules": record.filter_rules,
            "allowed_key_hashes": record.api_key_hashes,
        }


# --- the resource ------------------------------------------------------------------------------


@dataclass(kw_only=True)
class ObservabilityDestinationArgs(ObjectArgs):
    """Inputs of an observability destination; see docs/resources/observability-destination.md.
    `allowed_key_hashes` is the API's `api_key_hashes`."""

    settings: DestinationSettings
    config: pulumi.Input[Mapping[str, Any]]
    """The type's settings (`publicKey`, `secretKey`, ...); the resource makes it all secret."""

    def inputs(self) -> dict[str, Any]:
        return {
            **self.settings.model_dump(),
            "config": pulumi.Output.secret(self.config),
            **self.shared_inputs(),
        }


class ObservabilityDestination(
    ObjectResource, module="openrouter", name="ObservabilityDestination"
):
    """An observability destination. The type token
    `pulumi-python:dynamic/openrouter:ObservabilityDestination` is part of every URN: never
    change it."""

    # Outputs declared for type checkers only (see providers/guardrail.py).
    if TYPE_CHECKING:
        destination_id: pulumi.Output[str]
        name: pulumi.Output[str]
        type: pulumi.Output[str]
        workspace_id: pulumi.Output[str | None]
        allowed_key_hashes: pulumi.Output[list[str] | None]
        observed: pulumi.Output[str]

    PROVIDER = ObservabilityDestinationProvider
    OUTPUT_ONLY = ("destination_id",)
