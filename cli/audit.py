"""`audit`: join every key of the account with what the stacks manage, and judge the result.

Keymaster's split: `gather` (the I/O: stack outputs, the full key list) is separate from
`compare`, a pure function of what the stacks manage, what the account holds, the time and the
thresholds. The audit never judges from a partial picture: a failed page, an unreadable stack
output or a stack that cannot be read stops it with an error (exit 2) and no report.
Nothing here writes: the only requests are `GET /key`, `GET /keys` and `GET /keys/{hash}`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cli import diagnostics
from cli.diagnostics import Diagnostic
from cli.keysource import REGULAR_KEY_VARIABLE
from providers import MANAGEMENT_KEY_VARIABLES

KEYS_OUTPUT = "keys"
PULUMI_TIMEOUT_SECONDS = 120
# Never handed to `pulumi stack output`, which needs none of them.
KEY_VARIABLES = (*MANAGEMENT_KEY_VARIABLES, REGULAR_KEY_VARIABLE)


# --- inputs of the compare ---------------------------------------------------------------------


@dataclass(frozen=True)
class ManagedKey:
    """One entry of a stack's `keys` output: a key the stack owns and who consumes it."""

    stack: str
    key_id: str
    hash: str
    label: str
    name: str
    generation: int
    consumers: tuple[str, ...]
    rotation: str | None = None
    retiring: bool = False
    """An older generation still alive during a rotation: managed, but wired to nothing."""


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


@dataclass(frozen=True)
class Thresholds:
    """When a key counts as expiring, near its limit or unused, and whether unused keys fail."""

    expiring_days: int = 14
    limit_percent: float = 80.0
    fail_on_unused: bool = False
    unused_days: int = 30


# --- the result --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class AuditReport:
    """Everything the renderers print; built by `compare` only."""

    now: datetime
    thresholds: Thresholds
    stacks: tuple[str, ...]
    rows: tuple[KeyRow, ...]
    findings: tuple[Diagnostic, ...]
    observed_count: int
    disabled_count: int

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

    rows.sort(key=_row_order)
    findings.sort(key=lambda f: (_FINDING_ORDER.index(f.kind), f.context.get("name", "")))
    return AuditReport(
        now=now,
        thresholds=thresholds,
        stacks=tuple(dict.fromkeys(entry.stack for entry in managed)),
        rows=tuple(rows),
        findings=tuple(findings),
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
    "unmanaged-key",
    "key-unused",
)


def _row_order(row: KeyRow) -> tuple[int, str, str, str]:
    if row.owners:
        return (0, row.owners[0].stack, row.owners[0].key_id, row.hash)
    return (1, row.name.casefold(), row.label, row.hash)


def _observed_row(key: ObservedKey, owners: tuple[ManagedKey, ...], now: datetime) -> KeyRow:
    expires_at = instant(key.expires_at)
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
        created_at=instant(key.created_at),
        usage=key.usage,
        last_used_at=instant(key.last_used_at),
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
    if row.limit <= 0:
        return 100.0
    return 100.0 * row.limit_used / row.limit


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
    percent = limit_percent(row)
    if percent is not None and percent >= thresholds.limit_percent:
        found.append(_near_limit(row, percent, thresholds))
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


# --- finding wording ---------------------------------------------------------------------------


def _context(row: KeyRow) -> dict[str, str]:
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


def _up(row: KeyRow) -> str:
    return "; ".join(
        f"`pulumi up --refresh --stack {s}`" for s in sorted({o.stack for o in row.owners})
    )


def _config_files(row: KeyRow) -> str:
    return " and ".join(f"stacks/Pulumi.{s}.yaml" for s in sorted({o.stack for o in row.owners}))


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
        context=_context(row),
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
        context=_context(row),
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
        context=_context(row),
    )


def _managed_twice(row: KeyRow) -> Diagnostic:
    return Diagnostic(
        kind="key-managed-twice",
        message=f"{row.label} is managed by {_where(row)}: destroying or rotating one deletes "
        "the key under the other.",
        hint=f"keep it in one stack; remove it from the others' state with `pulumi state delete` "
        f"after dropping it from their config ({_config_files(row)}).",
        context=_context(row),
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
        context={**_context(row), "expires_at": iso(row.expires_at)},
    )


def _expiring(row: KeyRow, now: datetime, thresholds: Thresholds) -> Diagnostic:
    assert row.expires_at is not None
    return Diagnostic(
        kind="key-expiring",
        message=f"{row.label} ({row.name}) expires in {span(row.expires_at - now)} "
        f"({iso(row.expires_at)}), within the {thresholds.expiring_days}-day threshold.",
        hint=_rotate_hint(row),
        context={**_context(row), "expires_at": iso(row.expires_at)},
    )


