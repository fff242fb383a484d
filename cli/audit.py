"""`audit`: join every key of the account with what the stacks manage, and judge the result.

Keymaster's split: `gather` (the I/O: stack outputs, the full key list) is separate from
`compare`, a pure function of what the stacks manage, what the account holds, the time and the
thresholds. The audit never judges from a partial picture: a failed page, an unreadable stack
output or a stack that cannot be read stops it with an error (exit 2) and no report.
Nothing here writes: the only requests are `GET /key`, `GET /keys` and `GET /keys/{hash}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from cli import diagnostics
from cli.diagnostics import Diagnostic
from cli.stack_outputs import ManagedKey
from providers import parse_instant

if TYPE_CHECKING:
    from cli.scoped import ScopedRow

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


@dataclass(frozen=True)
class Thresholds:
    """When a key counts as expiring, near its limit or unused, and whether unused keys fail."""

    expiring_days: int = 14
    limit_percent: float = 80.0
    fail_on_unused: bool = False
    unused_days: int = 30


# --- the result --------------------------------------------------------------------------------


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


def _judge(row: KeyRow, now: datetime, thresholds: Thresholds) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if not row.owners:
        found.append(_unmanaged(row))
    else:
        if len(row.owners) > 1:
            found.append(_managed_twice(row))
        if row.status == "missing":
            found.append(_missing(row))
            return found
        if row.status == "disabled":
            found.append(_managed_disabled(row))
    if row.status == "disabled":
        return found

    if row.expires_at is not None:
        if row.expires_at <= now:
            found.append(_expired(row, now))
        elif row.expires_at - now <= timedelta(days=thresholds.expiring_days):
            found.append(_expiring(row, now, thresholds))
    if row.status != "enabled":
        return found
    use = _limit_use(row, thresholds)
    if use is not None and use.near:
        found.append(_near_limit(row, use))
    idleness = idle(row, now, thresholds.unused_days)
    if idleness is not None:
        found.append(_unused(row, idleness, thresholds))
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
            found.append(_retiring_in_use(row, owner, after, holder))
    return found


# --- finding wording ---------------------------------------------------------------------------


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


def _where(row: KeyRow) -> str:
    return " and ".join(owner_text(o) for o in row.owners)


def _retiring(row: KeyRow) -> bool:
    return bool(row.owners) and all(o.retiring for o in row.owners)


def up_command(stacks: Iterable[str]) -> str:
    """The command that applies a stack file change, once per stack."""
    return "; ".join(f"`pulumi up --refresh --stack {s}`" for s in sorted(set(stacks)))


def config_files(stacks: Iterable[str]) -> str:
    """Where each stack's settings are written."""
    return " and ".join(f"stacks/Pulumi.{s}.yaml" for s in sorted(set(stacks)))


def _up(row: KeyRow) -> str:
    return up_command(o.stack for o in row.owners)


def _config_files(row: KeyRow) -> str:
    return config_files(o.stack for o in row.owners)


def _unmanaged(row: KeyRow) -> Diagnostic:
    state = " (disabled)" if row.status == "disabled" else ""
    return Diagnostic(
        kind="unmanaged-key",
        message=f"{row.label} ({row.name}){state} is in the account but no stack manages it.",
        hint=(
            "if something uses it, adopt it: add an entry with `adopt: "
            f"{row.hash}` under `keys` in a stack's config (docs/config.md); otherwise delete it "
            "at https://openrouter.ai/settings/keys."
        ),
        context=key_context(row),
    )


def _missing(row: KeyRow) -> Diagnostic:
    consumers = consumers_of(row)
    who = f"; {', '.join(consumers)} still point at it" if consumers else ""
    return Diagnostic(
        kind="managed-key-missing",
        message=f"{row.label} ({_where(row)}) is managed but no longer exists in the account{who}.",
        hint=(
            f"it was an older generation: drop it from `rotations` in {_config_files(row)} and "
            f"run {_up(row)}."
            if _retiring(row)
            else f"run {_up(row)} to create it again and re-point its consumers."
        ),
        context=key_context(row),
    )


def _managed_disabled(row: KeyRow) -> Diagnostic:
    consumers = consumers_of(row)
    who = f"; {', '.join(consumers)} use it" if consumers else ""
    return Diagnostic(
        kind="managed-key-disabled",
        message=f"{row.label} ({_where(row)}) is managed but disabled{who}.",
        hint=(
            f"if it was disabled on purpose (a leak), rotate it in {_config_files(row)}; "
            f"otherwise set `disabled: false` on it in {_config_files(row)} and run {_up(row)}"
            " (a spec without `disabled` leaves a key disabled in the dashboard as it is)."
        ),
        context=key_context(row),
    )


def _managed_twice(row: KeyRow) -> Diagnostic:
    return Diagnostic(
        kind="key-managed-twice",
        message=f"{row.label} is managed by {_where(row)}: destroying or rotating one deletes "
        "the key under the other.",
        hint=f"keep it in one stack; remove it from the others' state with `pulumi state delete` "
        f"after dropping it from their config ({_config_files(row)}).",
        context=key_context(row),
    )


