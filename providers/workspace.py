"""An OpenRouter workspace as a Pulumi resource: `WorkspaceProvider` and `Workspace`.

The provider is pickled by reference into state: this module path and the class name must never
change. Its budgets and its default guardrail are resources of their own
(providers/workspace_budgets.py, providers/default_guardrail.py) that depend on it, as do the
keys that live in it, so a destroy removes them first; OpenRouter refuses to delete a workspace
that still holds a key, and says so. Facts: docs/reference/openrouter-governance-api.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import BaseModel, ConfigDict, Field

from providers.base.fields import CONFIG_PATH
from providers.base.management_resource import ManagementProvider, outputs
from providers.base.messages import ProviderError, provider_error
from providers.base.provider_process import engine_listening, redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.governance_api import (
    WorkspaceRecord,
    create_workspace,
    delete_workspace,
    get_workspace,
    read_workspace,
    update_workspace,
)
from providers.http.client import OpenRouterClient
from providers.http.errors import BadRequestError, NotFoundError
from providers.workspace_settings import WORKSPACE_SLUG, WorkspaceSettings


class WorkspaceInputs(BaseModel):
    """The inputs `check` accepts (the stack file's rules: topology/model.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    slug: str = Field(min_length=1, max_length=50, pattern=WORKSPACE_SLUG.pattern)
    description: str | None = Field(default=None, max_length=500)
    adopt: str | None = Field(default=None, min_length=1)
    config_path: str | None = None


class WorkspaceProvider(ManagementProvider):
    """Creates, adopts, reads, updates and deletes workspaces; stateless."""

    INPUTS = WorkspaceInputs
    IDENTITY = "slug"

    def taken(self, client: OpenRouterClient, news: Mapping[str, Any]) -> ProviderError | None:
        """A workspace with this slug already: OpenRouter would refuse the create."""
        slug = news.get("slug")
        if not isinstance(slug, str):
            return None
        try:
            twin = get_workspace(client, slug)
        except NotFoundError:
            return None
        return self.twin_error("workspace-slug-taken", news, twin.id, twin.created_at, slug=slug)

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        body = _settings(props).body()
        with self.client() as client:
            adopt = props.get("adopt")
            if isinstance(adopt, str):
                existing = get_workspace(client, adopt)  # by id or slug
                record = update_workspace(client, existing.id, body)
            else:
                record = create_workspace(client, body)
                if not engine_listening():
                    delete_workspace(client, record.id)  # nothing would record it
        return CreateResult(record.id, workspace_outputs(props, record))

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.reader() as (client, reader):
            record = read_workspace(client, reader, id_)
        if record is None:
            return ReadResult(None, {})
        seen = {"name": record.name, "slug": record.slug, "description": record.description}
        outs = workspace_outputs({**props, **seen}, record)
        return ReadResult(id_, outs, _inputs(outs) if props else None)

    @redacted_errors("update")
    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client() as client:
            record = update_workspace(client, id_, _settings(news).body())
        return UpdateResult(workspace_outputs(news, record))

    @redacted_errors("delete")
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client() as client:
            try:
                delete_workspace(client, id_)
            except BadRequestError as error:
                raise provider_error(
                    "workspace-not-empty",
                    where=props.get(CONFIG_PATH) or "the workspace",
                    slug=props.get("slug"),
                    said=error.api_message or error.message,
                ) from None


def _settings(props: Mapping[str, Any]) -> WorkspaceSettings:
    return WorkspaceSettings.model_validate(
        {name: props.get(name) for name in WorkspaceSettings.model_fields}, strict=False
    )


def workspace_outputs(props: Mapping[str, Any], record: WorkspaceRecord) -> dict[str, Any]:
    return outputs(
        props, workspace_id=record.id, default_guardrail_id=record.default_guardrail_id
    )


def _inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k in WorkspaceInputs.model_fields}


# --- the resource ------------------------------------------------------------------------------


@dataclass
class WorkspaceArgs:
    """Inputs of a workspace; see docs/resources/workspace.md."""

    settings: WorkspaceSettings
    adopt: str | None = None
    """A workspace's id or slug to take over instead of creating one."""
    config_path: str | None = None
    """Where it is declared in the stack file (`workspaces.<id>`), for messages only."""

    def inputs(self) -> dict[str, Any]:
        return {**self.settings.model_dump(), "adopt": self.adopt, CONFIG_PATH: self.config_path}


class Workspace(PickleSafeResource, module="openrouter", name="Workspace"):
    """An OpenRouter workspace. The type token `pulumi-python:dynamic/openrouter:Workspace` is
    part of every URN: never change it."""

    # Outputs declared for type checkers only: at run time the SDK would evaluate a resource's
    # annotations on every registration (0.5 ms a resource, bench/README.md).
    if TYPE_CHECKING:
        workspace_id: pulumi.Output[str]
        default_guardrail_id: pulumi.Output[str | None]
        name: pulumi.Output[str]
        slug: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: WorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {"workspace_id": None, "default_guardrail_id": None, **args.inputs()}
        super().__init__(WorkspaceProvider(), resource_name, props, opts)
