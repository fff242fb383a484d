"""The OpenRouter regular key as a Pulumi resource: `KeyProvider` and `ApiKey`.

`KeyProvider` is pickled by reference into every resource's state, so this module path and the
class name must never change, and importing this module must have no side effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider


class KeyProvider(ResourceProvider):
    """Placeholder: the lifecycle methods are being written in this module."""


@dataclass
class ApiKeyArgs:
    """Inputs of an OpenRouter regular key; see docs/resources/api-key.md."""

    name: pulumi.Input[str]
    limit: pulumi.Input[float] | None = None
    limit_reset: pulumi.Input[str] | None = None
    include_byok_in_limit: pulumi.Input[bool] | None = None
    expires_at: pulumi.Input[str] | None = None
    disabled: pulumi.Input[bool] | None = None
    workspace_id: pulumi.Input[str] | None = None
    adopt: pulumi.Input[str] | None = None
    adopt_secret: pulumi.Input[str] | None = None


class ApiKey(Resource, module="openrouter", name="ApiKey"):
    """An OpenRouter regular (inference) key, minted by the management key.

    The type token `pulumi-python:dynamic/openrouter:ApiKey` is part of every URN: never change it.
    """

    hash: pulumi.Output[str]
    key: pulumi.Output[str]
    label: pulumi.Output[str]
    name: pulumi.Output[str]
    created_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: ApiKeyArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "hash": None,
            "key": None,
            "label": None,
            "created_at": None,
            "limit_remaining": None,
            "usage": None,
            "usage_daily": None,
            "usage_weekly": None,
            "usage_monthly": None,
            **{field: getattr(args, field) for field in args.__dataclass_fields__},
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["key"])
        super().__init__(
            KeyProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(secret_opts, opts),
        )
