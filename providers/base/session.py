"""What one provider process knows: what `configure()` saw, the credentials each call uses, and
which management keys the key-type guard has accepted.

None of it may travel in a pickle (the provider instance is pickled into state), so it lives in
a process-wide registry instead of on the instance (docs/adr/0001-management-key-at-run-time.md).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from providers.base.messages import FailureKind, provider_error
from providers.base.refresh_settings import (
    Recorded,
    recorded_url,
    refuse_stale_refresh,
    serving_urn,
)
from providers.http.client import ClientSettings, CurrentKey, KeyRecord, OpenRouterClient
from providers.http.credentials import (
    CONFIG_API_BASE_URL,
    CONFIG_MANAGEMENT_KEY,
    Credentials,
    base_url_problem,
    find_api_base_url,
    find_management_key,
    is_header_safe,
    key_source,
    normal_base_url,
)
from providers.http.errors import UnauthorizedError
from providers.http.listing import LISTINGS, verdict_pending
from providers.http.redaction import redact


@dataclass(frozen=True)
class StackSettings:
    """What `configure()` found in the stack config (values may be absent)."""

    management_key: str | None = field(default=None, repr=False)
    api_base_url: str | None = None


def stack_settings_from(config: Mapping[str, Any] | Any) -> StackSettings:
    """From the `pulumi.dynamic.Config` (or any mapping) `configure()` receives."""
    management_key = config.get(CONFIG_MANAGEMENT_KEY)
    api_base_url = config.get(CONFIG_API_BASE_URL)
    return StackSettings(
        management_key=management_key if isinstance(management_key, str) else None,
        api_base_url=api_base_url if isinstance(api_base_url, str) else None,
    )


class _Verdict:
    """One `GET /key` in flight for one credential: what every caller asking meanwhile waits
    for, so parallel first calls make one request, not one each."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.current: CurrentKey | None = None
        self.error: Exception | None = None


class _ProcessMemory:
    """Process-local state that must never travel in a pickle.

    It holds what `configure()` saw per provider instance (weakly, so it dies with the
    instance) and the cache keys of credentials the guard has accepted. Many RPCs run at
    once on one instance, hence the lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stack_settings: weakref.WeakKeyDictionary[object, StackSettings] = (
            weakref.WeakKeyDictionary()
        )
        self.verified_management_keys: set[str] = set()
        self.verdicts: dict[str, _Verdict] = {}
        """Credential cache key -> its `GET /key` in flight."""
        self.unavailable: dict[str, str] = {}
        """Credential cache key -> why the API could not be reached, so that one preview does
        not wait out the retries again for every key once it knows the API is down."""
        self.listings: dict[str, tuple[KeyRecord, ...]] = {}
        """Credential cache key -> the account's keys as first listed in this process."""
        self.clients: dict[str, OpenRouterClient] = {}
        """Credential cache key -> the one client (connection pool) of these credentials."""

    def reset(self) -> None:
        with self.lock:
            self.stack_settings.clear()
            self.verified_management_keys.clear()
            self.verdicts.clear()
            self.unavailable.clear()
            self.listings.clear()
            for client in self.clients.values():
                client.close()
            self.clients.clear()


_MEMORY = _ProcessMemory()


def reset_process_memory() -> None:
    """Forget configure() results, guard verdicts and listings (a test switch; a process starts
    empty)."""
    _MEMORY.reset()
    LISTINGS.forget()


def remember_stack_settings(provider: object, settings: StackSettings) -> None:
    with _MEMORY.lock:
        _MEMORY.stack_settings[provider] = settings


def resolve_credentials(
    stack: StackSettings | None, environ: Mapping[str, str] | None = None
) -> Credentials:
    """The management key and a URL it may travel to, or a `ProviderError` naming the setting.

    Read at call time, so a rotated management key needs no `pulumi up`.
    """
    stack = stack or StackSettings()
    environ = os.environ if environ is None else environ
    key = find_management_key(stack.management_key, environ)
    if key is None:
        raise provider_error("management-key-missing")
    source = key_source(key.setting)
    if not is_header_safe(key.value):
        raise provider_error("management-key-unsendable", source=source)
    url = find_api_base_url(stack.api_base_url, environ)
    problem = base_url_problem(url.value)
    if problem is not None:
        raise provider_error(
            "api-base-url-unsafe", setting=url.setting, url=url.value, problem=problem
        )
    return Credentials(key.value, normal_base_url(url.value), source)


def credentials_of(provider: object) -> Credentials:
    """The credentials for a call on `provider`, from what its `configure()` saw.

    In a refresh, that is what the last `pulumi up` recorded: refused first if the stack file
    now says otherwise (providers/base/refresh_settings.py).
    """
    with _MEMORY.lock:
        stack = _MEMORY.stack_settings.get(provider)
    urn = serving_urn()
    if urn is None:
        return resolve_credentials(stack)
    recorded = stack or StackSettings()
    refuse_stale_refresh(
        Recorded(recorded_url(recorded.api_base_url), recorded.management_key is not None), urn
    )
    credentials = resolve_credentials(stack)
    if recorded.management_key is None:
        return credentials  # from the environment, read now
    return replace(credentials, source=f"{credentials.source}, as the last `pulumi up` recorded it")


