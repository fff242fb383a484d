"""Every httpx failure becomes one of our errors, definite or ambiguous, with a redacted message."""

from __future__ import annotations

import inspect
import secrets

import httpx
import pytest

from providers.http import errors
from providers.http.client import ClientSettings, CreateKeyRequest, OpenRouterClient
from providers.http.errors import (
    AmbiguousCreateError,
    InternalClientError,
    InvalidRequestError,
    InvalidResponseError,
    KeyNotFound,
    NetworkError,
    NetworkTimeoutError,
    OpenRouterError,
    UnexpectedRedirectError,
)

# The decision for every exception class httpx exports: which of our classes it becomes and
# whether the request certainly had no effect. A class httpx adds later fails
# test_every_httpx_exception_class_has_a_decision until someone decides.
DECISIONS: dict[str, tuple[type[OpenRouterError], bool]] = {
    "ConnectError": (NetworkError, True),
    "ConnectTimeout": (NetworkError, True),
    "PoolTimeout": (NetworkError, True),
    "ProxyError": (NetworkError, True),
    "UnsupportedProtocol": (InvalidRequestError, True),
    "InvalidURL": (InvalidRequestError, True),
    "TooManyRedirects": (UnexpectedRedirectError, True),
    "ReadTimeout": (NetworkTimeoutError, False),
    "WriteTimeout": (NetworkTimeoutError, False),
    "TimeoutException": (NetworkTimeoutError, False),
    "ReadError": (NetworkError, False),
    "WriteError": (NetworkError, False),
    "CloseError": (NetworkError, False),
    "NetworkError": (NetworkError, False),
    "RemoteProtocolError": (NetworkError, False),
    "LocalProtocolError": (NetworkError, False),
    "ProtocolError": (NetworkError, False),
    "TransportError": (NetworkError, False),
    "RequestError": (NetworkError, False),
    "HTTPError": (NetworkError, False),
    "DecodingError": (InvalidResponseError, False),
    "CookieConflict": (InternalClientError, False),
    "StreamError": (InternalClientError, False),
    "StreamConsumed": (InternalClientError, False),
    "StreamClosed": (InternalClientError, False),
    "ResponseNotRead": (InternalClientError, False),
    "RequestNotRead": (InternalClientError, False),
    # Judged by the response it carries; see test_http_status_error_is_judged_by_its_response.
    "HTTPStatusError": (KeyNotFound, True),
}


def httpx_exception_classes() -> list[type[Exception]]:
    return sorted(
        (v for v in vars(httpx).values() if isinstance(v, type) and issubclass(v, Exception)),
        key=lambda cls: cls.__name__,
    )


def build(cls: type[Exception], message: str) -> Exception:
    request = httpx.Request("GET", "https://openrouter.test/api/v1/key")
    if cls is httpx.HTTPStatusError:
        response = httpx.Response(404, request=request)
        return cls(message, request=request, response=response)
    parameters = inspect.signature(cls.__init__).parameters
    if "message" not in parameters:
        return cls()
    if "request" in parameters:
        return cls(message, request=request)  # type: ignore[call-arg]
    return cls(message)  # type: ignore[call-arg]


def new_secret() -> str:
    return "sk-or-v1-" + secrets.token_hex(32)


def raising(error: Exception) -> OpenRouterClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    settings = ClientSettings(
        api_key=new_secret(),
        base_url="https://openrouter.test/api/v1",
        max_attempts=1,
        sleep=lambda _seconds: None,
    )
    return OpenRouterClient(settings, transport=httpx.MockTransport(handler))


def test_every_httpx_exception_class_has_a_decision():
    names = {cls.__name__ for cls in httpx_exception_classes()}
    assert names == set(DECISIONS)


@pytest.mark.parametrize("cls", httpx_exception_classes(), ids=lambda cls: cls.__name__)
def test_httpx_exception_maps_to_our_class_and_certainty(cls):
    expected_class, expected_definite = DECISIONS[cls.__name__]
    secret = new_secret()
    with (
        raising(build(cls, f"boom near {secret}")) as client,
        pytest.raises(OpenRouterError) as caught,
    ):
        client.current_key()
    error = caught.value
    assert type(error) is expected_class
    assert error.definite is expected_definite
    assert error.kind
    assert error.method == "GET"
    assert error.path == "/key"
    assert secret not in str(error)
    assert secret not in repr(error)
    assert "\n" not in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__ is True


def test_http_status_error_is_judged_by_its_response():
    request = httpx.Request("GET", "https://openrouter.test/api/v1/key")
    for status, expected in [(404, errors.KeyNotFound), (503, errors.ServerError)]:
        failure = httpx.HTTPStatusError(
            "x", request=request, response=httpx.Response(status, request=request)
        )
        with raising(failure) as client, pytest.raises(expected):
            client.current_key()


