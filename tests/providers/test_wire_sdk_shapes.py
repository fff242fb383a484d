"""The client reads answers shaped as OpenRouter's SDK models them, and what the API adds next.

Every answer here is built from the SDK's own models (`openrouter.operations`, generated from the
published spec) with every field set, serialised as the SDK would, then given fields no spec has
yet, at every depth. The client must read what it knows and ignore the rest; answers from before
a field existed must still parse.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openrouter import components, operations

from providers.http.client import (
    BudgetLayer,
    ClientSettings,
    CreateKeyRequest,
    CurrentKey,
    OpenRouterClient,
)
from tests.conformance.endpoints import SDK_DEPRECATION

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)

BASE = "https://openrouter.test/api/v1"
WORKSPACE = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
GUARDRAIL = "6d1c9a2e-3b4f-4c5d-8e9f-0a1b2c3d4e5f"
BUDGET = "0c9b8a7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
LAST_USED = datetime(2026, 11, 20, 8, 15, 30, tzinfo=UTC)
FUTURE = {"added_next_year": {"nested": [1, 2]}, "risk_score": 0.3}


def dumped(model: Any) -> Any:
    """What the API sends for a model: JSON, field names as the spec spells them."""
    return json.loads(model.model_dump_json(by_alias=True))


def with_future_fields(payload: Any) -> Any:
    """The payload with unknown fields added to every object in it, at any depth."""
    if isinstance(payload, dict):
        return {**{k: with_future_fields(v) for k, v in payload.items()}, **FUTURE}
    if isinstance(payload, list):
        return [with_future_fields(item) for item in payload]
    return payload


def key_fields(name: str = "app", **overrides: Any) -> dict[str, Any]:
    """Every field of the SDK's key object, set."""
    fields: dict[str, Any] = {
        "hash": secrets.token_hex(32),
        "name": name,
        "label": "sk-or-v1-abc...def",
        "disabled": False,
        "limit": 50.0,
        "limit_remaining": 12.5,
        "limit_reset": "monthly",
        "include_byok_in_limit": True,
        "usage": 140.0,
        "usage_daily": 1.0,
        "usage_weekly": 9.0,
        "usage_monthly": 37.5,
        "byok_usage": 2.0,
        "byok_usage_daily": 0.0,
        "byok_usage_weekly": 0.5,
        "byok_usage_monthly": 0.5,
        "created_at": "2026-02-01T10:00:00Z",
        "updated_at": "2026-03-01T10:00:00Z",
        "expires_at": datetime(2027, 6, 30, tzinfo=UTC),
        "creator_user_id": "user_2x",
        "workspace_id": WORKSPACE,
        "last_used_at": LAST_USED,
        "external_user": "partner-user-7",
    }
    fields.update(overrides)
    return fields


def budget(scope: str, limit: float, spend: float, **overrides: Any) -> components.KeyBudget:
    fields: dict[str, Any] = {
        "scope": scope,
        "limit_usd": limit,
        "spend_usd": spend,
        "remaining_usd": limit - spend,
        "reset_interval": "monthly",
        "resets_at": datetime(2026, 12, 1, tzinfo=UTC),
        "include_byok": False,
        "guardrail_id": None,
        "budget_id": None,
    }
    fields.update(overrides)
    return components.KeyBudget(**fields)


def current_key_data(**overrides: Any) -> operations.GetCurrentKeyData:
    fields: dict[str, Any] = {
        "label": "sk-or-v1-abc...def",
        "limit": 50.0,
        "limit_remaining": 12.5,
        "limit_reset": "monthly",
        "include_byok_in_limit": False,
        "usage": 140.0,
        "usage_daily": 1.0,
        "usage_weekly": 9.0,
        "usage_monthly": 37.5,
        "byok_usage": 0.0,
        "byok_usage_daily": 0.0,
        "byok_usage_weekly": 0.0,
        "byok_usage_monthly": 0.0,
        "is_free_tier": False,
        "is_management_key": False,
        "is_provisioning_key": False,
        "creator_user_id": "user_2x",
        "expires_at": datetime(2027, 6, 30, tzinfo=UTC),
        "workspace_id": WORKSPACE,
        "organization_id": "org_9",
        "allowed_data_regions": ["global", "europe"],
        "free_model_daily_requests": {"limit": 1000, "remaining": 990, "used": 10},
        "rate_limit": {"requests": -1, "interval": "10s", "note": "deprecated"},
        "budgets": [],
        "effective_budget": None,
    }
    fields.update(overrides)
    return operations.GetCurrentKeyData(**fields)


