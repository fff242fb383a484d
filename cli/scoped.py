"""BYOK credentials and observability destinations in the audit: a pure pass after governance.

Both are objects of the account that OpenRouter can restrict to a list of key hashes
(`allowed_api_key_hashes`, `api_key_hashes`). `api.observe` lists them (`ScopedFacts`), the
stacks' `governance` outputs say which ones they manage (`governance.<section>.<id>.id`), and
`judge` reports the ones no stack manages and the ones restricted to a hash that is no key of the
account: OpenRouter uses a credential, or sends traces, for no request of such a key, and one
restricted only to deleted keys serves nobody. Pure: same inputs, same report. Only names, ids,
provider slugs, types and hashes are printed: never a secret (the API masks them anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from cli.audit_report import AuditReport, KeyRow, sort_findings
from cli.diagnostics import Diagnostic
from cli.governance import (
    DASHBOARD,
    SCOPED_KINDS,
    AccountGovernance,
    ScopedFacts,
    WorkspaceFacts,
    _Declared,
    _listed,
)
from cli.stack_outputs import ManagedGovernance
from cli.wording import config_files, owner_text, up_command
from providers import CONFIG_NAMESPACE, short_hash

ADOPT_DOCS = "docs/config.md#byok-credentials-and-observability-destinations"


@dataclass(frozen=True)
class ScopedRow:
    """One line of the audit's table of BYOK credentials and observability destinations."""

    facts: ScopedFacts
    owners: tuple[_Declared, ...]
    """The stack file entries that manage it (`prod`, `byok.openai-prod`); empty: unmanaged."""
    workspace: str
    """Its workspace as people know it: `Agents (agents)`, its id, or `global`/`default`."""
    keys: tuple[str, ...]
    """The keys it is restricted to, as the report names them; empty: every key."""
    deleted: tuple[str, ...]
    """The hashes it is restricted to that are no key of the account."""


def judge(
    report: AuditReport, account: AccountGovernance, stacks: Sequence[ManagedGovernance]
) -> AuditReport:
    """The report with the scoped objects' rows and findings added. Pure."""
    declared = _declared(stacks)
    live = {row.hash: row for row in report.rows if row.status != "missing"}
    workspaces = {w.id: w for w in account.workspaces}
    rows = tuple(
        _row(facts, declared.get((facts.section, facts.id), ()), live, workspaces)
        for facts in account.scoped
        if facts.section in account.scoped_read
    )
    gone = {row.hash: row for row in report.rows if row.status == "missing"}
    found = list(report.findings)
    for row in rows:
        if not row.owners:
            found.append(_unmanaged(row))
        if row.deleted:
            found.append(_scoped_to_deleted_key(row, gone))
    return replace(report, scoped=rows, findings=sort_findings(found))


def _declared(stacks: Sequence[ManagedGovernance]) -> dict[tuple[str, str], tuple[_Declared, ...]]:
    """(section, OpenRouter id) -> the stack file entries whose `governance` output records it."""
    found: dict[tuple[str, str], list[_Declared]] = {}
    for managed in stacks:
        for section, entries in managed.deployed.scoped.items():
            for entry_id, entry in entries.items():
                found.setdefault((section, entry.id), []).append(
                    _Declared(managed.stack, f"{section}.{entry_id}")
                )
    return {where: tuple(entries) for where, entries in found.items()}


def _row(
    facts: ScopedFacts,
    owners: tuple[_Declared, ...],
    live: Mapping[str, KeyRow],
    workspaces: Mapping[str, WorkspaceFacts],
) -> ScopedRow:
    hashes = facts.key_hashes or ()
    return ScopedRow(
        facts=facts,
        owners=owners,
        workspace=_workspace_text(facts, workspaces),
        keys=tuple(_key_text(live[h]) if h in live else f"deleted {short_hash(h)}" for h in hashes),
        deleted=tuple(h for h in hashes if h not in live),
    )


def _workspace_text(facts: ScopedFacts, workspaces: Mapping[str, WorkspaceFacts]) -> str:
    if facts.workspace_id is None:
        # A BYOK credential without a workspace serves every workspace (the API's `null`).
        return "global" if facts.section == "byok" else "default"
    known = workspaces.get(facts.workspace_id)
    return f"{known.name} ({known.slug})" if known else facts.workspace_id


