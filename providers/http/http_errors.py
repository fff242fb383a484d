"""Every way an HTTP exchange fails, as one of `providers.http.errors`: a status, or an httpx
exception.

With `client.py`, the only module that knows httpx (tests/test_policy.py). Each failure is marked
definite (the request certainly had no effect) or ambiguous; the create rule of ADR 0002 reads
nothing else. Messages are one line, redacted, and never quote what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from providers.http.credentials import DEFAULT_BASE_URL
from providers.http.errors import (
    ApiError,
    BadRequestError,
    ForbiddenError,
    InternalClientError,
    InvalidRequestError,
    InvalidResponseError,
    KeyNotFound,
    NetworkError,
    NetworkTimeoutError,
    NotFoundError,
    NotManagementKeyError,
    OpenRouterError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedRedirectError,
    is_key_path,
    status_message,
)
from providers.http.redaction import redact
from providers.http.retry import parse_retry_after
from providers.http.wire import parse_error_message

HTTPX_ERRORS: Final = (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)
"""Every exception an `httpx.Client` call can raise."""
_BODY_SNIPPET_CHARS: Final = 120


def json_body(response: httpx.Response, method: str, path: str) -> Any:
    """The response's JSON; a body that is not JSON is an `InvalidResponseError`."""
    try:
        return response.json()
    except ValueError:
        raise InvalidResponseError(
            f"{method} {path}: HTTP {response.status_code} with a body that is not JSON"
            f" ({_snippet(response)}). Run again; if it persists, check the API base URL.",
            method=method,
            path=path,
            status=response.status_code,
        ) from None


# --- an answer with an error status --------------------------------------------------------------

_CLASS_BY_STATUS: Final[Mapping[int, type[ApiError]]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    429: RateLimitedError,
}
_NOT_MANAGEMENT_PHRASES: Final = ("only management keys", "only provisioning keys")


def from_status(response: httpx.Response, method: str, path: str) -> OpenRouterError:
    """A non-2xx answer as our error; `retry_after` from `Retry-After-Ms` or `Retry-After`."""
    status = response.status_code
    if 300 <= status < 400:
        return UnexpectedRedirectError(
            f"{method} {path}: HTTP {status} redirect (to {response.headers.get('location', '?')});"
            " redirects are never followed so the key is never sent elsewhere. Check the API"
            " base URL (it should end in /api/v1).",
            method=method,
            path=path,
            status=status,
        )
    if status < 400 or status > 599:
        return InvalidResponseError(
            f"{method} {path}: unexpected HTTP {status}. Run again; check the API base URL.",
            method=method,
            path=path,
            status=status,
        )
    api_message = _api_message(response)
    cls = _status_class(status, api_message, path)
    message = status_message(method, path, status, api_message, cls.kind)
    if api_message is None:
        message = message.replace(
            "(no error message in the body)", f"(no error message: {_snippet(response)})"
        )
    return cls(
        message,
        method=method,
        path=path,
        status=status,
        api_message=api_message,
        retry_after=_retry_after(response),
    )


def _status_class(status: int, api_message: str | None, path: str) -> type[ApiError]:
    if status >= 500:
        return ServerError
    if status == 404:
        return KeyNotFound if is_key_path(path) else NotFoundError
    cls = _CLASS_BY_STATUS.get(status, BadRequestError)
    text = (api_message or "").lower()
    if cls is ForbiddenError and any(phrase in text for phrase in _NOT_MANAGEMENT_PHRASES):
        return NotManagementKeyError
    return cls


def _api_message(response: httpx.Response) -> str | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return parse_error_message(payload)


def _retry_after(response: httpx.Response) -> float | None:
    milliseconds = response.headers.get("retry-after-ms")
    if milliseconds:
        seconds = parse_retry_after(milliseconds)
        if seconds is not None:
            return seconds / 1000
    return parse_retry_after(response.headers.get("retry-after"))


def _snippet(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError, httpx.ResponseNotRead):
        return "unreadable body"
    text = " ".join(redact(text).split())
    if not text:
        return "empty body"
    if len(text) > _BODY_SNIPPET_CHARS:
        text = text[:_BODY_SNIPPET_CHARS] + "…"
    return f"body starts: {text}"


# --- no answer: an httpx exception ----------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """What an httpx exception class means: our class, its text after `METHOD path: ` (with
    `{detail}` and `{base_url}`), whether the request certainly had no effect (None: the
    class's own answer), and the brief a create's message quotes as its cause."""

    error: type[OpenRouterError]
    says: str
    definite: bool | None = None
    brief: str | None = None


_MAYBE_SENT: Final = _Outcome(
    NetworkError,
    "the connection failed after the request was sent ({detail}); OpenRouter may or may not have"
    " carried it out. Run again.",
    definite=False,
    brief="the connection failed after the request was sent ({detail})",
)
_HTTPX_TABLE: Final[tuple[tuple[tuple[type[Exception], ...], _Outcome], ...]] = (
    (
        (httpx.InvalidURL, httpx.UnsupportedProtocol),
        _Outcome(
            InvalidRequestError,
            "the API base URL {base_url!r} is not usable ({detail}). Use"
            f" {DEFAULT_BASE_URL} or the emulator's http://127.0.0.1:PORT/api/v1.",
        ),
    ),
    # The connection never opened, so the request never left: definite.
    (
        (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError),
        _Outcome(
            NetworkError,
            "could not connect to {base_url} ({detail}); the request was not sent. Check the"
            " network and the API base URL, then run again.",
            definite=True,
        ),
    ),
    (
        (httpx.TimeoutException,),
        _Outcome(
            NetworkTimeoutError,
            "no answer in time after the request was sent ({detail}); OpenRouter may or may not"
            " have carried it out. Run again.",
            brief="no answer in time after the request was sent ({detail})",
        ),
    ),
    (
        (httpx.TooManyRedirects,),
        _Outcome(UnexpectedRedirectError, "redirected ({detail}); check the API base URL."),
    ),
    (
        (httpx.DecodingError,),
        _Outcome(
            InvalidResponseError,
            "the response body could not be decoded ({detail}); the request may have been"
            " carried out. Run again.",
        ),
    ),
    (
        (httpx.CookieConflict, httpx.StreamError),
        _Outcome(
            InternalClientError,
            "the HTTP client was misused ({detail}); this is a bug in openrouter-keys, please"
            " report it.",
        ),
    ),
)
"""First match wins; anything else (read/write timeouts, dropped connections, protocol errors,
future httpx classes) is `_MAYBE_SENT`: ambiguous, the safe default for a create."""


def from_httpx(error: Exception, method: str, path: str, base_url: str) -> OpenRouterError:
    """Every httpx failure as one of ours, definite only when the request never left."""
    if isinstance(error, httpx.HTTPStatusError):
        return from_status(error.response, method, path)
    detail = f"{type(error).__name__}: {_detail(error)}"
    outcome = next(
        (outcome for classes, outcome in _HTTPX_TABLE if isinstance(error, classes)), _MAYBE_SENT
    )
    return outcome.error(
        f"{method} {path}: " + outcome.says.format(detail=detail, base_url=base_url),
        method=method,
        path=path,
        definite=outcome.definite,
        brief=outcome.brief.format(detail=detail) if outcome.brief else None,
    )


def _detail(error: Exception) -> str:
    """httpx's own text, redacted; never for a local protocol error, whose text quotes what we
    tried to send, headers included (`Illegal header value b'Bearer …'`)."""
    if isinstance(error, httpx.LocalProtocolError):
        return "the request could not be written"
    return redact(str(error)) or "no detail"
