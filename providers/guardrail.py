"""An OpenRouter guardrail as a Pulumi resource: `GuardrailProvider` and `Guardrail`.

The provider is pickled by reference into state: this module path and the class name must never
change. A guardrail restricts only the keys assigned to it (providers/guardrail_assignment.py);
its workspace is fixed at creation, so moving it is a replacement (the new one exists, and the
keys move to it, before the old one goes). Facts: docs/reference/openrouter-governance-api.md §2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import BaseModel, ConfigDict, Field

from providers.base.fields import CONFIG_PATH
from providers.base.management_resource import OBSERVED, ManagementProvider, fingerprint, outputs
from providers.base.messages import ProviderError, provider_error
from providers.base.provider_process import engine_listening, redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.governance_api import (
    GuardrailRecord,
    create_guardrail,
    delete_guardrail,
    get_guardrail,
    list_guardrails,
    read_guardrail,
    update_guardrail,
)
from providers.guardrail_settings import (
    ENFORCED_FIELDS,
    BuiltinFilter,
    GuardrailPolicy,
    PatternFilter,
    PolicyModel,
    Training,
    ZeroDataRetention,
    policy_of,
)
from providers.http.client import OpenRouterClient
from providers.http.formats import UUID
from providers.http.objects import workspace_missing

_Group = TypeVar("_Group", bound=PolicyModel)
GUARDRAIL_FIELDS: Final = ("name", *ENFORCED_FIELDS)
"""What a guardrail's fingerprint covers: its name and everything its policy sends."""


class GuardrailInputs(BaseModel):
    """The inputs `check` accepts (the stack file's rules: topology/model.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    policy: GuardrailPolicy = Field(default_factory=GuardrailPolicy)
    workspace_id: str | None = Field(default=None, pattern=UUID.pattern)
    adopt: str | None = Field(default=None, pattern=UUID.pattern)
    config_path: str | None = None


class GuardrailProvider(ManagementProvider):
    """Creates, adopts, reads, updates and deletes guardrails; stateless."""

    INPUTS = GuardrailInputs
    REPLACE_ON = frozenset({"workspace_id"})
    NESTED = frozenset({"policy"})

    def taken(self, client: OpenRouterClient, news: Mapping[str, Any]) -> ProviderError | None:
        """A guardrail of the same name in the same workspace: OpenRouter would make a second.
        A workspace that does not exist: the create would fail (and so would the listing)."""
        name, workspace = news.get("name"), news.get("workspace_id")
        if not isinstance(name, str) or not isinstance(workspace, str | None):
            return None  # a workspace made in this same update holds no guardrail yet
        if workspace is not None and workspace_missing(client, workspace):
            where = f"{news.get(CONFIG_PATH) or 'Guardrail'}.workspace"
            return provider_error("workspace-not-found", where=where, id=workspace)
        twin = next((g for g in list_guardrails(client, workspace) if g.name == name), None)
        if twin is None:
            return None
        return self.twin_error("guardrail-name-taken", news, twin.id, twin.created_at, name=name)

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        body = request_body(props)
        with self.client() as client:
            adopt = props.get("adopt")
            if isinstance(adopt, str):
                get_guardrail(client, adopt)  # a missing one is reported before any write
                record = update_guardrail(client, adopt, body)
            else:
                workspace = props.get("workspace_id")
                record = create_guardrail(
                    client, {**body, **({"workspace_id": workspace} if workspace else {})}
                )
                if not engine_listening():
                    # Killed `pulumi up`: nothing would record it; the next run makes it again.
                    delete_guardrail(client, record.id)
        return CreateResult(record.id, guardrail_outputs(props, record))

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        workspace = props.get("workspace_id")
        with self.reader() as (client, reader):
            record = read_guardrail(
                client, reader, id_, workspace if isinstance(workspace, str) else None
            )
        if record is None:
            return ReadResult(None, {})
        if not props or props.get(OBSERVED) == fingerprint(record.fields(), GUARDRAIL_FIELDS):
            outs = guardrail_outputs(props, record) if not props else dict(props)
            return ReadResult(id_, outs, None if not props else _inputs(outs))
        # Changed outside this stack: show the server's values, so the next preview restores.
        drifted = guardrail_outputs(
            {**props, "name": record.name, "policy": policy_from(record).model_dump()}, record
        )
        return ReadResult(id_, drifted, _inputs(drifted))

    @redacted_errors("update")
    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client() as client:
            record = update_guardrail(client, id_, request_body(news))
        return UpdateResult(guardrail_outputs(news, record))

    @redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self.client() as client:
            delete_guardrail(client, id_)  # the keys it held are unassigned by the API


def request_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """Name and the full policy: a PATCH replaces each field it carries."""
    return {"name": props["name"], **policy_of(props.get("policy")).body()}


def guardrail_outputs(props: Mapping[str, Any], record: GuardrailRecord) -> dict[str, Any]:
    return outputs(
        props,
        guardrail_id=record.id,
        workspace_id=props.get("workspace_id"),
        **{OBSERVED: fingerprint(record.fields(), GUARDRAIL_FIELDS)},
    )


def _inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k in GuardrailInputs.model_fields}


def policy_from(record: GuardrailRecord) -> GuardrailPolicy:
    """The policy as the server holds it, in the stack file's terms (the inverse of `body()`)."""
    fields = record.fields()

    def group(prefix: str, model: type[_Group]) -> _Group | None:
        values = {name: fields.get(f"{prefix}{name}") for name in model.model_fields}
        return model.model_construct(**values) if any(values.values()) else None

    builtins = [
        BuiltinFilter.model_construct(
            builtin=item.get("slug"), action=item.get("action"), scan_scope=item.get("scan_scope")
        )
        for item in fields.get("content_filter_builtins") or ()
        if isinstance(item, Mapping)
    ]
    patterns = [
        PatternFilter.model_construct(
            pattern=item.get("pattern"), action=item.get("action"), label=item.get("label")
        )
        for item in fields.get("content_filters") or ()
        if isinstance(item, Mapping)
    ]
    zdr = group("enforce_zdr_", ZeroDataRetention)
    training = group("enable_", Training)
    return GuardrailPolicy.model_construct(
        description=fields.get("description"),
        limit_usd=fields.get("limit_usd"),
        reset_interval=fields.get("reset_interval"),
        include_byok_in_budgets=fields.get("include_byok_in_budgets"),
        allowed_models=fields.get("allowed_models"),
        allowed_providers=fields.get("allowed_providers"),
        ignored_models=fields.get("ignored_models"),
        ignored_providers=fields.get("ignored_providers"),
        enforce_zdr=zdr,
        allow_training=training,
        content_filters=[*builtins, *patterns] or None,
        allowed_data_regions=fields.get("allowed_data_regions"),
    )


