"""The stack outputs: their names and shapes, shared by `__main__.py`, `cli audit` and the tests.

- `keys`: the stack's record of what it deployed (its shape is in topology/keys_output.py), read
  back by the guard before the next update and by `cli audit`.
- `governance`: the guardrails and workspaces the stack manages, by the stack file's ids with
  OpenRouter's (topology/governance_output.py); only in a stack that declares any.
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

from providers import INPUTS_BY_NAME, REPLACE_FIELDS
from topology.config import CONFIG_SOURCE
from topology.governance_output import (
    GOVERNANCE_OUTPUT,
    DeployedGovernance,
    DeployedGuardrail,
    DeployedScoped,
    DeployedWorkspace,
    governance_output,
)
from topology.inventory import (
    GenerationFacts,
    InventoryRow,
    ManagementFacts,
    inventory_output,
    render_inventory,
)
from topology.keys_output import KEYS_OUTPUT, DeployedGeneration, DeployedKey, keys_output
from topology.plan import MANAGEMENT_SOURCE, GenerationPlan
from topology.resources import Built, BuiltKey

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


def _generation(built: BuiltKey, seen: Mapping[str, Any]) -> DeployedGeneration:
    declared = set(seen.get("declared") or ())
    fixed = {
        INPUTS_BY_NAME[name].setting: seen[name]
        for name in sorted(REPLACE_FIELDS & declared)
        if seen.get(name) is not None
    }
    plan = built.plan
    return DeployedGeneration(
        hash=seen["hash"],
        label=seen["label"],
        name=seen["name"],
        rotation=plan.generation,
        fixed=fixed,
        disabled=bool(seen.get("disabled")),
        guardrail=plan.guardrail,
        workspace=plan.workspace,
        created=seen.get("created_at") or None,
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


_OBSERVED = ("hash", "label", "name", "declared", "disabled", "created_at", *sorted(REPLACE_FIELDS))
"""The `ApiKey` outputs the `keys` entry and the inventory facts are made of."""


def _observed(generations: Sequence[BuiltKey]) -> pulumi.Output[dict[str, dict[str, Any]]]:
    """Resource name -> the `_OBSERVED` outputs of its `ApiKey`, as one output.

    One `Output.all` over the resources' own outputs: each `Output.all` over outputs whose values
    are dicts walks every value again (the SDK's `from_input`), and nesting them per key cost
    most of a program run at 500 keys (bench/README.md).
    """
    leaves = [getattr(g.resource, name) for g in generations for name in _OBSERVED]
    width = len(_OBSERVED)

    def by_resource(values: Sequence[Any]) -> dict[str, dict[str, Any]]:
        return {
            g.plan.resource_name: dict(
                zip(_OBSERVED, values[i * width : (i + 1) * width], strict=True)
            )
            for i, g in enumerate(generations)
        }

    return pulumi.Output.all(*leaves).apply(by_resource)


def _facts(seen: Mapping[str, Any], plan: GenerationPlan) -> GenerationFacts:
    """The provider's last view of one generation: its `disabled` and `expires_at` outputs.

    An output the provider left empty reads back in the program as the program's own input.
    An older generation ignores the `expiresAt` now planned for the new one, so that value,
    neither declared when it was created nor set since, is not its expiry.
    """
    expires_at = seen["expires_at"] or None
    filled_in = (
        "expires_at" in plan.ignore_changes
        and "expires_at" not in (seen["declared"] or ())
        and expires_at == plan.settings.expires_at
    )
    return GenerationFacts(
        disabled=bool(seen["disabled"]), expires_at=None if filled_in else expires_at
    )


def stack_outputs(built: Built) -> dict[str, pulumi.Output[Any]]:
    """Output name -> value, for `pulumi.export` in `__main__.py`."""
    consumers = {plan.key_id: plan.consumers for plan in built.config.plan.keys}
    observed = _observed([g for gens in built.generations.values() for g in gens])

    def keys_value(seen: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return keys_output(
            {
                key_id: key_entry(gens, consumers[key_id], seen)
                for key_id, gens in built.generations.items()
            }
        )

    # The record of what was deployed resolves only once every sink is written too, so a failed
    # update never records a change it did not finish (topology/guard.py reads it back). It is a
    # secret only to keep it out of every `up` log (topology/keys_output.py); the secret joins
    # here, as an input, because `Output.secret(<an output>)` would walk the whole value again.
    # An empty record stays plain: the engine hands another stack `{}` for a secret it cannot
    # decrypt, and the guard tells the two apart by that (topology/deployed.py).
    secret = [pulumi.Output.secret(None)] if built.generations else []
    sinks_done = pulumi.Output.all(*secret, *(sink.urn for sink in built.sinks))
    keys: pulumi.Output[dict[str, Any]] = sinks_done.apply(lambda _: observed.apply(keys_value))
    management = management_facts(built)
    plans = {g.plan.resource_name: g.plan for gens in built.generations.values() for g in gens}
    inventory = observed.apply(
        lambda seen: inventory_output(
            {name: _facts(o, plans[name]) for name, o in seen.items()}, management
        )
    )
    outputs = {KEYS_OUTPUT: keys, INVENTORY_OUTPUT: inventory}
    governance = governance_value(built)
    if governance is not None:
        outputs[GOVERNANCE_OUTPUT] = governance
    return outputs


def governance_value(built: Built) -> pulumi.Output[dict[str, Any]] | None:
    """The `governance` output, once every guardrail and workspace exists; None without any
    (a stack of keys only exports nothing more than before)."""
    plan, registered = built.config.plan, built.governance
    if not plan.guardrails and not plan.workspaces and not plan.scoped:
        return None
    # The ids, not the outputs of the same values: a preview knows them (governance_resources.py).
    ids = {
        **{f"g:{g}": r.id for g, r in registered.guardrails.items()},
        **{f"w:{w}": r.id for w, r in registered.workspaces.items()},
        **{f"d:{w}": r.id for w, r in registered.defaults.items()},
        **{f"s:{path}": r.id for path, r in registered.scoped.items()},
    }

    def value(seen: Mapping[str, str]) -> dict[str, Any]:
        return governance_output(
            DeployedGovernance(
                guardrails={
                    g.guardrail_id: DeployedGuardrail(
                        id=seen[f"g:{g.guardrail_id}"],
                        name=g.name,
                        workspace=g.workspace or g.workspace_uuid,
                    )
                    for g in plan.guardrails
                },
                workspaces={
                    w.workspace_id: DeployedWorkspace(
                        id=seen[f"w:{w.workspace_id}"],
                        slug=w.settings.slug,
                        default_guardrail=seen.get(f"d:{w.workspace_id}"),
                    )
                    for w in plan.workspaces
                },
                scoped={
                    kind: {
                        s.scoped_id: DeployedScoped(
                            id=seen[f"s:{s.config_path}"],
                            name=s.name,
                            workspace=s.workspace or s.workspace_uuid,
                            keys=s.spec.keys,
                        )
                        for s in plan.scoped
                        if s.kind.setting == kind
                    }
                    for kind in dict.fromkeys(s.kind.setting for s in plan.scoped)
                },
            )
        )

    return pulumi.Output.all(**ids).apply(value)


def management_facts(built: Built) -> ManagementFacts | None:
    """The management key masked, and where this run took it from; None without one."""
    config = built.config
    if config.management_key is None:
        return None
    source = (
        f"stack config ({MANAGEMENT_SOURCE})"
        if config.management_key_source == CONFIG_SOURCE
        else f"environment ({config.management_key_source})"
    )
    return ManagementFacts(label=config.management_key.masked, source=source)
