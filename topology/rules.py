"""Pure cross-field rules over the parsed config, and the error every rule reports into.

A rule takes parsed models and `Facts` (what the program knows beyond the YAML, secrets reduced to
fingerprints) and returns `Problem`s; none of them raises, so `config.py` can report every problem
of a config at once. Each message names the config path, the bad value, what is allowed, and the
fix, in the form `keys.production.vercel[1].targets[0]: <what is wrong>; allowed: ... Fix: ...`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from providers import KEY_TYPES, MANAGEMENT_KEYS_PAGE, shown
from topology.consumers import ConsumerCheck
from topology.governance_rules import spec_id_problems
from topology.model import GENERATION, KeySpec, ManagementKeyTargets
from topology.plan import MANAGEMENT_SOURCE, display_names
from topology.problem import Problem, first_seen

__all__ = ["KEY_TYPES", "Facts", "Problem", "TopologyConfigError", "all_problems"]


class TopologyConfigError(pulumi.RunError):
    """The stack config is invalid; raised before any resource is registered.

    A `pulumi.RunError`, so the CLI prints the problems without a Python traceback.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [
            f"The stack config has {count} {noun}; nothing was created, changed or deleted:",
            *(f"  {n}. {problem.render()}" for n, problem in enumerate(self.problems, start=1)),
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Facts:
    """What the rules know beyond the YAML. Secrets appear only as fingerprints, never values."""

    stack: str = "dev"
    github_owner: str | None = None
    management_key_source: str | None = "config"
    """`config`, an environment variable name, or None when there is no management key."""
    management_key_fingerprint: str | None = None
    management_key_in_plain_text: bool = False
    adopted_secret_fingerprints: Mapping[str, str] = field(default_factory=dict)
    vercel_team_set: bool | None = None
    """Whether `vercel:team` is set; None when the caller does not know (the team rule is off)."""


# --- helpers -----------------------------------------------------------------------------------


def consumers_phrase(count: int) -> str:
    return f"{count} consumer" if count == 1 else f"{count} consumers"


# --- key ids and rotations ---------------------------------------------------------------------


def key_id_problems(key_ids: Iterable[str]) -> list[Problem]:
    return spec_id_problems("keys", "key", key_ids)


def rotation_problems(path: str, rotations: Sequence[str] | None) -> list[Problem]:
    if rotations is None:
        return []
    where = f"{path}.rotations"
    if not rotations:
        return [
            Problem(
                where,
                "the list is empty; allowed: one or more generation labels, oldest first.",
                "list the live generations, e.g. rotations: ['2025-11-28'], or remove"
                " `rotations`.",
            )
        ]
    problems = []
    for index, generation in enumerate(rotations):
        if not GENERATION.match(generation):
            problems.append(
                Problem(
                    f"{where}[{index}]",
                    f"generation {shown(generation)} is not allowed; allowed: 1 to 32 letters,"
                    " digits, '.', '-' and '_', starting with a letter or digit (it becomes part"
                    " of the key's name).",
                    "label the generation with its date, e.g. '2025-11-28'.",
                )
            )
    for index, first in first_seen(rotations):
        problems.append(
            Problem(
                f"{where}[{index}]",
                f"generation {shown(rotations[index])} is listed twice (first at"
                f" rotations[{first}]); allowed: each generation once, since each is its own key.",
                "remove the repeated entry.",
            )
        )
    return problems


# --- keys: adoption, disabled keys, the management key -----------------------------------------


def _wires_adopted_generation(spec: KeySpec) -> bool:
    return spec.adopt is not None and (spec.rotations is None or len(spec.rotations) <= 1)


def adoption_problems(keys: Mapping[str, KeySpec], facts: Facts) -> list[Problem]:
    problems = []
    adopted_by: dict[str, str] = {}
    for key_id, spec in keys.items():
        if spec.adopt is not None:
            other = adopted_by.setdefault(spec.adopt, key_id)
            if other != key_id:
                problems.append(
                    Problem(
                        f"keys.{key_id}.adopt",
                        f"hash {shown(spec.adopt)} is already adopted by keys.{other}; allowed:"
                        " one key id per OpenRouter key (removing either would delete the key"
                        " under the other).",
                        "remove one of the two `adopt` entries.",
                    )
                )
        missing_secret = key_id not in facts.adopted_secret_fingerprints
        if _wires_adopted_generation(spec) and spec.consumer_count and missing_secret:
            retired = (
                " If the adopted generation was already retired, remove `adopt` instead."
                if spec.rotations
                else ""
            )
            problems.append(
                Problem(
                    f"keys.{key_id}",
                    f"key {key_id} adopts an existing key and declares"
                    f" {consumers_phrase(spec.consumer_count)}, but its secret is not in"
                    " `adoptedSecrets`: OpenRouter shows a key's secret only when it is created,"
                    " so Pulumi cannot hand it to the consumers; allowed: consumers for an"
                    " adopted key only with its secret.",
                    f"run `pulumi config set --secret --path 'adoptedSecrets.{key_id}' <the key's"
                    f" secret>`, or remove the consumers of {key_id}.{retired}",
                )
            )
    for key_id in facts.adopted_secret_fingerprints:
        spec_or_none = keys.get(key_id)
        if spec_or_none is None or spec_or_none.adopt is None:
            problems.append(
                Problem(
                    f"adoptedSecrets.{key_id}",
                    f"there is no adopted key {key_id} (no keys.{key_id} with `adopt`); allowed:"
                    " secrets of keys that declare `adopt`.",
                    f"remove it with `pulumi config rm --path 'adoptedSecrets.{key_id}'`, or add"
                    f" adopt: <hash> to keys.{key_id}.",
                )
            )
    return problems


def display_name_problems(keys: Mapping[str, KeySpec], stack: str) -> list[Problem]:
    """Two keys (or generations) with one OpenRouter name in a stack.

    An ambiguous create is cleaned up by name (ADR 0002): a fresh, unused key with the same name
    would look like the orphan and be deleted while another resource holds it.
    """
    owner: dict[str, str] = {}
    problems = []
    for key_id, spec in keys.items():
        for name in display_names(key_id, spec, stack):
            other = owner.setdefault(name, key_id)
            if other == key_id:
                continue
            problems.append(
                Problem(
                    f"keys.{key_id}.name",
                    f"OpenRouter name {shown(name)} is already the name of keys.{other} in this"
                    " stack; an interrupted create is cleaned up by name, so one key could delete"
                    " the other's; allowed: a name used by one key (or generation) only.",
                    f"give keys.{key_id} a `name` of its own.",
                )
            )
    return problems


def disabled_problems(keys: Mapping[str, KeySpec]) -> list[Problem]:
    return [
        Problem(
            f"keys.{key_id}.disabled",
            f"key {key_id} is disabled but declares {consumers_phrase(spec.consumer_count)};"
            " a disabled key is refused on every call, so they would break; allowed: consumers"
            " only for enabled keys.",
            "remove its `github` and `vercel` entries, or set disabled: false.",
        )
        for key_id, spec in keys.items()
        if spec.disabled and spec.consumer_count
    ]


def management_key_problems(facts: Facts) -> list[Problem]:
    problems = []
    if facts.management_key_source is None:
        problems.append(
            Problem(
                MANAGEMENT_SOURCE,
                "no management key: it is not in the stack config, and neither"
                " OPENROUTER_MANAGEMENT_KEY nor OPENROUTER_PROVISIONING_KEY is set; allowed: a"
                f" management key ({MANAGEMENT_KEYS_PAGE}).",
                "run `pulumi config set --secret managementKey` with a management key, or export"
                " OPENROUTER_MANAGEMENT_KEY in the environment that runs pulumi.",
            )
        )
    if facts.management_key_in_plain_text:
        problems.append(
            Problem(
                MANAGEMENT_SOURCE,
                "the management key is stored in plain text in the stack file; allowed: an"
                " encrypted (secure:) value.",
                "delete the line, rotate the key (it is exposed wherever the file went), and run"
                " `pulumi config set --secret managementKey`.",
            )
        )
    fingerprint = facts.management_key_fingerprint
    for key_id, adopted in facts.adopted_secret_fingerprints.items():
        if fingerprint is not None and adopted == fingerprint:
            problems.append(
                Problem(
                    f"adoptedSecrets.{key_id}",
                    f"the secret given for the adopted key {key_id} is the management key. "
                    f"{KEY_TYPES} The management key never goes to a key's consumers; allowed:"
                    f" the adopted regular key's own secret.",
                    f"run `pulumi config set --secret --path 'adoptedSecrets.{key_id}' <the"
                    " regular key's secret>`.",
                )
            )
    return problems


def management_target_problems(targets: ManagementKeyTargets) -> list[Problem]:
    if targets.vercel is None:
        return []
    return [
        Problem(
            "managementKeyTargets.vercel",
            f"the management key never goes to Vercel. {KEY_TYPES} A Vercel deployment calls"
            " models, so it needs a regular key; allowed: managementKeyTargets.github only.",
            "remove `vercel` here, and declare the variable under a regular key"
            " (keys.<id>.vercel).",
        )
    ]


# --- all rules ---------------------------------------------------------------------------------


def all_problems(
    keys: Mapping[str, KeySpec], targets: ManagementKeyTargets | None, facts: Facts
) -> list[Problem]:
    """Every cross-field problem of the parsed parts of the config, in config order."""
    problems = key_id_problems(keys)
    consumers = ConsumerCheck(facts.github_owner, facts.vercel_team_set)
    for key_id, spec in keys.items():
        path = f"keys.{key_id}"
        problems.extend(rotation_problems(path, spec.rotations))
        problems.extend(consumers.key_entries(path, key_id, spec))
    if targets is not None:
        problems.extend(consumers.management_entries(targets))
        problems.extend(management_target_problems(targets))
    problems.extend(consumers.across_entries())
    problems.extend(adoption_problems(keys, facts))
    problems.extend(display_name_problems(keys, facts.stack))
    problems.extend(disabled_problems(keys))
    problems.extend(management_key_problems(facts))
    return problems
