"""How every audit finding says things: where a key is managed, the command and the file that fix
it, amounts, instants and spans, and the one sentence of the three near-limit findings (a key's
limit, a guardrail's cap, a workspace budget). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cli.audit_report import KeyRow
from cli.diagnostics import Diagnostic
from cli.stack_outputs import ManagedKey


def key_context(row: KeyRow) -> dict[str, str]:
    context = {"key": row.label, "name": row.name, "hash": row.hash}
    if row.owners:
        context["stacks"] = ", ".join(sorted({o.stack for o in row.owners}))
        context["key_ids"] = ", ".join(owner_text(o) for o in row.owners)
    consumers = consumers_of(row)
    if consumers:
        context["consumers"] = ", ".join(consumers)
    return context


def consumers_of(row: KeyRow) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for o in row.owners for c in o.consumers))


def owner_text(owner: ManagedKey) -> str:
    """`prod/shop`, with the rotation when there is one: `prod/shop@2` (retiring)."""
    where = f"{owner.stack}/{owner.key_id}"
    if owner.rotation is not None:
        where = f"{where}@{owner.rotation}"
    return f"{where} (retiring)" if owner.retiring else where


def up_command(stacks: Iterable[str]) -> str:
    """The command that applies a stack file change, once per stack."""
    return "; ".join(f"`pulumi up --refresh --stack {s}`" for s in sorted(set(stacks)))


def config_files(stacks: Iterable[str]) -> str:
    """Where each stack's settings are written."""
    return " and ".join(f"stacks/Pulumi.{s}.yaml" for s in sorted(set(stacks)))


_PERIOD = {"daily": "day", "weekly": "week", "monthly": "month"}


def this_period(interval: str | None) -> str:
    """` this month` for a monthly window; nothing for one that never resets."""
    return f" this {_PERIOD[interval]}" if interval in _PERIOD else ""


def limit_percent(row: KeyRow) -> float | None:
    if row.limit is None or row.limit_used is None:
        return None
    return percent_of(row.limit_used, row.limit)


def percent_of(spent: float, limit: float) -> float:
    """How much of a cap is spent; a cap of zero (or less) is spent from the start."""
    return 100.0 if limit <= 0 else 100.0 * spent / limit


@dataclass(frozen=True)
class Use:
    """How much of a cap (a key's limit, a guardrail's cap, a workspace budget) is spent,
    against the threshold of `--limit-percent`."""

    spent: float
    limit: float
    threshold: float

    @property
    def percent(self) -> float:
        return percent_of(self.spent, self.limit)

    @property
    def near(self) -> bool:
        return self.percent >= self.threshold


@dataclass(frozen=True)
class NearLimit:
    """What differs between the three near-limit findings; `finding` words them all."""

    kind: str
    spender: str
    """Who spends: `API key (name)`, `workspace Agents (agents)`."""
    cap: str
    """Of what: `its limit this month`, `its weekly budget this week`."""
    counted: str
    """How the spend is counted, after the amounts: `, counted for this key alone`; or ``."""
    fix: str
    culprit: str
    """Whom to find out about: `what is spending it`."""
    consequence: str
    context: Mapping[str, str]

    def finding(self, use: Use) -> Diagnostic:
        return Diagnostic(
            kind=self.kind,
            message=f"{self.spender} has spent {use.percent:.0f}% of {self.cap}"
            f" ({money(use.spent)} of {money(use.limit)}{self.counted}), at or above"
            f" {use.threshold:g}%.",
            hint=f"{self.fix}, or find out {self.culprit}; {self.consequence}",
            context={**self.context, "percent": f"{use.percent:.1f}"},
        )


def span(delta: timedelta) -> str:
    """A span as people say it: whole days (rounded) from a day on, hours below."""
    seconds = max(delta.total_seconds(), 0.0)
    if seconds >= 86400:
        days = round(seconds / 86400)
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(seconds // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: float) -> str:
    return f"${amount:,.2f}"