def serving(answers: dict[tuple[str, str], Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        payload = answers[(request.method, path)]
        return httpx.Response(201 if request.method == "POST" else 200, json=payload)

    return handle


def client(answers: dict[tuple[str, str], Any]) -> OpenRouterClient:
    settings = ClientSettings(api_key="sk-or-v1-" + secrets.token_hex(32), base_url=BASE)
    return OpenRouterClient(settings, transport=httpx.MockTransport(serving(answers)))


def read_current(data: operations.GetCurrentKeyData, *, future: bool = True) -> CurrentKey:
    payload = dumped(operations.GetCurrentKeyResponse(data=data))
    with client({("GET", "/key"): with_future_fields(payload) if future else payload}) as api:
        return api.current_key()


# --- GET /key ------------------------------------------------------------------------------------


@pytest.mark.parametrize("future", [False, True], ids=["as-published", "with-future-fields"])
def test_current_key_reads_every_budget_layer_in_order_and_the_one_that_blocks(future):
    guardrail = budget("api_key", 100.0, 20.0, guardrail_id=GUARDRAIL, reset_interval="weekly")
    workspace = budget("workspace", 40.0, 35.0, budget_id=BUDGET, include_byok=True)
    own = budget("key_limit", 50.0, 37.5)

    current = read_current(
        current_key_data(budgets=[guardrail, workspace, own], effective_budget=workspace),
        future=future,
    )

    assert current.is_management_key is False
    assert current.workspace_id == WORKSPACE
    assert current.budgets is not None
    assert [layer.scope for layer in current.budgets] == ["api_key", "workspace", "key_limit"]
    assert current.budgets[0] == BudgetLayer(
        scope="api_key", limit_usd=100.0, spend_usd=20.0, remaining_usd=80.0,
        reset_interval="weekly", resets_at="2026-12-01T00:00:00Z", include_byok=False,
        guardrail_id=GUARDRAIL, budget_id=None,
    )
    assert current.effective_budget == current.budgets[1]
    assert (current.effective_budget.budget_id, current.effective_budget.include_byok) == (
        BUDGET, True
    )
    assert (current.limit, current.limit_remaining, current.usage_monthly) == (50.0, 12.5, 37.5)


def test_a_lifetime_budget_has_no_reset_and_an_unknown_scope_is_kept_as_spelled():
    lifetime = budget("key_limit", 500.0, 1.0, reset_interval=None, resets_at=None)
    payload = dumped(operations.GetCurrentKeyResponse(
        data=current_key_data(budgets=[lifetime], effective_budget=lifetime)
    ))
    payload["data"]["budgets"][0]["scope"] = "organization"  # a layer the SDK has no name for

    with client({("GET", "/key"): with_future_fields(payload)}) as api:
        current = api.current_key()

    assert current.budgets is not None
    [layer] = current.budgets
    assert (layer.scope, layer.reset_interval, layer.resets_at) == ("organization", None, None)
    assert current.effective_budget is not None
    assert current.effective_budget.scope == "key_limit"


def test_the_management_keys_answer_has_no_layers_and_says_what_it_is():
    current = read_current(
        current_key_data(is_management_key=True, is_provisioning_key=True, limit=None,
                         limit_remaining=None, limit_reset=None, workspace_id=None)
    )

    assert (current.is_management_key, current.budgets, current.effective_budget) == (
        True, (), None
    )


def test_budget_layers_in_a_shape_the_client_cannot_read_are_unknown_not_an_error():
    payload = dumped(operations.GetCurrentKeyResponse(data=current_key_data()))
    payload["data"]["budgets"] = [{"scope": "key_limit", "limit": "fifty"}]
    payload["data"]["effective_budget"] = "key_limit"

    with client({("GET", "/key"): payload}) as api:
        current = api.current_key()

    assert (current.budgets, current.effective_budget) == (None, None)
    assert current.is_management_key is False
    assert current.limit == 50.0


def test_an_answer_from_before_the_budget_layers_still_reads():
    payload = dumped(operations.GetCurrentKeyResponse(data=current_key_data()))
    for added in ("budgets", "effective_budget", "workspace_id", "organization_id",
                  "allowed_data_regions", "free_model_daily_requests"):
        del payload["data"][added]

    with client({("GET", "/key"): payload}) as api:
        current = api.current_key()

    assert (current.budgets, current.effective_budget, current.workspace_id) == (None, None, None)
    assert current.limit_remaining == 12.5


# --- the key object ------------------------------------------------------------------------------


def test_every_key_answer_reads_last_used_at_and_external_user_and_ignores_the_rest():
    listed = operations.ListResponse(data=[operations.ListData(**key_fields("listed"))])
    one = operations.GetKeyResponse(data=operations.GetKeyData(**key_fields("one")))
    made = operations.CreateKeysResponse(
        data=operations.CreateKeysData(**key_fields("made", last_used_at=None, external_user=None,
                                                    updated_at=None)),
        key="sk-or-v1-" + secrets.token_hex(32),
    )
    changed = operations.UpdateKeysResponse(data=operations.UpdateKeysData(**key_fields("changed")))
    hash_ = secrets.token_hex(32)
    answers = {
        ("GET", "/keys"): with_future_fields(dumped(listed)),
        ("GET", f"/keys/{hash_}"): with_future_fields(dumped(one)),
        ("POST", "/keys"): with_future_fields(dumped(made)),
        ("PATCH", f"/keys/{hash_}"): with_future_fields(dumped(changed)),
    }

    with client(answers) as api:
        [from_list] = api.list_keys()
        from_get = api.get_key(hash_)
        created = api.create_key(CreateKeyRequest(name="made"))
        from_patch = api.update_key(hash_, {"name": "changed"})

    for record in (from_list, from_get, from_patch):
        assert record.last_used_at == "2026-11-20T08:15:30Z"
        assert record.external_user == "partner-user-7"
        assert (record.limit_remaining, record.usage_monthly, record.byok_usage) == (12.5, 37.5, 2)
        assert record.expires_at == "2027-06-30T00:00:00Z"
        assert record.workspace_id == WORKSPACE
    assert [r.name for r in (from_list, from_get, created.record, from_patch)] == [
        "listed", "one", "made", "changed"
    ]
    assert (created.record.last_used_at, created.record.external_user) == (None, None)
    assert created.secret == dumped(made)["key"]


def test_a_key_object_from_before_last_used_at_and_external_user_still_reads():
    payload = dumped(operations.GetKeyResponse(data=operations.GetKeyData(**key_fields())))
    for added in ("last_used_at", "external_user", "expires_at"):
        del payload["data"][added]
    hash_ = payload["data"]["hash"]

    with client({("GET", f"/keys/{hash_}"): payload}) as api:
        record = api.get_key(hash_)

    assert (record.last_used_at, record.external_user, record.expires_at) == (None, None, None)
    assert record.usage == 140.0
