"""The settings of an OpenRouter regular key: one typed field, with its `Row`, per setting.

A setting is what the key is allowed to do and when it ends. Where the key lives (its workspace)
and what it is (an adopted key) are inputs of their own (providers/key_inputs.py): they can refer
to other resources of the stack, whose ids are known only once those exist.

This class is the one declaration of a key's settings. The stack config's key spec inherits it
(topology/model.py), the plan and `ApiKeyArgs` carry it whole, and the provider's input table,
its check and diff, the create and update requests and the outputs are derived from its rows
(providers/key_inputs.py, providers/key_outputs.py). Names are the API's and the provider's
(`limit_reset`); a stack file writes them in camelCase (`limitReset`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from providers.base.fields import Kind, OnChange, Row
from providers.http.formats import RFC3339_UTC_ONLY, LimitReset

SETTINGS_CONFIG = ConfigDict(
    extra="forbid",
    strict=True,
    frozen=True,
    alias_generator=to_camel,
    populate_by_name=True,
    hide_input_in_errors=True,
)
"""How the settings a stack file writes are read, for keys, guardrails and workspaces alike:
strict (YAML gives real types, so a quoted number is a mistake worth naming), camelCase in the
file, and pydantic's own error text never repeats a value (the messages show values themselves)."""


class KeySettings(BaseModel):
    """What a regular key is allowed to do and when it ends; every setting optional."""

    model_config = SETTINGS_CONFIG

    limit: Annotated[
        float | None,
        Field(default=None, ge=0, allow_inf_nan=False),
        Row(
            Kind.USD,
            OnChange.UPDATE,
            "limit",
            "a number of US dollars >= 0, e.g. 250",
            "write the limit as a number >= 0, e.g. 250, or remove `limit` for no spending"
            " limit.",
        ),
    ] = None
    limit_reset: Annotated[
        LimitReset | None,
        Row(
            Kind.LIMIT_RESET,
            OnChange.UPDATE,
            "limit_reset",
            "daily, weekly, monthly",
            "write one of the allowed words, or remove `limitReset` for a limit that never"
            " resets.",
        ),
    ] = None
    include_byok_in_limit: Annotated[
        bool | None,
        Row(
            Kind.FLAG,
            OnChange.UPDATE,
            "include_byok_in_limit",
            "true or false",
            "write true or false, without quotes.",
            default=False,
        ),
    ] = None
    expires_at: Annotated[
        str | None,
        Field(default=None, pattern=RFC3339_UTC_ONLY.pattern),
        Row(
            Kind.TIMESTAMP,
            OnChange.REPLACE,
            "expires_at",
            "an RFC 3339 UTC timestamp with seconds, e.g. '2027-06-30T00:00:00Z'",
            "write the instant in UTC ending in Z, in quotes, or remove `expiresAt` for a key"
            " that never expires.",
        ),
    ] = None
    disabled: Annotated[
        bool | None,
        Row(
            Kind.FLAG,
            OnChange.UPDATE,
            "disabled",
            "true or false",
            "write true or false, without quotes.",
            default=False,
            removal_diffs=False,
            on_create=False,
        ),
    ] = None
    """Omitted: the key stays as it is, enabled or disabled (a key disabled in the dashboard,
    or by an earlier `disabled: true`, is usually a leak response); `false` enables it."""
    @classmethod
    def of(cls, spec: KeySettings) -> KeySettings:
        """Only the settings of a model that extends them (a stack file's key spec)."""
        return cls.model_construct(**{name: getattr(spec, name) for name in cls.model_fields})

    def declared(self) -> dict[str, Any]:
        """The settings this key sets (by input name); an omitted one is not sent at all."""
        return {name: value for name, value in self if value is not None}


def setting_rows(model: type[BaseModel] = KeySettings) -> Iterator[tuple[str, str, Row]]:
    """(input name, stack-file name, row) of every setting, in declaration order."""
    for name, info in model.model_fields.items():
        row = next(item for item in info.metadata if isinstance(item, Row))
        yield name, info.alias or name, row


def settings_from(values: Mapping[str, Any]) -> KeySettings:
    """The settings among a resource's props (by input name), for code that holds a dict."""
    return KeySettings.model_construct(
        **{name: values.get(name) for name, _, _ in setting_rows()}
    )