def _near_limit(row: KeyRow, percent: float, thresholds: Thresholds) -> Diagnostic:
    assert row.limit is not None
    assert row.limit_used is not None
    period = f" this {_PERIOD[row.limit_reset]}" if row.limit_reset in _PERIOD else ""
    fix = (
        f"raise its `limit` in {_config_files(row)} and run {_up(row)}"
        if row.owners
        else "raise its limit in the dashboard"
    )
    return Diagnostic(
        kind="key-near-limit",
        message=f"{row.label} ({row.name}) has used {percent:.0f}% of its limit{period} "
        f"({money(row.limit_used)} of {money(row.limit)}), at or above "
        f"{thresholds.limit_percent:g}%.",
        hint=f"{fix}, or find out what is spending it; requests fail once the limit is reached.",
        context={**_context(row), "percent": f"{percent:.1f}"},
    )


_PERIOD = {"daily": "day", "weekly": "week", "monthly": "month"}


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
    context = _context(row)
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


def instant(value: datetime | str | None) -> datetime | None:
    """A timestamp from the API as an aware UTC datetime; the API's formats vary."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: float) -> str:
    return f"${amount:,.2f}"


# --- stack outputs: parse (pure) ---------------------------------------------------------------


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def parse_stack_outputs(document: object, source: str, stack: str) -> list[ManagedKey]:
    """The `keys` output of one stack, checked field by field; values are never quoted back."""
    if not isinstance(document, dict):
        raise diagnostics.outputs_invalid(
            source, "the document", f"is {_json_type(document)}, not an object of stack outputs"
        )
    if KEYS_OUTPUT not in document:
        present = ", ".join(sorted(map(str, document))) or "none"
        raise diagnostics.outputs_invalid(
            source,
            f"output `{KEYS_OUTPUT}`",
            f"is missing (outputs present: {present}); the stack is not an openrouter-keys "
            "stack or was never deployed",
        )
    keys = document[KEYS_OUTPUT]
    if keys == "[secret]":
        raise diagnostics.outputs_invalid(
            source, f"output `{KEYS_OUTPUT}`", "is a secret, but it never holds key values"
        )
    if not isinstance(keys, dict):
        raise diagnostics.outputs_invalid(
            source, f"output `{KEYS_OUTPUT}`", f"is {_json_type(keys)}, not an object"
        )
    managed: list[ManagedKey] = []
    for key_id, entry in keys.items():
        managed.extend(_managed_entries(entry, f"{KEYS_OUTPUT}.{key_id}", source, stack, key_id))
    return managed


def _field(entry: dict[str, Any], name: str, path: str, source: str) -> str:
    """A string field; `hash` must also be non-empty."""
    value = entry.get(name)
    if isinstance(value, str) and (value or name != "hash"):
        return value
    want = "a non-empty string" if name == "hash" else "a string"
    if isinstance(value, str):
        problem = "is empty"
    elif name not in entry:
        problem = "is missing"
    else:
        problem = f"is {_json_type(value)}"
    raise diagnostics.outputs_invalid(source, f"{path}.{name}", f"{problem}, not {want}")


def _strings(entry: dict[str, Any], name: str, path: str, source: str) -> list[str]:
    value = entry.get(name)
    if not isinstance(value, list):
        problem = "is missing" if name not in entry else f"is {_json_type(value)}"
        raise diagnostics.outputs_invalid(
            source, f"{path}.{name}", f"{problem}, not an array of strings"
        )
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise diagnostics.outputs_invalid(
                source, f"{path}.{name}[{index}]", f"is {_json_type(item)}, not a string"
            )
    return value


def _rotation(entry: dict[str, Any], path: str, source: str) -> str | None:
    value = entry.get("rotation")
    if value is None or isinstance(value, str):
        return value
    raise diagnostics.outputs_invalid(
        source, f"{path}.rotation", f"is {_json_type(value)}, not a string or null"
    )


def _managed_entries(
    entry: object, path: str, source: str, stack: str, key_id: str
) -> list[ManagedKey]:
    """The wired key of one entry, then its `retiring` generations (older keys still alive)."""
    if not isinstance(entry, dict):
        raise diagnostics.outputs_invalid(source, path, f"is {_json_type(entry)}, not an object")
    generation = entry.get("generation")
    if isinstance(generation, bool) or not isinstance(generation, int):
        problem = "is missing" if "generation" not in entry else f"is {_json_type(generation)}"
        raise diagnostics.outputs_invalid(
            source, f"{path}.generation", f"{problem}, not an integer"
        )
    wired = ManagedKey(
        stack=stack,
        key_id=key_id,
        hash=_field(entry, "hash", path, source),
        label=_field(entry, "label", path, source),
        name=_field(entry, "name", path, source),
        generation=generation,
        consumers=tuple(_strings(entry, "consumers", path, source)),
        rotation=_rotation(entry, path, source),
    )
    retiring = entry.get("retiring", [])
    if not isinstance(retiring, list):
        raise diagnostics.outputs_invalid(
            source, f"{path}.retiring", f"is {_json_type(retiring)}, not an array"
        )
    older: list[ManagedKey] = []
    for index, item in enumerate(retiring):
        item_path = f"{path}.retiring[{index}]"
        if not isinstance(item, dict):
            raise diagnostics.outputs_invalid(
                source, item_path, f"is {_json_type(item)}, not an object"
            )
        older.append(
            ManagedKey(
                stack=stack,
                key_id=key_id,
                hash=_field(item, "hash", item_path, source),
                label=_field(item, "label", item_path, source),
                name=_field(item, "name", item_path, source),
                generation=generation,
                consumers=(),
                rotation=_rotation(item, item_path, source),
                retiring=True,
            )
        )
    return [wired, *older]


# --- stack outputs: read (I/O) -----------------------------------------------------------------


@dataclass(frozen=True)
class StackSource:
    """Where one stack's outputs come from: a file, or `pulumi stack output` when `file` is None."""

    stack: str
    file: Path | None = None

    @property
    def description(self) -> str:
        if self.file is None:
            return f"`pulumi stack output --json --stack {self.stack}`"
        return str(self.file)


