"""The OpenRouter regular key as a Pulumi resource: `KeyProvider` and `ApiKey`, nothing else.

`KeyProvider` is pickled by reference into every resource's state, so this module path and the
class name must never change, and importing this module must have no side effects.

The management key is never held by a provider instance: `configure()` files the stack config
in a per-process registry outside the instance (providers/base/session.py), every method reads
it (or the environment) at call time, and `__getstate__` is empty, so the pickle in state is a bare
class reference (docs/adr/0001-management-key-at-run-time.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, ReadResult, UpdateResult

from providers.base.fields import CONFIG_PATH, DiffPlan
from providers.base.management_resource import ManagementProvider
from providers.base.messages import ProviderError, one_line
from providers.base.provider_process import engine_listening, redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.base.session import credentials_of
from providers.http.client import KeyRecord, OpenRouterClient
from providers.http.credentials import MANAGEMENT_KEY_SETTING, Credentials
from providers.http.errors import KeyNotFound
from providers.http.listing import listed
from providers.key_inputs import (
    DECLARED,
    INPUTS_BY_NAME,
    KeyInputs,
    as_declared,
    check_inputs,
    declared_inputs,
    diff_inputs,
    patch_changes,
    present,
    setting_path,
)
from providers.key_outputs import OUTPUT_ONLY, inputs_after_refresh, key_outputs
from providers.key_preview import key_taken, preview_adoption
from providers.key_settings import KeySettings
from providers.key_writes import adopt_key, discard_undeliverable, mint_key, verify_adopt_secret

GUARD_PROPERTY = MANAGEMENT_KEY_SETTING
"""The property a failed key-type guard is reported on in `check` (it is config, not an input)."""


class KeyProvider(ManagementProvider):
    """Creates, adopts, reads, updates and deletes OpenRouter regular keys.

    Stateless by design: the instance carries nothing, and pickles to a class reference. Its
    inputs keep a `declared` output, so that removing one is a change (providers/key_inputs.py).
    """

    INPUTS = KeyInputs
    FAILURE_INPUTS: ClassVar[Mapping[str, str]] = {
        "adopt-not-found": "adopt",
        "adopt-secret-invalid": "adopt_secret",
        "adopt-secret-is-management": "adopt_secret",
        "adopt-secret-mismatch": "adopt_secret",
    }

    def invalid(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[CheckFailure]:
        return [
            CheckFailure(f.property, one_line(f.reason, f.kind))
            for f in check_inputs(olds, news, datetime.now(UTC))
        ]

    def changes(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffPlan:
        return diff_inputs(olds, news)

    def state_of(self, olds: Mapping[str, Any]) -> Mapping[str, Any]:
        return as_declared(olds)

    def preview(
        self,
        client: OpenRouterClient,
        credentials: Credentials,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
    ) -> None:
        if not preview_adoption(client, credentials, olds, news):
            super().preview(client, credentials, olds, news)

    def taken(self, client: OpenRouterClient, news: Mapping[str, Any]) -> ProviderError | None:
        return key_taken(client, credentials_of(self), news)

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.connected() as (client, credentials):
            if present(props, "adopt"):
                record, secret = adopt_key(client, credentials, props)
            else:
                record, secret = mint_key(client, props)
                if not engine_listening():
                    # Killed `pulumi up`: nothing can record this key, so nobody would hold it.
                    discard_undeliverable(client, record.hash)
        outs = key_outputs(
            record,
            key=secret,
            declared=declared_inputs(props),
            adopt=props.get("adopt"),
            config_path=props.get(CONFIG_PATH),
        )
        return CreateResult(record.hash, outs)

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # A refresh runs no program (so no slot check): a key recorded by an older version
        # may be a regular key, which reads as a bare 401 (once per process).
        with self.reader() as (client, reader):
            record = read_key(client, reader, id_, props.get("workspace_id"))
        if record is None:
            return ReadResult(None, {})
        declared = props.get(DECLARED)
        outs = key_outputs(
            record,
            key=props.get("key"),
            declared=list(declared) if isinstance(declared, list | tuple) else [],
            adopt=props.get("adopt"),
            config_path=props.get(CONFIG_PATH),  # bookkeeping, kept from state as `adopt` is
        )
        # A user-driven get has no `declared` yet: leave its inputs alone.
        inputs = inputs_after_refresh(outs, props) if declared is not None else None
        return ReadResult(record.hash, outs, inputs)

    @redacted_errors("update")
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changes = patch_changes(olds, news)
        secret_changed = "adopt_secret" in diff_inputs(olds, news).changed
        key = olds.get("key")
        with self.connected() as (client, credentials):
            if secret_changed:
                label = olds.get("label")
                where = setting_path(INPUTS_BY_NAME["adopt_secret"], news)
                verify_adopt_secret(credentials, id_, label, news["adopt_secret"], where=where)
                key = news["adopt_secret"]
            record = client.update_key(id_, changes) if changes else None
        declared = declared_inputs(news)
        adopt = news.get("adopt")
        if record is None:
            # Nothing to PATCH (only bookkeeping or the adopted secret changed): keep the
            # server's values from state rather than spend a request.
            outs = {k: v for k, v in olds.items() if not k.startswith("__")}
            outs.update(
                {"key": key, DECLARED: declared, "adopt": adopt, CONFIG_PATH: news.get(CONFIG_PATH)}
            )
            return UpdateResult(outs)
        outs = key_outputs(
            record, key=key, declared=declared, adopt=adopt, config_path=news.get(CONFIG_PATH)
        )
        return UpdateResult(outs)

    @redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self.client() as client:
            client.delete_key(id_)  # 404 counts as done: the key is gone either way


def read_key(
    client: OpenRouterClient, reader: str, hash_: str, workspace_id: object
) -> KeyRecord | None:
    """The key as `GET /keys/{hash}` returns it, from its workspace's listing when that holds
    it (one listing per workspace serves a whole refresh); None only when the GET says 404.
    `reader` scopes the listings, as `ManagementProvider.reader` names it."""
    workspace = workspace_id if isinstance(workspace_id, str) and workspace_id else None

    def fetch() -> dict[str, KeyRecord]:
        return {record.hash: record for record in client.list_keys(workspace)}

    def confirm() -> KeyRecord | None:
        try:
            return client.get_key(hash_)
        except KeyNotFound:
            return None  # gone since: the one answer that drops it from state

    return listed((reader, "keys", workspace), fetch, hash_, confirm)


# --- the resource ------------------------------------------------------------------------------


@dataclass
class ApiKeyArgs:
    """Inputs of an OpenRouter regular key; see docs/resources/api-key.md."""

    name: pulumi.Input[str]
    settings: KeySettings = field(default_factory=KeySettings)
    """Limit, reset, expiry, ... (providers/key_settings.py): each one an input of its name."""
    workspace_id: pulumi.Input[str] | None = None
    adopt: pulumi.Input[str] | None = None
    adopt_secret: pulumi.Input[str] | None = None
    config_path: pulumi.Input[str] | None = None
    """Where the key is declared in the stack file (`keys.<id>`), for messages only."""

    def inputs(self) -> dict[str, Any]:
        """Every input by name, the settings flattened (as the provider's table names them)."""
        return {
            "name": self.name,
            **self.settings.model_dump(),
            "workspace_id": self.workspace_id,
            "adopt": self.adopt,
            "adopt_secret": self.adopt_secret,
            CONFIG_PATH: self.config_path,
        }


class ApiKey(PickleSafeResource, module="openrouter", name="ApiKey"):
    """An OpenRouter regular (inference) key, minted by the management key.

    The type token `pulumi-python:dynamic/openrouter:ApiKey` is part of every URN: never change it.
    """

    # Outputs declared for type checkers only: at run time the SDK would evaluate a resource's
    # annotations on every registration (0.5 ms a resource, bench/README.md).
    if TYPE_CHECKING:
        hash: pulumi.Output[str]
        key: pulumi.Output[str | None]
        label: pulumi.Output[str]
        name: pulumi.Output[str]
        limit: pulumi.Output[float | None]
        limit_reset: pulumi.Output[str | None]
        include_byok_in_limit: pulumi.Output[bool]
        expires_at: pulumi.Output[str | None]
        disabled: pulumi.Output[bool]
        workspace_id: pulumi.Output[str]
        created_at: pulumi.Output[str]
        adopt: pulumi.Output[str | None]
        declared: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        args: ApiKeyArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {**dict.fromkeys(OUTPUT_ONLY), **args.inputs()}
        if args.adopt_secret is not None:
            # Stored inputs hold it: make sure state encrypts it even if passed as plain text.
            props["adopt_secret"] = pulumi.Output.secret(args.adopt_secret)
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["key"])
        super().__init__(
            KeyProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(secret_opts, opts),
        )
