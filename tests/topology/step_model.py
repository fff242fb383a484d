"""A small, pure model of how the Pulumi engine applies a program to a stack, and of the world.

Enough of the engine to judge consumer ordering (docs/reference/pulumi-dynamic-providers.md §4.2,
and the engine's step generator):

- identity is the URN, `<parent type>$<type>::<name>` (the parent's *name* is not in it); a new
  registration also claims an old resource through one of its aliases;
- registrations are applied in program order, a sink after the key it reads;
- a replacement is create-then-delete, the delete deferred to the end of the update, unless
  delete-before-replace (sinks only here; their slots never change under one URN anyway);
- resources the program no longer registers are deleted at the end, sinks before keys;
- a protected resource cannot be deleted, or replaced while the program still protects it
  (`new.Protect && old.Protect` in the step generator): `pulumi up` previews first, so the
  update is refused before any step (`Refused`); so is an `adopt` of a missing key, and a
  replace that keeps `adopt` (it would adopt the same key, then delete it), which the provider's
  `check` reports during that preview;
- `ignore_changes` puts the old value back before the diff;
- an update that stops early (a fault: an API error part way) keeps what it did; a replaced
  resource stays *pending delete* and is deleted first thing in the next update
  (`GeneratePendingDeletes`).

And of the program: before registering anything, the topology guard (topology/guard.py) compares
the plan with the stack's record (its `keys` output, written only when an update completes) and
refuses the whole update; the provider's `check` refuses any replace of an existing key. Both can
be switched off (`guarded=False`) to show what they prevent.

The world: OpenRouter's live keys, and what every consumer slot (a GitHub secret, a Vercel
variable) holds. Deleting a key that a slot still holds is the violation we look for.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from providers.base.values import normal_value
from providers.key_inputs import INPUTS_BY_NAME, REPLACE_FIELDS
from topology.guard import guard_problems
from topology.keys_output import DeployedGeneration, DeployedKey
from topology.plan import GenerationPlan, Plan, SinkPlan

API_KEY_TYPE = "pulumi-python:dynamic/openrouter:ApiKey"


def key_urn(name: str) -> str:
    """Keys and sinks are children of the stack (ADR 0010): type and name make the URN."""
    return f"{API_KEY_TYPE}::{name}"


@dataclass(frozen=True)
class Desired:
    """One resource the program registers."""

    urn: str
    is_key: bool
    inputs: Mapping[str, Any]
    source: str | None = None
    """A sink: the URN of the key whose value it holds."""
    slot: tuple[str | None, ...] = ()
    """A sink: the secret or variable it writes, whatever the resource is called."""
    refuses_duplicates: bool = False
    """Vercel refuses to create a variable whose slot is taken; GitHub overwrites."""
    protect: bool = False
    aliases: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()


def physical_slot(sink: SinkPlan) -> tuple[str | None, ...]:
    """What GitHub or Vercel keys the value by (names are case-insensitive on GitHub)."""
    def folded(text: str | None) -> str | None:
        return text.casefold() if text is not None else None

    return (
        sink.kind.value,
        folded(sink.owner),
        folded(sink.repository),
        folded(sink.environment),
        sink.secret_name,
        sink.project,
        sink.variable,
        sink.target,
        sink.git_branch,
    )


def _desired_key(key: GenerationPlan) -> Desired:
    return Desired(
        urn=key_urn(key.resource_name),
        is_key=True,
        inputs=key.inputs(),
        protect=key.protect,
        aliases=tuple(key_urn(alias) for alias in key.aliases),
        ignore_changes=key.ignore_changes,
    )


def desired_from_plan(plan: Plan) -> list[Desired]:
    """What `build()` registers for this plan, in its order (the names are the plan's own): the
    wired generation, its sinks, then the older generations, which depend on both."""
    desired: list[Desired] = []
    for key_plan in plan.all_key_plans():
        desired += [_desired_key(key) for key in key_plan.generations if key.wired]
        wired = key_plan.wired
        for sink in key_plan.sinks:
            desired.append(
                Desired(
                    urn=f"{sink.kind.value}::{sink.resource_name}",
                    is_key=False,
                    inputs={},
                    source=key_urn(wired.resource_name) if wired else "management-key",
                    slot=physical_slot(sink),
                    refuses_duplicates=not sink.kind.is_github,
                )
            )
        desired += [_desired_key(key) for key in key_plan.generations if not key.wired]
    return desired


@dataclass(frozen=True)
class Held:
    """A resource in the stack's state."""

    is_key: bool
    inputs: Mapping[str, Any]
    hash: str | None
    protect: bool
    slot: tuple[str | None, ...] = ()


@dataclass
class World:
    """OpenRouter's keys and what every consumer slot holds, with the violations seen so far."""

    live: set[str] = field(default_factory=set)
    slots: dict[tuple[str | None, ...], str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    minted: itertools.count = field(default_factory=lambda: itertools.count(1))

    def mint(self) -> str:
        key_hash = hashlib.sha256(f"minted-{next(self.minted)}".encode()).hexdigest()
        self.live.add(key_hash)
        return key_hash

    def delete_key(self, key_hash: str) -> None:
        holders = sorted(slot_name(slot) for slot, held in self.slots.items() if held == key_hash)
        if holders:
            self.violations.append(f"deleted {key_hash} while {', '.join(holders)} held it")
        self.live.discard(key_hash)

    def write_slot(self, slot: tuple[str | None, ...], key_hash: str) -> None:
        if key_hash not in self.live:
            self.violations.append(f"{slot} pointed at {key_hash}, which does not exist")
        self.slots[slot] = key_hash


@dataclass
class Stack:
    """The state: resources by URN, keys pending delete after an interrupted replace, and the
    stack's record (its `keys` output), rewritten only when an update completes."""

    resources: dict[str, Held] = field(default_factory=dict)
    pending_deletes: list[str] = field(default_factory=list)
    record: dict[str, DeployedKey] = field(default_factory=dict)


class Stopped(Exception):  # noqa: N818 - it is what happened to the update, not an error
    """The update stopped part way: a fault."""


class Refused(Stopped):
    """The preview failed (protection, `adopt` of a missing key or of the same key again): no
    step was taken."""


@dataclass
class Update:
    """One `pulumi up`; `steps` records (operation, URN) as the engine would report them."""

    stack: Stack
    world: World
    fail_after: int | None = None
    guarded: bool = True
    steps: list[tuple[str, str]] = field(default_factory=list)

    def _step(self, operation: str, urn: str) -> None:
        if self.fail_after is not None and len(self.steps) >= self.fail_after:
            raise Stopped(f"fault before {operation} {urn}")
        self.steps.append((operation, urn))

    def _new_key_hash(self, inputs: Mapping[str, Any]) -> str:
        adopt = inputs.get("adopt")
        if adopt is None:
            return self.world.mint()
        if adopt not in self.world.live:
            raise Refused(f"adopt: no key with hash {adopt}")
        return str(adopt)

    def _key(self, want: Desired, old_urn: str | None) -> None:
        if old_urn is None:
            self._step("create", want.urn)
            key_hash = self._new_key_hash(want.inputs)
            self.stack.resources[want.urn] = Held(True, want.inputs, key_hash, want.protect)
            return
        # The old state stays until the step is done: a stop before it keeps the resource as it
        # was (the engine records a step's result only when it completes).
        old = self.stack.resources[old_urn]
        inputs = dict(want.inputs)
        for name in want.ignore_changes:
            inputs[name] = old.inputs.get(name)
        if needs_replace(old.inputs, inputs):
            if old.protect and want.protect:
                raise Refused(f"{old_urn} is protected: cannot replace")
            if self.guarded:
                # The provider's check refuses any replace (providers/key_inputs.py).
                raise Refused(f"{old_urn}: check refuses a replace")
            self._step("replace", want.urn)
            del self.stack.resources[old_urn]
            key_hash = self._new_key_hash(inputs)
            self.stack.resources[want.urn] = Held(True, inputs, key_hash, want.protect)
            self.stack.pending_deletes.append(old.hash or "")
            return
        changed = inputs != dict(old.inputs) or old.protect != want.protect
        self._step("update" if changed else "same", want.urn)
        del self.stack.resources[old_urn]
        self.stack.resources[want.urn] = replace(old, inputs=inputs, protect=want.protect)

    def _sink(self, want: Desired, values: Mapping[str, str]) -> None:
        value = values[want.source or ""]
        old = self.stack.resources.get(want.urn)
        if old is None:
            if want.refuses_duplicates and want.slot in self.world.slots:
                raise Stopped(f"{want.urn}: ENV_ALREADY_EXISTS")
            self._step("create", want.urn)
        else:
            same = self.world.slots.get(want.slot) == value
            self._step("same" if same else "update", want.urn)
        self.world.write_slot(want.slot, value)
        self.stack.resources[want.urn] = Held(False, {}, None, False, want.slot)

    def _delete(self, urn: str) -> None:
        held = self.stack.resources[urn]
        if held.protect:
            raise Refused(f"{urn} is protected: cannot delete")
        self._step("delete", urn)
        del self.stack.resources[urn]
        if held.is_key:
            self.world.delete_key(held.hash or "")
        else:
            self.world.slots.pop(held.slot, None)

    def run(self, desired: list[Desired], management_hash: str = "management-key") -> None:
        while self.stack.pending_deletes:
            key_hash = self.stack.pending_deletes[0]
            self._step("delete", f"pending:{key_hash}")
            self.stack.pending_deletes.pop(0)
            self.world.delete_key(key_hash)
        before = set(self.stack.resources)
        claimed: set[str] = set()
        values = {"management-key": management_hash}
        for want in desired:
            if want.is_key:
                old_urn = next(
                    (
                        urn
                        for urn in (want.urn, *want.aliases)
                        if urn in before and urn not in claimed and urn in self.stack.resources
                    ),
                    None,
                )
                claimed.add(want.urn)
                if old_urn is not None:
                    claimed.add(old_urn)
                self._key(want, old_urn)
                values[want.urn] = self.stack.resources[want.urn].hash or ""
            else:
                claimed.add(want.urn)
                self._sink(want, values)
        condemned = [urn for urn in before if urn not in claimed and urn in self.stack.resources]
        for urn in sorted(condemned, key=lambda u: self.stack.resources[u].is_key):
            self._delete(urn)
        while self.stack.pending_deletes:
            key_hash = self.stack.pending_deletes.pop(0)
            self._step("delete", f"replaced:{key_hash}")
            self.world.delete_key(key_hash)


def slot_name(slot: tuple[str | None, ...]) -> str:
    return ":".join(part for part in slot if part)


def needs_replace(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """The provider's rule (providers/key_inputs.py): a replace-only input changed."""
    for name in REPLACE_FIELDS:
        spec = INPUTS_BY_NAME[name]
        before, after = old.get(name), new.get(name)
        if after is None and before is not None and not spec.removal_diffs:
            continue
        if normal_value(before, spec.kind) != normal_value(after, spec.kind):
            return True
    return False


def apply(
    stack: Stack,
    world: World,
    plan: Plan,
    fail_after: int | None = None,
    *,
    guarded: bool = True,
) -> tuple[list[tuple[str, str]], str | None]:
    """Run one `pulumi up` of `plan`; returns its steps and why it stopped (None: it completed).

    The program's guard runs first, then the preview on copies; if either refuses, nothing
    happens (no steps). A completed update rewrites the stack's record.
    """
    if guarded:
        problems = guard_problems(stack.record, plan)
        if problems:
            return [], "guard: " + " | ".join(problem.render() for problem in problems)
    desired = desired_from_plan(plan)
    rehearsal = Update(
        Stack(dict(stack.resources), list(stack.pending_deletes)),
        World(live=set(world.live), slots=dict(world.slots)),
        guarded=guarded,
    )
    try:
        rehearsal.run(desired)
    except Refused as refused:
        return [], str(refused)
    update = Update(stack, world, fail_after, guarded=guarded)
    try:
        update.run(desired)
    except Stopped as stopped:
        return update.steps, str(stopped)
    stack.record = record_of(stack, plan)
    return update.steps, None


def _recorded(held: Held, key: GenerationPlan) -> DeployedGeneration:
    fixed = {
        INPUTS_BY_NAME[name].setting: held.inputs[name]
        for name in sorted(REPLACE_FIELDS)
        if held.inputs.get(name) is not None
    }
    return DeployedGeneration(
        hash=held.hash or "", label="", name=key.name, rotation=key.generation, fixed=fixed
    )


def record_of(stack: Stack, plan: Plan) -> dict[str, DeployedKey]:
    """What topology/outputs.py writes after a completed update of `plan`."""
    record = {}
    for key_plan in plan.keys:
        wired = next(key for key in key_plan.generations if key.wired)
        retiring = tuple(
            _recorded(stack.resources[key_urn(key.resource_name)], key)
            for key in key_plan.generations
            if not key.wired
        )
        record[key_plan.key_id] = DeployedKey(
            **_recorded(stack.resources[key_urn(wired.resource_name)], wired).model_dump(),
            generation=wired.position,
            consumers=key_plan.consumers,
            protect=wired.protect,
            retiring=retiring,
        )
    return record


def converged(stack: Stack, world: World, plan: Plan) -> list[str]:
    """After a completed update: every consumer slot holds its key's wired generation."""
    problems = []
    for want in desired_from_plan(plan):
        if want.urn not in stack.resources:
            problems.append(f"{want.urn} missing from state")
        elif not want.is_key and want.source in stack.resources:
            expected = stack.resources[want.source].hash
            if world.slots.get(want.slot) != expected:
                held = world.slots.get(want.slot)
                problems.append(f"{slot_name(want.slot)} holds {held}, not {expected}")
    return problems
