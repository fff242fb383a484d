"""Pure cross-field rules over the parsed config, and the error every rule reports into.

A rule takes parsed models and `Facts` (what the program knows beyond the YAML, secrets reduced to
fingerprints) and returns `Problem`s; none of them raises, so `config.py` can report every problem
of a config at once. Each message names the config path, the bad value, what is allowed, and the
fix, in the form `keys.production.vercel[1].targets[0]: <what is wrong>; allowed: ... Fix: ...`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pulumi

from providers import KEY_TYPES, MANAGEMENT_KEYS_PAGE, shown
from topology.consumers import ConsumerCheck
from topology.governance_rules import spec_id_problems
from topology.keys_output import DeployedKey
from topology.model import GENERATION, KeySpec, ManagementKeyTargets
from topology.plan import MANAGEMENT_SOURCE, KeyPlan, Plan, display_names, key_path
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


def generation_date(label: str) -> date | None:
    """The date a generation label names (`2026-12-07`, the runbook's form), or None."""
    if len(label) != len("YYYY-MM-DD"):
        return None
    try:
        return date.fromisoformat(label)
    except ValueError:
        return None


def rotation_order_problems(
    path: str, rotations: Sequence[str], deployed: Collection[str], today: date
) -> list[Problem]:
    """A new generation is labelled with a date later than every generation before it, and
    listed after every deployed one: the last one listed is the one the consumers get, so a
    date out of order mints a key nobody holds and leaves the consumers on the old one.

    Labels the stack already deployed (`deployed`, from its record) are kept as they are: an
    earlier version accepted any label, and renaming a live generation would mint a new key.
    """
    where = f"{path}.rotations"
    example = f"'{today.isoformat()}'"
    problems: list[Problem] = []
    latest: tuple[str, date] | None = None
    newest_new: str | None = None
    for index, label in enumerate(rotations):
        day = generation_date(label)
        if label in deployed:
            if newest_new is not None:
                problems.append(
                    Problem(
                        f"{where}[{index}]",
                        f"new generation {shown(newest_new)} is listed before {shown(label)},"
                        " which this stack already deployed; allowed: new generations after"
                        " every deployed one, since the last generation listed is the one the"
                        " consumers get.",
                        f"move {shown(newest_new)} to the end of `rotations`.",
                    )
                )
                newest_new = None
        elif day is None:
            problems.append(
                Problem(
                    f"{where}[{index}]",
                    f"new generation {shown(label)} is not a date; allowed: a date YYYY-MM-DD,"
                    " later than every generation listed before it (labels already deployed"
                    " stay as they are).",
                    f"label the new generation with the day of the rotation, e.g. {example}.",
                )
            )
            newest_new = label
        else:
            if latest is not None and day <= latest[1]:
                problems.append(
                    Problem(
                        f"{where}[{index}]",
                        f"new generation {shown(label)} is not later than {shown(latest[0])}"
                        " listed before it; allowed: dates strictly increasing, oldest first,"
                        " since the last generation listed is the one the consumers get.",
                        "list the generations oldest first, the new one last with a date"
                        f" after {shown(latest[0])}, e.g."
                        f" '{max(today, latest[1] + timedelta(days=1)).isoformat()}'.",
                    )
                )
            newest_new = label
        if day is not None and (latest is None or day > latest[1]):
            latest = (label, day)
    return problems


def _recorded_labels(deployed: DeployedKey | None) -> frozenset[str]:
    if deployed is None:
        return frozenset()
    return frozenset(g.rotation for g in deployed.generations if g.rotation is not None)


def disabled_record_problems(key_plan: KeyPlan, deployed: DeployedKey | None) -> list[Problem]:
    """A spec without `disabled` leaves a disabled key disabled (docs/config.md#disabled-keys):
    consumers newly given to such a key would fail on every call."""
    wired = key_plan.wired
    if wired is None or deployed is None or wired.settings.disabled is not None:
        return []
    names = {wired.resource_name, *wired.aliases}
    recorded = next(
        (g for g in deployed.generations if g.resource_name(key_plan.key_id) in names), None
    )
    if recorded is None or not recorded.disabled:
        return []
    held_before = set(deployed.consumers) if recorded.hash == deployed.hash else set()
    added = [c for c in key_plan.consumers if c not in held_before]
    if not added:
        return []
    path = key_path(key_plan.key_id)
    return [
        Problem(
            f"{path}.disabled",
            f"key {recorded.name!r} is disabled, and a spec without `disabled` leaves it so, yet"
            f" the change gives it {consumers_phrase(len(added))} ({'; '.join(added)}), which"
            " would fail on every call; allowed: consumers only for enabled keys.",
            f"set `disabled: false` on {path} to enable it in the same edit, or give the"
            " consumers another key.",
        )
    ]


def record_problems(
    previous: Mapping[str, DeployedKey], plan: Plan, today: date
) -> list[Problem]:
    """The config rules that need the stack's record (topology/deployed.py) as well: rotation
    labels, and consumers given to a key the record saw disabled."""
    problems = []
    for key_plan in plan.keys:
        deployed = previous.get(key_plan.key_id)
        labels = [g.generation for g in key_plan.generations if g.generation is not None]
        path = key_path(key_plan.key_id)
        problems += rotation_order_problems(path, labels, _recorded_labels(deployed), today)
        problems += disabled_record_problems(key_plan, deployed)
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
