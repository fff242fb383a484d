"""A workspace's budgets as one Pulumi resource: `WorkspaceBudgetsProvider`, `WorkspaceBudgets`.

One resource for all four intervals, not one per interval, because OpenRouter checks each
change against the others (lifetime > monthly > weekly > daily): only a resource that sees them
all can order its requests so that each is accepted (`budget_steps`). The provider is pickled
by reference into state: never rename this module or the class.
Facts: docs/reference/openrouter-governance-api.md §3.5.
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
from providers.base.provider_process import redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.governance_api import (
    BUDGET_INTERVALS,
    BudgetInterval,
    Budgets,
    delete_budget,
    get_budgets,
    put_budget,
)
from providers.http.errors import NotFoundError
from providers.http.formats import UUID
from providers.workspace_settings import BudgetLimits, budget_steps


class WorkspaceBudgetsInputs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace_id: str = Field(pattern=UUID.pattern)
    limits: BudgetLimits = Field(default_factory=BudgetLimits)
    include_byok_in_budgets: bool | None = None
    config_path: str | None = None


class WorkspaceBudgetsProvider(ManagementProvider):
    """Sets, reads, changes and removes a workspace's budgets; stateless."""

    INPUTS = WorkspaceBudgetsInputs
    REPLACE_ON = frozenset({"workspace_id"})

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        workspace = str(props["workspace_id"])
        return CreateResult(f"{workspace}/budgets", self._apply(workspace, props))

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        workspace = id_.removesuffix("/budgets")
        with self.client() as client:
            try:
                budgets = get_budgets(client, workspace)
            except NotFoundError:
                return ReadResult(None, {})
        seen = {
            "workspace_id": workspace,
            "limits": dict(budgets.limits),
            # Compared only when declared: undeclared, the flag is not this stack's to keep.
            "include_byok_in_budgets": budgets.include_byok
            if props.get("include_byok_in_budgets") is not None
            else None,
        }
        outs = outputs({**props, **seen})
        inputs = {k: v for k, v in outs.items() if k in WorkspaceBudgetsInputs.model_fields}
        return ReadResult(id_, outs, inputs if props else None)

    @redacted_errors("update")
    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(id_.removesuffix("/budgets"), news))

    @redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        workspace = id_.removesuffix("/budgets")
        with self.client() as client:
            try:
                current = get_budgets(client, workspace)
            except NotFoundError:
                return  # the workspace, and its budgets with it, are gone
            for interval, _ in budget_steps(current.limits, {}):
                delete_budget(client, workspace, interval)

    def _apply(self, workspace: str, props: Mapping[str, Any]) -> dict[str, Any]:
        """Take the server from what it has (not what state says) to the declared budgets."""
        desired = BudgetLimits.model_validate(props.get("limits") or {}, strict=False).limits()
        include = props.get("include_byok_in_budgets")
        with self.client() as client:
            current = get_budgets(client, workspace)
            for interval, limit in byok_steps(current, desired, include):
                if limit is None:
                    delete_budget(client, workspace, interval)
                else:
                    # The flag is workspace-wide: sent once, with the first budget set.
                    put_budget(client, workspace, interval, limit, include)
                    include = None
        return outputs(props, limits=dict(desired))


def byok_steps(
    current: Budgets, desired: Mapping[BudgetInterval, float], include: bool | None
) -> list[tuple[BudgetInterval, float | None]]:
    """`budget_steps`, plus one repeated budget when only the workspace-wide BYOK flag changes
    (OpenRouter sets it only along with a budget)."""
    steps = budget_steps(current.limits, desired)
    sets = [step for step in steps if step[1] is not None]
    if include is not None and include != current.include_byok and not sets and desired:
        interval = next(i for i in BUDGET_INTERVALS if i in desired)
        steps.append((interval, desired[interval]))
    return steps


# --- the resource ------------------------------------------------------------------------------


@dataclass
class WorkspaceBudgetsArgs:
    """Inputs of a workspace's budgets; see docs/resources/workspace.md."""

    workspace_id: pulumi.Input[str]
    limits: BudgetLimits
    include_byok_in_budgets: bool | None = None
    config_path: str | None = None

    def inputs(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "limits": self.limits.model_dump(exclude_none=True),
            "include_byok_in_budgets": self.include_byok_in_budgets,
            CONFIG_PATH: self.config_path,
        }


class WorkspaceBudgets(PickleSafeResource, module="openrouter", name="WorkspaceBudgets"):
    """A workspace's budgets. The type token `pulumi-python:dynamic/openrouter:WorkspaceBudgets`
    is part of every URN: never change it."""

    # Outputs declared for type checkers only: at run time the SDK would evaluate a resource's
    # annotations on every registration (0.5 ms a resource, bench/README.md).
    if TYPE_CHECKING:
        limits: pulumi.Output[dict[str, float]]

    def __init__(
        self,
        resource_name: str,
        args: WorkspaceBudgetsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(WorkspaceBudgetsProvider(), resource_name, args.inputs(), opts)
