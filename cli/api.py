"""The CLI's door to OpenRouter: the project's one client, GET requests only, errors translated.

Every call here is a read (`GET /key`, `GET /keys`, `GET /keys/{hash}`, and for the audit the
guardrail, workspace, BYOK credential and observability destination listings); `doctor` and
`audit` never create, change or delete anything.
`providers` errors become CLI diagnostics at this seam, so no raw client message reaches a user
unredacted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TypeVar

from cli import audit, diagnostics
from cli import recover as recovery
from cli.diagnostics import CliError
from cli.doctor import DoctorReport, ExpectedType, KeyFacts, verdict
from cli.governance import (
    SCOPED_KINDS,
    AccountGovernance,
    AuditedKind,
    GuardrailFacts,
    ScopedFacts,
    WorkspaceFacts,
)
from cli.keysource import KeyInput
from cli.stack_outputs import ManagedKey
from providers import (
    ENV_API_BASE_URL,
    ApiError,
    Budgets,
    ClientSettings,
    CurrentKey,
    GuardrailRecord,
    KeyNotFound,
    KeyRecord,
    NetworkError,
    NotFoundError,
    OpenRouterClient,
    OpenRouterError,
    UnauthorizedError,
    WorkspaceRecord,
    all_assignments,
    base_url_problem,
    find_api_base_url,
    get_budgets,
    get_guardrail,
    list_guardrails,
    list_workspaces,
    mask,
    normal_base_url,
    parse_instant,
    redact,
)

_T = TypeVar("_T")

__all__ = ["base_url", "doctor", "observe", "recover"]


def base_url(flag: str | None, env: Mapping[str, str], stack_value: str | None = None) -> str:
    """`--api-base-url`, else the stack's `apiBaseUrl` (for a command about one stack), else
    $OPENROUTER_API_BASE_URL, else the real API, in the provider's order; keys never go over
    plain http except to loopback (the emulator): the rule of providers/http/credentials.py."""
    found = find_api_base_url(stack_value, env, flag=flag)
    problem = base_url_problem(found.value)
    if problem is not None:
        source = f"${found.setting}" if found.setting == ENV_API_BASE_URL else found.setting
        raise diagnostics.api_base_url_invalid(source, found.value, problem)
    return normal_base_url(found.value)


def _settings(key: KeyInput, url: str) -> ClientSettings:
    return ClientSettings(api_key=key.value, base_url=url)


def _cause(error: OpenRouterError) -> str:
    """The status and OpenRouter's own words; for other failures the client's message, whose
    `METHOD /path: ` prefix the CLI's message already says in its own words."""
    if isinstance(error, ApiError):
        said = f' "{error.api_message}"' if error.api_message else ""
        return redact(f"HTTP {error.status}{said}")
    text = str(error).removeprefix(f"{error.method} {error.path}: ")
    return redact(text).rstrip(".")


def _translate(error: OpenRouterError, url: str, what: str) -> CliError:
    if isinstance(error, NetworkError):
        return diagnostics.api_unreachable(url, _cause(error))
    return diagnostics.api_failed(url, what, _cause(error))


# --- doctor ------------------------------------------------------------------------------------


def facts_of(current: CurrentKey) -> KeyFacts:
    return KeyFacts(
        is_management_key=bool(current.is_management_key),
        limit=current.limit,
        limit_remaining=current.limit_remaining,
        limit_reset=current.limit_reset,
        usage=current.usage,
        usage_daily=current.usage_daily,
        usage_weekly=current.usage_weekly,
        usage_monthly=current.usage_monthly,
        expires_at=parse_instant(current.expires_at),
        workspace_id=current.workspace_id,
        budgets=current.budgets,
        blocking=current.effective_budget,
    )


def doctor(key: KeyInput, url: str, expected: ExpectedType | None, now: datetime) -> DoctorReport:
    """`GET /key` with the key under test; a 401 is a verdict (rejected), not an error."""
    facts: KeyFacts | None = None
    rejection: str | None = None
    try:
        with OpenRouterClient(_settings(key, url)) as client:
            facts = facts_of(client.current_key())
    except UnauthorizedError as error:
        rejection = _cause(error)
    except OpenRouterError as error:
        raise _translate(error, url, "describing the key (GET /key)") from None
    return verdict(
        label=mask(key.value),
        source=key.source,
        api_base_url=url,
        expected=expected,
        facts=facts,
        rejection=rejection,
        now=now,
    )


# --- audit -------------------------------------------------------------------------------------


def _management_client(key: KeyInput, url: str) -> OpenRouterClient:
    """A client whose key OpenRouter has just confirmed to be a management key."""
    label = mask(key.value)
    client = OpenRouterClient(_settings(key, url))
    try:
        current = client.current_key()
    except UnauthorizedError:
        client.close()
        raise diagnostics.management_key_rejected(label, key.source) from None
    except OpenRouterError as error:
        client.close()
        raise _translate(error, url, "checking the management key (GET /key)") from None
    if not current.is_management_key:
        client.close()
        raise diagnostics.not_a_management_key(label, key.source)
    return client


