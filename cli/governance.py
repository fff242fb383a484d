"""Guardrails, workspaces and budgets in the audit: a second pure pass over the key report.

`api.observe` reads what the account holds (`AccountGovernance`), the stacks' `governance`
outputs say what they manage (`ManagedGovernance`), and `judge` adds what the keys alone cannot
show: managed keys that nothing restricts, guardrails no stack manages, guardrail caps and
workspace budgets near their limit. Pure: same inputs, same report.

Budgets are checked per key, never pooled: a guardrail's cap is compared with each key's own
spend in the guardrail's window, a workspace budget with the sum over the workspace's keys
(https://openrouter.ai/docs/guides/features/guardrails,
https://openrouter.ai/docs/guides/features/workspaces/workspace-budgets).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import providers
from cli.audit_report import AuditReport, KeyRow, sort_findings
from cli.diagnostics import Diagnostic
from cli.stack_outputs import ManagedGovernance
from cli.wording import (
    NearLimit,
    Use,
    config_files,
    key_context,
    owner_text,
    this_period,
    up_command,
)
from providers import CONFIG_NAMESPACE

if TYPE_CHECKING:
    from providers import ObjectApi

GUARDRAIL_CHECKS = ("key-without-guardrail", "unmanaged-guardrail", "guardrail-near-limit")
BUDGET_CHECKS = ("workspace-budget-near-limit",)
LISTED_KEYS = 5
"""How many keys a message names before it says "and N more" (the context has them all)."""
DASHBOARD = "https://openrouter.ai/settings"

# --- what the account holds --------------------------------------------------------------------


@dataclass(frozen=True)
class GuardrailFacts:
    """What the audit reads of a guardrail."""

    id: str
    name: str
    workspace_id: str | None = None
    limit_usd: float | None = None
    reset_interval: str | None = None
    include_byok: bool = False

    @classmethod
    def of(cls, fields: Mapping[str, object]) -> GuardrailFacts:
        """From the API's guardrail object (`GuardrailRecord.fields()` or a `data` member)."""
        limit = fields.get("limit_usd")
        reset = fields.get("reset_interval")
        workspace = fields.get("workspace_id")
        return cls(
            id=str(fields.get("id")),
            name=str(fields.get("name", "")),
            workspace_id=workspace if isinstance(workspace, str) else None,
            limit_usd=(
                float(limit) if isinstance(limit, int | float) and not isinstance(limit, bool)
                else None
            ),
            reset_interval=reset if isinstance(reset, str) else None,
            include_byok=fields.get("include_byok_in_budgets") is True,
        )


@dataclass(frozen=True)
class WorkspaceFacts:
    """What the audit reads of a workspace: its default guardrail's id and its budgets."""

    id: str
    name: str
    slug: str
    default_guardrail_id: str | None = None
    budgets: Mapping[str, float] = field(default_factory=dict)
    """Limit in USD by interval (`lifetime`, `monthly`, `weekly`, `daily`); empty when none
    is set, or when the budgets were not read (a workspace without keys spends nothing)."""
    include_byok: bool = False


@dataclass(frozen=True)
class AuditedKind:
    """An object of the account OpenRouter can restrict to some keys, as the audit reads it."""

    section: str
    """`byok`: the stack file's section and the `governance` output's map (topology/scoped.py)."""
    unmanaged: str
    """The kind of the finding about one no stack manages."""
    what: str
    """The record field that says what it is for: a credential's `provider`, a destination's
    `type`."""
    hashes: str
    """The record field that restricts it to keys (null: every key)."""
    api: Callable[[], ObjectApi[Any]] = field(compare=False, repr=False)
    """Its provider's API (`providers.BYOK_API`), looked up only when the audit reads: the
    provider modules load the Pulumi SDK, which `doctor` and `recover` do not pay for."""


SCOPED_KINDS = (
    AuditedKind(
        "byok",
        "unmanaged-byok-credential",
        "provider",
        "allowed_api_key_hashes",
        lambda: providers.BYOK_API,
    ),
    AuditedKind(
        "observability",
        "unmanaged-observability-destination",
        "type",
        "api_key_hashes",
        lambda: providers.DESTINATIONS_API,
    ),
)
DELETED_KEY_CHECK = "scoped-to-deleted-key"


