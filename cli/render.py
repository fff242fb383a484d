"""Output discipline: results on stdout (text or one JSON document), diagnostics on stderr.

Every string leaves through `Output`, which runs `redact` over it last, so a key that slipped
into a name, a label or an API message is masked before it reaches a terminal or a CI log.
Text from the account or the stacks (names, labels, consumers) is escaped for Markdown tables,
because a key name is free text that anyone with dashboard access can set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TextIO

from cli.audit_report import AuditReport, KeyRow
from cli.diagnostics import Diagnostic
from cli.doctor import DoctorReport, KeyFacts
from cli.governance import SCOPED_KINDS
from cli.recover import Leftover
from cli.scoped import ScopedRow, entries_text
from cli.wording import consumers_of, iso, limit_percent, money, owner_text, span
from providers import BudgetLayer, parse_instant, redact


class Output:
    """The two streams of one command run."""

    def __init__(self, stdout: TextIO, stderr: TextIO, *, json_mode: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.json_mode = json_mode

    def result(self, text: str) -> None:
        self.stdout.write(redact(text))
        self.stdout.flush()

    def document(self, document: Mapping[str, object]) -> None:
        self.result(json.dumps(document, indent=2, sort_keys=False) + "\n")

    def diagnostic(self, diagnostic: Diagnostic) -> None:
        if self.json_mode:
            line = json.dumps({"diagnostic": diagnostic.as_json()})
        else:
            line = diagnostic_line(diagnostic)
        self.stderr.write(redact(line) + "\n")
        self.stderr.flush()


def one_line(text: str) -> str:
    return " ".join(text.split())


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """`error: what is wrong. Fix: what to do. [kind]`, always one line."""
    return one_line(
        f"{diagnostic.severity}: {diagnostic.message} Fix: {diagnostic.hint} [{diagnostic.kind}]"
    )


# --- Markdown helpers --------------------------------------------------------------------------


def cell(text: str) -> str:
    """Free text made safe inside a Markdown table cell."""
    return one_line(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'") or " "


def code(text: str) -> str:
    return "`" + one_line(text).replace("`", "'") + "`"


def _date(moment: datetime | None) -> str:
    return "—" if moment is None else iso(moment)


# --- doctor ------------------------------------------------------------------------------------


_TYPE_TEXT = {
    "management": "management key: lists, creates, updates and deletes keys; cannot call models",
    "regular": "regular key: calls models; cannot manage keys",
    "invalid": "invalid: the API rejected it (wrong, disabled, expired or deleted)",
}


def doctor_text(report: DoctorReport) -> str:
    lines = [f"{report.label} (from {report.source}): {_TYPE_TEXT[report.key_type]}"]
    facts = report.facts
    if facts is not None and report.key_type == "regular":
        if facts.limit is None:
            lines.append("  limit:    none")
        else:
            remaining = (
                ""
                if facts.limit_remaining is None
                else f", {money(facts.limit_remaining)} remaining"
            )
            reset = f", resets {facts.limit_reset}" if facts.limit_reset else ", never resets"
            lines.append(f"  limit:    {money(facts.limit)}{remaining}{reset}")
        lines.append(
            "  usage:    "
            + ", ".join(
                f"{money(amount)} {period}"
                for amount, period in (
                    (facts.usage, "in all"),
                    (facts.usage_daily, "today"),
                    (facts.usage_weekly, "this week"),
                    (facts.usage_monthly, "this month"),
                )
                if amount is not None
            )
        )
        lines += _budget_lines(facts)
        lines.append(f"  expires:  {_expiry(report)}")
    if report.rejection is not None:
        lines.append(f"  api said: {one_line(report.rejection)}")
    lines.append(f"  api:      {report.api_base_url}")
    if report.expected is not None:
        outcome = "matches" if report.matches else "does NOT match"
        lines.append(f"  expected: {report.expected} key ({outcome})")
    return "\n".join(lines) + "\n"


_SCOPE_TEXT = {
    "workspace_default_member": "workspace default guardrail (member's spend)",
    "workspace_default_key": "workspace default guardrail",
    "member": "member guardrail",
    "api_key": "key guardrail",
    "key_limit": "key limit",
}
_WINDOW_TEXT = {"daily": "today", "weekly": "this week", "monthly": "this month"}


def budget_name(layer: BudgetLayer) -> str:
    """The layer in words; a scope the CLI does not know yet is shown as the API spells it.

    A guardrail layer is named with the guardrail's id; a workspace layer by its interval, since
    a workspace has up to four budgets and `blocks:` must say which one."""
    name = _SCOPE_TEXT.get(layer.scope, layer.scope)
    if layer.scope == "workspace":
        name = f"workspace {layer.reset_interval or 'lifetime'} budget"
    return f"{name} {layer.guardrail_id}" if layer.guardrail_id else name


def _resets(layer: BudgetLayer) -> datetime | None:
    return parse_instant(layer.resets_at)


def budget_text(layer: BudgetLayer) -> str:
    window = _WINDOW_TEXT.get(layer.reset_interval or "", "in all")
    left = "spent" if layer.remaining_usd <= 0 else f"{money(layer.remaining_usd)} left"
    resets = _resets(layer)
    when = "never resets" if resets is None else f"resets {iso(resets)}"
    return (
        f"{budget_name(layer)}: {money(layer.spend_usd)} of {money(layer.limit_usd)} used "
        f"{window}, {left}, {when}"
    )


def _blocking_text(layer: BudgetLayer) -> str:
    if layer.remaining_usd > 0:
        return f"{budget_name(layer)}, {money(layer.remaining_usd)} left"
    resets = _resets(layer)
    until = "its limit is raised" if resets is None else iso(resets)
    return f"{budget_name(layer)} is spent: requests are refused (403) until {until}"


def _budget_lines(facts: KeyFacts) -> list[str]:
    """Every budget layer in the order the API checks them, then the one that blocks first."""
    if facts.budgets is None:
        return ["  budgets:  not reported by the API"]
    if not facts.budgets:
        return ["  budgets:  none: no guardrail, workspace budget or limit caps this key"]
    lines = [
        f"{'  budgets:  ' if index == 1 else ' ' * 12}{index}. {budget_text(layer)}"
        for index, layer in enumerate(facts.budgets, start=1)
    ]
    if facts.blocking is not None:
        lines.append(f"  blocks:   {_blocking_text(facts.blocking)}")
    return lines


def _budget_json(layer: BudgetLayer | None) -> dict[str, object] | None:
    """The layer's fields as the API names them, `resets_at` in the CLI's one spelling."""
    if layer is None:
        return None
    resets = _resets(layer)
    return {**asdict(layer), "resets_at": None if resets is None else iso(resets)}


def _expiry(report: DoctorReport) -> str:
    assert report.facts is not None
    expires_at = report.facts.expires_at
    if expires_at is None:
        return "never"
    delta = expires_at - report.now
    when = f"in {span(delta)}" if delta.total_seconds() > 0 else "already expired"
    return f"{iso(expires_at)} ({when})"


def doctor_json(report: DoctorReport) -> dict[str, object]:
    facts = report.facts
    return {
        "command": "doctor",
        "key": report.label,
        "source": report.source,
        "api_base_url": report.api_base_url,
        "type": report.key_type,
        "expected": report.expected,
        "matches": report.matches,
        "limit": facts.limit if facts else None,
        "limit_remaining": facts.limit_remaining if facts else None,
        "limit_reset": facts.limit_reset if facts else None,
        "usage": facts.usage if facts else None,
        "usage_daily": facts.usage_daily if facts else None,
        "usage_weekly": facts.usage_weekly if facts else None,
        "usage_monthly": facts.usage_monthly if facts else None,
        "expires_at": iso(facts.expires_at) if facts and facts.expires_at else None,
        "workspace_id": facts.workspace_id if facts else None,
        "budgets": (
            None
            if facts is None or facts.budgets is None
            else [_budget_json(layer) for layer in facts.budgets]
        ),
        "effective_budget": _budget_json(facts.blocking) if facts else None,
        "rejection": report.rejection,
        "findings": [f.as_json() for f in report.findings],
        "exit_code": report.exit_code,
    }


# --- audit -------------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _verdict(report: AuditReport) -> str:
    errors = sum(1 for f in report.findings if f.severity == "error")
    warnings = len(report.findings) - errors
    if not report.findings:
        return "**No findings.**"
    parts = []
    if errors:
        verb = "fails" if errors == 1 else "fail"
        parts.append(f"{_count(errors, 'finding')} {verb} the audit")
    if warnings:
        parts.append(_count(warnings, "warning"))
    return "**" + ", ".join(parts) + ".**"


def recover_text(stack: str, found: Sequence[Leftover], *, deleted: bool, pending: int) -> str:
    if not pending:
        return f"Stack {stack} has no interrupted key creates: nothing to recover.\n"
    if not found:
        done = "found: every one was deleted again or never made"
    elif deleted:
        done = "deleted:"
    else:
        done = "found (not deleted: run again with --yes):"
    lines = [
        f"Stack {stack}: {pending} interrupted key create(s) in state; {len(found)} leftover"
        f" key(s) {done}",
        *(f"  {one_line(k.name)}  {k.label}  created {k.created_at}  hash {k.hash}" for k in found),
        "Next: `pulumi refresh --clear-pending-creates --yes --stack "
        f"{stack}`, then `pulumi up` (docs/runbooks.md#an-interrupted-update).",
    ]
    return "\n".join(lines) + "\n"


def recover_json(
    stack: str, found: Sequence[Leftover], *, deleted: bool, pending: int
) -> dict[str, object]:
    return {
        "stack": stack,
        "interrupted_creates": pending,
        "deleted": deleted,
        "leftovers": [
            {"hash": k.hash, "name": k.name, "label": k.label, "created_at": k.created_at}
            for k in found
        ],
    }


def audit_markdown(report: AuditReport) -> str:
    managed = sum(1 for row in report.rows if row.owners)
    stacks = ", ".join(report.stacks) or "none"
    thresholds = report.thresholds
    lines = [
        "## OpenRouter key audit",
        "",
        f"{_verdict(report)} {_count(report.observed_count, 'key')} in the account "
        f"({report.disabled_count} disabled); {managed} managed by "
        f"{_count(len(report.stacks), 'stack')} ({cell(stacks)}). "
        f"Checked {iso(report.now)}; expiring means within {thresholds.expiring_days} days, "
        f"near the limit means at or above {thresholds.limit_percent:g}%, unused means not "
        f"used for {thresholds.unused_days} days.",
        "",
        "### Where each key lives",
        "",
        "| Key | Name | Stack / id | Consumers | Status | Limit used | This month | Last used "
        "| Expires |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(_table_row(row) for row in report.rows)
    if report.scoped:
        lines += [
            "",
            "### BYOK credentials and observability destinations",
            "",
            "| Kind | Name | Id | Provider / type | Workspace | Stack / id | Restricted to |",
            "|---|---|---|---|---|---|---|",
        ]
        lines.extend(_scoped_row(row) for row in report.scoped)
    lines += ["", f"### Findings ({len(report.findings)})", ""]
    if not report.findings:
        lines.append("None.")
    for finding in report.findings:
        lines.append(
            f"- **{finding.severity}** `{finding.kind}`: {one_line(finding.message)}  \n"
            f"  Fix: {one_line(finding.hint)}"
        )
    return "\n".join(lines) + "\n"


def _table_row(row: KeyRow) -> str:
    owners = (
        ", ".join(
            cell(owner_text(o) if o.retiring else f"{owner_text(o)} (gen {o.generation})")
            for o in row.owners
        )
        or "— (unmanaged)"
    )
    consumers = ", ".join(cell(c) for c in consumers_of(row)) or "—"
    percent = limit_percent(row)
    if row.limit is None or row.limit_used is None or percent is None:
        limit = "no limit" if row.status != "missing" else "—"
    else:
        reset = f" {row.limit_reset}" if row.limit_reset else ""
        limit = f"{money(row.limit_used)} of {money(row.limit)}{reset} ({percent:.0f}%)"
    month = "—" if row.usage_monthly is None else money(row.usage_monthly)
    return (
        f"| {code(row.label)} | {cell(row.name)} | {owners} | {consumers} | {row.status} | "
        f"{limit} | {month} | {_last_used(row)} | {_date(row.expires_at)} |"
    )


def _scoped_row(row: ScopedRow) -> str:
    facts = row.facts
    name = cell(facts.name) if facts.name else "—"
    owners = cell(entries_text(row)) if row.owners else "— (unmanaged)"
    keys = ", ".join(cell(k) for k in row.keys) or "every key"
    return (
        f"| {facts.noun} | {name} | {code(facts.id)} | {cell(facts.what)} | "
        f"{cell(row.workspace)} | {owners} | {keys} |"
    )


def _last_used(row: KeyRow) -> str:
    """The day of the last use; `never` for a key with no use at all; `—` when unknown."""
    if row.last_used_at is not None:
        return row.last_used_at.strftime("%Y-%m-%d")
    return "never" if row.usage == 0 else "—"


def audit_json(report: AuditReport) -> dict[str, object]:
    return {
        "command": "audit",
        "checked_at": iso(report.now),
        "thresholds": {
            "expiring_days": report.thresholds.expiring_days,
            "limit_percent": report.thresholds.limit_percent,
            "fail_on_unused": report.thresholds.fail_on_unused,
            "unused_days": report.thresholds.unused_days,
        },
        "stacks": list(report.stacks),
        "summary": {
            "keys": report.observed_count,
            "disabled": report.disabled_count,
            "managed": sum(1 for row in report.rows if row.owners),
            "missing": sum(1 for row in report.rows if row.status == "missing"),
            "errors": sum(1 for f in report.findings if f.severity == "error"),
            "warnings": sum(1 for f in report.findings if f.severity == "warning"),
        },
        "keys": [_row_json(row) for row in report.rows],
        **{
            kind.section: [_scoped_json(row, kind.what) for row in report.scoped
                           if row.facts.section == kind.section]
            for kind in SCOPED_KINDS
        },
        "findings": [f.as_json() for f in report.findings],
        "exit_code": report.exit_code,
    }


def _row_json(row: KeyRow) -> dict[str, object]:
    percent = limit_percent(row)
    return {
        "hash": row.hash,
        "label": row.label,
        "name": row.name,
        "status": row.status,
        "managed_by": [
            {
                "stack": o.stack,
                "key_id": o.key_id,
                "generation": o.generation,
                "rotation": o.rotation,
                "retiring": o.retiring,
                "consumers": list(o.consumers),
            }
            for o in row.owners
        ],
        "limit": row.limit,
        "limit_used": row.limit_used,
        "limit_percent": None if percent is None else round(percent, 1),
        "limit_reset": row.limit_reset,
        "usage_monthly": row.usage_monthly,
        "expires_at": None if row.expires_at is None else iso(row.expires_at),
        "created_at": None if row.created_at is None else iso(row.created_at),
        "last_used_at": None if row.last_used_at is None else iso(row.last_used_at),
        "workspace_id": row.workspace_id,
        "guardrail_id": row.guardrail_id,
    }


def _scoped_json(row: ScopedRow, what: str) -> dict[str, object]:
    """`what`: the field that says what it is for (`provider`, `type`), named as the API does."""
    facts = row.facts
    return {
        "id": facts.id,
        "name": facts.name,
        what: facts.what,
        "workspace_id": facts.workspace_id,
        "managed_by": [{"stack": d.stack, "entry": d.setting} for d in row.owners],
        "key_hashes": None if facts.key_hashes is None else list(facts.key_hashes),
        "deleted_key_hashes": list(row.deleted),
    }