def observe(
    key: KeyInput,
    url: str,
    managed: Sequence[ManagedKey],
    workspaces: Sequence[str],
) -> tuple[Sequence[audit.ObservedKey], AccountGovernance]:
    """Every key of the account, complete or not at all; and its guardrails, workspaces,
    budgets, BYOK credentials and observability destinations, as far as the account lets them
    be read.

    With the workspaces readable, the keys, credentials and destinations of every workspace are
    listed; otherwise the keys of the `--workspace`s given, or of the default workspace, and the
    credentials and destinations of the default workspace and of those given. A managed key, or
    a key a credential or destination is restricted to, missing from the listed workspaces is
    looked up by hash before it is called missing: it may live in a workspace the run did not
    list.
    """
    with _management_client(key, url) as client:
        unreadable: list[str] = []
        try:
            listed = _read(lambda: list_workspaces(client), "GET /workspaces", url)
        except _UnreadableError as why:
            listed = None
            unreadable.append(str(why))
        key_workspaces = _key_workspaces(listed, workspaces)
        scoped_workspaces = key_workspaces if listed is not None else (None, *key_workspaces)
        scoped, scoped_read = _all_scoped(client, url, dict.fromkeys(scoped_workspaces))
        unreadable += scoped_read.unreadable
        wanted = [entry.hash for entry in managed]
        wanted += [h for facts in scoped for h in facts.key_hashes or ()]
        keys = _all_keys(client, url, wanted, key_workspaces)
        governance = (
            AccountGovernance() if listed is None else _governance(client, url, listed, keys)
        )
        return keys, replace(
            governance,
            scoped=scoped,
            scoped_read=scoped_read.sections,
            unreadable=(*unreadable, *governance.unreadable),
        )


def _key_workspaces(
    listed: Sequence[WorkspaceRecord] | None, asked: Sequence[str]
) -> tuple[str | None, ...]:
    """Whose keys to list: every workspace when they are known (a slug given is mapped to its
    id, so no workspace is listed twice); else the ones asked for, or the default workspace."""
    if listed is None:
        return tuple(asked) or (None,)
    by_slug = {w.slug: w.id for w in listed}
    wanted = [w.id for w in listed] + [by_slug.get(name, name) for name in asked]
    return tuple(dict.fromkeys(wanted)) or (None,)


def _all_keys(
    client: OpenRouterClient,
    url: str,
    wanted: Sequence[str],
    workspaces: Iterable[str | None],
) -> list[KeyRecord]:
    """The keys of `workspaces`, and each `wanted` hash found in none of them that still
    exists."""
    found: dict[str, KeyRecord] = {}
    try:
        for workspace in workspaces:
            for record in client.list_keys(workspace_id=workspace):
                found.setdefault(record.hash, record)
    except OpenRouterError as error:
        raise diagnostics.key_list_incomplete(url, _cause(error)) from None

    for key_hash in dict.fromkeys(wanted):
        if key_hash in found:
            continue
        try:
            found[key_hash] = client.get_key(key_hash)
        except KeyNotFound:
            continue
        except OpenRouterError as error:
            raise _translate(error, url, f"looking up key {key_hash}") from None
    return list(found.values())


# --- guardrails, workspaces and budgets --------------------------------------------------------


class _UnreadableError(Exception):
    """The account does not let a governance route be read (403 or 404): nothing to judge."""


UNREADABLE_STATUSES = frozenset({403, 404})
"""An account without workspaces, guardrails or Enterprise budgets answers these routes so."""


def _read(call: Callable[[], _T], what: str, url: str) -> _T:
    """One governance read; 403/404 is `_UnreadableError`, any other failure stops the audit
    (it never judges from a partial picture)."""
    try:
        return call()
    except ApiError as error:
        if error.status in UNREADABLE_STATUSES:
            raise _UnreadableError(f"{what} answered {_cause(error)}") from None
        raise _translate(error, url, f"reading {what}") from None
    except OpenRouterError as error:
        raise _translate(error, url, f"reading {what}") from None


def _governance(
    client: OpenRouterClient,
    url: str,
    workspaces: Sequence[WorkspaceRecord],
    keys: Sequence[KeyRecord],
) -> AccountGovernance:
    """One listing of the assignments, the guardrails of each workspace, a workspace's default
    guardrail only where a key without a guardrail of its own depends on it and the listing did
    not show it, and the budgets of each workspace that holds keys."""
    unreadable: list[str] = []
    assignments: dict[str, str] = {}
    guardrails: list[GuardrailFacts] | None = None
    try:
        assignments = _read(
            lambda: all_assignments(client), "GET /guardrails/assignments/keys", url
        )
        guardrails = _guardrails(client, url, workspaces, keys, assignments)
    except _UnreadableError as why:
        unreadable.append(str(why))
    budgets: dict[str, Budgets] | None = None
    try:
        budgets = _budgets(client, url, workspaces, keys)
    except _UnreadableError as why:
        unreadable.append(str(why))
    return AccountGovernance(
        workspaces=tuple(_workspace_facts(w, (budgets or {}).get(w.id)) for w in workspaces),
        guardrails=tuple(guardrails or ()),
        assignments=assignments if guardrails is not None else {},
        guardrails_read=guardrails is not None,
        budgets_read=budgets is not None,
        unreadable=tuple(unreadable),
    )


