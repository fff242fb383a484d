"""What can go wrong talking to OpenRouter, as one exception tree with stable `kind` strings.

```text
OpenRouterError                    kind                      definite  when
├── ApiError                       (an HTTP response came back)
│   ├── BadRequestError            bad-request               yes   400, 409, 422, other 4xx
│   ├── UnauthorizedError          unauthorized              yes   401
│   ├── ForbiddenError             forbidden                 yes   403
│   │   └── NotManagementKeyError  forbidden-not-management  yes   403 "Only management keys…"
│   ├── NotFoundError              not-found                 yes   404
│   │   └── KeyNotFound            not-found                 yes   404 under /keys
│   ├── RateLimitedError           rate-limited              yes   429 (carries retry_after)
│   └── ServerError                server-error              no    5xx (carries retry_after)
├── InvalidResponseError           invalid-response          no    2xx lacking what it must hold
│   └── UnexpectedRedirectError    redirect                  yes   3xx (never followed)
├── NetworkError                   network                   yes if the request never left
│   └── NetworkTimeoutError        timeout                   no    read/write timeout after sending
├── InvalidRequestError            invalid-request           yes   unusable base URL, key or hash
├── InternalClientError            internal                  no    httpx misused (a bug here)
└── AmbiguousCreateError           ambiguous-create          no    a POST's outcome unknown
    └── CreateSweepFailedError     create-sweep-failed       no    ...and the orphan search failed
```

`definite` means the request certainly had no effect on the server. It is what decides whether
`POST /keys` may be sent again (docs/adr/0002-ambiguous-create.md): a 4xx, a refused connection
or a connect/pool timeout are definite; a read or write timeout, a dropped connection, a
protocol error or a 5xx after the request went out are not.

Errors carry the method and path, never headers, and every message is one line that has been
through `redaction.redact`: status, OpenRouter's `error.message`, and what to do.
"""

from __future__ import annotations

from providers.http.credentials import MANAGEMENT_KEYS_PAGE
from providers.http.redaction import redact

AUDIT_COMMAND = "python -m cli audit"
RUN_AGAIN = "Fix: run `pulumi up` again once OpenRouter answers."
"""The one fix of a create that got no clear answer and left nothing behind (ADR 0002)."""


class OpenRouterError(Exception):
    """Base of every failure of the OpenRouter client."""

    kind: str = "openrouter-error"
    definite: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        definite: bool | None = None,
        brief: str | None = None,
    ) -> None:
        self.message = _one_line(redact(message))
        self.method = method
        self.path = path
        self.status = status
        if definite is not None:
            self.definite = definite
        self.brief = _one_line(redact(brief)) if brief else self.message.removeprefix(
            f"{method} {path}: "
        )
        """What went wrong, without the request and without advice: for a message that quotes
        this error as the cause of its own, and gives its own fix once."""
        super().__init__(self.message)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, status={self.status!r},"
            f" method={self.method!r}, path={self.path!r}, message={self.message!r})"
        )


class ApiError(OpenRouterError):
    """OpenRouter answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int,
        api_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        said = f' "{api_message}"' if api_message else ""
        super().__init__(
            message, method=method, path=path, status=status, brief=f"HTTP {status}{said}"
        )
        self.api_message = redact(api_message) if api_message is not None else None
        self.retry_after = retry_after


class BadRequestError(ApiError):
    kind = "bad-request"
    definite = True


class UnauthorizedError(ApiError):
    kind = "unauthorized"
    definite = True


class ForbiddenError(ApiError):
    kind = "forbidden"
    definite = True


class NotManagementKeyError(ForbiddenError):
    """A regular (inference) key was used where a management key is needed."""

    kind = "forbidden-not-management"


class NotFoundError(ApiError):
    """404: the object (a guardrail, a workspace, a budget) does not exist."""

    kind = "not-found"
    definite = True


class KeyNotFound(NotFoundError):  # noqa: N818 - contract name in docs/architecture.md
    """404 under `/keys`: no key with this hash."""


class RateLimitedError(ApiError):
    kind = "rate-limited"
    definite = True


class ServerError(ApiError):
    kind = "server-error"
    definite = False


class InvalidResponseError(OpenRouterError):
    """A response that cannot be what the endpoint promises (a 201 without `key`, bad JSON)."""

    kind = "invalid-response"
    definite = False


class UnexpectedRedirectError(InvalidResponseError):
    """A 3xx: the base URL is wrong; redirects are never followed, so nothing was done."""

    kind = "redirect"
    definite = True


class NetworkError(OpenRouterError):
    """No usable response: refused, timed out, dropped. `definite` says whether it left."""

    kind = "network"


class NetworkTimeoutError(NetworkError):
    """Sent, then no answer within the read or write timeout: the server may still be at it."""

    kind = "timeout"
    definite = False


class InvalidRequestError(OpenRouterError, ValueError):
    """The request could not even be built (bad base URL or scheme, a key no header can carry,
    an empty hash); `method` and `path` are empty when no request was under way."""

    kind = "invalid-request"
    definite = True


class InternalClientError(OpenRouterError):
    """httpx was used wrongly: a bug in this client, reported rather than hidden."""

    kind = "internal"
    definite = False


class AmbiguousCreateError(OpenRouterError):
    """A create (`POST /keys`, `/guardrails`, `/workspaces`) failed in a way that may have
    created something; whatever it may have made was removed."""

    kind = "ambiguous-create"
    definite = False

    def __init__(self, message: str, *, method: str, path: str, key_name: str) -> None:
        super().__init__(message, method=method, path=path)
        self.key_name = key_name


class CreateSweepFailedError(AmbiguousCreateError):
    """An ambiguous create, and the search for the key it may have made could not finish."""

    kind = "create-sweep-failed"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- messages -----------------------------------------------------------------------------------

_HINTS: dict[str, str] = {
    "bad-request": "OpenRouter rejected the request body; check the values sent.",
    "unauthorized": (
        "The key is invalid, disabled or deleted; create a management key at"
        f" {MANAGEMENT_KEYS_PAGE} and use it."
    ),
    "forbidden": "The key is not allowed to do this; use a management key from"
    f" {MANAGEMENT_KEYS_PAGE}.",
    "forbidden-not-management": (
        "This is a regular (inference) key in the management-key slot; regular keys cannot"
        f" manage keys. Create a management key at {MANAGEMENT_KEYS_PAGE} and use it instead."
    ),
    "not-found": "No key with this hash exists (it was deleted, or belongs to another account).",
    "rate-limited": "OpenRouter is throttling this account; wait a minute and run again.",
    "server-error": "OpenRouter failed on its side; run again later.",
    "conflict": "The key changed meanwhile; refresh and run again.",
}


_OBJECT_NOT_FOUND = (
    "No such object exists (it was deleted, or belongs to another account or workspace)."
)


def hint_for(kind: str, status: int, path: str) -> str:
    if status == 409:
        return _HINTS["conflict"]
    if kind == "not-found" and not is_key_path(path):
        return _OBJECT_NOT_FOUND
    return _HINTS.get(kind, "")


def is_key_path(path: str) -> bool:
    """Whether a request path names a key (a 404 there means the key is gone)."""
    return path in {"/key", "/keys"} or path.startswith("/keys/")


def status_message(method: str, path: str, status: int, api_message: str | None, kind: str) -> str:
    """`GET /keys: HTTP 401 "User not found." The key is invalid… create…`."""
    said = f' "{api_message}"' if api_message else " (no error message in the body)"
    hint = hint_for(kind, status, path)
    return f"{method} {path}: HTTP {status}{said}. {hint}".rstrip()
