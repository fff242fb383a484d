"""`GET /key` (with the budget layers of the SDK's GetCurrentKeyData) and the inference route
that tells the two key types apart and stamps `last_used_at`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulator.app import CHAT_COST, DEFAULT_WORKSPACE_ID, effective_budget, window_end
from tests.emulator.envelope import error_of

CURRENT_KEY_FIELDS = {
    "label", "limit", "limit_remaining", "limit_reset", "include_byok_in_limit", "usage",
    "usage_daily", "usage_weekly", "usage_monthly", "byok_usage", "byok_usage_daily",
    "byok_usage_weekly", "byok_usage_monthly", "is_free_tier", "is_management_key",
    "is_provisioning_key", "creator_user_id", "expires_at", "rate_limit",
    "allowed_data_regions", "budgets", "effective_budget", "free_model_daily_requests",
    "organization_id", "workspace_id",
}
BUDGET_FIELDS = {
    "scope", "budget_id", "guardrail_id", "include_byok", "limit_usd", "spend_usd",
    "remaining_usd", "reset_interval", "resets_at",
}
CHAT = {"model": "openrouter/auto", "messages": [{"role": "user", "content": "hi"}]}
PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_current_key_says_management_for_a_management_key(api, management_key):
    response = api.get("/key")

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == CURRENT_KEY_FIELDS
    assert data["is_management_key"] is True
    assert data["is_provisioning_key"] is True
    assert data["rate_limit"]["requests"] == -1
    assert data["rate_limit"]["interval"] == "10s"
    assert (data["budgets"], data["effective_budget"], data["workspace_id"]) == ([], None, None)
    assert data["allowed_data_regions"] == ["global"]
    assert set(data["free_model_daily_requests"]) == {"limit", "remaining", "used"}
    assert management_key not in response.text


def test_current_key_describes_a_regular_key(emulator, client_for):
    seeded = emulator.seed_key("app", limit=10, limit_reset="weekly", usage=4,
                               expires_at="2099-01-01T00:00:00Z")

    response = client_for(seeded.secret).get("/key")

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == CURRENT_KEY_FIELDS
    assert data["is_management_key"] is data["is_provisioning_key"] is False
    assert data["label"] == emulator.key(seeded.hash)["label"]
    assert (data["limit"], data["limit_remaining"], data["limit_reset"]) == (10, 6, "weekly")
    assert data["expires_at"] == "2099-01-01T00:00:00Z"
    assert data["workspace_id"] == DEFAULT_WORKSPACE_ID
    [layer] = data["budgets"]
    assert set(layer) == BUDGET_FIELDS
    assert layer["scope"] == "key_limit"
    assert (layer["limit_usd"], layer["spend_usd"], layer["remaining_usd"]) == (10, 4, 6)
    assert (layer["reset_interval"], layer["budget_id"], layer["guardrail_id"]) == (
        "weekly", None, None
    )
    resets_at = datetime.fromisoformat(layer["resets_at"])
    assert resets_at.weekday() == 0
    assert timedelta(0) < resets_at - datetime.now(UTC) <= timedelta(days=7)
    assert data["effective_budget"] == layer
    assert seeded.secret not in response.text


def test_a_key_without_a_limit_has_no_budget_layer(emulator, client_for):
    seeded = emulator.seed_key("free-running", usage=3)

    data = client_for(seeded.secret).get("/key").json()["data"]

    assert (data["budgets"], data["effective_budget"]) == ([], None)


def test_the_key_limit_layer_counts_its_reset_window_and_byok_when_included(
    emulator, client_for
):
    seeded = emulator.seed_key("monthly", limit=20, limit_reset="monthly",
                               include_byok_in_limit=True, usage=50)
    emulator.update_key(seeded.hash, usage_monthly=7.0, byok_usage_monthly=1.0, byok_usage=9.0)

    data = client_for(seeded.secret).get("/key").json()["data"]

    [layer] = data["budgets"]
    assert (layer["spend_usd"], layer["remaining_usd"], layer["include_byok"]) == (8, 12, True)
    assert data["limit_remaining"] == layer["remaining_usd"]


def test_a_lifetime_limit_never_resets(emulator, client_for):
    seeded = emulator.seed_key("lifetime", limit=5, usage=1)

    [layer] = client_for(seeded.secret).get("/key").json()["data"]["budgets"]

    assert (layer["reset_interval"], layer["resets_at"]) == (None, None)


@pytest.mark.parametrize(
    ("reset", "at", "expected"),
    [
        ("daily", datetime(2026, 11, 30, 23, 59, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        ("weekly", datetime(2026, 11, 29, 12, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)),
        ("weekly", datetime(2026, 11, 30, 0, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),
        ("monthly", datetime(2026, 12, 31, 8, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("monthly", datetime(2026, 2, 1, 0, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_windows_roll_over_at_utc_midnight_monday_and_the_first(reset, at, expected):
    assert window_end(reset, at) == expected


def layer(remaining: float, scope: str = "key_limit") -> dict[str, object]:
    return {"scope": scope, "remaining_usd": remaining}


def test_effective_budget_is_the_first_spent_layer_else_the_tightest():
    assert effective_budget([]) is None
    tight, loose = layer(2, "workspace"), layer(9)
    assert effective_budget([loose, tight]) is tight
    spent_first, spent_later = layer(0, "api_key"), layer(-1)
    assert effective_budget([tight, spent_first, spent_later]) is spent_first


@pytest.mark.parametrize("path", ["/key", "/chat/completions"])
@pytest.mark.parametrize("state", ["disabled", "expired", "deleted"])
def test_dead_regular_key_is_401(emulator, client_for, path, state):
    seeded = emulator.seed_key(
        "dead", disabled=state == "disabled", expires_at=PAST if state == "expired" else None
    )
    if state == "deleted":
        emulator.delete_key(seeded.hash)
    method = "POST" if path == "/chat/completions" else "GET"

    response = client_for(seeded.secret).request(method, path, json=CHAT)

    assert error_of(response) == (401, "User not found.")


def test_management_key_on_chat_is_401_user_not_found(api):
    assert error_of(api.post("/chat/completions", json=CHAT)) == (401, "User not found.")


def test_regular_key_chat_answers_a_completion_and_adds_usage(emulator, client_for):
    seeded = emulator.seed_key("app", limit=1)

    response = client_for(seeded.secret).post("/chat/completions", json=CHAT)

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    stored = emulator.key(seeded.hash)
    for counter in ("usage", "usage_daily", "usage_weekly", "usage_monthly"):
        assert stored[counter] == pytest.approx(CHAT_COST)
    assert stored["limit_remaining"] == pytest.approx(1 - CHAT_COST)


def test_a_completion_stamps_last_used_at_and_nothing_else_does(emulator, client_for, api):
    seeded = emulator.seed_key("app")
    client = client_for(seeded.secret)
    client.get("/key")
    api.patch(f"/keys/{seeded.hash}", json={"name": "renamed"})
    assert emulator.key(seeded.hash)["last_used_at"] is None

    before = datetime.now(UTC)
    client.post("/chat/completions", json=CHAT)

    stamped = datetime.fromisoformat(emulator.key(seeded.hash)["last_used_at"])
    assert before <= stamped <= datetime.now(UTC)
    listed = api.get("/keys").json()["data"]
    assert [key["last_used_at"] for key in listed] == [emulator.key(seeded.hash)["last_used_at"]]


def test_a_refused_completion_is_no_use(emulator, client_for):
    seeded = emulator.seed_key("spent", limit=1, usage=1)

    client_for(seeded.secret).post("/chat/completions", json=CHAT)

    assert emulator.key(seeded.hash)["last_used_at"] is None


def test_chat_without_messages_is_400(emulator, client_for):
    seeded = emulator.seed_key("app")

    response = client_for(seeded.secret).post("/chat/completions", json={"model": "x"})

    assert error_of(response) == (400, "Invalid request parameters")


def test_key_over_its_limit_is_refused_on_chat(emulator, client_for):
    seeded = emulator.seed_key("spent", limit=1, usage=1)

    response = client_for(seeded.secret).post("/chat/completions", json=CHAT)

    assert response.status_code == 402
    assert emulator.key(seeded.hash)["usage"] == 1


def test_old_auth_key_alias_answers_like_key(api):
    assert api.get("/auth/key").json() == api.get("/key").json()


def test_credits_totals_for_a_management_key_and_403_for_a_regular_one(api, emulator, client_for):
    emulator.seed_key("a", usage=1.5)
    regular = emulator.seed_key("b", usage=2)

    response = api.get("/credits")

    assert response.status_code == 200
    assert response.json()["data"]["total_usage"] == 3.5
    assert response.json()["data"]["total_credits"] >= 3.5
    assert error_of(client_for(regular.secret).get("/credits")) == (
        403, "Only management keys can perform this operation"
    )
