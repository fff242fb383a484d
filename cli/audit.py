"""`audit`: join every key of the account with what the stacks manage, and judge the result.

Keymaster's split: `gather` (the I/O: stack outputs, the full key list; cli/api.py) is separate
from `compare`, a pure function of what the stacks manage, what the account holds, the time and
the thresholds. This module holds the rules (which finding applies to which key); the result is
cli/audit_report.py, each finding's words cli/key_findings.py. The audit never judges from a
partial picture: a failed page, an unreadable stack output or a stack that cannot be read stops
it with an error (exit 2) and no report.
Nothing here writes: the only requests are `GET /key`, `GET /keys` and `GET /keys/{hash}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cli.audit_report import AuditReport, KeyRow, Spend, Thresholds, sort_findings
from cli.diagnostics import Diagnostic
from cli.key_findings import (
    key_expired,
    key_expiring,
    key_managed_twice,
    key_near_limit,
    key_unused,
    managed_key_disabled,
    managed_key_missing,
    retiring_key_in_use,
    unmanaged_key,
)
from cli.stack_outputs import ManagedKey
from cli.wording import Use, iso, span
from providers import parse_instant

# --- inputs of the compare ---------------------------------------------------------------------


class ObservedKey(Protocol):
    """What the compare reads of a key in the account (`providers` `KeyRecord` fits)."""

    @property
    def hash(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def disabled(self) -> bool: ...
    @property
    def limit(self) -> float | None: ...
    @property
    def limit_remaining(self) -> float | None: ...
    @property
    def limit_reset(self) -> str | None: ...
    @property
    def usage(self) -> float: ...
    @property
    def usage_daily(self) -> float: ...
    @property
    def usage_weekly(self) -> float: ...
    @property
    def usage_monthly(self) -> float: ...
    @property
    def expires_at(self) -> datetime | str | None: ...
    @property
    def created_at(self) -> datetime | str | None: ...
    @property
    def last_used_at(self) -> datetime | str | None: ...
    @property
    def workspace_id(self) -> str | None: ...
    @property
    def byok_usage(self) -> float: ...
    @property
    def byok_usage_daily(self) -> float: ...
    @property
    def byok_usage_weekly(self) -> float: ...
    @property
    def byok_usage_monthly(self) -> float: ...


# --- the pure compare --------------------------------------------------------------------------


def compare(
    managed: Sequence[ManagedKey],
    observed: Sequence[ObservedKey],
    now: datetime,
    thresholds: Thresholds,
) -> AuditReport:
    """Judge the account against the stacks. Pure: same inputs, same report."""
    owners_by_hash: dict[str, list[ManagedKey]] = {}
    for entry in managed:
        owners_by_hash.setdefault(entry.hash, []).append(entry)
    observed_by_hash = {key.hash: key for key in observed}

    rows: list[KeyRow] = []
    findings: list[Diagnostic] = []
    for key in observed_by_hash.values():
        owners = tuple(owners_by_hash.get(key.hash, ()))
        row = _observed_row(key, owners, now)
        rows.append(row)
        findings.extend(_judge(row, now, thresholds))
    for key_hash, owner_list in owners_by_hash.items():
        if key_hash not in observed_by_hash:
            owners = tuple(owner_list)
            row = KeyRow(
                hash=key_hash,
                label=owners[0].label,
                name=owners[0].name,
                status="missing",
                owners=owners,
            )
            rows.append(row)
            findings.extend(_judge(row, now, thresholds))

    findings.extend(retiring_in_use(rows, managed))
    rows.sort(key=_row_order)
    return AuditReport(
        now=now,
        thresholds=thresholds,
        stacks=tuple(dict.fromkeys(entry.stack for entry in managed)),
        rows=tuple(rows),
        findings=sort_findings(findings),
        observed_count=len(observed_by_hash),
        disabled_count=sum(1 for key in observed_by_hash.values() if key.disabled),
    )


def _row_order(row: KeyRow) -> tuple[int, str, str, str]:
    if row.owners:
        return (0, row.owners[0].stack, row.owners[0].key_id, row.hash)
    return (1, row.name.casefold(), row.label, row.hash)


def _observed_row(key: ObservedKey, owners: tuple[ManagedKey, ...], now: datetime) -> KeyRow:
    expires_at = parse_instant(key.expires_at)
    if key.disabled:
        status = "disabled"
    elif expires_at is not None and expires_at <= now:
        status = "expired"
    else:
        status = "enabled"
    return KeyRow(
        hash=key.hash,
        label=key.label,
        name=key.name,
        status=status,
        owners=owners,
        limit=key.limit,
        limit_used=limit_used(key),
        limit_reset=key.limit_reset,
        usage_monthly=key.usage_monthly,
        expires_at=expires_at,
        created_at=parse_instant(key.created_at),
        usage=key.usage,
        last_used_at=parse_instant(key.last_used_at),
        workspace_id=key.workspace_id,
        spend=Spend(key.usage, key.usage_monthly, key.usage_weekly, key.usage_daily),
        byok_spend=Spend(
            key.byok_usage, key.byok_usage_monthly, key.byok_usage_weekly, key.byok_usage_daily
        ),
    )


def limit_used(key: ObservedKey) -> float | None:
    """Dollars spent against the limit in the current reset period; None without a limit."""
    if key.limit is None:
        return None
    if key.limit_remaining is not None:
        return max(key.limit - key.limit_remaining, 0.0)
    period_usage = {
        "daily": key.usage_daily,
        "weekly": key.usage_weekly,
        "monthly": key.usage_monthly,
    }
    return period_usage.get(key.limit_reset or "", key.usage)


def _judge(row: KeyRow, now: datetime, thresholds: Thresholds) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if not row.owners:
        found.append(unmanaged_key(row))
    else:
        if len(row.owners) > 1:
            found.append(key_managed_twice(row))
        if row.status == "missing":
            found.append(managed_key_missing(row))
            return found
        if row.status == "disabled":
            found.append(managed_key_disabled(row))
    if row.status == "disabled":
        return found

    if row.expires_at is not None:
        if row.expires_at <= now:
            found.append(key_expired(row, now))
        elif row.expires_at - now <= timedelta(days=thresholds.expiring_days):
            found.append(key_expiring(row, now, thresholds))
    if row.status != "enabled":
        return found
    use = _limit_use(row, thresholds)
    if use is not None and use.near:
        found.append(key_near_limit(row, use))
    idleness = idle(row, now, thresholds.unused_days)
    if idleness is not None:
        found.append(key_unused(row, idleness, thresholds))
    return found


def idle(row: KeyRow, now: datetime, days: int) -> str | None:
    """Why a key counts as unused, or None when it does not. Pure.

    By `last_used_at` first: last used `days` or more ago. A key never used (no `last_used_at`,
    no usage) counts from its creation, so a key minted today is not yet unused. A key with usage
    but no `last_used_at` (the API records none from before 2026, or does not say) falls back to
    this month's usage, the only clue left.
    """
    if row.last_used_at is None and row.usage:
        if row.usage_monthly is not None and row.usage_monthly <= 0:
            return "has no recorded last use and no usage this month"
        return None
    since = row.last_used_at or row.created_at
    if since is not None and now - since < timedelta(days=days):
        return None
    threshold = f"the threshold is {days} day{'s' if days != 1 else ''}"
    if row.last_used_at is not None:
        return (
            f"has not been used for {span(now - row.last_used_at)} (last used "
            f"{iso(row.last_used_at)}; {threshold})"
        )
    if row.created_at is None:
        return "has never been used"
    made = span(now - row.created_at)
    return f"has never been used since it was made {made} ago ({threshold})"


def retiring_in_use(rows: Sequence[KeyRow], managed: Sequence[ManagedKey]) -> list[Diagnostic]:
    """A retiring generation OpenRouter says was used after its successor was made, which is
    when the successor took over its consumers: something still holds the old key, and the
    update that retires it will be refused (topology/retirement.py). Pure."""
    by_hash = {row.hash: row for row in rows}
    wired = {(m.stack, m.key_id): m for m in managed if not m.retiring}
    found = []
    for owner in managed:
        row = by_hash.get(owner.hash)
        after = by_hash.get(owner.successor or "")
        if row is None or after is None or row.status == "missing":
            continue
        if row.last_used_at is None or after.created_at is None:
            continue
        if row.last_used_at >= after.created_at:
            holder = wired.get((owner.stack, owner.key_id))
            found.append(retiring_key_in_use(row, owner, after, holder))
    return found


def _limit_use(row: KeyRow, thresholds: Thresholds) -> Use | None:
    if row.limit is None or row.limit_used is None:
        return None
    return Use(row.limit_used, row.limit, thresholds.limit_percent)


def utc_now() -> datetime:
    return datetime.now(UTC)
