"""The audit's result: the thresholds it judged by, a row per key, the findings in report order.

`compare` (cli/audit.py) builds it; the pure passes of cli/governance.py and cli/scoped.py complete
it; cli/render.py prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cli import diagnostics
from cli.diagnostics import Diagnostic
from cli.stack_outputs import ManagedKey

if TYPE_CHECKING:
    from cli.scoped import ScopedRow


@dataclass(frozen=True)
class Thresholds:
    """When a key counts as expiring, near its limit or unused, and whether unused keys fail."""

    expiring_days: int = 14
    limit_percent: float = 80.0
    fail_on_unused: bool = False
    unused_days: int = 30


@dataclass(frozen=True)
class Spend:
    """Dollars spent in each budget window: `lifetime` (all time), `monthly`, `weekly`, `daily`."""

    lifetime: float = 0.0
    monthly: float = 0.0
    weekly: float = 0.0
    daily: float = 0.0

    def of(self, interval: str | None) -> float:
        """The window a budget resets in; None (no reset) is the lifetime."""
        return {"monthly": self.monthly, "weekly": self.weekly, "daily": self.daily}.get(
            interval or "lifetime", self.lifetime
        )


@dataclass(frozen=True)
class KeyRow:
    """One line of the "where each key lives" table."""

    hash: str
    label: str
    name: str
    status: str  # enabled | disabled | expired | missing
    owners: tuple[ManagedKey, ...]
    limit: float | None = None
    limit_used: float | None = None
    limit_reset: str | None = None
    usage_monthly: float | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    usage: float | None = None
    last_used_at: datetime | None = None
    workspace_id: str | None = None
    spend: Spend | None = None
    """What the key spent, by window; None for a missing key."""
    byok_spend: Spend | None = None
    """What its BYOK requests would have cost, by window (counted where a budget includes BYOK)."""
    guardrail_id: str | None = None
    """The guardrail it holds (its own assignment), when guardrails were read."""


@dataclass(frozen=True)
class AuditReport:
    """Everything the renderers print; built by `compare`, completed by the pure passes of
    cli/governance.py and cli/scoped.py."""

    now: datetime
    thresholds: Thresholds
    stacks: tuple[str, ...]
    rows: tuple[KeyRow, ...]
    findings: tuple[Diagnostic, ...]
    observed_count: int
    disabled_count: int
    scoped: tuple[ScopedRow, ...] = ()
    """The BYOK credentials and observability destinations read (cli/scoped.py)."""

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return diagnostics.EXIT_FINDINGS if self.failed else diagnostics.EXIT_OK


_FINDING_ORDER = (
    "managed-key-missing",
    "managed-key-disabled",
    "key-managed-twice",
    "key-expired",
    "key-expiring",
    "key-near-limit",
    "guardrail-near-limit",
    "workspace-budget-near-limit",
    "unmanaged-key",
    "scoped-to-deleted-key",
    "unmanaged-guardrail",
    "unmanaged-byok-credential",
    "unmanaged-observability-destination",
    "key-without-guardrail",
    "retiring-key-in-use",
    "key-unused",
    "governance-unreadable",
)


def sort_findings(findings: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    """The report's order: by kind (the most urgent first), then by what each is about."""
    return tuple(
        sorted(findings, key=lambda f: (_FINDING_ORDER.index(f.kind), f.context.get("name", "")))
    )
