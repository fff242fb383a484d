"""The `governance` stack output: the guardrails and workspaces this stack manages.

Written by the program with the `keys` output (topology/outputs.py); read by `cli audit`, to
tell the guardrails a stack manages from the ones nobody does, and by the program itself, to
know which workspaces the previous update made. It maps the ids of the stack file to
OpenRouter's and holds nothing secret.

```text
governance: {guardrails: {<id>: {id, name, workspace}},
             workspaces: {<id>: {id, slug, defaultGuardrail}}}
```

- `guardrails.<id>.workspace`: the workspace's id in the stack file, its UUID as written, or
  null (the default workspace);
- `workspaces.<id>.defaultGuardrail`: the id of its default guardrail when the stack configures
  it, else null.

Importing this module loads pydantic only, never the Pulumi SDK, so the CLI can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from topology.keys_output import KeysOutputError, json_type

GOVERNANCE_OUTPUT: Final = "governance"


class _Record(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, strict=True, alias_generator=to_camel, populate_by_name=True
    )


class DeployedGuardrail(_Record):
    id: str = Field(min_length=1)
    name: str
    workspace: str | None = None


class DeployedWorkspace(_Record):
    id: str = Field(min_length=1)
    slug: str
    default_guardrail: str | None = None


class DeployedGovernance(_Record):
    guardrails: dict[str, DeployedGuardrail] = Field(default_factory=dict)
    workspaces: dict[str, DeployedWorkspace] = Field(default_factory=dict)

    def guardrail_ids(self) -> set[str]:
        """OpenRouter's ids of every guardrail this stack manages, default ones included."""
        defaults = {w.default_guardrail for w in self.workspaces.values() if w.default_guardrail}
        return {g.id for g in self.guardrails.values()} | defaults


def parse_governance_output(value: object) -> DeployedGovernance:
    """The output as typed records (empty when absent: a stack of keys only, or an older one);
    `KeysOutputError` naming the JSON path of what is wrong."""
    if value is None:
        return DeployedGovernance()
    if not isinstance(value, Mapping):
        raise KeysOutputError(
            f"output `{GOVERNANCE_OUTPUT}`", f"is {json_type(value)}, not an object"
        )
    try:
        return DeployedGovernance.model_validate(value)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        path = ".".join([GOVERNANCE_OUTPUT, *(str(part) for part in first["loc"])])
        problem = f"is {json_type(first.get('input'))}: {first['msg']}"
        raise KeysOutputError(path, problem) from None


def governance_output(governance: DeployedGovernance) -> dict[str, Any]:
    """The JSON the program exports (camelCase, as the stack file writes it)."""
    return governance.model_dump(mode="json", by_alias=True, exclude_none=True)
