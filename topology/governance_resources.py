"""Register the stack's workspaces and guardrails, and the assignments of keys to guardrails.

Order comes from data, not from `depends_on`: a key in a workspace of the stack takes the
workspace's id as an input, a guardrail its workspace's, an assignment its guardrail's and its
key's. So `pulumi up` creates a workspace before what lives in it, and a destroy (or a removal)
deletes an assignment before its guardrail and its key, and a key before its workspace, which
OpenRouter requires (docs/reference/openrouter-governance-api.md §3.4).

Each of those ids is the resource's Pulumi id (`.id`), never an output of the same value
(`.workspace_id`, `.guardrail_id`, `.hash`): a preview knows the id of a resource it updates in
place, but none of its other outputs (a dynamic provider has no preview of its own, so the
engine predicts them from the inputs alone). Wired from an output, a guardrail's new allowlist
previewed as a replacement of every assignment under it, and a workspace's new slug as a
change of every key in it, though `up` changed neither (docs/architecture.md#faithful-previews).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from providers import (
    ApiKey,
    DefaultGuardrail,
    DefaultGuardrailArgs,
    Guardrail,
    GuardrailArgs,
    GuardrailAssignment,
    GuardrailAssignmentArgs,
    Workspace,
    WorkspaceArgs,
    WorkspaceBudgets,
    WorkspaceBudgetsArgs,
)
from topology.plan import GenerationPlan, GuardrailPlan, Plan, WorkspacePlan
from topology.scoped import ScopedPlan


@dataclass(frozen=True)
class BuiltGovernance:
    """What `register_governance` registered, by the stack file's ids."""

    workspaces: dict[str, Workspace]
    guardrails: dict[str, Guardrail]
    defaults: dict[str, DefaultGuardrail]
    scoped: dict[str, pulumi.CustomResource] = field(default_factory=dict)
    """`<setting>.<id>` (its config path) -> a BYOK credential, destination, ..."""

    def workspace_id(self, workspace: str | None, uuid: str | None) -> pulumi.Input[str] | None:
        """A workspace of the stack's id, once it exists; else the UUID as written, or None."""
        return self.workspaces[workspace].id if workspace is not None else uuid


def _workspace(plan: WorkspacePlan) -> tuple[Workspace, DefaultGuardrail | None]:
    workspace = Workspace(
        plan.workspace_id,
        WorkspaceArgs(settings=plan.settings, adopt=plan.adopt, config_path=plan.config_path),
    )
    child = pulumi.ResourceOptions(parent=workspace)
    if plan.budgets is not None:
        WorkspaceBudgets(
            plan.workspace_id,
            WorkspaceBudgetsArgs(
                workspace_id=workspace.id,
                limits=plan.budgets,
                include_byok_in_budgets=plan.include_byok_in_budgets,
                config_path=plan.config_path,
            ),
            child,
        )
    default = None
    if plan.default_guardrail is not None:
        default = DefaultGuardrail(
            plan.workspace_id,
            DefaultGuardrailArgs(
                workspace_id=workspace.id,
                policy=plan.default_guardrail,
                config_path=f"{plan.config_path}.defaultGuardrail",
            ),
            child,
        )
    return workspace, default


def _guardrail(plan: GuardrailPlan, built: BuiltGovernance) -> Guardrail:
    return Guardrail(
        plan.guardrail_id,
        GuardrailArgs(
            name=plan.name,
            policy=plan.policy,
            workspace_id=built.workspace_id(plan.workspace, plan.workspace_uuid),
            adopt=plan.adopt,
            config_path=plan.config_path,
        ),
    )


def register_governance(plan: Plan) -> BuiltGovernance:
    """Every workspace (with its budgets and default guardrail), then every guardrail."""
    built = BuiltGovernance({}, {}, {})
    for workspace_plan in plan.workspaces:
        workspace, default = _workspace(workspace_plan)
        built.workspaces[workspace_plan.workspace_id] = workspace
        if default is not None:
            built.defaults[workspace_plan.workspace_id] = default
    for guardrail_plan in plan.guardrails:
        built.guardrails[guardrail_plan.guardrail_id] = _guardrail(guardrail_plan, built)
    return built


def assign(
    generation: GenerationPlan, key: ApiKey, built: BuiltGovernance
) -> GuardrailAssignment | None:
    """The generation's guardrail, as a resource of its own beside the key (ADR 0009).

    It takes the names its key had (`aliases`), as the key does: when a key is first rotated,
    its assignment `<id>` becomes `<id>@<first label>`. Without the alias the engine created the
    new name (a no-op: that key is already assigned) and then deleted the old one, which removed
    the guardrail from the generation every consumer still held (issue 19).
    """
    if generation.guardrail is None:
        return None
    return GuardrailAssignment(
        generation.resource_name,
        GuardrailAssignmentArgs(
            guardrail_id=built.guardrails[generation.guardrail].id,
            key_hash=key.id,
            config_path=f"{generation.config_path}.guardrail",
        ),
        pulumi.ResourceOptions(aliases=[pulumi.Alias(name=name) for name in generation.aliases]),
    )


def allowed_hashes(
    key_ids: Sequence[str] | None, keys: Mapping[str, Sequence[ApiKey]]
) -> pulumi.Output[list[str]] | None:
    """The hashes a scoped resource is restricted to: every live generation of each key id,
    sorted (the order of `keys` never shows as a change); None: unrestricted. Taken from the
    keys' ids, which a preview knows unless the key is created or replaced."""
    if key_ids is None:
        return None
    ids = [generation.id for key_id in key_ids for generation in keys[key_id]]
    return pulumi.Output.all(*ids).apply(lambda hashes: sorted(set(hashes)))


def register_scoped(
    plans: Sequence[ScopedPlan], keys: Mapping[str, Sequence[ApiKey]], built: BuiltGovernance
) -> None:
    """Every BYOK credential, observability destination, ... once the keys it names exist."""
    for plan in plans:
        workspace_id = built.workspace_id(plan.workspace, plan.workspace_uuid)
        hashes = allowed_hashes(plan.spec.keys, keys)
        built.scoped[plan.config_path] = plan.kind.register(plan, hashes, workspace_id)
