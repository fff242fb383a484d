"""Usage-aware retirement: no key generation is deleted while OpenRouter says it is still used
(docs/adr/0011-usage-aware-retirement.md).

The topology guard (topology/guard.py) judges from the stack's own record; it cannot see a
Vercel deployment built before a rotation, a workflow in flight or a `.env` that still calls
with the old key. OpenRouter can: it records when each key was last used. Before an update that
deletes a generation, the program asks (`GET /keys/{hash}`, one per deleted generation) and
refuses the deletion when the key was used after its successor took over its consumers, or
within the stack's quiet period (`openrouter-keys:retireQuietPeriod`). When OpenRouter cannot
say, the deletion is refused too (fail closed). The way to delete a key in use on purpose is a
reviewed line in the stack file (`openrouter-keys:retireInUse`), never a command-line flag.

Everything here is pure: the requests are made in topology/openrouter.py, the time is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from providers import CONFIG_NAMESPACE, parse_instant, short_hash, shown
from topology.guard import RUNBOOK, Deletion
from topology.keys_output import DeployedGeneration
from topology.plan import Plan, key_path
from topology.problem import Problem

QUIET_PERIOD_SETTING: Final = "retireQuietPeriod"
RETIRE_IN_USE_SETTING: Final = "retireInUse"
DEFAULT_QUIET_PERIOD: Final = timedelta(days=1)
"""A key used within the last day is not retired: a nightly workflow or a daily job that still
holds it shows up within a day (ADR 0011)."""
_DURATION: Final = re.compile(r"^\s*(\d{1,5})\s*([mhd])\s*$")
_UNITS: Final = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
QUIET_PERIOD_EXAMPLE: Final = "1d, 36h, 90m, or 0 for none"
HOLDERS: Final = "a Vercel deployment built before the rotation, a workflow in flight or a .env"


@dataclass(frozen=True)
class RetirementPolicy:
    """The stack's two retirement settings, validated."""

    quiet_period: timedelta = DEFAULT_QUIET_PERIOD
    in_use: frozenset[str] = frozenset()
    """`openrouter-keys:retireInUse`: `<key id>@<label>` or `<key id>`, deleted even if used."""

    @property
    def quiet_text(self) -> str:
        return duration_text(self.quiet_period)


@dataclass(frozen=True)
class Seen:
    """What OpenRouter said of one key: when it was last used and made, that it is gone (404),
    or why it could not say (`error`)."""

    last_used_at: datetime | None = None
    created_at: datetime | None = None
    usage: float = 0.0
    gone: bool = False
    error: str | None = None


# --- the two settings --------------------------------------------------------------------------


