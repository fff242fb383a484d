"""`doctor`: what is this key? Management, regular, or rejected; from `GET /key` alone.

`GET /key` works with any key and changes nothing. A rejected key (401) may be wrong, disabled,
expired or deleted: the endpoint does not say which, so neither does the report; it quotes the
API's message (redacted) instead. Other failures (network, 5xx) are errors, not verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cli import diagnostics
from cli.diagnostics import Diagnostic
from providers import BudgetLayer

KeyType = Literal["management", "regular", "invalid"]
ExpectedType = Literal["management", "regular"]


@dataclass(frozen=True)
class KeyFacts:
    """What `GET /key` says about a working key (the `CurrentKey` fields doctor shows)."""

    is_management_key: bool
    limit: float | None = None
    limit_remaining: float | None = None
    limit_reset: str | None = None
    usage: float | None = None
    usage_daily: float | None = None
    usage_weekly: float | None = None
    usage_monthly: float | None = None
    expires_at: datetime | None = None
    workspace_id: str | None = None
    budgets: tuple[BudgetLayer, ...] | None = None
    """Every budget layer in the order the API checks them; None when the API did not say."""
    blocking: BudgetLayer | None = None
    """The layer that blocks requests first (the API's `effective_budget`)."""


@dataclass(frozen=True)
class DoctorReport:
    """The verdict on one key; `label` is the masked key, never the key."""

    label: str
    source: str
    api_base_url: str
    key_type: KeyType
    expected: ExpectedType | None
    facts: KeyFacts | None
    rejection: str | None
    now: datetime

    @property
    def matches(self) -> bool | None:
        return None if self.expected is None else self.key_type == self.expected

    @property
    def exit_code(self) -> int:
        if self.expected is not None:
            return diagnostics.EXIT_OK if self.matches else diagnostics.EXIT_FINDINGS
        return diagnostics.EXIT_FINDINGS if self.key_type == "invalid" else diagnostics.EXIT_OK

    @property
    def findings(self) -> tuple[Diagnostic, ...]:
        """Why the exit status is not 0, as diagnostics for stderr."""
        found: list[Diagnostic] = []
        if self.key_type == "invalid":
            found.append(key_rejected(self))
        if self.expected is not None and not self.matches:
            found.append(type_mismatch(self))
        return tuple(found)


def verdict(
    *,
    label: str,
    source: str,
    api_base_url: str,
    expected: ExpectedType | None,
    facts: KeyFacts | None,
    rejection: str | None,
    now: datetime,
) -> DoctorReport:
    """Pure: the report for a key the API described (`facts`) or rejected (`rejection`)."""
    if facts is None:
        key_type: KeyType = "invalid"
    elif facts.is_management_key:
        key_type = "management"
    else:
        key_type = "regular"
    return DoctorReport(
        label=label,
        source=source,
        api_base_url=api_base_url,
        key_type=key_type,
        expected=expected,
        facts=facts,
        rejection=rejection,
        now=now,
    )


_ARTICLE = {
    "management": "a management key",
    "regular": "a regular key",
    "invalid": "not a working key",
}


def key_rejected(report: DoctorReport) -> Diagnostic:
    return Diagnostic(
        kind="key-invalid",
        message=f"the API rejected {report.label} (from {report.source}): {report.rejection}; "
        "the key is wrong, disabled, expired or deleted.",
        hint="check that the secret holds the current key; the dashboard "
        "(https://openrouter.ai/settings/keys) shows whether it is disabled or gone.",
        context={"key": report.label, "source": report.source},
        severity="error",
    )


def type_mismatch(report: DoctorReport) -> Diagnostic:
    assert report.expected is not None
    if report.expected == "management":
        fix = (
            "put the management key in this secret (create one at "
            f"{diagnostics.CREATE_MANAGEMENT_KEY_URL}); a regular key cannot manage keys."
        )
    else:
        fix = (
            "put a regular key in this secret: the one a stack minted for this consumer (see "
            "the stack's `inventory` output); a management key cannot call models."
        )
    return Diagnostic(
        kind="key-type-mismatch",
        message=f"expected a {report.expected} key, but {report.label} (from {report.source}) "
        f"is {_ARTICLE[report.key_type]}.",
        hint=fix,
        context={
            "key": report.label,
            "source": report.source,
            "expected": report.expected,
            "actual": report.key_type,
        },
        severity="error",
    )
