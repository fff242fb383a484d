"""What `GET /key` and `POST /chat/completions` answer: the current key's view (a regular key's
own object reshaped, with its budget layers and regions; a management key's fixed view) and a
minimal completion that charges the calling key.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from emulator.budgets import effective_budget
from emulator.records import Caller
from emulator.store import ALLOWED_DATA_REGIONS, MSG_USER_NOT_FOUND, Store
from emulator.wire import (
    EMULATOR_USER_ID,
    MSG_INVALID,
    ApiError,
    Response,
    json_object,
)

# What the emulated account has bought, in USD (GET /credits).
ACCOUNT_CREDITS = 100.0
# What one chat completion costs the calling key, in USD (small, so limits last many calls).
CHAT_COST = 0.0001
LEGACY_RATE_LIMIT = {
    "requests": -1,
    "interval": "10s",
    "note": "This field is deprecated and safe to ignore.",
}
USAGE_COUNTERS = ("usage", "usage_daily", "usage_weekly", "usage_monthly", "byok_usage",
                  "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly")

# The account has bought credits (ACCOUNT_CREDITS), so its free-model ceiling is the higher tier
# (inferred: the SDK says the ceiling depends on credits purchased, not which number it is).
FREE_MODEL_DAILY_LIMIT = 1000


def account_view() -> dict[str, Any]:
    """The `GET /key` fields that describe the account or policy rather than the key."""
    return {
        "allowed_data_regions": list(ALLOWED_DATA_REGIONS),
        "free_model_daily_requests": {
            "limit": FREE_MODEL_DAILY_LIMIT, "remaining": FREE_MODEL_DAILY_LIMIT, "used": 0
        },
        "is_free_tier": False,
        "organization_id": None,
        "rate_limit": dict(LEGACY_RATE_LIMIT),
    }


def management_key_view(label: str) -> dict[str, Any]:
    """`GET /key` for a management key: no limit, no usage, no budget and no workspace of its
    own (it works across workspaces and cannot call models; inferred for `workspace_id`)."""
    return {
        "label": label,
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
        **dict.fromkeys(USAGE_COUNTERS, 0.0),
        "is_management_key": True,
        "is_provisioning_key": True,
        "creator_user_id": EMULATOR_USER_ID,
        "expires_at": None,
        "workspace_id": None,
        "budgets": [],
        "effective_budget": None,
        **account_view(),
    }


def regular_key_view(
    key_object: Mapping[str, Any], budgets: list[dict[str, Any]], regions: list[str]
) -> dict[str, Any]:
    """`GET /key` for a regular key: its own key object reshaped, with its budget layers and the
    data regions its guardrail leaves it."""
    return {
        "label": key_object["label"],
        **{k: key_object[k] for k in ("limit", "limit_remaining", "limit_reset",
                                      "include_byok_in_limit")},
        **{k: key_object[k] for k in USAGE_COUNTERS},
        "is_management_key": False,
        "is_provisioning_key": False,
        "creator_user_id": key_object["creator_user_id"],
        "expires_at": key_object["expires_at"],
        "workspace_id": key_object["workspace_id"],
        "budgets": budgets,
        "effective_budget": effective_budget(budgets),
        **account_view(),
        "allowed_data_regions": regions,
    }


def current_key(store: Store, caller: Caller) -> Response:
    if caller.kind == "management":
        return Response(200, {"data": management_key_view(store.management_label(caller.hash))})
    with store.lock:
        found = store.key_object(caller.hash)
        if found is None:
            raise ApiError(401, MSG_USER_NOT_FOUND)
        budgets = store.budget_layers(caller.hash, datetime.now(UTC))
        regions = store.data_regions(caller.hash)
    return Response(200, {"data": regular_key_view(found, budgets, regions)})


def chat_completion(store: Store, caller: Caller, raw: bytes) -> Response:
    """A minimal OpenAI-shaped completion that charges the calling key a little."""
    if caller.kind == "management":
        raise ApiError(401, MSG_USER_NOT_FOUND)
    body = json_object(raw)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ApiError(400, MSG_INVALID)
    store.spend(caller.hash, CHAT_COST)
    model = body.get("model") if isinstance(body.get("model"), str) else "openrouter/auto"
    return Response(
        200,
        {
            "id": f"gen-emulator-{secrets.token_hex(8)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "provider": "emulator",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello from the emulator."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6,
                      "cost": CHAT_COST},
        },
    )