@contextmanager
def open_client(credentials: Credentials) -> Iterator[OpenRouterClient]:
    """The management key's client on the credentials' URL, one per process and credentials.

    Shared by the provider's worker threads (an httpx client may be shared between
    threads) and closed with the process: a client per operation cost ~1.5 ms and a TLS
    handshake each (bench/README.md, finding 5).
    """
    cache_key = credentials.guard_cache_key()
    with _MEMORY.lock:
        client = _MEMORY.clients.get(cache_key)
        if client is None:
            client = OpenRouterClient(
                ClientSettings(api_key=credentials.management_key, base_url=credentials.base_url)
            )
            _MEMORY.clients[cache_key] = client
    yield client


def key_client(credentials: Credentials, api_key: str) -> OpenRouterClient:
    """A client of its own for another key on the credentials' URL (an adopted secret, asked
    once); the caller closes it."""
    return OpenRouterClient(ClientSettings(api_key=api_key, base_url=credentials.base_url))


def account_keys(client: OpenRouterClient, credentials: Credentials) -> tuple[KeyRecord, ...]:
    """Every key of the account, listed once per process (a preview, or an update).

    Only keys that existed before this process created any are needed (a new key's name must
    not be taken already), so the first listing serves every later `check`.
    """
    cache_key = credentials.guard_cache_key()
    with _MEMORY.lock:
        listed = _MEMORY.listings.get(cache_key)
        if listed is None:
            # Held across the request on purpose: parallel checks make one listing.
            listed = tuple(client.list_keys())
            _MEMORY.listings[cache_key] = listed
    return listed


def remember_unavailable(credentials: Credentials, cause: str) -> None:
    with _MEMORY.lock:
        _MEMORY.unavailable.setdefault(credentials.guard_cache_key(), cause)


def unavailable_cause(credentials: Credentials) -> str | None:
    """Why the API was found unreachable with these credentials in this process, if it was."""
    with _MEMORY.lock:
        return _MEMORY.unavailable.get(credentials.guard_cache_key())


def _verdict(
    client: OpenRouterClient, credentials: Credentials, *, beside: bool
) -> _Verdict | None:
    """The management-key check of these credentials: None when this process accepted them
    already (no request), else the one `GET /key` in flight, started here if none is (in a
    thread of its own when `beside`, so the caller's first request travels meanwhile)."""
    cache_key = credentials.guard_cache_key()
    with _MEMORY.lock:
        if cache_key in _MEMORY.verified_management_keys:
            return None
        verdict = _MEMORY.verdicts.get(cache_key)
        if verdict is not None:
            return verdict
        verdict = _MEMORY.verdicts[cache_key] = _Verdict()

    def ask() -> None:
        try:
            verdict.current = client.current_key()
        except Exception as error:
            verdict.error = error  # every caller waiting meets it (`_judged`)
        finally:
            with _MEMORY.lock:
                if verdict.current is not None and verdict.current.is_management_key:
                    _MEMORY.verified_management_keys.add(cache_key)
                if _MEMORY.verdicts.get(cache_key) is verdict:
                    del _MEMORY.verdicts[cache_key]  # a rejected key is asked again next time
            verdict.done.set()

    if beside:
        threading.Thread(target=ask, name="management-key-check", daemon=True).start()
    else:
        ask()
    return verdict


def _judged(verdict: _Verdict | None, credentials: Credentials) -> None:
    """Wait for `verdict`; raise the refusal it calls for, in the words of the guard."""
    if verdict is None:
        return
    verdict.done.wait()
    if isinstance(verdict.error, UnauthorizedError):
        raise provider_error(FailureKind.MANAGEMENT_KEY_INVALID, source=credentials.source)
    if verdict.error is not None:
        raise verdict.error
    current = verdict.current
    if current is None or not current.is_management_key:
        raise provider_error(
            FailureKind.MANAGEMENT_KEY_NOT_MANAGEMENT,
            source=credentials.source,
            label=redact((current.label if current else None) or "label unknown"),
        )


def ensure_management_key(client: OpenRouterClient, credentials: Credentials) -> None:
    """One `GET /key` per process per credential: the slot must hold a management key.

    Only the cache key of an accepted credential is kept, never the key; a rejected key is asked
    about again next time (it may have been fixed in the meantime).
    """
    _judged(_verdict(client, credentials, beside=False), credentials)


@contextmanager
def checked_beside(client: OpenRouterClient, credentials: Credentials) -> Iterator[None]:
    """A read's block, its management-key check sent beside its first request rather than
    before it (one round trip, not two, before a refresh's first answer).

    Nothing the block learnt leaves it before the verdict: `listed` waits for it before it
    answers from a listing or asks for an object by itself (providers/http/listing.py), and the
    block ends only once it is known, its refusal replacing whatever else the block met, in
    the same words as `ensure_management_key`. When this process accepted the credentials
    already, nothing is asked.
    """
    verdict = _verdict(client, credentials, beside=True)
    if verdict is None:
        yield
        return
    with verdict_pending(lambda: _judged(verdict, credentials)):
        try:
            yield
        except Exception:
            _judged(verdict, credentials)  # a refusal is the answer, whatever the block met
            raise
    _judged(verdict, credentials)


@contextmanager
def management_client(credentials: Credentials) -> Iterator[OpenRouterClient]:
    """The credentials' one client, once its key was found to be a management key: what every
    provider call that reads or writes holds."""
    with open_client(credentials) as client:
        ensure_management_key(client, credentials)
        yield client
