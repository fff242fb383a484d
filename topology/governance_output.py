"""The `governance` stack output: the guardrails and workspaces this stack manages.

Written by the program with the `keys` output (topology/outputs.py); read by `cli audit`, to
tell the guardrails a stack manages from the ones nobody does, and by the program itself, to
know which workspaces the previous update made. It maps the ids of the stack file to
OpenRouter's and holds nothing secret.

```text
governance: {guardrails: {<id>: {id, name, workspace}},
             workspaces: {<id>: {id, slug, defaultGuardrail}},
             byok: {<id>: {id, name, workspace, keys}},           # one map per scoped kind
             observability: {<id>: {id, name, workspace, keys}}}  # (topology/scoped.py)
```

- `guardrails.<id>.workspace`: the workspace's id in the stack file, its UUID as written, or
  null (the default workspace);
- `workspaces.<id>.defaultGuardrail`: the id of its default guardrail when the stack configures
  it, else null;
- `<kind>.<id>.keys`: the key ids it is restricted to, or null (every key).

Importing this module loads pydantic only, never the Pulumi SDK, so the CLI can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
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


class DeployedScoped(_Record):
    """A BYOK credential, observability destination, ... (topology/scoped.py)."""

    id: str = Field(min_length=1)
    name: str
    workspace: str | None = None
    keys: list[str] | None = None


class DeployedGovernance(_Record):
    guardrails: dict[str, DeployedGuardrail] = Field(default_factory=dict)
    workspaces: dict[str, DeployedWorkspace] = Field(default_factory=dict)
    scoped: dict[str, dict[str, DeployedScoped]] = Field(default_factory=dict)
    """Kind (`byok`, ...) -> id -> record; written at the output's top level, one map per kind."""

    @model_validator(mode="before")
    @classmethod
    def _kinds_at_top_level(cls, value: Any) -> Any:
        """Every other map of the output is one scoped kind's (this module needs no list of
        kinds, so the CLI reads them without importing the providers)."""
        if not isinstance(value, Mapping) or "scoped" in value:
            return value
        fixed = {"guardrails", "workspaces"}
        return {
            **{k: v for k, v in value.items() if k in fixed},
            "scoped": {k: v for k, v in value.items() if k not in fixed},
        }

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
    dumped = governance.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {**{k: v for k, v in dumped.items() if k != "scoped"}, **dumped.get("scoped", {})}
