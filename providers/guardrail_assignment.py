"""One key held by one guardrail, as a Pulumi resource: `GuardrailAssignmentProvider`,
`GuardrailAssignment`.

A resource of its own, not a property of the key, so that giving a key a guardrail, moving it
to another or taking it away never touches the key: a protected key is never replaced for its
guardrail (docs/adr/0009-guardrails-and-workspaces.md). Assigning a key that holds another
guardrail moves it, so a move is a replacement whose new assignment is made before the old one
is removed: the key is never left without a guardrail in between. The provider is pickled by
reference into state: never rename this module or the class.
Facts: docs/reference/openrouter-governance-api.md §2.4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult
from pydantic import BaseModel, ConfigDict, Field

from providers.base.fields import CONFIG_PATH
from providers.base.management_resource import ManagementProvider, outputs
from providers.base.messages import provider_error
from providers.base.provider_process import redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.governance_api import assign_keys, holds_key, unassign_keys
from providers.http.formats import KEY_HASH, UUID

SEPARATOR = "/"
"""`<guardrail id>/<key hash>`: the id OpenRouter's Terraform provider imports one by."""


class GuardrailAssignmentInputs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    guardrail_id: str = Field(pattern=UUID.pattern)
    key_hash: str = Field(pattern=KEY_HASH.pattern)
    config_path: str | None = None


class GuardrailAssignmentProvider(ManagementProvider):
    """Assigns a key to a guardrail, reads whether it still is, and unassigns it; stateless."""

    INPUTS = GuardrailAssignmentInputs
    REPLACE_ON = frozenset({"guardrail_id", "key_hash"})

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        guardrail, key_hash = str(props["guardrail_id"]), str(props["key_hash"])
        with self.client() as client:
            count = assign_keys(client, guardrail, [key_hash])
        if count != 1:
            raise provider_error(
                "assignment-refused",
                where=props.get(CONFIG_PATH) or "the assignment",
                guardrail=guardrail,
                hash=key_hash,
                count=count,
            )
        return CreateResult(f"{guardrail}{SEPARATOR}{key_hash}", outputs(props))

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        guardrail, _, key_hash = id_.partition(SEPARATOR)
        with self.reader() as (client, reader):
            held = holds_key(client, reader, guardrail, key_hash)
        if not held:
            return ReadResult(None, {})  # unassigned elsewhere: the next `up` assigns it again
        outs = outputs({**props, "guardrail_id": guardrail, "key_hash": key_hash})
        return ReadResult(id_, outs, outs if props else None)

    @redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        guardrail, _, key_hash = id_.partition(SEPARATOR)
        with self.client() as client:
            # Counts only a key still held by this guardrail: one that has moved on stays put.
            unassign_keys(client, guardrail, [key_hash])


# --- the resource ------------------------------------------------------------------------------


@dataclass
class GuardrailAssignmentArgs:
    """Which guardrail holds which key; see docs/resources/guardrail.md."""

    guardrail_id: pulumi.Input[str]
    key_hash: pulumi.Input[str]
    config_path: str | None = None
    """Where the key's `guardrail:` is written in the stack file, for messages only."""

    def inputs(self) -> dict[str, Any]:
        return {
            "guardrail_id": self.guardrail_id,
            "key_hash": self.key_hash,
            CONFIG_PATH: self.config_path,
        }


class GuardrailAssignment(PickleSafeResource, module="openrouter", name="GuardrailAssignment"):
    """A key held by a guardrail. The type token
    `pulumi-python:dynamic/openrouter:GuardrailAssignment` is part of every URN: never change
    it."""

    # Outputs declared for type checkers only: at run time the SDK would evaluate a resource's
    # annotations on every registration (0.5 ms a resource, bench/README.md).
    if TYPE_CHECKING:
        guardrail_id: pulumi.Output[str]
        key_hash: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: GuardrailAssignmentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(GuardrailAssignmentProvider(), resource_name, args.inputs(), opts)