@dataclass(frozen=True)
class ScopedFacts:
    """What the audit reads of a BYOK credential or an observability destination: names, ids
    and hashes only (the API masks their secrets; the audit keeps not even the masked ones)."""

    section: str
    noun: str
    """What a message calls it: `BYOK credential` (the provider's `ObjectApi.noun`)."""
    id: str
    name: str
    what: str
    workspace_id: str | None = None
    key_hashes: tuple[str, ...] | None = None
    """The keys it is restricted to; None: every key of the account."""

    @classmethod
    def of(cls, kind: AuditedKind, noun: str, fields: Mapping[str, object]) -> ScopedFacts:
        """From the API's object (`ObjectRecord.fields()`)."""
        name, what = fields.get("name"), fields.get(kind.what)
        workspace, hashes = fields.get("workspace_id"), fields.get(kind.hashes)
        return cls(
            section=kind.section,
            noun=noun,
            id=str(fields.get("id")),
            name=name if isinstance(name, str) else "",
            what=what if isinstance(what, str) else "",
            workspace_id=workspace if isinstance(workspace, str) else None,
            key_hashes=tuple(map(str, hashes)) if isinstance(hashes, list) else None,
        )


@dataclass(frozen=True)
class AccountGovernance:
    """The account's guardrails, assignments, workspaces and budgets, as far as they were read."""

    workspaces: tuple[WorkspaceFacts, ...] = ()
    guardrails: tuple[GuardrailFacts, ...] = ()
    """Every guardrail listed in the workspaces, and each default guardrail found configured."""
    assignments: Mapping[str, str] = field(default_factory=dict)
    """Key hash -> the id of the guardrail the key holds."""
    scoped: tuple[ScopedFacts, ...] = ()
    """Every BYOK credential and observability destination listed in the workspaces."""
    guardrails_read: bool = False
    budgets_read: bool = False
    scoped_read: frozenset[str] = frozenset()
    """The `AuditedKind.section`s whose listings were read."""
    unreadable: tuple[str, ...] = ()
    """Why a part could not be read, e.g. `GET /workspaces answered HTTP 404 "Not Found"`."""


# --- the pure pass -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Declared:
    """Where a stack file declares a guardrail or workspace: the stack and the setting path."""

    stack: str
    setting: str

    def named(self, below: str = "") -> str:
        """The setting as the stack file names it, or one below it: `openrouter-keys:x.y`."""
        return f"`{CONFIG_NAMESPACE}:{self.setting}{below}`"


@dataclass(frozen=True)
class _Names:
    """OpenRouter ids -> where the stacks declare them; and every guardrail a stack manages."""

    guardrails: Mapping[str, tuple[_Declared, ...]]
    workspaces: Mapping[str, tuple[_Declared, ...]]
    managed_guardrails: frozenset[str]


def _names(stacks: Sequence[ManagedGovernance]) -> _Names:
    guardrails: dict[str, list[_Declared]] = {}
    workspaces: dict[str, list[_Declared]] = {}
    for managed in stacks:
        for guardrail_id, guardrail in managed.deployed.guardrails.items():
            guardrails.setdefault(guardrail.id, []).append(
                _Declared(managed.stack, f"guardrails.{guardrail_id}")
            )
        for workspace_id, workspace in managed.deployed.workspaces.items():
            workspaces.setdefault(workspace.id, []).append(
                _Declared(managed.stack, f"workspaces.{workspace_id}")
            )
            if workspace.default_guardrail:
                guardrails.setdefault(workspace.default_guardrail, []).append(
                    _Declared(managed.stack, f"workspaces.{workspace_id}.defaultGuardrail")
                )
    return _Names(
        guardrails={k: tuple(v) for k, v in guardrails.items()},
        workspaces={k: tuple(v) for k, v in workspaces.items()},
        managed_guardrails=frozenset().union(*(m.deployed.guardrail_ids() for m in stacks)),
    )


