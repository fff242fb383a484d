"""`GET /key` (reference §6.1) and the inference route that tells the two key types apart (§6.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulator.app import CHAT_COST

CURRENT_KEY_FIELDS = {
    "label", "limit", "limit_remaining", "limit_reset", "include_byok_in_limit", "usage",
    "usage_daily", "usage_weekly", "usage_monthly", "byok_usage", "byok_usage_daily",
    "byok_usage_weekly", "byok_usage_monthly", "is_free_tier", "is_management_key",
    "is_provisioning_key", "creator_user_id", "expires_at", "rate_limit",
}
CHAT = {"model": "openrouter/auto", "messages": [{"role": "user", "content": "hi"}]}
PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_of(response) -> tuple[int, str]:
    body = response.json()
    assert body["error"]["code"] == response.status_code
    return response.status_code, body["error"]["message"]


def test_current_key_says_management_for_a_management_key(api, management_key):
    response = api.get("/key")

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == CURRENT_KEY_FIELDS
    assert data["is_management_key"] is True
    assert data["is_provisioning_key"] is True
    assert data["rate_limit"]["requests"] == -1
    assert data["rate_limit"]["interval"] == "10s"
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
    assert seeded.secret not in response.text


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
