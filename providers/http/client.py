"""OpenRouterClient: the project's only `httpx.Client`, one method per key-management endpoint.

Base URL, timeouts, auth and the no-redirect rule live here and nowhere else, and this is the
only module that catches `httpx` exceptions: `providers.http.http_errors` makes each one of
`providers.http.errors`, marked definite (the request certainly had no effect) or ambiguous.

`GET`, `PATCH` and `DELETE` are retried through `retry.call_idempotent`. `POST /keys` never is:
the API has no idempotency key, and a create whose response is lost leaves a key nobody can use
(its secret was shown once, to nobody). So a create is re-sent only after a *definite* failure
(429, or a connection that never opened), and an ambiguous one is swept: the keys it may have
made are found by name and creation time, deleted, and the create is tried once more
(`providers.http.lost_create`, the one mechanism every create uses;
docs/adr/0002-ambiguous-create.md).
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import quote

import httpx

from providers.http.credentials import (
    BASE_URL_FIX,
    DEFAULT_BASE_URL,
    KEYS_PAGE,
    base_url_problem,
    is_header_safe,
)
from providers.http.errors import (
    AUDIT_COMMAND,
    InvalidRequestError,
    InvalidResponseError,
    KeyNotFound,
    OpenRouterError,
)
from providers.http.http_errors import HTTPX_ERRORS, from_httpx, from_status, json_body
from providers.http.lost_create import (
    Leftover,
    LostCreate,
    Window,
    made_since,
    settle_create,
    settle_delay,
)
from providers.http.paging import PAGE_SIZE, Page, walk
from providers.http.retry import (
    RetryPolicy,
    SharedPause,
    backoff_delay,
    call_idempotent,
    is_transient,
)
from providers.http.wire import (
    BudgetLayer,
    CatalogueModel,
    CatalogueProvider,
    CreatedKey,
    CreateKeyRequest,
    CurrentKey,
    KeyRecord,
    WireError,
    parse_created,
    parse_current,
    parse_key,
    parse_key_page,
    parse_models,
    parse_providers,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRY_SECONDS",
    "DEFAULT_READ_TIMEOUT",
    "PAGE_SIZE",
    "BudgetLayer",
    "CatalogueModel",
    "CatalogueProvider",
    "ClientSettings",
    "CreateKeyRequest",
    "CreatedKey",
    "CurrentKey",
    "KeyRecord",
    "OpenRouterClient",
]

_log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 30.0
DEFAULT_MAX_ATTEMPTS: Final = 4
DEFAULT_MAX_RETRY_SECONDS: Final = 30.0

MODELS_PATH: Final = "/models"
PROVIDERS_PATH: Final = "/providers"
MODELS_PAGE: Final = 1000
"""The largest page `GET /models` serves."""

_USER_AGENT: Final = "openrouter-keys"
_T = TypeVar("_T")


@dataclass(frozen=True)
class ClientSettings:
    """Where and how to talk to OpenRouter. `sleep` is the test switch for no-wait retries."""

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        if not self.api_key.strip():
            raise InvalidRequestError(
                "ClientSettings.api_key is empty: no key to authenticate with; set the key.",
                method="",
                path="",
            )
        if not is_header_safe(self.api_key.strip()):
            # Said without the value: httpx and h11 would echo it in their own error text.
            raise InvalidRequestError(
                "ClientSettings.api_key holds characters an HTTP header cannot carry (spaces,"
                " control characters or non-ASCII); copy the key again, without extra characters.",
                method="",
                path="",
            )
        problem = base_url_problem(self.base_url)
        if problem is not None:
            # Enforced here so that no request can bypass the rule (providers/http/credentials.py).
            raise InvalidRequestError(
                f"ClientSettings.base_url {self.base_url!r} cannot be used: {problem}. Nothing"
                f" was sent. Fix: {BASE_URL_FIX}.",
                method="",
                path="",
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("ClientSettings timeouts must be positive: no request runs unbounded")
        if self.max_attempts < 1:
            raise ValueError("ClientSettings.max_attempts must be at least 1")
        if self.max_retry_seconds < 0:
            raise ValueError("ClientSettings.max_retry_seconds must not be negative")

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            max_seconds=self.max_retry_seconds,
            sleep=self.sleep,
        )


_TLS_LOCK: Final = threading.Lock()
_TLS_CONTEXTS: list[ssl.SSLContext] = []


def _tls_context() -> ssl.SSLContext:
    """One verified TLS context per process (CA bundle, `SSL_CERT_FILE`, as httpx's default).

    Loading the CA bundle is most of the cost of a new client (~20 ms); an `SSLContext` is safe
    to share between threads. Built under a lock: the provider's worker threads ask for it
    together, and a bare cache let each of them build one (bench/README.md, finding 5).
    """
    with _TLS_LOCK:
        if not _TLS_CONTEXTS:
            _TLS_CONTEXTS.append(httpx.create_ssl_context())
        return _TLS_CONTEXTS[0]


class OpenRouterClient:
    """One connection pool to the key-management API; use it as a context manager."""

    def __init__(
        self, settings: ClientSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._policy = settings.retry_policy()
        self._clock: Callable[[], float] = time.monotonic
        self._pause = SharedPause()
        self._own_pause = threading.local()
        """Per thread: the pause its own retry loop already waited out (its answer asked for it)."""
        try:
            self._http = httpx.Client(
                base_url=settings.base_url,
                headers={
                    "Authorization": f"Bearer {settings.api_key.strip()}",
                    "User-Agent": _USER_AGENT,
                    "Accept": "application/json",
                },
                timeout=settings.timeout(),
                follow_redirects=False,
                verify=_tls_context(),
                transport=transport,
            )
        except HTTPX_ERRORS as error:
            raise from_httpx(error, "INIT", "/", settings.base_url) from None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"OpenRouterClient(base_url={self._settings.base_url!r})"

    # --- endpoints ------------------------------------------------------------------------------

    def current_key(self) -> CurrentKey:
        """`GET /key`: what the calling key is (management or not), its limits and usage."""
        return self._parse(parse_current, self.get_json("/key"), "GET", "/key")

    def list_keys(self, workspace_id: str | None = None) -> list[KeyRecord]:
        """Every key (disabled and expired ones too) of a workspace, de-duplicated by hash."""
        records, _ = self._list_with_server_time(workspace_id)
        return records

    def get_key(self, hash_: str) -> KeyRecord:
        """`GET /keys/{hash}`; raises `KeyNotFound` on 404."""
        path = _key_path(hash_, "GET")
        return self._parse(parse_key, self.get_json(path), "GET", path)

    def update_key(self, hash_: str, changes: Mapping[str, object]) -> KeyRecord:
        """One `PATCH /keys/{hash}` carrying exactly `changes`."""
        path = _key_path(hash_, "PATCH")
        body = dict(changes)
        response = call_idempotent(
            lambda: self._request("PATCH", path, body=body),
            method="PATCH",
            retry_on=is_transient,
            policy=self._policy,
        )
        return self._parse(parse_key, json_body(response, "PATCH", path), "PATCH", path)

    def delete_key(self, hash_: str) -> None:
        """`DELETE /keys/{hash}`; a 404 counts as done (the key is gone either way)."""
        path = _key_path(hash_, "DELETE")
        try:
            call_idempotent(
                lambda: self._request("DELETE", path),
                method="DELETE",
                retry_on=is_transient,
                policy=self._policy,
            )
        except KeyNotFound:
            return

    def create_key(self, request: CreateKeyRequest) -> CreatedKey:
        """`POST /keys`, never blindly retried; an ambiguous outcome is swept, then tried once
        more, or reported as `AmbiguousCreateError` with nothing left behind (lost_create.py)."""
        name = request.name

        def made(window: Window) -> list[str]:
            """Same name, stamped in the window on the server's clock, never used."""
            records, server_now = self._list_with_server_time(request.workspace_id)
            since = window.since(server_now)
            return [record.hash for record in records if is_orphan(record, name, since)]

        def pause(cause: OpenRouterError) -> None:
            self._settings.sleep(settle_delay(cause, self._settings.read_timeout))

        return settle_create(
            LostCreate(
                path="/keys",
                what=f"key {name!r}",
                key_name=name,
                send=lambda: self._post_create(request),
                made=made,
                delete=self.delete_key,
                clock=self._clock,
                words=Leftover(
                    sought="a key it made",
                    stray=f"a key named {name!r} may exist that nobody holds the secret of",
                    where=f"with `{AUDIT_COMMAND}` (an unmanaged key) or at {KEYS_PAGE}",
                    both="Any key either attempt made was found and deleted",
                ),
                pause=pause,
                again=lambda created: created.record.hash,
            )
        )

    # --- the public catalogue ------------------------------------------------------------------

    def list_models(self) -> list[CatalogueModel]:
        """`GET /models?output_modalities=all`: every model OpenRouter lists, whatever it outputs
        (the default is text models only). Without `offset` and `limit` the answer is the whole
        list; should it say it holds fewer than `total_count`, the rest is read page by page."""

        def fetch(offset: int) -> Page[CatalogueModel]:
            params: dict[str, str | int] = {"output_modalities": "all"}
            if offset:
                params |= {"offset": offset, "limit": MODELS_PAGE}
            payload = self.get_json(MODELS_PATH, params)
            models, total = self._parse(parse_models, payload, "GET", MODELS_PATH)
            # No `total_count`: the answer is the whole list.
            return Page(models, offset + len(models) if total is None else total)

        return walk(MODELS_PATH, fetch)

    def list_providers(self) -> list[CatalogueProvider]:
        """`GET /providers`: every provider OpenRouter routes to, by slug and name."""
        payload = self.get_json(PROVIDERS_PATH)
        return self._parse(parse_providers, payload, "GET", PROVIDERS_PATH)

    # --- guardrails and workspaces (typed by providers/governance_api.py) -----------------------

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """One `GET`, retried while transient; `NotFoundError` on 404."""
        response = call_idempotent(
            lambda: self._request("GET", path, params=params),
            method="GET",
            retry_on=is_transient,
            policy=self._policy,
        )
        return json_body(response, "GET", path)

    def list_json(self, path: str, params: Mapping[str, str | int] | None = None) -> list[Any]:
        """Every item of an offset/limit listing, until `total_count` is reached: the pages after
        the first asked for together (providers/http/paging.py;
        docs/reference/openrouter-api.md §7)."""

        def fetch(offset: int) -> Page[Any]:
            page = self.get_json(path, {**(params or {}), "offset": offset, "limit": PAGE_SIZE})
            return _page_of(page, path)

        return walk(path, fetch, page_size=PAGE_SIZE)

    def send_json(
        self, method: str, path: str, body: Mapping[str, object] | None = None
    ) -> Any:
        """One `PATCH`, `PUT` or `DELETE`, or a `POST` that sets state (a guardrail assignment),
        retried while transient; a create goes through `post_json` instead."""
        response = call_idempotent(
            lambda: self._request(method, path, body=body),
            method=method,
            retry_on=is_transient,
            policy=self._policy,
            path=path,
        )
        return json_body(response, method, path)

    def post_json(self, path: str, body: Mapping[str, object]) -> Any:
        """A create: sent again only after a definite, transient failure (see `_post_once`)."""
        return json_body(self._post_once(path, body), "POST", path)

    # --- create internals -----------------------------------------------------------------------

    def _post_create(self, request: CreateKeyRequest) -> CreatedKey:
        response = self._post_once("/keys", request.to_json())
        return self._parse(parse_created, json_body(response, "POST", "/keys"), "POST", "/keys")

    def _post_once(self, path: str, body: Mapping[str, object]) -> httpx.Response:
        """POST until it succeeds or fails; re-sent only after a definite, transient failure
        (429, or a connection that never opened), where nothing can have been created."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._request("POST", path, body=body)
            except OpenRouterError as error:
                if not (error.definite and is_transient(error)):
                    raise
                if attempt >= self._policy.max_attempts:
                    raise
                delay = backoff_delay(attempt, self._policy, getattr(error, "retry_after", None))
                if self._clock() - started + delay > self._policy.max_seconds:
                    raise
                _log.debug(
                    "POST %s definite %s, attempt %d; sending again", path, error.kind, attempt
                )
                self._settings.sleep(delay)

    # --- list internals -------------------------------------------------------------------------

    def _list_with_server_time(
        self, workspace_id: str | None
    ) -> tuple[list[KeyRecord], datetime | None]:
        """All pages, those after a full one asked for ahead (providers/http/paging.py); also the
        server's clock at the first page (its `Date` header), which is asked for alone."""
        clock: list[datetime | None] = []

        def fetch(offset: int) -> Page[KeyRecord]:
            # The API hides disabled and expired keys unless asked; an audit must see both.
            params: dict[str, str | int] = {
                "include_disabled": "true",
                "include_expired": "true",
                "offset": offset,
            }
            if workspace_id is not None:
                params["workspace_id"] = workspace_id
            response = call_idempotent(
                functools.partial(self._request, "GET", "/keys", params=params),
                method="GET",
                retry_on=is_transient,
                policy=self._policy,
            )
            if not clock:
                clock.append(_server_time(response))
            payload = json_body(response, "GET", "/keys")
            records = self._parse(parse_key_page, payload, "GET", "/keys")
            return Page(records, status=response.status_code)

        records = walk(
            "/keys", fetch, ident=lambda record: record.hash, noun="key", page_size=PAGE_SIZE
        )
        return records, clock[0]

    # --- transport ------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> httpx.Response:
        """One HTTP exchange; a non-2xx status or any httpx failure becomes our error.

        Sent only once a `Retry-After` another call of this client received has passed."""
        self._wait_out_pause()
        try:
            response = self._http.request(method, path, params=params, json=body)
        except HTTPX_ERRORS as error:
            raise from_httpx(error, method, path, self._settings.base_url) from None
        _log.debug("%s %s -> %d", method, path, response.status_code)
        if 200 <= response.status_code < 300:
            return response
        failure = from_status(response, method, path)
        retry_after = getattr(failure, "retry_after", None)
        if retry_after is not None and is_transient(failure):
            self._own_pause.until = self._pause.hold(self._clock(), retry_after)
        raise failure

    def _wait_out_pause(self) -> None:
        until = self._pause.until
        if until <= getattr(self._own_pause, "until", 0.0):
            return  # this thread's retry loop has waited it out already
        wait = until - self._clock()
        if wait > 0:
            _log.debug("waiting %.1f s: OpenRouter asked this client to", wait)
            self._settings.sleep(wait)

    @staticmethod
    def _parse(parse: Callable[[Any], _T], payload: Any, method: str, path: str) -> _T:
        try:
            return parse(payload)
        except WireError as error:
            raise InvalidResponseError(
                f"{method} {path}: the response lacks what it must hold ({error}). OpenRouter's"
                " API may have changed; nothing here can be trusted, so run again and report it"
                " if it persists.",
                method=method,
                path=path,
            ) from None


# --- pure helpers -------------------------------------------------------------------------------


def is_orphan(record: KeyRecord, name: str, since: datetime) -> bool:
    """A key an ambiguous create may have made: same name, stamped in the window, never used.

    Nobody holds an orphan's secret, so it cannot have usage; a key with usage is someone's.
    """
    if record.name != name or record.usage or record.byok_usage:
        return False
    return made_since(record.created_at, since)



def _page_of(payload: Any, path: str) -> Page[Any]:
    """A listing page's items and `total_count`; an answer without them cannot be paged."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    total = payload.get("total_count") if isinstance(payload, Mapping) else None
    if not isinstance(data, list) or not isinstance(total, int) or isinstance(total, bool):
        raise InvalidResponseError(
            f"GET {path}: a listing without `data` and `total_count`. OpenRouter's API may have"
            " changed; run again and report it if it persists.",
            method="GET",
            path=path,
        )
    return Page(data, total)


def _server_time(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key_path(hash_: str, method: str) -> str:
    if not hash_ or not hash_.strip():
        raise InvalidRequestError(
            f"{method} /keys/<hash>: the key hash is empty; pass the hash of an existing key.",
            method=method,
            path="/keys/",
        )
    return f"/keys/{quote(hash_, safe='')}"