# --- the resource ------------------------------------------------------------------------------


@dataclass
class GuardrailArgs:
    """Inputs of a guardrail; see docs/resources/guardrail.md."""

    name: pulumi.Input[str]
    policy: GuardrailPolicy = field(default_factory=GuardrailPolicy)
    workspace_id: pulumi.Input[str] | None = None
    """The workspace it is filed under (fixed at creation); None: the default workspace."""
    adopt: str | None = None
    """A guardrail's id to take over instead of creating one."""
    config_path: str | None = None
    """Where it is declared in the stack file (`guardrails.<id>`), for messages only."""

    def inputs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "policy": self.policy.model_dump(),
            "workspace_id": self.workspace_id,
            "adopt": self.adopt,
            CONFIG_PATH: self.config_path,
        }


class Guardrail(PickleSafeResource, module="openrouter", name="Guardrail"):
    """An OpenRouter guardrail. The type token `pulumi-python:dynamic/openrouter:Guardrail` is
    part of every URN: never change it."""

    # Outputs declared for type checkers only: at run time the SDK would evaluate a resource's
    # annotations on every registration (0.5 ms a resource, bench/README.md).
    if TYPE_CHECKING:
        guardrail_id: pulumi.Output[str]
        name: pulumi.Output[str]
        policy: pulumi.Output[dict[str, Any]]
        workspace_id: pulumi.Output[str | None]
        observed: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: GuardrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {"guardrail_id": None, OBSERVED: None, **args.inputs()}
        super().__init__(GuardrailProvider(), resource_name, props, opts)