def judge(
    report: AuditReport, account: AccountGovernance, stacks: Sequence[ManagedGovernance]
) -> AuditReport:
    """The key report with each key's guardrail and the governance findings added. Pure."""
    rows = report.rows
    if account.guardrails_read:
        rows = tuple(replace(row, guardrail_id=account.assignments.get(row.hash)) for row in rows)
    names = _names(stacks)
    percent = report.thresholds.limit_percent
    found = list(report.findings)
    if account.unreadable:
        found.append(_unreadable(account))
    if account.guardrails_read:
        found += _keys_without_guardrail(rows, account, names)
        found += _unmanaged_guardrails(account, names)
        found += _guardrails_near_limit(rows, account, names, percent)
    if account.budgets_read:
        found += _budgets_near_limit(rows, account, names, percent)
    return replace(report, rows=rows, findings=sort_findings(found))


def _workspace_text(workspace: WorkspaceFacts) -> str:
    return f"{workspace.name} ({workspace.slug})"


def _default_guardrails(account: AccountGovernance) -> dict[str, WorkspaceFacts]:
    """Default guardrail id -> its workspace."""
    return {w.default_guardrail_id: w for w in account.workspaces if w.default_guardrail_id}


def _governing(
    row: KeyRow, account: AccountGovernance, by_id: Mapping[str, GuardrailFacts]
) -> GuardrailFacts | None:
    """The guardrail that governs a key: its own, else its workspace's configured default."""
    own = account.assignments.get(row.hash)
    if own is not None:
        return by_id.get(own)
    for workspace in account.workspaces:
        if workspace.id == row.workspace_id and workspace.default_guardrail_id:
            return by_id.get(workspace.default_guardrail_id)
    return None


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:LISTED_KEYS])
    more = len(items) - LISTED_KEYS
    return f"{shown} and {more} more" if more > 0 else shown


# --- key-without-guardrail ---------------------------------------------------------------------


def _keys_without_guardrail(
    rows: Sequence[KeyRow], account: AccountGovernance, names: _Names
) -> list[Diagnostic]:
    """One finding per workspace whose default guardrail is unset, naming its managed keys that
    hold none: one `defaultGuardrail` fixes them all."""
    configured = {g.id for g in account.guardrails}
    found = []
    for workspace in account.workspaces:
        if workspace.default_guardrail_id is None or workspace.default_guardrail_id in configured:
            continue
        bare = [
            row
            for row in rows
            if row.owners
            and row.status == "enabled"
            and row.workspace_id == workspace.id
            and row.hash not in account.assignments
        ]
        if bare:
            found.append(_key_without_guardrail(workspace, bare, names))
    return found


def _key_without_guardrail(
    workspace: WorkspaceFacts, rows: Sequence[KeyRow], names: _Names
) -> Diagnostic:
    owners = [o for row in rows for o in row.owners]
    key_ids = [owner_text(o) for o in owners]
    stacks = [o.stack for o in owners]
    plural = len(key_ids) != 1
    declared = names.workspaces.get(workspace.id, ())
    if declared:
        default = " or ".join(d.named(".defaultGuardrail") for d in declared)
    else:
        default = (
            f"an entry under `workspaces` with `adopt: {workspace.slug}` and a "
            "`defaultGuardrail`"
        )
    drifted = [owner_text(o) for o in owners if o.guardrail]
    one = len(drifted) == 1
    lost = (
        f" {_listed(drifted)} declare{'s' if one else ''} a guardrail in the stack file but "
        f"hold{'s' if one else ''} none: the update assigns it again."
        if drifted
        else ""
    )
    return Diagnostic(
        kind="key-without-guardrail",
        message=f"{len(key_ids)} managed key{'s' if plural else ''} in workspace "
        f"{_workspace_text(workspace)} hold{'' if plural else 's'} no guardrail, and the "
        f"workspace's default guardrail is not configured: {_listed(key_ids)} "
        f"run{'' if plural else 's'} with no restriction but {'their' if plural else 'its'} own "
        "limit.",
        hint=f"in {config_files(stacks)}, declare `guardrail: <id>` on each key "
        f"(`{CONFIG_NAMESPACE}:keys.<id>.guardrail`), or one default guardrail for the whole "
        f"workspace: {default}; then run {up_command(stacks)}.{lost}",
        context={
            "name": workspace.name,
            "workspace": workspace.slug,
            "workspace_id": workspace.id,
            "default_guardrail_id": workspace.default_guardrail_id or "",
            "stacks": ", ".join(sorted(set(stacks))),
            "key_ids": ", ".join(key_ids),
            "hashes": ", ".join(row.hash for row in rows),
        },
        severity="warning",
    )


