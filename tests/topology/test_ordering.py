"""No consumer ever points at a deleted key, whatever sequence of config edits is applied.

The plans come from the real `validate()` and `make_plan()`; the engine and the world are the
pure model in `step_model.py`. The hypothesis walks apply random edit sequences (generations added
and dropped, rotations added to a plain key, limits and expiries changed, consumers added, removed
and moved, adoptions, protection) and check, after every step of every update, that no key is
deleted while a consumer slot still holds it, and after every completed update, that every slot
holds its key's wired generation. The explicit walks are the two-step rotation of the issue.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.sentinel import make_sentinel
from tests.topology.step_model import (
    Stack,
    World,
    apply,
    converged,
    key_urn,
)
from topology.config import RawConfig, validate
from topology.plan import Plan
from topology.rules import TopologyConfigError

MANAGEMENT_KEY = "sk-or-v1-" + "0" * 8  # short: not key-shaped, never leaves this process
UNMANAGED = ("1" * 64, "2" * 64)
KEY_IDS = ("a", "b", "c")
SLOTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("github", {"repository": "r1"}),
    ("github", {"repository": "r2", "environment": "production"}),
    ("vercel", {"project": "p1", "targets": ["production"]}),
    ("vercel", {"project": "p1", "targets": ["preview"]}),
    ("vercel", {"projects": ["p2", "p3"], "targets": ["production"]}),
)


def sink_urn(kind: str, name: str) -> str:
    return f"{kind}::{name}"


@dataclass
class Config:
    """An editable stack config: key id -> spec, and the adopted secrets."""

    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    adopted: dict[str, str] = field(default_factory=dict)
    protect_keys: bool = True
    generations: int = 0

    def plan(self) -> Plan | None:
        raw = RawConfig(
            keys=json.dumps(self.keys),
            adopted_secrets=json.dumps(self.adopted),
            adopted_secrets_is_secret=True,
            protect_keys=json.dumps(self.protect_keys),
            management_key=MANAGEMENT_KEY,
            management_key_is_secret=True,
            github_owner="f8ai",
        vercel_team="f8ai",
        )
        try:
            return validate(raw, "prod", {}).plan
        except TopologyConfigError:
            return None

    def next_generation(self) -> str:
        self.generations += 1
        return f"2026-01-{self.generations:02d}"


# --- edits -------------------------------------------------------------------------------------

Edit = Callable[[Config, Stack], None]


def _entry_list(spec: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return spec.setdefault(kind, [])


def _holder(config: Config, slot: int) -> str | None:
    kind, entry = SLOTS[slot]
    return next((k for k, s in config.keys.items() if entry in s.get(kind, [])), None)


def add_key(key_id: str) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        config.keys.setdefault(key_id, {"limit": 5})

    return edit


def remove_key(key_id: str) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        config.keys.pop(key_id, None)
        config.adopted.pop(key_id, None)

    return edit


def add_generation(key_id: str) -> Edit:
    """A plain key becomes its first generation; a rotated key gets a newer one."""

    def edit(config: Config, _: Stack) -> None:
        if key_id in config.keys:
            spec = config.keys[key_id]
            spec["rotations"] = [*spec.get("rotations", []), config.next_generation()]

    return edit


def drop_generation(key_id: str, index: int) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        rotations = config.keys.get(key_id, {}).get("rotations") or []
        if len(rotations) >= 2:
            rotations.pop(index % len(rotations))

    return edit


def drop_rotations(key_id: str) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        config.keys.get(key_id, {}).pop("rotations", None)

    return edit


def change_limit(key_id: str, limit: int) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        if key_id in config.keys:
            config.keys[key_id]["limit"] = limit

    return edit


def change_expiry(key_id: str, year: int) -> Edit:
    """A replace-only input: the key is replaced, create before delete."""

    def edit(config: Config, _: Stack) -> None:
        if key_id in config.keys:
            config.keys[key_id]["expiresAt"] = f"{year}-06-30T00:00:00Z"

    return edit


def add_consumer(key_id: str, slot: int) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        if key_id in config.keys and _holder(config, slot) is None:
            kind, entry = SLOTS[slot]
            _entry_list(config.keys[key_id], kind).append(copy.deepcopy(entry))

    return edit


def remove_consumer(slot: int) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        holder = _holder(config, slot)
        if holder is not None:
            kind, entry = SLOTS[slot]
            config.keys[holder][kind].remove(entry)

    return edit


def move_consumer(slot: int, key_id: str) -> Edit:
    def edit(config: Config, stack: Stack) -> None:
        remove_consumer(slot)(config, stack)
        add_consumer(key_id, slot)(config, stack)

    return edit


def adopt(key_id: str, which: int) -> Edit:
    """Adopt a key no resource of the stack holds (what `cli audit` reports as unmanaged)."""

    def edit(config: Config, stack: Stack) -> None:
        wanted = UNMANAGED[which]
        held = {held.hash for held in stack.resources.values()}
        if key_id in config.keys and wanted not in held:
            config.keys[key_id]["adopt"] = wanted
            config.adopted[key_id] = f"adopted-secret-{which}"

    return edit


def drop_adopt(key_id: str) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        config.keys.get(key_id, {}).pop("adopt", None)
        config.adopted.pop(key_id, None)

    return edit


def toggle_protect(key_id: str) -> Edit:
    def edit(config: Config, _: Stack) -> None:
        if key_id in config.keys:
            spec = config.keys[key_id]
            spec["protect"] = not spec.get("protect", config.protect_keys)

    return edit


key_ids = st.sampled_from(KEY_IDS)
slots = st.integers(0, len(SLOTS) - 1)
rotation_edits = st.one_of(
    st.builds(add_key, key_ids),
    st.builds(remove_key, key_ids),
    st.builds(add_generation, key_ids),
    st.builds(drop_generation, key_ids, st.integers(0, 3)),
    st.builds(drop_rotations, key_ids),
    st.builds(change_limit, key_ids, st.integers(0, 500)),
    st.builds(add_consumer, key_ids, slots),
    st.builds(remove_consumer, slots),
    st.builds(move_consumer, slots, key_ids),
    st.builds(toggle_protect, key_ids),
)
all_edits = st.one_of(
    rotation_edits,
    st.builds(change_expiry, key_ids, st.integers(2027, 2030)),
    st.builds(adopt, key_ids, st.integers(0, 1)),
    st.builds(drop_adopt, key_ids),
)


def fresh_world() -> World:
    return World(live={*UNMANAGED, "management-key"})


def starting_config(owners: list[int | None]) -> Config:
    """Every key id present, each consumer slot held by the key at its index (or none)."""
    config = Config(keys={key_id: {"limit": 5} for key_id in KEY_IDS})
    for slot, owner in enumerate(owners):
        if owner is not None:
            add_consumer(KEY_IDS[owner], slot)(config, Stack())
    return config


def unretired_deletions(record: dict[str, Any], live_before: set[str], world: World) -> list[str]:
    """Keys an update deleted that its record showed as wired and protected or held."""
    found = []
    for key_id, deployed in record.items():
        if deployed.hash in live_before - world.live and (
            deployed.consumers or deployed.protect is not False
        ):
            found.append(f"deleted keys.{key_id} ({deployed.hash}), wired and protected or held")
    return found


def unprotected_key_ids(
    stack: Stack, world: World, plan: Plan, unprotected_on_purpose: set[str]
) -> list[str]:
    """Key ids that stay protected (record and plan agree, and no update since the record asked
    otherwise) with no live, protected generation in state: a generation may lose protection
    only once its successor holds the consumers, whatever failed in between (issue 9, case 2)."""
    found = []
    for topology in plan.keys:
        deployed = stack.record.get(topology.key_id)
        wants = any(key.protect for key in topology.generations)
        asked = topology.key_id in unprotected_on_purpose
        if deployed is None or not deployed.protect or not wants or asked:
            continue
        guarded = [
            held
            for urn, held in stack.resources.items()
            if held.is_key and held.protect and held.hash in world.live
            and urn.rsplit("::", 1)[1].split("@")[0] == topology.key_id
        ]
        if not guarded:
            found.append(f"keys.{topology.key_id} has no live, protected generation")
    return found


def walk(
    owners: list[int | None], edits: list[Edit], faults: list[int | None] | None = None
) -> tuple[World, list[str]]:
    """Deploy the starting config, then apply each edit and one update. An edit the program
    refuses is taken back, as a user would after reading the refusal.

    Returns the world and what went wrong (empty: nothing).
    """
    config, stack, world = starting_config(owners), Stack(), fresh_world()
    found: list[str] = []
    unprotected_on_purpose: set[str] = set()
    for number, edit in enumerate([lambda c, s: None, *edits]):
        accepted = copy.deepcopy(config)
        edit(config, stack)
        plan = config.plan()
        if plan is None:  # refused before any resource: the program registers nothing
            config = accepted
            continue
        fault = faults[number - 1] if faults and 0 < number <= len(faults) else None
        record, live_before = dict(stack.record), set(world.live)
        _, stopped = apply(stack, world, plan, fail_after=fault)
        if stopped is not None and stopped.startswith("guard: "):
            event("refused by the guard")
            config = accepted
            continue
        found += world.violations
        world.violations.clear()
        found += unretired_deletions(record, live_before, world)
        unprotected_on_purpose |= {
            k.key_id for k in plan.keys if not any(g.protect for g in k.generations)
        }
        found += unprotected_key_ids(stack, world, plan, unprotected_on_purpose)
        if stopped is None:
            unprotected_on_purpose.clear()  # the record now says what was asked
            found += converged(stack, world, plan)
    return world, found


owners_strategy = st.lists(
    st.one_of(st.none(), st.integers(0, len(KEY_IDS) - 1)),
    min_size=len(SLOTS),
    max_size=len(SLOTS),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(owners_strategy, st.lists(all_edits, max_size=12))
def test_no_edit_sequence_leaves_a_consumer_on_a_deleted_key(owners, edits):
    _, found = walk(owners, edits)
    assert found == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    owners_strategy,
    st.lists(rotation_edits, max_size=10),
    st.lists(st.one_of(st.none(), st.integers(0, 8)), max_size=10),
)
def test_interrupted_updates_of_rotations_never_delete_a_held_key(owners, edits, faults):
    """Updates that stop part way (API errors) are safe as long as no edit forces a replace."""
    _, found = walk(owners, edits, faults)
    assert found == []


# --- the explicit walks of the issue -----------------------------------------------------------


def plain_production(config: Config) -> None:
    config.keys["production"] = {
        "limit": 250,
        "github": [{"repository": "agents"}],
        "vercel": [{"project": "agent-chat", "targets": ["production"]}],
    }


GITHUB_SINK = sink_urn("ActionsSecret", "f8ai/agents/OPENROUTER_API_KEY")
VERCEL_SINK = sink_urn("ProjectEnvironmentVariable", "agent-chat/OPENROUTER_API_KEY/production")
GITHUB_SLOT = (
    "ActionsSecret", "f8ai", "agents", None, "OPENROUTER_API_KEY", None, None, None, None,
)
VERCEL_SLOT = (
    "ProjectEnvironmentVariable", None, None, None, None, "agent-chat", "OPENROUTER_API_KEY",
    "production", None,
)
GITHUB_SLOT_NAME = "ActionsSecret:f8ai:agents:OPENROUTER_API_KEY"
VERCEL_SLOT_NAME = "ProjectEnvironmentVariable:agent-chat:OPENROUTER_API_KEY:production"


def planned(config: Config) -> Plan:
    plan = config.plan()
    assert plan is not None
    return plan


def test_adding_a_generation_creates_one_key_and_updates_the_consumers_then_dropping_deletes_one():
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    apply(stack, world, planned(config))
    original = stack.resources[key_urn("production")].hash

    config.keys["production"]["rotations"] = ["2025-10-28", "2025-11-28"]
    steps, stopped = apply(stack, world, planned(config))
    assert stopped is None
    assert [s for s in steps if s[0] != "same"] == [
        ("create", key_urn("production@2025-11-28")),
        ("update", GITHUB_SINK),
        ("update", VERCEL_SINK),
        # The same key, renamed ...-2025-10-28 and unprotected only once its successor holds
        # every consumer (issue 9, case 2).
        ("update", key_urn("production@2025-10-28")),
    ]
    assert stack.resources[key_urn("production@2025-10-28")].hash == original
    newest = stack.resources[key_urn("production@2025-11-28")].hash
    assert world.slots == {GITHUB_SLOT: newest, VERCEL_SLOT: newest}
    assert original in world.live

    config.keys["production"]["rotations"] = ["2025-11-28"]
    steps, stopped = apply(stack, world, planned(config))
    assert stopped is None
    assert [s for s in steps if s[0] != "same"] == [
        ("delete", key_urn("production@2025-10-28")),
    ]
    assert original not in world.live
    assert world.slots == {GITHUB_SLOT: newest, VERCEL_SLOT: newest}
    assert world.violations == []


def test_the_wired_generation_is_protected_and_older_ones_are_not():
    config = Config()
    plain_production(config)
    config.keys["production"]["rotations"] = ["2025-10-28", "2025-11-28"]
    (topology,) = planned(config).keys
    assert [(k.resource_name, k.protect, k.wired) for k in topology.generations] == [
        ("production@2025-10-28", False, False),
        ("production@2025-11-28", True, True),
    ]
    assert [k.aliases for k in topology.generations] == [("production",), ()]


@pytest.mark.parametrize("guarded", [True, False])
def test_rotating_in_one_edit_is_refused_before_any_step(guarded):
    # `[a]` -> `[b]` would delete the wired `a` that every consumer holds: the program's guard
    # refuses it in its own words; without it, the engine's protection does, generically
    # (both checked against the real engine in tests/e2e).
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.keys["production"]["rotations"] = ["2025-10-28"]
    apply(stack, world, planned(config))
    before = (dict(stack.resources), dict(world.slots), set(world.live))
    config.keys["production"]["rotations"] = ["2025-11-28"]
    steps, stopped = apply(stack, world, planned(config), guarded=guarded)
    assert stopped is not None
    if guarded:
        assert stopped.startswith(
            "guard: keys.production.rotations: the change deletes generation '2025-10-28' of"
            " keys.production"
        )
        assert "rotations: ['2025-10-28', '2025-11-28']" in stopped
    else:
        assert stopped == f"{key_urn('production@2025-10-28')} is protected: cannot delete"
    assert steps == []
    assert (dict(stack.resources), dict(world.slots), set(world.live)) == before
    assert world.violations == []


def test_a_replacement_is_refused_before_any_step_even_for_an_unprotected_key():
    # Issue 9, case 3: a new `expiresAt` belongs to a new generation.
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.protect_keys = False
    apply(stack, world, planned(config))
    config.keys["production"]["expiresAt"] = "2028-01-01T00:00:00Z"
    steps, stopped = apply(stack, world, planned(config))
    assert steps == []
    assert stopped is not None
    assert stopped.startswith("guard: keys.production.expiresAt: OpenRouter cannot change")
    # The provider's own check refuses it too, for a stack the guard cannot judge.
    steps, stopped = apply(Stack(dict(stack.resources)), world, planned(config))
    assert (steps, stopped) == ([], f"{key_urn('production')}: check refuses a replace")


def test_without_the_guard_the_engine_replaces_consumers_first_then_deletes_the_key():
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.protect_keys = False
    apply(stack, world, planned(config))
    old = stack.resources[key_urn("production")].hash

    config.keys["production"]["expiresAt"] = "2028-01-01T00:00:00Z"
    steps, stopped = apply(stack, world, planned(config), guarded=False)
    assert stopped is None
    assert steps == [
        ("replace", key_urn("production")),
        ("update", GITHUB_SINK),
        ("update", VERCEL_SINK),
        ("delete", f"replaced:{old}"),
    ]
    assert world.violations == []


def test_moving_a_consumer_to_another_key_updates_the_same_secret_in_place():
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.keys["preview"] = {"limit": 5}
    apply(stack, world, planned(config))
    move_consumer(2, "preview")(config, stack)
    config.keys["production"]["vercel"] = []
    config.keys["preview"]["vercel"] = [{"project": "agent-chat", "targets": ["production"]}]
    steps, stopped = apply(stack, world, planned(config))
    assert stopped is None
    assert [s for s in steps if s[0] != "same"] == [("update", VERCEL_SINK)]
    assert world.slots[VERCEL_SLOT] == stack.resources[key_urn("preview")].hash


def without(plan: Plan, attribute: str) -> Plan:
    """The plan with one safeguard switched off, to show what it prevents."""
    key_plans = tuple(
        dataclasses.replace(
            t, generations=tuple(dataclasses.replace(k, **{attribute: ()}) for k in t.generations)
        )
        for t in plan.keys
    )
    return dataclasses.replace(plan, keys=key_plans)


@pytest.mark.parametrize("aliased", [True, False])
def test_adding_rotations_keeps_the_existing_key_only_thanks_to_the_alias(aliased):
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.protect_keys = False
    apply(stack, world, planned(config))
    original = stack.resources[key_urn("production")].hash
    config.keys["production"]["rotations"] = ["2025-10-28", "2025-11-28"]
    plan = planned(config)
    apply(stack, world, plan if aliased else without(plan, "aliases"), guarded=False)
    assert (original in world.live) is aliased
    assert world.violations == []


def test_without_the_alias_the_guard_refuses_what_would_delete_the_key():
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.protect_keys = False
    apply(stack, world, planned(config))
    config.keys["production"]["rotations"] = ["2025-10-28", "2025-11-28"]
    steps, stopped = apply(stack, world, without(planned(config), "aliases"))
    assert steps == []
    assert stopped is not None
    assert "the change deletes keys.production" in stopped


@pytest.mark.parametrize("ignored", [True, False])
def test_a_stale_adopt_left_after_retiring_the_adopted_generation(ignored):
    """Without ignore_changes the newest generation would adopt the retired key, then lose it."""
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.protect_keys = False
    config.keys["production"]["adopt"] = UNMANAGED[0]
    config.adopted["production"] = make_sentinel()
    apply(stack, world, planned(config))
    config.keys["production"]["rotations"] = ["adopted", "2026-01-05"]
    apply(stack, world, planned(config))
    config.keys["production"]["rotations"] = ["2026-01-05"]  # `adopt` forgotten in the file
    plan = planned(config)
    _, stopped = apply(
        stack, world, plan if ignored else without(plan, "ignore_changes"), guarded=False
    )
    assert stopped is None
    assert UNMANAGED[0] not in world.live
    if ignored:
        assert world.violations == []
    else:
        assert world.violations == [
            f"deleted {UNMANAGED[0]} while {GITHUB_SLOT_NAME}, {VERCEL_SLOT_NAME} held it"
        ]


def test_an_interrupted_replace_leaves_a_window_the_next_update_opens_first():
    """A limit of the engine (ADR 0003): pending deletes run before anything else. The guard
    closes it by never replacing a key; without the guard, it opens."""
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    config.protect_keys = False
    apply(stack, world, planned(config))
    old = stack.resources[key_urn("production")].hash
    config.keys["production"]["expiresAt"] = "2028-01-01T00:00:00Z"
    steps, stopped = apply(stack, world, planned(config), fail_after=2)
    assert (steps, stack.pending_deletes) == ([], [])  # refused: nothing to interrupt
    assert stopped is not None
    _, stopped = apply(stack, world, planned(config), fail_after=2, guarded=False)
    assert stopped is not None
    assert stack.pending_deletes == [old]
    apply(stack, world, planned(config), guarded=False)
    assert world.violations == [f"deleted {old} while {VERCEL_SLOT_NAME} held it"]


def test_an_interrupted_rotation_deletes_nothing_and_the_next_update_finishes_it():
    config, stack, world = Config(), Stack(), fresh_world()
    plain_production(config)
    apply(stack, world, planned(config))
    config.keys["production"]["rotations"] = ["2025-10-28", "2025-11-28"]
    steps, stopped = apply(stack, world, planned(config), fail_after=3)
    assert stopped is not None
    assert not [s for s in steps if s[0] == "delete"]
    steps, stopped = apply(stack, world, planned(config))
    assert stopped is None
    assert world.violations == []
    assert converged(stack, world, planned(config)) == []
