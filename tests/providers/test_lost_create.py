"""Send once, then settle: what a create whose answer was lost does for guardrails and
workspaces (keys: tests/providers/test_client.py), request by request and word for word."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers import governance_api
from providers.http.client import ClientSettings, CreateKeyRequest, OpenRouterClient
from providers.http.errors import AmbiguousCreateError, BadRequestError, CreateSweepFailedError
from providers.http.lost_create import made_since

BASE = "https://openrouter.test/api/v1"
RUN_AGAIN = "Fix: run `pulumi up` again once OpenRouter answers."
Step = httpx.Response | Exception


class Script:
    """Serves scripted steps in order and records each request as `METHOD path`."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.method} {request.url.path}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float]
) -> OpenRouterClient:
    settings = ClientSettings(
        api_key="sk-or-v1-" + secrets.token_hex(32), base_url=BASE, sleep=sleeps.append
    )
    return OpenRouterClient(settings, transport=httpx.MockTransport(handler))


def stamped(ago: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) - ago).isoformat()


def listing(*items: dict[str, object]) -> httpx.Response:
    return httpx.Response(200, json={"data": list(items), "total_count": len(items)})


def test_a_lost_guardrail_create_deletes_only_what_it_made_and_is_not_sent_again():
    mine = {"id": "g-new", "name": "ci", "created_at": stamped()}
    older = {"id": "g-old", "name": "ci", "created_at": stamped(timedelta(hours=1))}
    other = {"id": "g-other", "name": "prod", "created_at": stamped()}
    script = Script(
        httpx.ReadTimeout("slow"), listing(mine, older, other), httpx.Response(200, json={})
    )
    sleeps: list[float] = []
    with client_for(script, sleeps) as client, pytest.raises(AmbiguousCreateError) as raised:
        governance_api.create_guardrail(client, {"name": "ci"})
    assert type(raised.value) is AmbiguousCreateError
    assert str(raised.value) == (
        "POST /guardrails: creating guardrail 'ci' got no clear answer (no answer in time after"
        " the request was sent (ReadTimeout: slow)); the one it made was deleted, so nothing is"
        f" left behind. {RUN_AGAIN}"
    )
    assert raised.value.key_name == "guardrail 'ci'"
    assert script.asked == [
        "POST /api/v1/guardrails",
        "GET /api/v1/guardrails",
        "DELETE /api/v1/guardrails/g-new",
    ]
    assert sleeps == []


def test_a_lost_workspace_create_is_looked_up_by_its_slug():
    script = Script(httpx.Response(502), httpx.Response(404))
    with client_for(script, []) as client, pytest.raises(AmbiguousCreateError) as raised:
        governance_api.create_workspace(client, {"name": "Agents", "slug": "agents"})
    assert str(raised.value) == (
        "POST /workspaces: creating workspace 'agents' got no clear answer (HTTP 502); none was"
        f" made, so nothing is left behind. {RUN_AGAIN}"
    )
    assert script.asked == ["POST /api/v1/workspaces", "GET /api/v1/workspaces/agents"]


def test_several_leftovers_are_counted():
    made = [{"id": f"g{n}", "name": "ci", "created_at": stamped()} for n in range(2)]
    ok = httpx.Response(200, json={})
    script = Script(httpx.RemoteProtocolError("dropped"), listing(*made), ok, ok)
    with client_for(script, []) as client, pytest.raises(AmbiguousCreateError) as raised:
        governance_api.create_guardrail(client, {"name": "ci"})
    assert "; the 2 it made were deleted, so nothing is left behind." in str(raised.value)


def test_a_governance_settle_that_cannot_look_says_where_to_find_it():
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(401))
    with client_for(script, []) as client, pytest.raises(CreateSweepFailedError) as raised:
        governance_api.create_guardrail(client, {"name": "ci"})
    assert str(raised.value) == (
        "POST /guardrails: creating guardrail 'ci' got no clear answer (no answer in time after"
        " the request was sent (ReadTimeout: slow)), and looking for what it made failed too"
        " (HTTP 401), so it may exist without this stack knowing. Fix: find it at"
        " https://openrouter.ai/settings, delete it, then run `pulumi up` again."
    )
    assert script.asked == ["POST /api/v1/guardrails", "GET /api/v1/guardrails"]


def test_a_governance_create_refused_outright_is_raised_as_is_and_not_settled():
    script = Script(httpx.Response(400, json={"error": {"code": 400, "message": "bad"}}))
    with client_for(script, []) as client, pytest.raises(BadRequestError):
        governance_api.create_guardrail(client, {"name": "ci"})
    assert script.asked == ["POST /api/v1/guardrails"]


def test_a_key_create_settles_with_the_key_words_and_retries_once():
    """The keys' variant of the same mechanism, end to end: the words of ADR 0002."""
    script = Script(
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": []}),
        httpx.Response(503),
        httpx.Response(401),
    )
    sleeps: list[float] = []
    client = client_for(script, sleeps)
    with client, pytest.raises(CreateSweepFailedError) as raised:
        client.create_key(CreateKeyRequest(name="app"))
    assert str(raised.value) == (
        "POST /keys: creating key 'app' got no clear answer (HTTP 503), and looking for a key it"
        " made failed too (HTTP 401), so a key named 'app' may exist that nobody holds the"
        " secret of. Fix: find it with `python -m cli audit` (an unmanaged key) or at"
        " https://openrouter.ai/settings/keys, delete it, then run `pulumi up` again."
    )
    assert raised.value.key_name == "app"
    assert script.asked == [
        "POST /api/v1/keys",
        "GET /api/v1/keys",
        "POST /api/v1/keys",
        "GET /api/v1/keys",
    ]
    assert sleeps == [30.0, 1.0]


def test_any_new_object_create_settles_through_create_once():
    """The hook a new object resource uses (BYOK, observability): its own path, its own
    `made(since)`; an object stamped before the attempt is never taken for one it made."""
    mine = {"id": "d-new", "name": "langfuse", "created_at": stamped()}
    older = {"id": "d-old", "name": "langfuse", "created_at": stamped(timedelta(seconds=30))}
    path = "/observability/destinations"
    script = Script(httpx.Response(500), listing(mine, older), httpx.Response(200, json={}))

    with client_for(script, []) as client:

        def made(since: datetime) -> list[str]:
            items = client.list_json(path)
            return [i["id"] for i in items if made_since(i["created_at"], since)]

        with pytest.raises(AmbiguousCreateError) as raised:
            governance_api.create_once(
                client,
                path,
                {"name": "langfuse"},
                governance_api.GuardrailRecord,
                "destination 'langfuse'",
                made,
                lambda object_id: f"{path}/{object_id}",
            )
    assert "creating destination 'langfuse' got no clear answer (HTTP 500); the one it made" in (
        str(raised.value)
    )
    assert script.asked[-1] == f"DELETE /api/v1{path}/d-new"