# --- unmanaged-guardrail -----------------------------------------------------------------------


def _unmanaged_guardrails(account: AccountGovernance, names: _Names) -> list[Diagnostic]:
    """Guardrails no stack manages; default guardrails belong to their workspace, not here."""
    defaults = _default_guardrails(account)
    workspaces = {w.id: w for w in account.workspaces}
    found = []
    for guardrail in account.guardrails:
        if guardrail.id in names.managed_guardrails or guardrail.id in defaults:
            continue
        holders = sum(1 for held in account.assignments.values() if held == guardrail.id)
        found.append(_unmanaged(guardrail, workspaces.get(guardrail.workspace_id or ""), holders))
    return found


def _unmanaged(
    guardrail: GuardrailFacts, workspace: WorkspaceFacts | None, holders: int
) -> Diagnostic:
    where = f" in workspace {_workspace_text(workspace)}" if workspace else ""
    held = (
        f"; {holders} key{'s hold' if holders != 1 else ' holds'} it" if holders else "; no key "
        "holds it"
    )
    return Diagnostic(
        kind="unmanaged-guardrail",
        message=f"guardrail {guardrail.name} ({guardrail.id}){where} is in the account but no "
        f"stack manages it{held}.",
        hint=f"if it is wanted, adopt it: add an entry with `adopt: {guardrail.id}` under "
        f"`{CONFIG_NAMESPACE}:guardrails` in a stack's config (`{CONFIG_NAMESPACE}:guardrails."
        f"<id>.adopt`, docs/config.md#guardrails); otherwise delete it in the dashboard "
        f"({DASHBOARD}) or with `DELETE /api/v1/guardrails/{guardrail.id}` (the keys that hold "
        "it then hold none).",
        context={
            "name": guardrail.name,
            "guardrail_id": guardrail.id,
            "workspace_id": guardrail.workspace_id or "",
            "keys": str(holders),
        },
        severity="warning",
    )


# --- guardrail-near-limit and workspace-budget-near-limit --------------------------------------


def _raise_in(setting: str, declared: Sequence[_Declared]) -> str:
    stacks = [d.stack for d in declared]
    return (
        f"raise {setting} of {' and '.join(d.named() for d in declared)} in {config_files(stacks)} "
        f"and run {up_command(stacks)}"
    )


def _guardrails_near_limit(
    rows: Sequence[KeyRow], account: AccountGovernance, names: _Names, threshold: float
) -> list[Diagnostic]:
    """A guardrail's cap counts each key's own spend in the guardrail's window."""
    by_id = {g.id: g for g in account.guardrails}
    defaults = _default_guardrails(account)
    found = []
    for row in rows:
        guardrail = _governing(row, account, by_id) if row.status == "enabled" else None
        if guardrail is None or guardrail.limit_usd is None or row.spend is None:
            continue
        use = Use(
            _spent(row, guardrail.reset_interval, include_byok=guardrail.include_byok),
            guardrail.limit_usd,
            threshold,
        )
        if use.near:
            found.append(
                _guardrail_near_limit(
                    row,
                    guardrail,
                    use,
                    workspace=defaults.get(guardrail.id),
                    declared=names.guardrails.get(guardrail.id, ()),
                )
            )
    return found


def _spent(row: KeyRow, interval: str | None, *, include_byok: bool) -> float:
    """A key's spend in a budget's window; BYOK spend too where the budget counts it."""
    assert row.spend is not None
    byok = row.byok_spend.of(interval) if include_byok and row.byok_spend is not None else 0.0
    return row.spend.of(interval) + byok


