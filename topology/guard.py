"""The topology guard: no change may delete a live key by mistake (docs/adr/0008-topology-guard.md).

Before anything is registered, the desired plan is compared with what this stack last deployed
(its own `keys` output, topology/deployed.py). A change is refused, in this project's own words,
with the documented way to do it on purpose, when it would:

- remove every key at once (a misspelt or emptied `keys`);
- remove a key id that consumers hold or that is protected;
- remove the generation that holds a key id's consumers, or its only protected one (a rotation
  done in one edit);
- replace a key (a new value of a setting OpenRouter cannot change in place);
- give a new key the OpenRouter name another key of this stack still carries;
- adopt a key, workspace or guardrail that this stack or another stack of the project already
  manages, or create a workspace or guardrail another stack holds by slug or name
  (topology/ownership.py, one rule for every kind).

Every rule is a pure function of the previous record and the plan, so they are tested over edit
sequences without an engine; the provider's own `check` refuses a replace too, for what the
record cannot show (a stack recorded by an earlier version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from providers import INPUTS_BY_NAME, REPLACE_FIELDS, UUID, replacing_changes, short_hash, shown
from topology.deployed import Deployment
from topology.governance_output import DeployedGovernance
from topology.keys_output import DeployedGeneration, DeployedKey
from topology.ownership import Answers, ownership_problems
from topology.plan import GenerationPlan, KeyPlan, Plan, key_path
from topology.rules import Problem, consumers_phrase

RUNBOOK = "docs/runbooks.md"
_SETTING_TO_INPUT = {INPUTS_BY_NAME[name].setting: name for name in REPLACE_FIELDS}


class TopologyGuardError(pulumi.RunError):
    """The guard refuses the change (a live key, a workspace that still holds keys, a record it
    cannot read...); raised before any resource is registered. The header names no one cause:
    it heads every refusal the guard carries."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "change" if count == 1 else "changes"
        lines = [
            f"The topology guard refuses {count} {noun} the stack config asks for; nothing was"
            " created, changed or deleted:",
            *(f"  {n}. {problem.render()}" for n, problem in enumerate(self.problems, start=1)),
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Deletion:
    """A live generation the change would delete at the end of the update."""

    key_id: str
    generation: DeployedGeneration
    deployed: DeployedKey
    """The key id's record (its consumers and protection)."""

    @property
    def is_wired(self) -> bool:
        return self.generation.hash == self.deployed.hash


# --- matching the record to the plan ----------------------------------------------------------


def _claims(key_plan: KeyPlan) -> dict[str, GenerationPlan]:
    """Resource name -> the generation that keeps it: by its own name or an alias of it."""
    claimed: dict[str, GenerationPlan] = {}
    for key in key_plan.generations:
        claimed[key.resource_name] = key
        for alias in key.aliases:
            claimed.setdefault(alias, key)
    return claimed


def deletions(previous: Mapping[str, DeployedKey], plan: Plan) -> list[Deletion]:
    """Every live generation this plan no longer registers, in record order."""
    desired = {key_plan.key_id: _claims(key_plan) for key_plan in plan.keys}
    found = []
    for key_id, deployed in previous.items():
        kept = desired.get(key_id, {})
        for generation in deployed.generations:
            if generation.resource_name(key_id) not in kept:
                found.append(Deletion(key_id, generation, deployed))
    return found


def _shown_key(deployed: DeployedGeneration) -> str:
    return f"{deployed.name!r} (hash {short_hash(deployed.hash)})"


def _held_by(deployed: DeployedKey) -> str:
    return f"{consumers_phrase(len(deployed.consumers))} ({'; '.join(deployed.consumers)})"


# --- the rules --------------------------------------------------------------------------------


def all_keys_removed(previous: Mapping[str, DeployedKey], plan: Plan) -> list[Problem]:
    if not previous or plan.keys:
        return []
    listed = ", ".join(f"keys.{key_id} {_shown_key(key)}" for key_id, key in previous.items())
    return [
        Problem(
            "openrouter-keys:keys",
            f"the stack config declares no keys, but this stack manages {len(previous)}:"
            f" {listed}; the change would delete every one of them; allowed: removing keys one"
            " at a time, as the runbook says.",
            "if `openrouter-keys:keys` is misspelt, moved or emptied by mistake, restore it; to"
            " retire every key of this stack on purpose, run `pulumi destroy` (protected keys"
            f" first need `protect: false` and a `pulumi up`; {RUNBOOK}#retire-every-key).",
        )
    ]


def removed_key_problems(deletions_: Sequence[Deletion], plan: Plan) -> list[Problem]:
    """A key id removed whole: its consumers must have moved off it, and it must be unprotected."""
    declared = {key_plan.key_id for key_plan in plan.keys}
    problems = []
    for deletion in deletions_:
        key_id, deployed = deletion.key_id, deletion.deployed
        if key_id in declared or not deletion.is_wired:
            continue
        why = _why_held(deployed)
        if why is None:
            continue
        problems.append(
            Problem(
                key_path(key_id),
                f"removing {key_path(key_id)} deletes key {_shown_key(deployed)}, which {why};"
                " allowed: removing a key that nothing holds and nothing protects.",
                f"retire it in two reviewed steps: first remove its `github` and `vercel` entries"
                f" and set `protect: false` on it, and run `pulumi up` (the key stays, held by"
                f" nothing); then remove {key_path(key_id)} and run `pulumi up` again"
                f" ({RUNBOOK}#retire-a-key).",
            )
        )
    return problems


def _why_held(deployed: DeployedKey) -> str | None:
    if deployed.consumers:
        return f"{_held_by(deployed)} still hold"
    if deployed.protect is None:
        return (
            "was deployed by an earlier version that did not record its protection (so it is"
            " taken as protected)"
        )
    if deployed.protect:
        return "is protected"
    return None


def wired_generation_problems(deletions_: Sequence[Deletion], plan: Plan) -> list[Problem]:
    """A kept key id losing the generation its consumers hold (a rotation done in one edit)."""
    by_id = {key_plan.key_id: key_plan for key_plan in plan.keys}
    problems = []
    for deletion in deletions_:
        key_plan = by_id.get(deletion.key_id)
        if key_plan is None or not deletion.is_wired:
            continue
        why = _why_held(deletion.deployed)
        if why is None:
            continue
        problems.append(_wired_removed(deletion, key_plan, why))
    return problems


def _wired_removed(deletion: Deletion, key_plan: KeyPlan, why: str) -> Problem:
    key_id, deployed = deletion.key_id, deletion.deployed
    old = deployed.rotation
    labels = [key.generation for key in key_plan.generations if key.generation is not None]
    if old is not None and not labels:
        fix = (
            "keep `rotations`, listing the generations to keep: removing it mints a new key and"
            f" deletes every generation ({RUNBOOK}#rotate-a-key)"
        )
    else:
        new = labels[-1] if labels else "<new>"
        first = old or "<the current key>"
        fix = (
            f"rotate in two reviewed steps: list both generations, oldest first (rotations:"
            f" ['{first}', '{new}']) and run `pulumi up` (the new key is created and every"
            f" consumer moves to it); once every deployment has the new key, remove '{first}'"
            f" and run `pulumi up` again ({RUNBOOK}#rotate-a-key)"
        )
    rotated = key_plan.generations[0].generation is not None
    where = f"{key_path(key_id)}.rotations" if rotated else key_path(key_id)
    generation = f"generation {old!r} of " if old else ""
    return Problem(
        where,
        f"the change deletes {generation}{key_path(key_id)}, key {_shown_key(deployed)}, which"
        f" {why}, in the same update that creates its successor; allowed: retiring a generation"
        " only after its successor holds the consumers.",
        f"{fix}.",
    )


def replace_problems(previous: Mapping[str, DeployedKey], plan: Plan) -> list[Problem]:
    """A kept generation whose replace-forcing setting changes would be replaced: refused."""
    problems = []
    for key_plan in plan.keys:
        deployed = previous.get(key_plan.key_id)
        if deployed is None or deployed.protect is None:
            continue  # new, or recorded before `fixed` existed: the provider's check judges it
        claims = _claims(key_plan)
        for generation in deployed.generations:
            key = claims.get(generation.resource_name(key_plan.key_id))
            if key is None:
                continue
            replaced = _replaced_settings(generation, key, plan)
            if replaced:
                problems.append(_replace_problem(key_plan, deployed, generation, replaced[0]))
    return problems


def _replaced_settings(
    generation: DeployedGeneration, key: GenerationPlan, plan: Plan
) -> tuple[str, ...]:
    before = {_SETTING_TO_INPUT[setting]: value for setting, value in generation.fixed.items()}
    news: dict[str, Any] = dict(before)
    planned = key.inputs()
    if key.workspace is not None:
        planned["workspace_id"] = _workspace_uuid(key.workspace, generation, before, plan)
    for name in REPLACE_FIELDS:
        if name in key.ignore_changes:
            continue  # the engine puts the old value back: no change
        value = planned[name]
        if value is None:
            news.pop(name, None)
        else:
            news[name] = value
    return replacing_changes(before, news)


NEW_WORKSPACE = "<the id of a workspace not created yet>"


def _workspace_uuid(
    workspace: str, generation: DeployedGeneration, before: Mapping[str, Any], plan: Plan
) -> object:
    """What `workspace: <id>` will resolve to: the same workspace as last time, the UUID the
    workspace adopts, or one that does not exist yet (a new key, so a replacement)."""
    if generation.workspace == workspace:
        return before.get("workspace_id")
    adopted = next((w.adopt for w in plan.workspaces if w.workspace_id == workspace), None)
    if adopted is not None and UUID.match(adopted):
        return adopted.lower()
    return NEW_WORKSPACE


def _replace_problem(
    key_plan: KeyPlan, deployed: DeployedKey, generation: DeployedGeneration, name: str
) -> Problem:
    setting = INPUTS_BY_NAME[name].setting
    where = f"{key_path(key_plan.key_id)}.{setting}"
    holders = (
        f"{_held_by(deployed)} still hold it"
        if generation.hash == deployed.hash and deployed.consumers
        else "deployments may still hold it"
    )
    if name == "adopt":
        fix = (
            "declare the key to adopt under a new key id, and retire"
            f" {key_path(key_plan.key_id)} as the runbook says ({RUNBOOK}#retire-a-key)"
        )
    else:
        current = generation.rotation or "<a label for the current key>"
        fix = (
            f"keep the new {setting} and, in the same edit, add a generation to carry it:"
            f" rotations: ['{current}', '<a label for the new key>'] (the first label keeps the"
            f" current key as it is; the new value goes to the new key only); once every"
            f" deployment has the new key, remove '{current}' ({RUNBOOK}#rotate-a-key)"
        )
    return Problem(
        where,
        f"OpenRouter cannot change {setting} in place, so the change would replace key"
        f" {_shown_key(generation)}: a new key, and this one deleted at the end of the update"
        f" while {holders}; allowed: a new value of {setting} on a new generation only.",
        f"{fix}.",
    )


def name_problems(previous: Mapping[str, DeployedKey], plan: Plan) -> list[Problem]:
    """A new key may not take an OpenRouter name that a live key of this stack still carries."""
    carried = {
        generation.name: (key_id, generation)
        for key_id, deployed in previous.items()
        for generation in deployed.generations
    }
    problems = []
    for key_plan in plan.keys:
        known = previous.get(key_plan.key_id)
        kept = {g.resource_name(key_plan.key_id) for g in (known.generations if known else ())}
        for key in key_plan.generations:
            if key.resource_name in kept or set(key.aliases) & kept:
                continue
            holder = carried.get(key.name)
            if holder is None:
                continue
            other_id, other = holder
            problems.append(
                Problem(
                    f"{key_path(key_plan.key_id)}.name",
                    f"the new key's OpenRouter name {shown(key.name)} is still carried by"
                    f" {key_path(other_id)}, key {_shown_key(other)}, in the same update; an"
                    " interrupted create is cleaned up by name, so one could delete the other;"
                    " allowed: a name no live key of this stack carries.",
                    "rename or retire the other key in one `pulumi up`, then create this one in"
                    " the next.",
                )
            )
    return problems


def guard_problems(
    previous: Mapping[str, DeployedKey],
    plan: Plan,
    others: Iterable[Deployment] = (),
    *,
    governance: DeployedGovernance | None = None,
    answers: Answers | None = None,
) -> list[Problem]:
    """Every refusal of the change from `previous` (and `governance`, this stack's record) to
    `plan`, in config order; adoptions and creates against `others` (topology/ownership.py)."""
    removed = deletions(previous, plan)
    problems = all_keys_removed(previous, plan)
    if problems:
        return problems
    problems += removed_key_problems(removed, plan)
    problems += wired_generation_problems(removed, plan)
    problems += replace_problems(previous, plan)
    problems += name_problems(previous, plan)
    own = Deployment(plan.stack, previous, governance or DeployedGovernance())
    problems += ownership_problems(own, plan, others, answers)
    return problems
