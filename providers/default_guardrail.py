"""A workspace's default guardrail as a Pulumi resource: `DefaultGuardrailProvider`,
`DefaultGuardrail`.

It governs every key of its workspace that holds no guardrail of its own. OpenRouter makes it
with the workspace and never deletes it apart from it; it exists as an object only once first
written (PATCH), cannot be renamed, and is never created with POST. So creating this resource
writes the policy, and deleting it writes an empty policy: removing `defaultGuardrail` from the
stack file lifts the restrictions, as the file then says. The provider is pickled by reference
into state: never rename this module or the class.
Facts: docs/reference/openrouter-governance-api.md §2.5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import BaseModel, ConfigDict, Field

from providers.base.fields import CONFIG_PATH
from providers.base.management_resource import OBSERVED, ManagementProvider, fingerprint, outputs
from providers.base.provider_process import redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.governance_api import get_guardrail, get_workspace, update_guardrail
from providers.guardrail import policy_from
from providers.guardrail_settings import ENFORCED_FIELDS, GuardrailPolicy, policy_of
from providers.http.errors import NotFoundError
from providers.http.formats import UUID

DEFAULT_FIELDS: Final = ENFORCED_FIELDS
"""Its name is OpenRouter's, so the fingerprint covers only the policy."""


class DefaultGuardrailInputs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace_id: str = Field(pattern=UUID.pattern)
    policy: GuardrailPolicy = Field(default_factory=GuardrailPolicy)
    config_path: str | None = None


class DefaultGuardrailProvider(ManagementProvider):
    """Writes, reads and clears a workspace's default guardrail; stateless."""

    INPUTS = DefaultGuardrailInputs
    REPLACE_ON = frozenset({"workspace_id"})
    NESTED = frozenset({"policy"})

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client() as client:
            guardrail_id = get_workspace(client, str(props["workspace_id"])).default_guardrail_id
            if not guardrail_id:
                raise NotFoundError(
                    f"GET /workspaces/{props['workspace_id']}: the workspace names no default"
                    " guardrail; OpenRouter's API may have changed. Run again and report it.",
                    method="GET",
                    path="/workspaces",
                    status=404,
                )
            record = update_guardrail(client, guardrail_id, policy_of(props.get("policy")).body())
        return CreateResult(guardrail_id, _outputs(props, record.fields(), guardrail_id))

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client() as client:
            try:
                record = get_guardrail(client, id_)
            except NotFoundError:
                return ReadResult(None, {})  # never written, or its workspace is gone
        fields = record.fields()
        if props.get(OBSERVED) == fingerprint(fields, DEFAULT_FIELDS):
            return ReadResult(id_, dict(props), _inputs(props))
        drifted = _outputs({**props, "policy": policy_from(record).model_dump()}, fields, id_)
        return ReadResult(id_, drifted, _inputs(drifted) if props else None)

    @redacted_errors("update")
    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client() as client:
            record = update_guardrail(client, id_, policy_of(news.get("policy")).body())
        return UpdateResult(_outputs(news, record.fields(), id_))

    @redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self.client() as client:
            try:
                update_guardrail(client, id_, GuardrailPolicy().body())
            except NotFoundError:
                return  # its workspace is gone, and the guardrail with it


def _outputs(props: Mapping[str, Any], fields: Mapping[str, Any], id_: str) -> dict[str, Any]:
    return outputs(props, guardrail_id=id_, **{OBSERVED: fingerprint(fields, DEFAULT_FIELDS)})


def _inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k in DefaultGuardrailInputs.model_fields}


# --- the resource ------------------------------------------------------------------------------


@dataclass
class DefaultGuardrailArgs:
    """Inputs of a workspace's default guardrail; see docs/resources/workspace.md."""

    workspace_id: pulumi.Input[str]
    policy: GuardrailPolicy
    config_path: str | None = None

    def inputs(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "policy": self.policy.model_dump(),
            CONFIG_PATH: self.config_path,
        }


class DefaultGuardrail(PickleSafeResource, module="openrouter", name="DefaultGuardrail"):
    """A workspace's default guardrail. The type token
    `pulumi-python:dynamic/openrouter:DefaultGuardrail` is part of every URN: never change it."""

    # Outputs declared for type checkers only: at run time the SDK would evaluate a resource's
    # annotations on every registration (0.5 ms a resource, bench/README.md).
    if TYPE_CHECKING:
        guardrail_id: pulumi.Output[str]
        observed: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: DefaultGuardrailArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"guardrail_id": None, OBSERVED: None, **args.inputs()}
        super().__init__(DefaultGuardrailProvider(), resource_name, props, opts)
