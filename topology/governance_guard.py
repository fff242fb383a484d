"""The guard for workspaces and guardrails (the key guard is topology/guard.py).

Two things a reviewer must learn from the preview, not from a failed `up`:

- a workspace removed from the stack file can be deleted only once no key lives in it, and
  OpenRouter counts every key, disabled, expired and unmanaged ones included: the program
  asks which keys live there and refuses, before any write, when one would outlive this update;
- a guardrail removed, or a key's `guardrail` removed, lifts restrictions from live keys: the
  preview names each key that loses them (a warning: lifting a restriction is allowed).

Pure functions of the previous record, the plan and what OpenRouter answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from providers import short_hash, shown
from topology.governance_output import DeployedGovernance, DeployedWorkspace
from topology.keys_output import DeployedKey
from topology.plan import Plan
from topology.problem import Problem

RUNBOOK = "docs/runbooks.md#delete-a-workspace"


@dataclass(frozen=True)
class LiveKey:
    """A key OpenRouter lists in a workspace (never its secret)."""

    hash: str
    name: str


def removed_workspaces(previous: DeployedGovernance, plan: Plan) -> dict[str, DeployedWorkspace]:
    """The workspaces the last update made that the plan no longer declares."""
    kept = {w.workspace_id for w in plan.workspaces}
    return {wid: w for wid, w in previous.workspaces.items() if wid not in kept}


def workspace_removal_problems(
    removed: Mapping[str, DeployedWorkspace],
    living: Mapping[str, Sequence[LiveKey]],
    deleted: Iterable[str],
) -> list[Problem]:
    """A removed workspace that would still hold a key after this update: refused."""
    going = set(deleted)
    problems = []
    for workspace_id, workspace in removed.items():
        staying = [key for key in living.get(workspace.id, ()) if key.hash not in going]
        if not staying:
            continue
        shown_keys = ", ".join(f"{shown(k.name)} ({short_hash(k.hash)})" for k in staying[:5])
        more = f" and {len(staying) - 5} more" if len(staying) > 5 else ""
        problems.append(
            Problem(
                f"workspaces.{workspace_id}",
                f"the change deletes workspace {shown(workspace.slug)}, which would still hold"
                f" {len(staying)} {'key' if len(staying) == 1 else 'keys'} this update does"
                f" not delete: {shown_keys}{more};"
                " allowed: deleting a workspace once no key lives in it (OpenRouter refuses"
                " otherwise, counting disabled and expired keys too).",
                "delete those keys or move them to another workspace first (`python -m cli"
                f" audit` lists them), or keep the workspace in the stack file ({RUNBOOK}).",
            )
        )
    return problems


def restriction_losses(
    previous_keys: Mapping[str, DeployedKey], previous: DeployedGovernance, plan: Plan
) -> list[str]:
    """One warning per guardrail that live keys stop holding with none in its place, naming
    those keys (a key moved to another guardrail is governed still, and says so in the diff)."""
    planned = {
        generation.resource_name: generation.guardrail
        for key_plan in plan.keys
        for generation in key_plan.generations
    }
    kept = {g.guardrail_id for g in plan.guardrails}
    losing: dict[str, list[str]] = {}
    for key_id, deployed in previous_keys.items():
        for generation in deployed.generations:
            name = generation.resource_name(key_id)
            held = generation.guardrail
            if held is None or name not in planned or planned[name] is not None:
                continue  # none held, deleted with its key, or governed by a guardrail still
            losing.setdefault(held, []).append(name)
    warnings = []
    for guardrail, keys in sorted(losing.items()):
        why = "is removed" if guardrail not in kept else "is no longer theirs"
        recorded = previous.guardrails.get(guardrail)
        called = f" ({shown(recorded.name)})" if recorded else ""
        one = len(keys) == 1
        lose, are, their = ("loses", "is", "its") if one else ("lose", "are", "their")
        warnings.append(
            f"guardrails.{guardrail}{called} {why}: {', '.join(f'keys.{k}' for k in keys)}"
            f" {lose} its restrictions (its spend cap, model and provider lists, data rules and"
            f" filters) and {are} then governed by {their} workspace's default guardrail, if one"
            f" is set, else by {their} own limit only."
        )
    return warnings