def _retiring_in_use(
    row: KeyRow, owner: ManagedKey, after: KeyRow, wired: ManagedKey | None
) -> Diagnostic:
    assert row.last_used_at is not None
    assert after.created_at is not None
    consumers = wired.consumers if wired is not None else ()
    moved = f" ({', '.join(consumers)})" if consumers else ""
    label = f"{owner.key_id}@{owner.rotation}" if owner.rotation else owner.key_id
    return Diagnostic(
        kind="retiring-key-in-use",
        message=f"{row.label} ({owner_text(owner)}) was last used {iso(row.last_used_at)}, after"
        f" its successor {after.label} took over its consumers{moved} on"
        f" {iso(after.created_at)}: something still holds the old key (a Vercel deployment built"
        " before the rotation, a workflow in flight or a .env).",
        hint=(
            "redeploy whatever still calls with it (Vercel projects built before the rotation,"
            " workflows started before it, any .env), and retire it only once OpenRouter reports"
            " no use for the stack's `retireQuietPeriod`: `pulumi up` refuses to delete it"
            f" until then, unless `{label}` is listed in `openrouter-keys:retireInUse` in"
            f" {config_files([owner.stack])} (docs/runbooks.md#rotate-a-key)."
        ),
        context={
            **key_context(row),
            **({"consumers": ", ".join(consumers)} if consumers else {}),
            "last_used_at": iso(row.last_used_at),
            "successor": after.hash,
        },
        severity="warning",
    )


def span(delta: timedelta) -> str:
    """A span as people say it: whole days (rounded) from a day on, hours below."""
    seconds = max(delta.total_seconds(), 0.0)
    if seconds >= 86400:
        days = round(seconds / 86400)
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(seconds // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _rotate_hint(row: KeyRow) -> str:
    if row.owners:
        return (
            f"rotate it in {_config_files(row)}: add a generation under `rotations` and give the "
            "key a later `expiresAt` (the new generation is created with it, and the consumers "
            f"move over; docs/runbooks.md#rotate-a-key), then run {_up(row)}."
        )
    return "make a replacement for whatever uses it, then delete this key in the dashboard."


def _expired(row: KeyRow, now: datetime) -> Diagnostic:
    assert row.expires_at is not None
    return Diagnostic(
        kind="key-expired",
        message=f"{row.label} ({row.name}) expired {span(now - row.expires_at)} ago "
        f"({iso(row.expires_at)}).",
        hint=_rotate_hint(row),
        context={**key_context(row), "expires_at": iso(row.expires_at)},
    )


def _expiring(row: KeyRow, now: datetime, thresholds: Thresholds) -> Diagnostic:
    assert row.expires_at is not None
    return Diagnostic(
        kind="key-expiring",
        message=f"{row.label} ({row.name}) expires in {span(row.expires_at - now)} "
        f"({iso(row.expires_at)}), within the {thresholds.expiring_days}-day threshold.",
        hint=_rotate_hint(row),
        context={**key_context(row), "expires_at": iso(row.expires_at)},
    )


def _limit_use(row: KeyRow, thresholds: Thresholds) -> Use | None:
    if row.limit is None or row.limit_used is None:
        return None
    return Use(row.limit_used, row.limit, thresholds.limit_percent)


def _near_limit(row: KeyRow, use: Use) -> Diagnostic:
    fix = (
        f"raise its `limit` in {_config_files(row)} and run {_up(row)}"
        if row.owners
        else "raise its limit in the dashboard"
    )
    return NearLimit(
        kind="key-near-limit",
        spender=f"{row.label} ({row.name})",
        cap=f"its limit{this_period(row.limit_reset)}",
        counted="",
        fix=fix,
        culprit="what is spending it",
        consequence="requests fail once the limit is reached.",
        context=key_context(row),
    ).finding(use)


_PERIOD = {"daily": "day", "weekly": "week", "monthly": "month"}


def this_period(interval: str | None) -> str:
    """` this month` for a monthly window; nothing for one that never resets."""
    return f" this {_PERIOD[interval]}" if interval in _PERIOD else ""


def _unused(row: KeyRow, idleness: str, thresholds: Thresholds) -> Diagnostic:
    if _retiring(row):
        fix = (
            "it is an older generation, wired to nothing: retire it by dropping it from "
            f"`rotations` in {_config_files(row)} and running {_up(row)}"
        )
    elif row.owners:
        fix = f"if nothing uses it any more, remove it from {_config_files(row)} and run {_up(row)}"
    else:
        fix = "if nothing uses it any more, delete it at https://openrouter.ai/settings/keys"
    context = key_context(row)
    if row.last_used_at is not None:
        context["last_used_at"] = iso(row.last_used_at)
    return Diagnostic(
        kind="key-unused",
        message=f"{row.label} ({row.name}) {idleness}.",
        hint=f"{fix}; if something should be calling it, that consumer is not: check the secret "
        "it holds with `python -m cli doctor`.",
        context=context,
        severity="error" if thresholds.fail_on_unused else "warning",
    )


# --- values ------------------------------------------------------------------------------------



def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def utc_now() -> datetime:
    return datetime.now(UTC)
