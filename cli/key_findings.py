"""The wording of each finding about a key, one function per kind, named after it: what is wrong,
in the stack's own words, and the change (in which stack file, by which command) that fixes it.
`compare` (cli/audit.py) decides which apply.
"""

from __future__ import annotations

from datetime import datetime

from cli.audit_report import KeyRow, Thresholds
from cli.diagnostics import Diagnostic
from cli.stack_outputs import ManagedKey
from cli.wording import (
    NearLimit,
    Use,
    config_files,
    consumers_of,
    iso,
    key_context,
    owner_text,
    span,
    this_period,
    up_command,
)


def _where(row: KeyRow) -> str:
    return " and ".join(owner_text(o) for o in row.owners)


def _retiring(row: KeyRow) -> bool:
    return bool(row.owners) and all(o.retiring for o in row.owners)


def _up(row: KeyRow) -> str:
    return up_command(o.stack for o in row.owners)


def _config_files(row: KeyRow) -> str:
    return config_files(o.stack for o in row.owners)


def unmanaged_key(row: KeyRow) -> Diagnostic:
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


def managed_key_missing(row: KeyRow) -> Diagnostic:
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


def managed_key_disabled(row: KeyRow) -> Diagnostic:
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


def key_managed_twice(row: KeyRow) -> Diagnostic:
    return Diagnostic(
        kind="key-managed-twice",
        message=f"{row.label} is managed by {_where(row)}: destroying or rotating one deletes "
        "the key under the other.",
        hint=f"keep it in one stack; remove it from the others' state with `pulumi state delete` "
        f"after dropping it from their config ({_config_files(row)}).",
        context=key_context(row),
    )


def retiring_key_in_use(
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


def _rotate_hint(row: KeyRow) -> str:
    if row.owners:
        return (
            f"rotate it in {_config_files(row)}: add a generation under `rotations` and give the "
            "key a later `expiresAt` (the new generation is created with it, and the consumers "
            f"move over; docs/runbooks.md#rotate-a-key), then run {_up(row)}."
        )
    return "make a replacement for whatever uses it, then delete this key in the dashboard."


def key_expired(row: KeyRow, now: datetime) -> Diagnostic:
    assert row.expires_at is not None
    return Diagnostic(
        kind="key-expired",
        message=f"{row.label} ({row.name}) expired {span(now - row.expires_at)} ago "
        f"({iso(row.expires_at)}).",
        hint=_rotate_hint(row),
        context={**key_context(row), "expires_at": iso(row.expires_at)},
    )


def key_expiring(row: KeyRow, now: datetime, thresholds: Thresholds) -> Diagnostic:
    assert row.expires_at is not None
    return Diagnostic(
        kind="key-expiring",
        message=f"{row.label} ({row.name}) expires in {span(row.expires_at - now)} "
        f"({iso(row.expires_at)}), within the {thresholds.expiring_days}-day threshold.",
        hint=_rotate_hint(row),
        context={**key_context(row), "expires_at": iso(row.expires_at)},
    )


def key_near_limit(row: KeyRow, use: Use) -> Diagnostic:
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


def key_unused(row: KeyRow, idleness: str, thresholds: Thresholds) -> Diagnostic:
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
