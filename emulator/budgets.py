"""The budget layers of `GET /key` and the rule that turns a spent one into a refusal.

The SDK's `KeyBudget` names the layers in the order enforcement checks them: the guardrail that
governs the key (its own, `api_key`, or else its workspace's default, `workspace_default_key`),
the workspace's budgets (`workspace`), then the key's own limit (`key_limit`). A guardrail layer
counts this key's spend, a workspace layer the workspace's; a layer at or below zero refuses
requests until its window rolls over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.wire import ApiError

# A window's usage counter on a key: `usage_daily` for daily, ..., `usage` for lifetime.
WINDOW_SUFFIX = {"daily": "_daily", "weekly": "_weekly", "monthly": "_monthly"}
MSG_KEY_LIMIT = (
    "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys"
)


def window_end(reset: str, at: datetime) -> datetime:
    """When the daily, weekly (Monday to Sunday) or monthly UTC window holding `at` rolls over."""
    midnight = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if reset == "daily":
        return midnight + timedelta(days=1)
    if reset == "weekly":
        return midnight + timedelta(days=7 - midnight.weekday())
    first = midnight.replace(day=1)
    if first.month == 12:
        return first.replace(year=first.year + 1, month=1)
    return first.replace(month=first.month + 1)


def budget_layer(
    scope: str,
    *,
    limit: float,
    spend: float,
    reset: str | None,
    include_byok: bool,
    now: datetime,
    guardrail_id: str | None = None,
    budget_id: str | None = None,
) -> dict[str, Any]:
    """One `KeyBudget`: `remaining_usd` is `limit_usd - spend_usd`; `resets_at` null for a
    lifetime budget."""
    return {
        "scope": scope,
        "budget_id": budget_id,
        "guardrail_id": guardrail_id,
        "include_byok": include_byok,
        "limit_usd": limit,
        "spend_usd": spend,
        "remaining_usd": limit - spend,
        "reset_interval": reset,
        "resets_at": None if reset is None
        else window_end(reset, now).isoformat(timespec="microseconds"),
    }


def effective_budget(layers: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The layer that blocks first (the SDK's rule): the first one already spent, in checking
    order; otherwise the one with the least `remaining_usd`; None without layers."""
    for layer in layers:
        if layer["remaining_usd"] <= 0:
            return layer
    return min(layers, key=lambda layer: layer["remaining_usd"], default=None)


def refusal(layers: list[dict[str, Any]]) -> ApiError | None:
    """What a request gets when a layer is spent: the key's own limit answers 402 (as before);
    a guardrail or workspace budget answers 403 (the guides), naming the layer (wording
    inferred; for workspaces the broadest interval spent, as the budgets guide says)."""
    spent = next((layer for layer in layers if layer["remaining_usd"] <= 0), None)
    if spent is None:
        return None
    if spent["scope"] == "key_limit":
        return ApiError(402, MSG_KEY_LIMIT)
    if spent["scope"] == "workspace":
        interval = spent["reset_interval"] or "lifetime"
        return ApiError(403, f"Workspace {interval} budget exceeded")
    return ApiError(403, f"Guardrail budget exceeded (guardrail {spent['guardrail_id']})")
