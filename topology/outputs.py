"""The stack outputs: their names and shapes, shared by `__main__.py`, `cli audit` and the tests.

- `keys`: key id -> `{hash, label, name, generation, consumers}` for the wired generation, where
  `generation` is its 1-based place among the live generations (1 for a key without rotations),
  plus `rotation` (the wired generation's label, or null) and `retiring` (the older generations
  still alive: `{hash, label, name, rotation}` each). `cli audit` reads the first five.
- `inventory`: compact facts the `keys` output lacks (topology/inventory.py `inventory_output`):
  generations the provider last saw disabled, expiry dates, and the management key masked with
  its source. The table and the diagram are rendered from it by `python -m topology inventory`,
  never stored as an output (`pulumi up` prints every output on every run; ADR 0007).

Neither holds a key: `label` is OpenRouter's masked form, and the management key appears masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from topology.build import Built, BuiltKey
from topology.inventory import (
    GenerationFacts,
    InventoryRow,
    ManagementFacts,
    inventory_output,
    render_inventory,
)
from topology.load import CONFIG_SOURCE
from topology.plan import MANAGEMENT_SOURCE

KEYS_OUTPUT = "keys"
INVENTORY_OUTPUT = "inventory"
__all__ = [
    "INVENTORY_OUTPUT",
    "KEYS_OUTPUT",
    "InventoryRow",
    "key_entry",
    "management_facts",
    "render_inventory",
    "stack_outputs",
]


def key_entry(
    generations: Sequence[BuiltKey],
    consumers: Sequence[str],
    observed: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """One `keys` entry from the resolved `{hash, label, name}` of each generation."""
    wired = next(g for g in generations if g.plan.wired)
    seen = observed[wired.plan.resource_name]
    return {
        "hash": seen["hash"],
        "label": seen["label"],
        "name": seen["name"],
        "generation": wired.plan.position,
        "rotation": wired.plan.generation,
        "consumers": list(consumers),
        "retiring": [
            {**observed[g.plan.resource_name], "rotation": g.plan.generation}
            for g in generations
            if not g.plan.wired
        ],
    }


def _observed(built: BuiltKey) -> pulumi.Output[dict[str, Any]]:
    resource = built.resource
    return pulumi.Output.all(hash=resource.hash, label=resource.label, name=resource.name)


def _generation_facts(built: BuiltKey) -> pulumi.Output[GenerationFacts]:
    """The provider's last view of one generation: its `disabled` and `expires_at` outputs."""
    resource = built.resource
    return pulumi.Output.all(resource.disabled, resource.expires_at).apply(
        lambda seen: GenerationFacts(disabled=bool(seen[0]), expires_at=seen[1] or None)
    )


def stack_outputs(built: Built) -> dict[str, pulumi.Output[Any]]:
    """Output name -> value, for `pulumi.export` in `__main__.py`."""
    consumers = {plan.component: plan.consumers for plan in built.topology.plan.topologies}
    observed = {
        g.plan.resource_name: _observed(g) for gens in built.keys.values() for g in gens
    }
    everything = pulumi.Output.all(**observed) if observed else pulumi.Output.from_input({})

    def keys_value(seen: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return {
            key_id: key_entry(gens, consumers[key_id], seen)
            for key_id, gens in built.keys.items()
        }

    facts = {
        g.plan.resource_name: _generation_facts(g) for gens in built.keys.values() for g in gens
    }
    management = management_facts(built)
    all_facts = pulumi.Output.all(**facts) if facts else pulumi.Output.from_input({})
    return {
        KEYS_OUTPUT: everything.apply(keys_value),
        INVENTORY_OUTPUT: all_facts.apply(lambda seen: inventory_output(seen, management)),
    }


def management_facts(built: Built) -> ManagementFacts | None:
    """The management key masked, and where this run took it from; None without one."""
    topology = built.topology
    if topology.management_key is None:
        return None
    source = (
        f"stack config ({MANAGEMENT_SOURCE})"
        if topology.management_key_source == CONFIG_SOURCE
        else f"environment ({topology.management_key_source})"
    )
    return ManagementFacts(label=topology.management_key.masked, source=source)