@pytest.mark.parametrize(
    ("status", "expected", "kind", "definite"),
    [
        (400, errors.BadRequestError, "bad-request", True),
        (401, errors.UnauthorizedError, "unauthorized", True),
        (403, errors.ForbiddenError, "forbidden", True),
        (404, errors.KeyNotFound, "not-found", True),
        (409, errors.BadRequestError, "bad-request", True),
        (422, errors.BadRequestError, "bad-request", True),
        (429, errors.RateLimitedError, "rate-limited", True),
        (500, errors.ServerError, "server-error", False),
        (502, errors.ServerError, "server-error", False),
        (503, errors.ServerError, "server-error", False),
        (504, errors.ServerError, "server-error", False),
    ],
)
def test_status_maps_to_class_kind_and_certainty(status, expected, kind, definite):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": status, "message": "said so"}})

    settings = ClientSettings(
        api_key=new_secret(), base_url="https://t/api/v1", max_attempts=1, sleep=lambda _s: None
    )
    client = OpenRouterClient(settings, transport=httpx.MockTransport(handler))
    with client, pytest.raises(expected) as caught:
        client.get_key("h")
    assert type(caught.value) is expected
    assert caught.value.kind == kind
    assert caught.value.definite is definite
    assert caught.value.status == status
    assert f'GET /keys/h: HTTP {status} "said so"' in str(caught.value)


def test_older_provisioning_wording_still_means_not_a_management_key():
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": 403, "message": "Only provisioning keys can perform this"}}
        return httpx.Response(403, json=body)

    settings = ClientSettings(api_key=new_secret(), base_url="https://t/api/v1")
    client = OpenRouterClient(settings, transport=httpx.MockTransport(handler))
    with client, pytest.raises(errors.NotManagementKeyError):
        client.list_keys()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://openrouter.test/api/v1", "not an http(s) URL"),
        ("http://proxy.example/api/v1", "plain http to proxy.example"),
        ("http://10.0.0.8:8787/api/v1", "plain http to 10.0.0.8"),
    ],
)
def test_an_unusable_or_plain_http_base_url_is_refused_before_any_client_exists(url, why):
    # Regression (issue 10): the management key travels in every request's Authorization
    # header, so no client may even be built for a URL that would carry it in clear text.
    with pytest.raises(InvalidRequestError) as caught:
        ClientSettings(api_key=new_secret(), base_url=url)
    assert caught.value.definite is True
    assert url in str(caught.value)
    assert why in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8787/api/v1", "http://127.3.2.1/api/v1", "http://localhost:9/api/v1",
     "http://[::1]:9/api/v1", "https://openrouter.ai/api/v1"],
)
def test_https_anywhere_and_plain_http_to_loopback_are_allowed(url):
    assert ClientSettings(api_key=new_secret(), base_url=url).base_url == url


def test_every_kind_is_a_distinct_stable_string():
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, OpenRouterError)
    ]
    kinds = {cls.kind for cls in classes if cls is not errors.ApiError}
    assert {
        "bad-request",
        "unauthorized",
        "forbidden",
        "forbidden-not-management",
        "not-found",
        "rate-limited",
        "server-error",
        "network",
        "timeout",
        "invalid-response",
        "redirect",
        "invalid-request",
        "internal",
        "ambiguous-create",
        "create-sweep-failed",
    } <= kinds


def test_ambiguous_create_errors_are_never_definite():
    assert AmbiguousCreateError.definite is False
    assert errors.CreateSweepFailedError.definite is False
    assert issubclass(errors.CreateSweepFailedError, AmbiguousCreateError)


def test_error_text_is_redacted_and_one_line_whoever_builds_it():
    secret = new_secret()
    error = OpenRouterError(f"first {secret}\n\tsecond", method="GET", path="/key")
    assert str(error) == f"first {secret[:12]}...{secret[-3:]} second"
    assert secret not in repr(error)


def test_create_with_an_ambiguous_failure_then_a_broken_sweep_is_not_a_raw_httpx_error():
    """The httpx classes that make a create ambiguous still surface as ours after the sweep."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("slow")

    settings = ClientSettings(
        api_key=new_secret(), base_url="https://t/api/v1", max_attempts=2, sleep=lambda _s: None
    )
    client = OpenRouterClient(settings, transport=httpx.MockTransport(handler))
    with client, pytest.raises(errors.CreateSweepFailedError):
        client.create_key(CreateKeyRequest(name="app"))
    assert calls == ["POST", "GET", "GET"]