def _guardrails(
    client: OpenRouterClient,
    url: str,
    workspaces: Sequence[WorkspaceRecord],
    keys: Sequence[KeyRecord],
    assignments: Mapping[str, str],
) -> list[GuardrailFacts]:
    found: list[GuardrailFacts] = []
    for workspace in workspaces:
        listed = _read(
            partial(list_guardrails, client, workspace.id),
            f"GET /guardrails?workspace_id={workspace.id}",
            url,
        )
        found += [GuardrailFacts.of(record.fields()) for record in listed]
    known = {g.id for g in found}
    for workspace in workspaces:
        default_id = workspace.default_guardrail_id
        if default_id is None or default_id in known:
            continue
        if any(
            k.workspace_id == workspace.id and not k.disabled and k.hash not in assignments
            for k in keys
        ):
            default = _default_guardrail(client, url, default_id)
            if default is not None:
                found.append(default)
    return found


def _budgets(
    client: OpenRouterClient,
    url: str,
    workspaces: Sequence[WorkspaceRecord],
    keys: Sequence[KeyRecord],
) -> dict[str, Budgets]:
    """The budgets of each workspace that holds keys (one without keys spends nothing)."""
    return {
        workspace.id: _read(
            partial(get_budgets, client, workspace.id),
            f"GET /workspaces/{workspace.id}/budgets",
            url,
        )
        for workspace in workspaces
        if any(k.workspace_id == workspace.id for k in keys)
    }


def _default_guardrail(
    client: OpenRouterClient, url: str, guardrail_id: str
) -> GuardrailFacts | None:
    """A workspace's default guardrail; None while it was never configured (GET answers 404)."""

    def get() -> GuardrailRecord | None:
        try:
            return get_guardrail(client, guardrail_id)
        except NotFoundError:
            return None

    record = _read(get, f"GET /guardrails/{guardrail_id}", url)
    return None if record is None else GuardrailFacts.of(record.fields())


@dataclass(frozen=True)
class _ScopedRead:
    sections: frozenset[str]
    """The `AuditedKind.section`s read."""
    unreadable: tuple[str, ...]


def _all_scoped(
    client: OpenRouterClient, url: str, workspaces: Iterable[str | None]
) -> tuple[tuple[ScopedFacts, ...], _ScopedRead]:
    """Every BYOK credential and observability destination of `workspaces` (None: the default
    workspace), each once; a kind whose listing answers 403 or 404 is unread, not a failure."""
    found: dict[tuple[str, str], ScopedFacts] = {}
    read: set[str] = set()
    unreadable: list[str] = []
    for kind in SCOPED_KINDS:
        try:
            for facts in _scoped(client, url, kind, workspaces):
                found.setdefault((kind.section, facts.id), facts)
        except _UnreadableError as why:
            unreadable.append(str(why))
        else:
            read.add(kind.section)
    return tuple(found.values()), _ScopedRead(frozenset(read), tuple(unreadable))


def _scoped(
    client: OpenRouterClient,
    url: str,
    kind: AuditedKind,
    workspaces: Iterable[str | None],
) -> list[ScopedFacts]:
    api = kind.api()
    found: list[ScopedFacts] = []
    for workspace in workspaces:
        query = f"?workspace_id={workspace}" if workspace else ""
        listed = _read(partial(api.list, client, workspace), f"GET {api.collection}{query}", url)
        found += [ScopedFacts.of(kind, api.noun, record.fields()) for record in listed]
    return found


def _workspace_facts(record: WorkspaceRecord, budgets: Budgets | None) -> WorkspaceFacts:
    return WorkspaceFacts(
        id=record.id,
        name=record.name,
        slug=record.slug,
        default_guardrail_id=record.default_guardrail_id,
        budgets={str(interval): limit for interval, limit in budgets.limits.items()}
        if budgets
        else {},
        include_byok=bool(budgets and budgets.include_byok),
    )


# --- recover -----------------------------------------------------------------------------------


def recover(
    key: KeyInput, url: str, interrupted: recovery.Interrupted, *, delete: bool
) -> tuple[list[recovery.Leftover], list[str]]:
    """The leftovers of an interrupted update, deleted when `delete`; and what failed."""
    with _management_client(key, url) as client:
        try:
            observed = client.list_keys()
        except OpenRouterError as error:
            raise diagnostics.key_list_incomplete(url, _cause(error)) from None
        found = recovery.leftovers(interrupted, observed)
        problems = recovery.delete_all(client, found) if delete else []
    return found, problems
