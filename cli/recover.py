"""`python -m cli recover`: find, and with `--yes` delete, the keys an interrupted `pulumi up`
minted but never recorded (docs/runbooks.md#an-interrupted-update).

When the CLI and its provider process are both killed while keys are being created, OpenRouter
has the keys and the stack's state has only *pending creates* naming them. Nobody holds those
keys' secrets, and the next `up` would mint twins under the same names (the provider's `check`
refuses that, naming this command). A key is a leftover only when all of these hold: a pending
create of the stack names it, no resource in the state has its hash, and it was never used.
This is the CLI's one command that writes, and it deletes only what it listed and was told to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cli import diagnostics
from providers import KeyRecord, OpenRouterClient, OpenRouterError, short_hash

API_KEY_TYPE = "pulumi-python:dynamic/openrouter:ApiKey"
CREATING = "creating"


@dataclass(frozen=True)
class Interrupted:
    """What a stack's state says about an update that stopped while creating keys."""

    pending_names: tuple[str, ...]
    """OpenRouter names of the keys whose create was in flight."""
    managed_hashes: frozenset[str]


@dataclass(frozen=True)
class Leftover:
    hash: str
    name: str
    label: str
    created_at: str


def interrupted_creates(export: object, stack: str) -> Interrupted:
    """Read `pulumi stack export`: the pending creates of keys, and every hash the state holds."""
    deployment = export.get("deployment") if isinstance(export, Mapping) else None
    if not isinstance(deployment, Mapping):
        raise diagnostics.outputs_invalid(
            f"`pulumi stack export --stack {stack}`", "deployment", "is missing"
        )
    names = []
    for operation in deployment.get("pending_operations") or []:
        if not isinstance(operation, Mapping):
            continue
        resource = operation.get("resource") or {}
        if operation.get("type") != CREATING or resource.get("type") != API_KEY_TYPE:
            continue
        name = (resource.get("inputs") or {}).get("name")
        if isinstance(name, str):
            names.append(name)
    managed = frozenset(
        str(resource["id"])
        for resource in deployment.get("resources") or []
        if isinstance(resource, Mapping)
        and resource.get("type") == API_KEY_TYPE
        and resource.get("id")
    )
    return Interrupted(tuple(names), managed)


def leftovers(interrupted: Interrupted, observed: Iterable[KeyRecord]) -> list[Leftover]:
    """The account's keys that are leftovers of the interrupted creates (see the module doc)."""
    wanted = set(interrupted.pending_names)
    found = [
        Leftover(key.hash, key.name, key.label, key.created_at)
        for key in observed
        if key.name in wanted
        and key.hash not in interrupted.managed_hashes
        and not (key.usage or key.byok_usage)  # used: someone holds it, not a leftover
    ]
    return sorted(found, key=lambda leftover: (leftover.name, leftover.created_at))


def delete_all(client: OpenRouterClient, found: Sequence[Leftover]) -> list[str]:
    """Delete each leftover; the problems, one line each (a 404 counts as deleted)."""
    problems = []
    for leftover in found:
        try:
            client.delete_key(leftover.hash)
        except OpenRouterError as error:
            problems.append(f"{leftover.name} ({short_hash(leftover.hash)}): {error}")
    return problems
