"""The CLI's door to OpenRouter: the project's one client, GET requests only, errors translated.

Every call here is a read (`GET /key`, `GET /keys`, `GET /keys/{hash}`); the commands never
create, change or delete anything. `providers` errors become CLI diagnostics at this seam, so no
raw client message reaches a user unredacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from cli import audit, diagnostics
from cli import recover as recovery
from cli.diagnostics import CliError
from cli.doctor import DoctorReport, ExpectedType, KeyFacts, verdict
from cli.keysource import KeyInput
from cli.stack_outputs import ManagedKey
from providers import (
    ApiError,
    ClientSettings,
    CurrentKey,
    KeyNotFound,
    NetworkError,
    OpenRouterClient,
    OpenRouterError,
    UnauthorizedError,
    base_url_problem,
    find_api_base_url,
    mask,
    normal_base_url,
    parse_instant,
    redact,
)

__all__ = ["base_url", "doctor", "observe", "recover"]


def base_url(flag: str | None, env: Mapping[str, str]) -> str:
    """`--api-base-url`, else $OPENROUTER_API_BASE_URL, else the real API; keys never go over
    plain http except to loopback (the emulator): the rule of providers/credentials.py."""
    found = find_api_base_url(None, env, flag=flag)
    problem = base_url_problem(found.value)
    if problem is not None:
        source = found.setting if found.setting.startswith("--") else f"${found.setting}"
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
) -> list[audit.ObservedKey]:
    """Every key of the account, complete or not at all.

    A managed key missing from the listed workspaces is looked up by hash before it is called
    missing: it may live in a workspace the run did not list.
    """
    with _management_client(key, url) as client:
        found: dict[str, audit.ObservedKey] = {}
        try:
            for workspace in workspaces or (None,):
                for record in client.list_keys(workspace_id=workspace):
                    found.setdefault(record.hash, record)
        except OpenRouterError as error:
            raise diagnostics.key_list_incomplete(url, _cause(error)) from None

        for key_hash in dict.fromkeys(entry.hash for entry in managed):
            if key_hash in found:
                continue
            try:
                found[key_hash] = client.get_key(key_hash)
            except KeyNotFound:
                continue
            except OpenRouterError as error:
                raise _translate(error, url, f"looking up managed key {key_hash}") from None
    return list(found.values())


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