def _guardrail_near_limit(
    row: KeyRow,
    guardrail: GuardrailFacts,
    use: Use,
    *,
    workspace: WorkspaceFacts | None,
    declared: Sequence[_Declared],
) -> Diagnostic:
    which = (
        f"the default guardrail of workspace {_workspace_text(workspace)}"
        if workspace
        else f"guardrail {guardrail.name}"
    )
    byok = ", BYOK included" if guardrail.include_byok else ""
    fix = (
        _raise_in("`limitUsd`", declared)
        if declared
        else f"raise its `limit_usd` in the dashboard ({DASHBOARD}), or adopt it into a stack"
    )
    return NearLimit(
        kind="guardrail-near-limit",
        spender=f"{row.label} ({row.name})",
        cap=f"the cap of {which}{this_period(guardrail.reset_interval)}",
        counted=f", counted for this key alone{byok}",
        fix=fix,
        culprit="what is spending it",
        consequence="requests with this key are refused (403) once it reaches the cap.",
        context={**key_context(row), "guardrail_id": guardrail.id},
    ).finding(use)


def _budgets_near_limit(
    rows: Sequence[KeyRow], account: AccountGovernance, names: _Names, threshold: float
) -> list[Diagnostic]:
    """A workspace budget counts the spend of every key in the workspace, disabled and expired
    ones included."""
    found = []
    for workspace in account.workspaces:
        members = [r for r in rows if r.workspace_id == workspace.id and r.spend is not None]
        for interval, limit in workspace.budgets.items():
            spent = sum(
                _spent(row, interval, include_byok=workspace.include_byok) for row in members
            )
            use = Use(spent, limit, threshold)
            if use.near:
                found.append(
                    _budget_near_limit(
                        workspace,
                        interval,
                        use,
                        keys=len(members),
                        declared=names.workspaces.get(workspace.id, ()),
                    )
                )
    return found


def _budget_near_limit(
    workspace: WorkspaceFacts,
    interval: str,
    use: Use,
    *,
    keys: int,
    declared: Sequence[_Declared],
) -> Diagnostic:
    byok = ", BYOK included" if workspace.include_byok else ""
    fix = (
        _raise_in(f"`budgets.{interval}`", declared)
        if declared
        else f"raise it in the dashboard ({DASHBOARD}), or adopt the workspace into a stack "
        f"(`adopt: {workspace.slug}`)"
    )
    return NearLimit(
        kind="workspace-budget-near-limit",
        spender=f"workspace {_workspace_text(workspace)}",
        cap=f"its {interval} budget{this_period(interval)}",
        counted=f", summed over its {keys} key{'s' if keys != 1 else ''}{byok}",
        fix=fix,
        culprit="which of its keys spend it",
        consequence="once a budget is reached, every key of the workspace is refused (403)"
        " until it resets.",
        context={
            "name": workspace.name,
            "workspace": workspace.slug,
            "workspace_id": workspace.id,
            "interval": interval,
        },
    ).finding(use)


# --- governance-unreadable ---------------------------------------------------------------------


def _unreadable(account: AccountGovernance) -> Diagnostic:
    unread = [kind for kind in SCOPED_KINDS if kind.section not in account.scoped_read]
    skipped = [
        *(() if account.guardrails_read else GUARDRAIL_CHECKS),
        *(() if account.budgets_read else BUDGET_CHECKS),
        *(kind.unmanaged for kind in unread),
        *((DELETED_KEY_CHECK,) if unread else ()),
    ]
    checks = ", ".join(f"`{kind}`" for kind in skipped) or "nothing"
    return Diagnostic(
        kind="governance-unreadable",
        message=f"guardrails, workspaces, budgets, BYOK credentials or observability "
        f"destinations could not be read "
        f"({'; '.join(account.unreadable)}), so {checks} "
        f"{'was' if len(skipped) == 1 else 'were'} not checked; the keys were audited as usual.",
        hint="an account without workspaces or guardrails answers these routes with 403 or 404 "
        "and has nothing there to check; workspace budgets are an Enterprise feature "
        "(https://openrouter.ai/docs/guides/features/workspaces/workspace-budgets). If the "
        "account has them, run the audit again, and report it if it persists.",
        context={"unreadable": "; ".join(account.unreadable), "not_checked": ", ".join(skipped)},
        severity="warning",
    )
