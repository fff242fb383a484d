"""OpenRouterClient against exact HTTP shapes (httpx.MockTransport) and, for flows, the emulator."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from emulator import Emulator, Fault
from providers.http import client as client_module
from providers.http import retry
from providers.http.client import (
    DEFAULT_BASE_URL,
    PAGE_SIZE,
    ClientSettings,
    CreateKeyRequest,
    OpenRouterClient,
)
from providers.http.errors import (
    AmbiguousCreateError,
    BadRequestError,
    CreateSweepFailedError,
    InvalidResponseError,
    KeyNotFound,
    NetworkError,
    NotManagementKeyError,
    OpenRouterError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedRedirectError,
)
from tests.support.sentinel import assert_absent

BASE = "https://openrouter.test/api/v1"
Handler = Callable[[httpx.Request], httpx.Response]


def new_secret() -> str:
    return "sk-or-v1-" + secrets.token_hex(32)


def key_object(name: str = "app", **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "hash": secrets.token_hex(32),
        "name": name,
        "label": "sk-or-v1-abc...def",
        "disabled": False,
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
        "usage": 0,
        "usage_daily": 0,
        "usage_weekly": 0,
        "usage_monthly": 0,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "created_at": datetime.now(UTC).isoformat(),
        "updated_at": None,
        "expires_at": None,
        "creator_user_id": None,
        "workspace_id": "00000000-0000-0000-0000-000000000000",
    }
    body.update(overrides)
    return body


class Recorder:
    """Serves scripted responses in order and records every request."""

    def __init__(self, *responses: httpx.Response | Exception | Handler) -> None:
        self.script = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def methods(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    api_key: str | None = None,
    sleeps: list[float] | None = None,
    **settings: object,
) -> OpenRouterClient:
    record = sleeps if sleeps is not None else []
    return OpenRouterClient(
        ClientSettings(
            api_key=api_key or new_secret(),
            base_url=BASE,
            sleep=record.append,
            **settings,  # type: ignore[arg-type]
        ),
        transport=httpx.MockTransport(handler),
    )


def error_body(status: int, message: str) -> dict[str, object]:
    return {"error": {"code": status, "message": message}}


# --- settings -----------------------------------------------------------------------------------


def test_settings_repr_never_shows_the_key():
    secret = new_secret()
    settings = ClientSettings(api_key=secret)
    assert secret not in repr(settings)
    assert secret not in str(settings)
    assert settings.base_url == DEFAULT_BASE_URL == "https://openrouter.ai/api/v1"


def test_every_request_carries_bearer_auth_and_explicit_timeouts():
    secret = new_secret()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"label": "x", "is_management_key": True}})

    with client_for(handler, api_key=secret, connect_timeout=1.5, read_timeout=7.0) as client:
        client.current_key()
    assert seen[0].headers["authorization"] == f"Bearer {secret}"
    timeouts = seen[0].extensions["timeout"]
    assert timeouts == {"connect": 1.5, "read": 7.0, "write": 7.0, "pool": 1.5}


@pytest.mark.parametrize("bad", [{"connect_timeout": 0}, {"read_timeout": -1}, {"max_attempts": 0}])
def test_settings_refuse_unbounded_or_impossible_values(bad):
    with pytest.raises(ValueError, match="ClientSettings"):
        ClientSettings(api_key=new_secret(), **bad)


# --- current key --------------------------------------------------------------------------------


def test_current_key_reads_management_flag():
    body = {"data": {"label": "sk-or-v1-abc...def", "limit": 5, "is_management_key": True}}
    with client_for(Recorder(httpx.Response(200, json=body))) as client:
        current = client.current_key()
    assert current.is_management_key is True
    assert current.limit == 5


@pytest.mark.parametrize(("legacy", "expected"), [(True, True), (False, False)])
def test_current_key_falls_back_to_deprecated_provisioning_flag(legacy, expected):
    body = {"data": {"label": "x", "is_provisioning_key": legacy}}
    with client_for(Recorder(httpx.Response(200, json=body))) as client:
        assert client.current_key().is_management_key is expected


def test_current_key_prefers_management_flag_over_provisioning_flag():
    body = {"data": {"label": "x", "is_management_key": False, "is_provisioning_key": True}}
    with client_for(Recorder(httpx.Response(200, json=body))) as client:
        assert client.current_key().is_management_key is False


# --- list ---------------------------------------------------------------------------------------


def test_list_pages_by_items_returned_until_a_short_page():
    first = [key_object(f"k{i}") for i in range(PAGE_SIZE)]
    second = [key_object(f"m{i}") for i in range(3)]
    recorder = Recorder(
        httpx.Response(200, json={"data": first}), httpx.Response(200, json={"data": second})
    )
    with client_for(recorder) as client:
        records = client.list_keys()
    assert [r.hash for r in records] == [k["hash"] for k in first + second]
    params = [dict(r.url.params) for r in recorder.requests]
    assert params == [
        {"include_disabled": "true", "include_expired": "true", "offset": "0"},
        {"include_disabled": "true", "include_expired": "true", "offset": str(PAGE_SIZE)},
    ]


def test_list_stops_on_an_empty_page_and_passes_workspace():
    first = [key_object() for _ in range(PAGE_SIZE)]
    recorder = Recorder(
        httpx.Response(200, json={"data": first}), httpx.Response(200, json={"data": []})
    )
    with client_for(recorder) as client:
        records = client.list_keys(workspace_id="ws-1")
    assert len(records) == PAGE_SIZE
    assert [r.url.params["workspace_id"] for r in recorder.requests] == ["ws-1", "ws-1"]


def test_list_deduplicates_keys_that_shift_between_pages():
    first = [key_object() for _ in range(PAGE_SIZE)]
    # A key created meanwhile pushes the last key of page one onto page two.
    second = [first[-1], key_object("new")]
    recorder = Recorder(
        httpx.Response(200, json={"data": first}), httpx.Response(200, json={"data": second})
    )
    with client_for(recorder) as client:
        records = client.list_keys()
    assert len(records) == PAGE_SIZE + 1
    assert len({r.hash for r in records}) == PAGE_SIZE + 1


def test_list_page_of_only_repeats_is_an_error_not_a_loop():
    page = [key_object() for _ in range(PAGE_SIZE)]
    recorder = Recorder(*(httpx.Response(200, json={"data": page}) for _ in range(3)))
    with client_for(recorder) as client, pytest.raises(InvalidResponseError, match="repeats"):
        client.list_keys()
    assert len(recorder.requests) == 2


def test_list_tolerates_unknown_fields_and_missing_optional_ones():
    item = key_object(external_user="u1", brand_new_field={"x": 1})
    del item["expires_at"]
    del item["workspace_id"]
    with client_for(Recorder(httpx.Response(200, json={"data": [item]}))) as client:
        (record,) = client.list_keys()
    assert record.expires_at is None
    assert record.workspace_id is None
    assert record.hash == item["hash"]


# --- get / update / delete ----------------------------------------------------------------------


def test_get_key_returns_every_field_of_the_key_object():
    item = key_object("svc", limit=12.5, limit_remaining=10, limit_reset="monthly", usage=2.5)
    recorder = Recorder(httpx.Response(200, json={"data": item}))
    with client_for(recorder) as client:
        record = client.get_key(str(item["hash"]))
    assert recorder.methods() == [f"GET /api/v1/keys/{item['hash']}"]
    assert {name: getattr(record, name) for name in item} == item


def test_get_missing_key_raises_key_not_found():
    response = httpx.Response(404, json=error_body(404, "Resource not found"))
    with client_for(Recorder(response)) as client, pytest.raises(KeyNotFound) as caught:
        client.get_key("abc")
    assert caught.value.kind == "not-found"
    assert caught.value.status == 404
    assert caught.value.definite is True
    assert "Resource not found" in str(caught.value)


def test_update_sends_one_patch_with_exactly_the_changes():
    item = key_object(disabled=True, limit=3)
    recorder = Recorder(httpx.Response(200, json={"data": item}))
    with client_for(recorder) as client:
        record = client.update_key("h1", {"disabled": True, "limit": 3})
    assert recorder.methods() == ["PATCH /api/v1/keys/h1"]
    assert json.loads(recorder.requests[0].content) == {"disabled": True, "limit": 3}
    assert record.disabled is True


def test_update_can_send_null_to_clear_a_limit():
    recorder = Recorder(httpx.Response(200, json={"data": key_object()}))
    with client_for(recorder) as client:
        client.update_key("h1", {"limit": None})
    assert json.loads(recorder.requests[0].content) == {"limit": None}


def test_delete_treats_404_as_done():
    recorder = Recorder(httpx.Response(404, json=error_body(404, "Resource not found")))
    with client_for(recorder) as client:
        assert client.delete_key("gone") is None
    assert recorder.methods() == ["DELETE /api/v1/keys/gone"]


def test_hash_is_escaped_into_one_path_segment():
    recorder = Recorder(httpx.Response(200, json={"deleted": True}))
    with client_for(recorder) as client:
        client.delete_key("../key")
    assert recorder.requests[0].url.raw_path == b"/api/v1/keys/..%2Fkey"


# --- retries of idempotent requests -------------------------------------------------------------


def test_get_retries_transient_statuses_then_succeeds():
    sleeps: list[float] = []
    recorder = Recorder(
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(200, json={"data": key_object()}),
    )
    with client_for(recorder, sleeps=sleeps) as client:
        client.get_key("h")
    assert len(recorder.requests) == 3
    assert sleeps[1] == 2.0
    assert 0 <= sleeps[0] <= retry.BASE_DELAY_SECONDS


def test_a_retry_after_holds_the_other_calls_of_the_client_too():
    # The provider runs many calls at once on one client; a rate limit is the account's, so a
    # 429 answered to one call holds the others' next requests until its Retry-After.
    sleeps: list[float] = []
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "5"}),
        *(httpx.Response(200, json={"data": key_object()}) for _ in range(3)),
    )
    with client_for(recorder, sleeps=sleeps) as client:
        client.get_key("a")  # answered 429: waits 5 s in its own retry loop (sleeps[0])
        other = threading.Thread(target=client.get_key, args=("b",))
        other.start()
        other.join()
        client.get_key("c")  # this thread has waited it out already: no second wait
    assert len(recorder.requests) == 4
    assert sleeps[0] == 5.0
    assert len(sleeps) == 2
    assert 4.0 < sleeps[1] <= 5.0


def test_retry_after_as_http_date_is_honoured():
    sleeps: list[float] = []
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": when}),
        httpx.Response(200, json={"data": key_object()}),
    )
    with client_for(recorder, sleeps=sleeps) as client:
        client.get_key("h")
    assert 8.0 <= sleeps[0] <= 10.0


def test_patch_gives_up_after_max_attempts_with_the_last_error():
    recorder = Recorder(*(httpx.Response(502) for _ in range(3)))
    with client_for(recorder, max_attempts=3) as client, pytest.raises(ServerError) as caught:
        client.update_key("h", {"name": "x"})
    assert len(recorder.requests) == 3
    assert caught.value.status == 502


def test_non_transient_errors_are_not_retried():
    recorder = Recorder(httpx.Response(401, json=error_body(401, "User not found.")))
    with client_for(recorder) as client, pytest.raises(UnauthorizedError):
        client.get_key("h")
    assert len(recorder.requests) == 1


def test_connection_errors_on_get_are_retried():
    recorder = Recorder(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": key_object()}),
    )
    with client_for(recorder) as client:
        client.get_key("h")
    assert len(recorder.requests) == 3


# --- error shapes -------------------------------------------------------------------------------


def test_regular_key_in_management_slot_gets_its_own_kind_and_fix():
    body = error_body(403, "Only management keys can perform this operation")
    client = client_for(Recorder(httpx.Response(403, json=body)))
    with client, pytest.raises(NotManagementKeyError) as caught:
        client.list_keys()
    message = str(caught.value)
    assert caught.value.kind == "forbidden-not-management"
    assert "HTTP 403" in message
    assert "regular" in message
    assert "https://openrouter.ai/settings/management-keys" in message


def test_unauthorized_message_says_invalid_disabled_or_deleted():
    body = error_body(401, "User not found.")
    client = client_for(Recorder(httpx.Response(401, json=body)))
    with client, pytest.raises(UnauthorizedError) as caught:
        client.current_key()
    assert caught.value.kind == "unauthorized"
    assert "invalid, disabled or deleted" in str(caught.value)
    assert caught.value.method == "GET"
    assert caught.value.path == "/key"


def test_error_body_cut_off_mid_json_still_gives_a_one_line_error():
    response = httpx.Response(400, content=b'{"error": {"code": 400, "mess')
    with client_for(Recorder(response)) as client, pytest.raises(BadRequestError) as caught:
        client.update_key("h", {"limit": -1})
    message = str(caught.value)
    assert "HTTP 400" in message
    assert "\n" not in message
    assert '{"error": {"code": 400, "mess' in message


def test_a_key_echoed_in_an_error_body_is_redacted():
    secret = new_secret()
    body = error_body(400, f"bad key {secret}\nsecond line")
    client = client_for(Recorder(httpx.Response(400, json=body)), api_key=secret)
    with client, pytest.raises(BadRequestError) as caught:
        client.update_key("h", {"name": "x"})
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
    assert secret[:12] in str(caught.value)  # the mask keeps the prefix and 3 characters


def test_ok_response_without_hash_is_invalid_response():
    item = key_object()
    del item["hash"]
    client = client_for(Recorder(httpx.Response(200, json={"data": item})))
    with client, pytest.raises(InvalidResponseError) as caught:
        client.get_key("h")
    assert caught.value.kind == "invalid-response"
    assert "data.hash" in str(caught.value)


def test_non_json_success_body_is_invalid_response():
    response = httpx.Response(200, content=b"<html>maintenance</html>")
    with client_for(Recorder(response)) as client, pytest.raises(InvalidResponseError):
        client.current_key()


def test_redirects_are_never_followed():
    recorder = Recorder(httpx.Response(301, headers={"Location": "https://elsewhere.test/keys"}))
    with client_for(recorder) as client, pytest.raises(UnexpectedRedirectError) as caught:
        client.list_keys()
    assert len(recorder.requests) == 1
    assert caught.value.definite is True
    assert "base URL" in str(caught.value)


# --- create -------------------------------------------------------------------------------------


def created_body(name: str = "app", **overrides: object) -> dict[str, object]:
    return {"data": key_object(name, **overrides), "key": new_secret()}


def test_create_sends_only_the_fields_that_are_set():
    recorder = Recorder(httpx.Response(201, json=created_body()))
    with client_for(recorder) as client:
        client.create_key(CreateKeyRequest(name="app", limit=None, limit_reset="daily"))
    assert json.loads(recorder.requests[0].content) == {
        "name": "app",
        "limit": None,
        "limit_reset": "daily",
    }


def test_created_key_hides_its_secret_from_repr():
    body = created_body()
    with client_for(Recorder(httpx.Response(201, json=body))) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert created.secret == body["key"]
    assert str(body["key"]) not in repr(created)
    assert created.record.hash == body["data"]["hash"]  # type: ignore[index]


def test_create_rejected_with_400_is_raised_once_and_not_retried():
    recorder = Recorder(httpx.Response(400, json=error_body(400, "Invalid request parameters")))
    with client_for(recorder) as client, pytest.raises(BadRequestError) as caught:
        client.create_key(CreateKeyRequest(name="app", expires_at="2030-01-01T00:00"))
    assert recorder.methods() == ["POST /api/v1/keys"]
    assert caught.value.definite is True


def test_create_waits_out_429_and_posts_again():
    sleeps: list[float] = []
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "3"}, json=error_body(429, "Rate limit")),
        httpx.Response(201, json=created_body()),
    )
    with client_for(recorder, sleeps=sleeps) as client:
        client.create_key(CreateKeyRequest(name="app"))
    assert recorder.methods() == ["POST /api/v1/keys", "POST /api/v1/keys"]
    assert sleeps == [3.0]


def test_create_429_retries_are_bounded_by_max_attempts():
    recorder = Recorder(*(httpx.Response(429) for _ in range(2)))
    with client_for(recorder, max_attempts=2) as client, pytest.raises(RateLimitedError):
        client.create_key(CreateKeyRequest(name="app"))
    assert len(recorder.requests) == 2


def test_create_refused_connection_is_sent_again_because_nothing_left():
    recorder = Recorder(httpx.ConnectError("refused"), httpx.Response(201, json=created_body()))
    with client_for(recorder) as client:
        client.create_key(CreateKeyRequest(name="app"))
    assert recorder.methods() == ["POST /api/v1/keys", "POST /api/v1/keys"]


def test_create_201_without_key_is_swept_and_posted_once_more():
    lost = created_body("app")
    del lost["key"]
    good = created_body("app")
    orphan = lost["data"]
    recorder = Recorder(
        httpx.Response(201, json=lost),
        httpx.Response(200, json={"data": [orphan]}),  # sweep: list
        httpx.Response(200, json={"deleted": True}),  # sweep: delete the orphan
        httpx.Response(201, json=good),
        httpx.Response(200, json={"data": [good["data"]]}),  # late-orphan check
    )
    with client_for(recorder) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert created.secret == good["key"]
    assert recorder.methods() == [
        "POST /api/v1/keys",
        "GET /api/v1/keys",
        f"DELETE /api/v1/keys/{orphan['hash']}",  # type: ignore[index]
        "POST /api/v1/keys",
        "GET /api/v1/keys",
    ]


def test_create_twice_ambiguous_raises_after_sweeping_both():
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": []}),
        httpx.Response(502),
        httpx.Response(200, json={"data": []}),
    )
    with client_for(recorder) as client, pytest.raises(AmbiguousCreateError) as caught:
        client.create_key(CreateKeyRequest(name="app"))
    assert caught.value.kind == "ambiguous-create"
    assert "'app'" in str(caught.value)
    assert recorder.methods().count("POST /api/v1/keys") == 2


def test_create_sweep_that_cannot_list_names_the_key_and_the_audit():
    recorder = Recorder(
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(401, json=error_body(401, "User not found.")),
    )
    with client_for(recorder) as client, pytest.raises(CreateSweepFailedError) as caught:
        client.create_key(CreateKeyRequest(name="payments-prod"))
    message = str(caught.value)
    assert caught.value.kind == "create-sweep-failed"
    assert "'payments-prod'" in message
    assert "python -m cli audit" in message
    assert recorder.methods().count("POST /api/v1/keys") == 1


def test_sweep_leaves_same_named_keys_that_are_older_or_used():
    old = key_object("app", created_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    used = key_object("app", usage=0.5)
    other = key_object("other")
    good = created_body("app")
    recorder = Recorder(
        httpx.WriteTimeout("stalled"),
        httpx.Response(200, json={"data": [old, used, other]}),
        httpx.Response(201, json=good),
        httpx.Response(200, json={"data": [old, used, other, good["data"]]}),
    )
    with client_for(recorder) as client:
        client.create_key(CreateKeyRequest(name="app"))
    assert not any(m.startswith("DELETE") for m in recorder.methods())


def test_create_never_goes_through_the_retry_helper(monkeypatch):
    methods: list[str] = []
    real = retry.call_idempotent

    def spy(send, *, method, retry_on, policy):
        methods.append(method)
        return real(send, method=method, retry_on=retry_on, policy=policy)

    monkeypatch.setattr("providers.http.client.call_idempotent", spy)
    recorder = Recorder(
        httpx.Response(500),
        httpx.Response(200, json={"data": []}),
        httpx.Response(201, json=created_body()),
        httpx.Response(200, json={"data": []}),
    )
    with client_for(recorder) as client:
        client.create_key(CreateKeyRequest(name="app"))
    assert "POST" not in methods
    assert methods == ["GET", "GET"]


def test_network_error_kind_is_network_with_no_status():
    client = client_for(Recorder(*(httpx.ConnectError("refused") for _ in range(4))))
    with client, pytest.raises(NetworkError) as caught:
        client.current_key()
    assert caught.value.kind == "network"
    assert caught.value.status is None
    assert caught.value.definite is True


def test_a_first_attempt_that_lands_after_the_sweep_is_deleted_after_success():
    late = key_object("app")
    good = created_body("app")
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": []}),  # sweep: the first attempt has not landed yet
        httpx.Response(201, json=good),
        httpx.Response(200, json={"data": [late, good["data"]]}),  # ...now it has
        httpx.Response(200, json={"deleted": True}),
    )
    with client_for(recorder) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert created.secret == good["key"]
    assert recorder.methods()[-1] == f"DELETE /api/v1/keys/{late['hash']}"


def test_late_orphan_check_failing_still_returns_the_good_key():
    good = created_body("app")
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": []}),
        httpx.Response(201, json=good),
        httpx.Response(401, json=error_body(401, "User not found.")),
    )
    with client_for(recorder) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert created.secret == good["key"]


def test_sweep_looks_in_the_workspace_of_the_request():
    good = created_body("app")
    recorder = Recorder(
        httpx.Response(504),
        httpx.Response(200, json={"data": []}),
        httpx.Response(201, json=good),
        httpx.Response(200, json={"data": [good["data"]]}),
    )
    with client_for(recorder) as client:
        client.create_key(CreateKeyRequest(name="app", workspace_id="ws-9"))
    lists = [r for r in recorder.requests if r.method == "GET"]
    assert [r.url.params.get("workspace_id") for r in lists] == ["ws-9", "ws-9"]


def test_sweep_window_follows_the_server_clock_not_ours():
    """A key stamped 10 minutes before our attempt on the server's clock is not an orphan,
    even when the local clock runs 20 minutes slow; one stamped just now is."""
    server_now = datetime.now(UTC) + timedelta(minutes=20)
    older = key_object("app", created_at=(server_now - timedelta(minutes=10)).isoformat())
    fresh = key_object("app", created_at=server_now.isoformat())
    date = {"Date": format_datetime(server_now, usegmt=True)}
    good = created_body("app")
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": [older, fresh]}, headers=date),
        httpx.Response(200, json={"deleted": True}),
        httpx.Response(201, json=good),
        httpx.Response(200, json={"data": [older, good["data"]]}, headers=date),
    )
    with client_for(recorder) as client:
        client.create_key(CreateKeyRequest(name="app"))
    deletes = [m for m in recorder.methods() if m.startswith("DELETE")]
    assert deletes == [f"DELETE /api/v1/keys/{fresh['hash']}"]


# --- flows against the emulator -----------------------------------------------------------------

KEYS_PATH = "/api/v1/keys"


def emulator_client(
    emulator: Emulator,
    management_key: str,
    *,
    sleeps: list[float] | None = None,
    sleep: Callable[[float], None] | None = None,
    **settings: object,
) -> OpenRouterClient:
    record = sleeps if sleeps is not None else []
    return OpenRouterClient(
        ClientSettings(
            api_key=management_key,
            base_url=emulator.api_base_url,
            sleep=sleep or record.append,
            **settings,  # type: ignore[arg-type]
        )
    )


def names(emulator: Emulator) -> list[str]:
    stored = emulator.keys()
    return [key["name"] for key in stored]


def hashes(emulator: Emulator) -> list[str]:
    stored = emulator.keys()
    return [key["hash"] for key in stored]


def posts(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests() if r.method == "POST" and r.path == KEYS_PATH)


RECOVERED_FAULTS = {
    "429 with Retry-After seconds": Fault(path=KEYS_PATH, method="POST", status=429, retry_after=2),
    "500": Fault(path=KEYS_PATH, method="POST", status=500),
    "502": Fault(path=KEYS_PATH, method="POST", status=502),
    "503 with Retry-After": Fault(path=KEYS_PATH, method="POST", status=503, retry_after=1),
    "504": Fault(path=KEYS_PATH, method="POST", status=504),
    "drop before handling": Fault(path=KEYS_PATH, method="POST", drop="before"),
    "drop after commit": Fault(path=KEYS_PATH, method="POST", drop="after_commit"),
    "body cut off after commit": Fault(path=KEYS_PATH, method="POST", drop="mid_body"),
    "answer later than the read timeout": Fault(
        path=KEYS_PATH, method="POST", latency_after_commit=0.6
    ),
}


@pytest.mark.parametrize("fault", RECOVERED_FAULTS.values(), ids=list(RECOVERED_FAULTS))
def test_every_emulator_fault_leaves_exactly_the_right_keys(emulator, management_key, fault):
    emulator.inject(fault)
    with emulator_client(emulator, management_key, read_timeout=0.3) as client:
        created = client.create_key(CreateKeyRequest(name="app", limit=5))
    stored = emulator.keys()
    assert [key["hash"] for key in stored] == [created.record.hash]
    assert stored[0]["limit"] == 5
    assert posts(emulator) == 2
    # The returned secret is the one that works: it identifies the surviving key.
    with emulator_client(emulator, created.secret) as as_new_key:
        assert as_new_key.current_key().is_management_key is False


def test_create_after_429_with_http_date_waits_that_long(emulator, management_key):
    sleeps: list[float] = []
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    emulator.inject(Fault(path=KEYS_PATH, method="POST", status=429, retry_after=when))
    with emulator_client(emulator, management_key, sleeps=sleeps) as client:
        client.create_key(CreateKeyRequest(name="app"))
    assert names(emulator) == ["app"]
    assert len(sleeps) == 1
    assert 18.0 <= sleeps[0] <= 20.0


def test_server_slower_than_the_read_timeout_still_leaves_one_key(emulator, management_key):
    """The first POST is stored only after the client gave up on it: the pause before the sweep
    (read_timeout) lets it land, so the sweep finds and deletes it. Real sleeps, short ones."""
    emulator.inject(Fault(path=KEYS_PATH, method="POST", latency=0.45))
    with emulator_client(emulator, management_key, read_timeout=0.3, sleep=time.sleep) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert hashes(emulator) == [created.record.hash]
    assert posts(emulator) == 2


@pytest.mark.parametrize("drop", ["after_commit", "mid_body"])
def test_create_ambiguous_twice_leaves_no_key(emulator, management_key, drop):
    emulator.inject(Fault(path=KEYS_PATH, method="POST", drop=drop, times=2))
    client = emulator_client(emulator, management_key)
    with client, pytest.raises(AmbiguousCreateError) as caught:
        client.create_key(CreateKeyRequest(name="app"))
    assert type(caught.value) is AmbiguousCreateError
    assert emulator.keys() == []
    assert posts(emulator) == 2
    assert_absent(management_key, str(caught.value), repr(caught.value))


def test_an_ambiguous_create_says_what_happened_once_with_one_fix(emulator, management_key):
    emulator.inject(Fault(path=KEYS_PATH, method="POST", drop="after_commit", times=2))
    client = emulator_client(emulator, management_key)
    with client, pytest.raises(AmbiguousCreateError) as caught:
        client.create_key(CreateKeyRequest(name="app"))
    assert str(caught.value) == (
        "POST /keys: creating key 'app' got no clear answer, twice (the connection failed after"
        " the request was sent (RemoteProtocolError: Server disconnected without sending a"
        " response.)). Any key either attempt made was found and deleted, so nothing is left"
        " behind. Fix: run `pulumi up` again once OpenRouter answers."
    )


def test_an_ambiguous_create_names_two_different_causes_and_still_one_fix():
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": []}),
        httpx.Response(502, json=error_body(502, "Bad gateway")),
        httpx.Response(200, json={"data": []}),
    )
    with client_for(recorder) as client, pytest.raises(AmbiguousCreateError) as caught:
        client.create_key(CreateKeyRequest(name="app"))
    message = str(caught.value)
    assert "(no answer in time after the request was sent (ReadTimeout: slow); then HTTP 502" in (
        message
    )
    assert message.lower().count("run") == 1
    assert "delete it" not in message


def test_a_failed_sweep_gives_one_fix_not_the_causes_run_again():
    recorder = Recorder(
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(401, json=error_body(401, "User not found.")),
    )
    with client_for(recorder) as client, pytest.raises(CreateSweepFailedError) as caught:
        client.create_key(CreateKeyRequest(name="app"))
    message = str(caught.value)
    assert message.lower().count("run") == 1
    assert message.endswith("delete it, then run `pulumi up` again.")
    assert '(HTTP 401 "User not found.")' in message


@pytest.mark.parametrize("status", [400, 401, 403])
def test_create_refused_outright_leaves_no_key_and_posts_once(emulator, management_key, status):
    emulator.inject(Fault(path=KEYS_PATH, method="POST", status=status))
    with emulator_client(emulator, management_key) as client, pytest.raises(OpenRouterError) as err:
        client.create_key(CreateKeyRequest(name="app"))
    assert err.value.status == status
    assert err.value.definite is True
    assert emulator.keys() == []
    assert posts(emulator) == 1


def test_create_429_until_attempts_run_out_leaves_no_key(emulator, management_key):
    emulator.inject(Fault(path=KEYS_PATH, method="POST", status=429, times=3))
    client = emulator_client(emulator, management_key, max_attempts=3)
    with client, pytest.raises(RateLimitedError):
        client.create_key(CreateKeyRequest(name="app"))
    assert emulator.keys() == []
    assert posts(emulator) == 3


def test_sweep_that_cannot_list_reports_the_orphan_by_name(emulator, management_key):
    emulator.inject(
        Fault(path=KEYS_PATH, method="POST", drop="after_commit"),
        Fault(path=KEYS_PATH, method="GET", status=500, times=10),
    )
    client = emulator_client(emulator, management_key, max_attempts=2)
    with client, pytest.raises(CreateSweepFailedError) as caught:
        client.create_key(CreateKeyRequest(name="payments"))
    message = str(caught.value)
    assert "'payments'" in message
    assert "python -m cli audit" in message
    # The orphan the message warns about is really there, and nothing more.
    assert names(emulator) == ["payments"]
    assert posts(emulator) == 1


def test_sweep_spares_older_and_used_keys_of_the_same_name(emulator, management_key):
    older = emulator.seed_key("app", created_at=datetime.now(UTC) - timedelta(hours=1))
    used = emulator.seed_key("app", usage=1.25)
    other = emulator.seed_key("other")
    emulator.inject(Fault(path=KEYS_PATH, method="POST", drop="after_commit"))
    with emulator_client(emulator, management_key) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert set(hashes(emulator)) == {
        older.hash,
        used.hash,
        other.hash,
        created.record.hash,
    }


def test_sweep_of_a_workspace_key_looks_in_that_workspace(emulator, management_key):
    workspace = "11111111-2222-3333-4444-555555555555"
    emulator.add_workspace("Apps", "apps", workspace_id=workspace)  # keys need a real workspace
    emulator.inject(Fault(path=KEYS_PATH, method="POST", drop="after_commit"))
    with emulator_client(emulator, management_key) as client:
        created = client.create_key(CreateKeyRequest(name="app", workspace_id=workspace))
    stored = emulator.keys()
    assert [key["hash"] for key in stored] == [created.record.hash]
    assert stored[0]["workspace_id"] == workspace


def test_list_walks_every_page_of_the_emulator(emulator, management_key):
    seeded = {emulator.seed_key(f"k{i}").hash for i in range(2 * PAGE_SIZE + 30)}
    disabled = emulator.seed_key("off", disabled=True).hash
    expired = emulator.seed_key("past", expires_at="2026-01-01T00:00:00Z").hash
    with emulator_client(emulator, management_key) as client:
        listed = client.list_keys()
    assert {record.hash for record in listed} == seeded | {disabled, expired}
    queries = [r.query for r in emulator.requests() if r.method == "GET"]
    assert {q for q in queries if "offset=" in q} == {
        f"include_disabled=true&include_expired=true&offset={offset}"
        # the three pages it holds; after two full pages, one asked ahead finds nothing
        for offset in (0, PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE)
    }


def test_idempotent_calls_survive_a_lost_response(emulator, management_key):
    seeded = emulator.seed_key("app")
    path = f"{KEYS_PATH}/{seeded.hash}"
    emulator.inject(
        Fault(path=path, method="PATCH", drop="after_commit"),
        Fault(path=path, method="DELETE", drop="after_commit"),
    )
    with emulator_client(emulator, management_key) as client:
        record = client.update_key(seeded.hash, {"limit": 7})
        assert record.limit == 7
        client.delete_key(seeded.hash)  # the retried DELETE gets 404: done
    assert emulator.keys() == []
    statuses = [(r.method, r.status) for r in emulator.requests() if r.method == "DELETE"]
    assert statuses == [("DELETE", 200), ("DELETE", 404)]


def test_regular_key_gets_not_management_from_the_emulator(emulator):
    regular = emulator.seed_key("app").secret
    with emulator_client(emulator, regular) as client:
        assert client.current_key().is_management_key is False
        with pytest.raises(NotManagementKeyError) as caught:
            client.create_key(CreateKeyRequest(name="x"))
    assert_absent(regular, str(caught.value), repr(caught.value))
    assert emulator.keys()[0]["name"] == "app"
    assert len(emulator.keys()) == 1


def test_no_fault_flow_leaks_the_management_key_into_logs(emulator, management_key, caplog):
    caplog.set_level(logging.DEBUG)
    emulator.inject(
        Fault(path=KEYS_PATH, method="POST", drop="after_commit"),
        Fault(path=KEYS_PATH, method="GET", status=503, retry_after=0),
    )
    with emulator_client(emulator, management_key) as client:
        created = client.create_key(CreateKeyRequest(name="app"))
    assert caplog.records  # the flow did log something
    assert_absent(management_key, caplog.text, [r.getMessage() for r in caplog.records])
    assert_absent(created.secret, caplog.text)


@pytest.mark.parametrize("junk", ["\n", "\r", "\x00", " ", "é"])
def test_a_key_no_header_can_carry_is_refused_without_echoing_it(junk):
    secret = new_secret()
    with pytest.raises(ValueError, match="HTTP header") as caught:
        ClientSettings(api_key=secret[:20] + junk + secret[20:])
    assert_absent(secret[20:], str(caught.value), repr(caught.value))


def test_surrounding_whitespace_of_a_pasted_key_is_ignored():
    secret = new_secret()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"label": "x", "is_management_key": True}})

    with client_for(handler, api_key=f"  {secret}\n") as client:
        client.current_key()
    assert seen[0].headers["authorization"] == f"Bearer {secret}"


def test_local_protocol_error_text_is_never_repeated():
    """h11 quotes the offending header, bearer token included, in its message."""
    leaked = "Illegal header value b'Bearer not-an-sk-shaped-secret'"
    client = client_for(Recorder(httpx.LocalProtocolError(leaked)), max_attempts=1)
    with client, pytest.raises(NetworkError) as caught:
        client.current_key()
    assert "not-an-sk-shaped-secret" not in str(caught.value)


def test_an_unusable_key_is_an_openrouter_error_callers_already_handle():
    with pytest.raises(OpenRouterError) as caught:
        ClientSettings(api_key="   ")
    assert caught.value.kind == "invalid-request"
    assert caught.value.definite is True


def test_clients_share_one_tls_context_per_process_even_built_together(monkeypatch):
    # Loading the CA bundle cost ~20 ms; the provider's four threads first ask for it together,
    # and a bare cache let each build one (bench/README.md, finding 5).
    built: list[object] = []
    real = httpx.create_ssl_context
    together = threading.Barrier(4)

    def counting(*args, **kwargs):
        built.append(args)
        time.sleep(0.05)  # a slow build: any other thread not held by the lock would build too
        return real(*args, **kwargs)

    def build() -> None:
        together.wait(timeout=10)
        OpenRouterClient(settings).close()

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    monkeypatch.setattr(client_module, "_TLS_CONTEXTS", [])
    settings = ClientSettings(api_key=f"k-{secrets.token_hex(8)}", base_url="https://h.invalid")
    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    OpenRouterClient(settings).close()
    assert len(built) == 1