def _key_text(row: KeyRow) -> str:
    """`sk-or-v1-9a1...b07 (prod/api)`, or with the key's name when no stack manages it."""
    return f"{row.label} ({', '.join(owner_text(o) for o in row.owners) or row.name})"


def entries_text(row: ScopedRow) -> str:
    """`prod/byok.openai-prod`: the stack file entries that manage it."""
    return ", ".join(f"{d.stack}/{d.setting}" for d in row.owners)


def _about(row: ScopedRow) -> str:
    """`BYOK credential OpenAI production (openai, <uuid>) in workspace Agents (agents)`."""
    facts = row.facts
    name = f"{facts.name} " if facts.name else ""
    return f"{facts.noun} {name}({facts.what}, {facts.id}) in workspace {row.workspace}"


def _context(row: ScopedRow) -> dict[str, str]:
    facts = row.facts
    context = {
        "name": facts.name,
        "section": facts.section,
        "id": facts.id,
        "what": facts.what,
        "workspace_id": facts.workspace_id or "",
        "key_hashes": ", ".join(facts.key_hashes or ()),
    }
    if row.owners:
        context["stacks"] = ", ".join(sorted({d.stack for d in row.owners}))
        context["entries"] = entries_text(row)
    return context


# --- unmanaged-byok-credential, unmanaged-observability-destination ----------------------------


def _unmanaged(row: ScopedRow) -> Diagnostic:
    facts = row.facts
    [kind] = [k for k in SCOPED_KINDS if k.section == facts.section]
    serves = (
        f"it is restricted to {len(row.keys)} key{'s' if len(row.keys) != 1 else ''}"
        if row.keys
        else "every key of the account may use it"
    )
    return Diagnostic(
        kind=kind.unmanaged,
        message=f"{_about(row)} is in the account but no stack manages it; {serves}.",
        hint=f"if it is wanted, adopt it: add an entry with `adopt: {facts.id}` under "
        f"`{CONFIG_NAMESPACE}:{facts.section}` in a stack's config (`{CONFIG_NAMESPACE}:"
        f"{facts.section}.<id>.adopt`, {ADOPT_DOCS}); otherwise delete it in the dashboard "
        f"({DASHBOARD}).",
        context=_context(row),
        severity="warning",
    )


# --- scoped-to-deleted-key ---------------------------------------------------------------------


def _scoped_to_deleted_key(row: ScopedRow, gone: Mapping[str, KeyRow]) -> Diagnostic:
    """A restriction naming a hash that is no key of the account. The hashes a stack still
    records (a managed key deleted behind its back) are named by `stack/key id`."""
    facts = row.facts
    named = [
        f"{short_hash(h)} ({', '.join(owner_text(o) for o in gone[h].owners)})"
        if h in gone
        else short_hash(h)
        for h in row.deleted
    ]
    total = len(facts.key_hashes or ())
    if len(row.deleted) == total:
        serves = "OpenRouter uses it for no key"
    else:
        left = total - len(row.deleted)
        serves = f"it serves only the other {left} key{'s' if left != 1 else ''}"
    plural = len(row.deleted) != 1
    stacks = [d.stack for d in row.owners]
    if row.owners:
        fix = (
            f"run {up_command(stacks)}: it restricts it again to the live generations of the "
            f"keys listed in {' and '.join(d.named('.keys') for d in row.owners)} "
            f"({config_files(stacks)})."
        )
    else:
        fix = (
            f"remove the deleted key{'s' if plural else ''} from its restriction in the "
            f"dashboard ({DASHBOARD}), or adopt it into a stack (`adopt: {facts.id}` and "
            f"`keys: [...]` under `{CONFIG_NAMESPACE}:{facts.section}`, {ADOPT_DOCS}), whose "
            "`pulumi up` keeps the restriction on the live keys."
        )
    return Diagnostic(
        kind="scoped-to-deleted-key",
        message=f"{_about(row)} is restricted to {len(row.deleted)} key"
        f"{'s' if plural else ''} that no longer exist{'' if plural else 's'} "
        f"({_listed(named)}); {serves}.",
        hint=fix,
        context={**_context(row), "deleted_hashes": ", ".join(row.deleted)},
        severity="error" if len(row.deleted) == total else "warning",
    )