def duration_text(period: timedelta) -> str:
    """1d, 36h, 90m: the shortest exact way the setting writes it."""
    minutes = int(period.total_seconds() // 60)
    if minutes == 0:
        return "0"
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def parse_quiet_period(text: str | None) -> tuple[timedelta, list[Problem]]:
    """`openrouter-keys:retireQuietPeriod`: a whole number of minutes, hours or days."""
    if text is None or not text.strip():
        return DEFAULT_QUIET_PERIOD, []
    value = text.strip()
    if value == "0":
        return timedelta(0), []
    found = _DURATION.match(value)
    if found is None:
        return DEFAULT_QUIET_PERIOD, [
            Problem(
                QUIET_PERIOD_SETTING,
                f"{shown(value)} is not allowed; allowed: a whole number of minutes, hours or"
                f" days ({QUIET_PERIOD_EXAMPLE}).",
                f"run `pulumi config set {QUIET_PERIOD_SETTING} 1d` (or remove it for the"
                " default, 1d).",
            )
        ]
    return int(found.group(1)) * _UNITS[found.group(2)], []


def parse_retire_in_use(value: object) -> tuple[frozenset[str], list[Problem]]:
    """`openrouter-keys:retireInUse` as the stack file holds it (parsed from Pulumi's JSON text):
    a list of `<key id>@<label>` or `<key id>`."""
    if value is None or value == []:
        return frozenset(), []
    items = value if isinstance(value, list) else [value]
    bad = [item for item in items if not isinstance(item, str) or not item.strip()]
    if not isinstance(value, list) or bad:
        return frozenset(), [
            Problem(
                RETIRE_IN_USE_SETTING,
                f"{shown(value)} is not allowed; allowed: a list of generations to delete even"
                " if OpenRouter says they are in use, each `<key id>@<label>` (a generation in"
                " `rotations`) or `<key id>` (a key without rotations, or every generation of a"
                " removed key id).",
                f"write it as a list, e.g. `{CONFIG_NAMESPACE}:{RETIRE_IN_USE_SETTING}:"
                " [api@2026-11-01]`.",
            )
        ]
    return frozenset(str(item).strip() for item in items), []


# --- what to ask -------------------------------------------------------------------------------


def successor(deletion: Deletion) -> DeployedGeneration | None:
    """The generation that took over this one's consumers: the next live one of its key id."""
    generations = deletion.deployed.generations
    place = next(i for i, g in enumerate(generations) if g.hash == deletion.generation.hash)
    return generations[place + 1] if place + 1 < len(generations) else None


def overridden(deletion: Deletion, plan: Plan, in_use: Iterable[str]) -> str | None:
    """The `retireInUse` entry that allows deleting this generation, if any."""
    names = {deletion.generation.resource_name(deletion.key_id)}
    if deletion.key_id not in {key.key_id for key in plan.keys}:
        names.add(deletion.key_id)  # the whole key id goes: its id names every generation
    return next((entry for entry in sorted(in_use) if entry in names), None)


def to_ask(deletions: Sequence[Deletion], plan: Plan, policy: RetirementPolicy) -> list[str]:
    """The hashes to look up: each deleted generation not overridden, and its successor when the
    record does not say when that one was made (a record written before `created`)."""
    wanted: list[str] = []
    for deletion in deletions:
        if overridden(deletion, plan, policy.in_use) is not None:
            continue
        wanted.append(deletion.generation.hash)
        after = successor(deletion)
        if after is not None and after.created is None:
            wanted.append(after.hash)
    return list(dict.fromkeys(wanted))


# --- the rule ----------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(delta: timedelta) -> str:
    """How long ago, as people say it: minutes, hours, then days."""
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "less than a minute ago"


def _takeover(deletion: Deletion, seen: Mapping[str, Seen]) -> tuple[datetime | None, str]:
    """When the successor took over (when OpenRouter made it), and how a message names it."""
    after = successor(deletion)
    if after is None:
        return None, ""
    label = f"successor {after.rotation!r}" if after.rotation else "successor"
    if after.created:
        return parse_instant(after.created), label
    return seen.get(after.hash, Seen()).created_at, label


def _unknown(deletion: Deletion, seen: Mapping[str, Seen]) -> str | None:
    """Why OpenRouter's answer cannot tell whether the generation is still used, if it cannot."""
    found = seen.get(deletion.generation.hash)
    if found is None or found.error is not None:
        detail = found.error if found is not None and found.error else "it was not asked"
        return f"OpenRouter could not say when it was last used ({detail})"
    if found.gone:
        return None
    made, label = _takeover(deletion, seen)
    if label and made is None:
        return (
            f"OpenRouter could not say when its {label} was made, so a use after the takeover"
            " cannot be told"
        )
    if found.last_used_at is None and found.usage > 0:
        return (
            "OpenRouter reports usage on it but no time of last use, so whether something"
            " still calls with it cannot be told"
        )
    return None


def _why_in_use(
    deletion: Deletion, seen: Mapping[str, Seen], policy: RetirementPolicy, now: datetime
) -> str | None:
    """Why OpenRouter's answer forbids deleting this generation now, or None when it allows
    (unused since its successor took over and for the quiet period, never used, or gone)."""
    unknown = _unknown(deletion, seen)
    if unknown is not None:
        return unknown
    found = seen[deletion.generation.hash]
    used = found.last_used_at
    if found.gone or used is None:
        return None
    made, label = _takeover(deletion, seen)
    when = f"last used at {iso(used)} ({ago(now - used)})"
    if made is not None and used >= made:
        return (
            f"OpenRouter says it was {when}, after its {label} took over its consumers"
            f" ({iso(made)}): something still holds it ({HOLDERS})"
        )
    if now - used < policy.quiet_period:
        return (
            f"OpenRouter says it was {when}, within the quiet period"
            f" ({CONFIG_NAMESPACE}:{QUIET_PERIOD_SETTING}: {policy.quiet_text}): something may"
            f" still hold it ({HOLDERS})"
        )
    return None


def retirement_problems(
    deletions: Sequence[Deletion],
    plan: Plan,
    seen: Mapping[str, Seen],
    policy: RetirementPolicy,
    now: datetime,
) -> list[Problem]:
    """A problem for every deleted generation OpenRouter says is, or may be, still in use."""
    declared = {key.key_id for key in plan.keys}
    problems = []
    for deletion in deletions:
        if overridden(deletion, plan, policy.in_use) is not None:
            continue
        why = _why_in_use(deletion, seen, policy, now)
        if why is not None:
            unanswered = _unknown(deletion, seen) is not None
            problems.append(
                _problem(deletion, deletion.key_id in declared, why, policy, unanswered)
            )
    return problems


def _problem(
    deletion: Deletion, kept: bool, why: str, policy: RetirementPolicy, unanswered: bool
) -> Problem:
    key_id, generation = deletion.key_id, deletion.generation
    path = key_path(key_id)
    where = f"{path}.rotations" if kept and generation.rotation else path
    what = f"generation {generation.rotation!r} of {path}" if generation.rotation else path
    entry = generation.resource_name(key_id) if kept else key_id
    anchor = "rotate-a-key" if kept else "retire-a-key"
    first = (
        "fix what stopped OpenRouter from answering (the management key, the API, the network)"
        " and run `pulumi up` again"
        if unanswered
        else "redeploy or update whatever still calls with it, wait until it has been unused for"
        " the quiet period, and run `pulumi up` again (`python -m cli audit` shows its last use)"
    )
    return Problem(
        where,
        f"the change deletes {what}, key {generation.name!r} (hash {short_hash(generation.hash)}):"
        f" {why}; allowed: deleting a key OpenRouter says is unused since its successor"
        f" took over and for the quiet period ({policy.quiet_text}).",
        f"{first}; to delete it even so, add `{entry}` to"
        f" `{CONFIG_NAMESPACE}:{RETIRE_IN_USE_SETTING}` in the stack file, a reviewed change"
        f" ({RUNBOOK}#{anchor}).",
    )


def stale_overrides(deletions: Sequence[Deletion], plan: Plan, in_use: Iterable[str]) -> list[str]:
    """A warning for each `retireInUse` entry that allows no deletion of this update: left in,
    it would let a later key of that name be deleted while in use."""
    used = {overridden(d, plan, [entry]) for d in deletions for entry in in_use}
    return [
        f"{CONFIG_NAMESPACE}:{RETIRE_IN_USE_SETTING} lists {entry!r}, which this update does not"
        " delete; remove the line once its deletion is done: left in, it would let a later key"
        " of that name be deleted while in use."
        for entry in sorted(in_use)
        if entry not in used
    ]