def read_outputs_file(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise diagnostics.outputs_file_missing(str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        cause = (
            error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        )
        raise diagnostics.outputs_file_unreadable(str(path), cause.lower()) from None
    return _decode(text, str(path))


def _decode(text: str, source: str) -> object:
    if not text.strip():
        raise diagnostics.outputs_invalid(source, "the document", "is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg never contains the document; error.doc does, so only position is quoted.
        raise diagnostics.outputs_invalid(
            source,
            "the document",
            f"is not JSON ({error.msg} at line {error.lineno}, column {error.colno})",
        ) from None


def pulumi_stack_outputs(stack: str, env: Mapping[str, str]) -> object:
    """Run `pulumi stack output --json` for one stack; no key variable reaches the child."""
    return pulumi_stack_json(("stack", "output", "--json"), stack, env)


def pulumi_stack_json(words: Sequence[str], stack: str, env: Mapping[str, str]) -> object:
    """Run `pulumi <words> --stack <stack>` and decode its JSON; no key variable reaches it."""
    executable = shutil.which("pulumi", path=env.get("PATH", os.defpath))
    if executable is None:
        raise diagnostics.pulumi_not_found(stack)
    child_env = {name: value for name, value in env.items() if name not in KEY_VARIABLES}
    child_env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    command = [executable, *words, "--non-interactive", "--stack", stack]
    shown = f"`pulumi {' '.join(words)} --stack {stack}`"
    try:
        finished = subprocess.run(  # noqa: S603 -- fixed argv, no shell, resolved executable
            command,
            env=child_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise diagnostics.stack_output_failed(
            stack, f"no answer within {PULUMI_TIMEOUT_SECONDS} s", shown
        ) from None
    except OSError as error:
        cause = str(error.strerror or error).lower()
        raise diagnostics.stack_output_failed(stack, cause, shown) from None
    if finished.returncode != 0:
        raise diagnostics.stack_output_failed(
            stack, f"exit status {finished.returncode}: {_first_line(finished.stderr)}", shown
        )
    return _decode(finished.stdout, shown)


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped[:limit]
    return "no error output"


def load_managed(sources: Iterable[StackSource], env: Mapping[str, str]) -> list[ManagedKey]:
    """Every stack's managed keys; any unreadable stack stops the audit."""
    managed: list[ManagedKey] = []
    for source in sources:
        document = (
            pulumi_stack_outputs(source.stack, env)
            if source.file is None
            else read_outputs_file(source.file)
        )
        managed.extend(parse_stack_outputs(document, source.description, source.stack))
    return managed


def stack_source(value: str, *, from_file: bool) -> StackSource:
    """`--stack NAME`, or `--outputs FILE` / `--outputs NAME=FILE` (NAME defaults to the stem)."""
    if not from_file:
        return StackSource(stack=value)
    name, sep, rest = value.partition("=")
    if sep and name and rest and "/" not in name and not Path(value).exists():
        return StackSource(stack=name, file=Path(rest))
    path = Path(value)
    return StackSource(stack=path.stem, file=path)


@dataclass
class Observation:
    """The account as listed, plus managed keys found by hash outside the listed workspaces."""

    keys: list[ObservedKey] = field(default_factory=list)
    found_by_hash: int = 0


def utc_now() -> datetime:
    return datetime.now(UTC)
