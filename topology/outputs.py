"""The stack outputs: their names and shapes, shared by `__main__.py`, `cli audit` and the tests.

- `keys`: key id -> `{hash, label, name, generation, consumers}` for the wired generation, where
  `generation` is its 1-based place among the live generations (1 for a key without rotations),
  plus `rotation` (the wired generation's label, or null) and `retiring` (the older generations
  still alive: `{hash, label, name, rotation}` each). `cli audit` reads the first five.
- `inventory`: a Markdown table of where each key lives: key, masked value, type, consumers.

Neither holds a key: `label` is OpenRouter's masked form, and the management key appears masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from providers import INPUTS_BY_NAME, REPLACE_FIELDS
from topology.build import Built, BuiltKey
from topology.keys_output import KEYS_OUTPUT, DeployedGeneration, DeployedKey, keys_output
from topology.load import CONFIG_SOURCE
from topology.plan import MANAGEMENT_SOURCE

INVENTORY_OUTPUT = "inventory"
INVENTORY_HEADER = ("key", "masked value", "type", "consumers")
REGULAR = "regular"
MANAGEMENT = "management"
RETIRING = "none (older generation, unwired; retire it by removing it from `rotations`)"


@dataclass(frozen=True)
class InventoryRow:
    """One line of "where each key lives"."""

    key: str
    masked: str
    type: str
    consumers: tuple[str, ...]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_inventory(rows: Sequence[InventoryRow]) -> str:
    """The Markdown table; consumers of one key share a cell, one per line."""
    lines = [
        "| " + " | ".join(INVENTORY_HEADER) + " |",
        "|" + "---|" * len(INVENTORY_HEADER),
    ]
    for row in rows:
        consumers = "<br>".join(_cell(c) for c in row.consumers) or "none"
        lines.append(
            f"| {_cell(row.key)} | {_cell(row.masked)} | {row.type} | {consumers} |"
        )
    return "\n".join(lines) + "\n"


def _generation_key(built: BuiltKey) -> str:
    if built.plan.generation is None:
        return built.plan.key_id
    return f"{built.plan.key_id} @ {built.plan.generation}"


def _generation(built: BuiltKey, seen: Mapping[str, Any]) -> DeployedGeneration:
    declared = set(seen.get("declared") or ())
    fixed = {
        INPUTS_BY_NAME[name].setting: seen[name]
        for name in sorted(REPLACE_FIELDS & declared)
        if seen.get(name) is not None
    }
    return DeployedGeneration(
        hash=seen["hash"],
        label=seen["label"],
        name=seen["name"],
        rotation=built.plan.generation,
        fixed=fixed,
        disabled=bool(seen.get("disabled")),
    )


def key_entry(
    generations: Sequence[BuiltKey],
    consumers: Sequence[str],
    observed: Mapping[str, Mapping[str, Any]],
) -> DeployedKey:
    """One `keys` entry from what each generation's resource reported."""
    wired = next(g for g in generations if g.plan.wired)
    return DeployedKey(
        **_generation(wired, observed[wired.plan.resource_name]).model_dump(),
        generation=wired.plan.position,
        consumers=tuple(consumers),
        protect=wired.plan.protect,
        retiring=tuple(
            _generation(g, observed[g.plan.resource_name]) for g in generations if not g.plan.wired
        ),
    )


_OBSERVED = ("hash", "label", "name", "declared", "disabled", *sorted(REPLACE_FIELDS))
"""The `ApiKey` outputs the `keys` entry is made of."""


def _observed(built: BuiltKey) -> pulumi.Output[dict[str, Any]]:
    resource = built.resource
    return pulumi.Output.all(**{name: getattr(resource, name) for name in _OBSERVED})


def stack_outputs(built: Built) -> dict[str, pulumi.Output[Any]]:
    """Output name -> value, for `pulumi.export` in `__main__.py`."""
    consumers = {plan.component: plan.consumers for plan in built.topology.plan.topologies}
    observed = {
        g.plan.resource_name: _observed(g) for gens in built.keys.values() for g in gens
    }
    everything = pulumi.Output.all(**observed) if observed else pulumi.Output.from_input({})
    # The record of what was deployed resolves only once every sink is written too, so a failed
    # update never records a change it did not finish (topology/guard.py reads it back).
    sinks_done = pulumi.Output.all(*(sink.urn for sink in built.sinks))
    recorded = pulumi.Output.all(everything, sinks_done).apply(lambda done: done[0])

    def keys_value(seen: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return keys_output(
            {
                key_id: key_entry(gens, consumers[key_id], seen)
                for key_id, gens in built.keys.items()
            }
        )

    def inventory_value(seen: Mapping[str, Mapping[str, Any]]) -> str:
        rows = [
            InventoryRow(
                key=_generation_key(g),
                masked=str(seen[g.plan.resource_name]["label"]),
                type=REGULAR,
                consumers=consumers[key_id] if g.plan.wired else (RETIRING,),
            )
            for key_id, gens in built.keys.items()
            for g in gens
        ]
        rows.extend(management_rows(built))
        return render_inventory(rows)

    return {
        KEYS_OUTPUT: recorded.apply(keys_value),
        INVENTORY_OUTPUT: everything.apply(inventory_value),
    }


def management_rows(built: Built) -> list[InventoryRow]:
    topology = built.topology
    if topology.management_key is None:
        return []
    source = (
        f"stack config ({MANAGEMENT_SOURCE})"
        if topology.management_key_source == CONFIG_SOURCE
        else f"environment ({topology.management_key_source})"
    )
    targets = topology.plan.management.consumers if topology.plan.management else ()
    return [
        InventoryRow(
            key=MANAGEMENT_SOURCE,
            masked=topology.management_key.masked,
            type=MANAGEMENT,
            consumers=(source, *targets),
        )
    ]
