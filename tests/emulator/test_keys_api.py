"""The `/keys` routes: shapes, statuses, validation, paging and auth (docs/emulator.md maps each
fact to its test; tests/conformance/ parses the same answers with OpenRouter's own SDK)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from emulator import DEFAULT_WORKSPACE_ID
from tests.emulator.envelope import error_of

KEY_OBJECT_FIELDS = {
    "hash", "name", "label", "disabled", "limit", "limit_remaining", "limit_reset",
    "include_byok_in_limit", "usage", "usage_daily", "usage_weekly", "usage_monthly",
    "byok_usage", "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly", "created_at",
    "updated_at", "expires_at", "creator_user_id", "workspace_id", "last_used_at",
    "external_user",
}
REGULAR_SECRET = re.compile(r"^sk-or-v1-[0-9a-f]{64}$")
OTHER_WORKSPACE = "9b2f6d4e-1111-4c3a-8d2e-222222222222"
PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- create -----------------------------------------------------------------------------------


def test_create_answers_201_with_data_and_the_secret_beside_it(api):
    response = api.post("/keys", json={"name": "ci", "limit": 50, "limit_reset": "monthly",
                                       "include_byok_in_limit": True,
                                       "expires_at": "2099-12-31T23:59:59Z"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"data", "key"}
    assert set(body["data"]) == KEY_OBJECT_FIELDS
    secret = body["key"]
    assert REGULAR_SECRET.match(secret)
    data = body["data"]
    assert data["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert data["label"] == f"sk-or-v1-{secret[9:12]}...{secret[-3:]}"
    assert data["name"] == "ci"
    assert data["limit"] == 50
    assert data["limit_remaining"] == 50
    assert data["limit_reset"] == "monthly"
    assert data["include_byok_in_limit"] is True
    assert data["disabled"] is False
    assert data["updated_at"] is None
    assert data["expires_at"] == "2099-12-31T23:59:59Z"
    assert data["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert data["usage"] == data["byok_usage"] == 0
    assert data["last_used_at"] is None
    assert data["external_user"] is None
    datetime.fromisoformat(data["created_at"])


def test_create_defaults_to_an_unlimited_enabled_key(api):
    data = api.post("/keys", json={"name": "plain"}).json()["data"]

    assert data["limit"] is None
    assert data["limit_remaining"] is None
    assert data["limit_reset"] is None
    assert data["include_byok_in_limit"] is False
    assert data["expires_at"] is None


def test_secret_is_shown_once_and_never_by_get_or_list(api, emulator):
    created = api.post("/keys", json={"name": "once"}).json()
    secret, key_hash = created["key"], created["data"]["hash"]

    reads = [
        api.get(f"/keys/{key_hash}").text,
        api.get("/keys").text,
        api.patch(f"/keys/{key_hash}", json={"name": "renamed"}).text,
        str(emulator.keys()),
        str(emulator.requests()),
    ]

    for text in reads:
        assert secret not in text
        assert secret[9:] not in text


def test_two_creates_with_the_same_name_make_two_keys(api, emulator):
    first = api.post("/keys", json={"name": "twin"}).json()
    second = api.post("/keys", json={"name": "twin"}).json()

    stored = emulator.keys()
    assert first["key"] != second["key"]
    assert {key["hash"] for key in stored} == {first["data"]["hash"], second["data"]["hash"]}


def test_create_in_another_workspace(api, emulator):
    emulator.add_workspace("Other", "other", workspace_id=OTHER_WORKSPACE)

    data = api.post("/keys", json={"name": "ws", "workspace_id": OTHER_WORKSPACE}).json()["data"]

    assert data["workspace_id"] == OTHER_WORKSPACE


def test_create_accepts_the_trailing_slash_the_python_guide_uses(api):
    assert api.post("/keys/", json={"name": "slash"}).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": 7},
        {"name": "x", "limit": -1},
        {"name": "x", "limit": "5"},
        {"name": "x", "limit": True},
        {"name": "x", "limit_reset": "yearly"},
        {"name": "x", "include_byok_in_limit": "yes"},
        {"name": "x", "expires_at": "2099-12-31T23:59Z"},
        {"name": "x", "expires_at": "2099-12-31T23:59:59+02:00"},
        {"name": "x", "expires_at": "2099-12-31"},
        {"name": "x", "expires_at": "2099-13-31T23:59:59Z"},
        {"name": "x", "workspace_id": "default"},
        {"name": "x", "disabled": True},
        {"name": "x", "label": "old-docs-label"},
        {"name": "x", "unknown": 1},
    ],
    ids=lambda body: ",".join(f"{k}={v!r}" for k, v in body.items()) or "empty",
)
def test_invalid_create_is_400_and_stores_nothing(api, emulator, body):
    response = api.post("/keys", json=body)

    assert error_of(response) == (400, "Invalid request parameters")
    assert emulator.keys() == []


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"name": "x", "limit": NaN}'])
def test_create_with_a_body_that_is_not_a_json_object_is_400(api, emulator, raw):
    response = api.post("/keys", content=raw, headers={"Content-Type": "application/json"})

    assert error_of(response) == (400, "Invalid request parameters")
    assert emulator.keys() == []


@pytest.mark.parametrize(
    "expires_at", ["2099-12-31T23:59:59Z", "2099-12-31T23:59:59.123Z", "2099-12-31T23:59:59+00:00"]
)
def test_create_accepts_utc_expiry_with_seconds(api, expires_at):
    response = api.post("/keys", json={"name": "x", "expires_at": expires_at})

    assert response.status_code == 201
    assert response.json()["data"]["expires_at"] == expires_at


def test_limit_zero_and_null_are_valid(api):
    assert api.post("/keys", json={"name": "zero", "limit": 0}).json()["data"]["limit"] == 0
    assert api.post("/keys", json={"name": "none", "limit": None}).json()["data"]["limit"] is None


# --- get, patch, delete -------------------------------------------------------------------------


def test_get_returns_the_stored_object(api, emulator):
    seeded = emulator.seed_key("seeded", limit=10, usage=2.5)

    response = api.get(f"/keys/{seeded.hash}")

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == KEY_OBJECT_FIELDS
    assert data["usage"] == 2.5
    assert data["limit_remaining"] == 7.5


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_hash_is_404_resource_not_found(api, method):
    response = api.request(method, f"/keys/{'0' * 64}", json={} if method == "PATCH" else None)

    assert error_of(response) == (404, "Resource not found")


def test_patch_changes_only_the_given_fields_and_sets_updated_at(api, emulator):
    seeded = emulator.seed_key("before", limit=5, limit_reset="daily", include_byok_in_limit=True)

    response = api.patch(f"/keys/{seeded.hash}", json={"name": "after", "disabled": True})

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["name"], data["disabled"]) == ("after", True)
    assert (data["limit"], data["limit_reset"], data["include_byok_in_limit"]) == (
        5, "daily", True
    )
    assert data["updated_at"] is not None
    assert datetime.fromisoformat(data["updated_at"]) >= datetime.fromisoformat(data["created_at"])
    assert emulator.key(seeded.hash)["name"] == "after"


def test_patch_limit_null_removes_the_cap(api, emulator):
    seeded = emulator.seed_key("capped", limit=5)

    data = api.patch(f"/keys/{seeded.hash}", json={"limit": None}).json()["data"]

    assert data["limit"] is None
    assert data["limit_remaining"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"expires_at": "2099-12-31T23:59:59Z"},
        {"workspace_id": "default"},
        {"creator_user_id": "user_x"},
        {"disabled": "true"},
        {"name": ""},
        {"name": None},
        {"limit": -2},
        {"limit_reset": "hourly"},
        {"include_byok_in_limit": None},
    ],
    ids=lambda body: ",".join(f"{k}={v!r}" for k, v in body.items()),
)
def test_patch_refuses_fields_it_cannot_change_and_bad_values(api, emulator, body):
    seeded = emulator.seed_key("fixed")
    before = emulator.key(seeded.hash)

    response = api.patch(f"/keys/{seeded.hash}", json=body)

    assert error_of(response) == (400, "Invalid request parameters")
    assert emulator.key(seeded.hash) == before


def test_patch_workspace_id_moves_the_key_and_keeps_its_secret(api, emulator, client_for):
    emulator.add_workspace("Other", "other", workspace_id=OTHER_WORKSPACE)
    seeded = emulator.seed_key("mover")

    data = api.patch(f"/keys/{seeded.hash}", json={"workspace_id": OTHER_WORKSPACE}).json()["data"]

    assert (data["hash"], data["workspace_id"]) == (seeded.hash, OTHER_WORKSPACE)
    assert [key["hash"] for key in api.get("/keys").json()["data"]] == []
    moved = api.get("/keys", params={"workspace_id": OTHER_WORKSPACE}).json()["data"]
    assert [key["hash"] for key in moved] == [seeded.hash]
    assert client_for(seeded.secret).get("/key").json()["data"]["workspace_id"] == OTHER_WORKSPACE


def test_delete_answers_deleted_true_and_the_key_is_gone(api, emulator):
    seeded = emulator.seed_key("doomed")

    response = api.delete(f"/keys/{seeded.hash}")

    assert response.status_code == 200
    assert response.json() == {"deleted": True}
    assert emulator.keys() == []
    assert error_of(api.delete(f"/keys/{seeded.hash}")) == (404, "Resource not found")


# --- list ---------------------------------------------------------------------------------------


def test_list_pages_by_100_newest_first(api, emulator):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    hashes = [
        emulator.seed_key(f"k{index:03d}", created_at=start + timedelta(minutes=index)).hash
        for index in range(250)
    ]
    newest_first = list(reversed(hashes))

    pages = [api.get("/keys", params={"offset": offset}) for offset in (0, 100, 200, 300)]

    assert [page.status_code for page in pages] == [200] * 4
    assert [set(page.json()) for page in pages] == [{"data"}] * 4
    listed = [[key["hash"] for key in page.json()["data"]] for page in pages]
    assert [len(page) for page in listed] == [100, 100, 50, 0]
    assert listed[0] + listed[1] + listed[2] == newest_first


def test_list_orders_same_timestamp_keys_by_creation(api, emulator):
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    first = emulator.seed_key("first", created_at=moment)
    second = emulator.seed_key("second", created_at=moment)

    listed = [key["hash"] for key in api.get("/keys").json()["data"]]

    assert listed == [second.hash, first.hash]


def test_list_excludes_disabled_keys_unless_asked(api, emulator):
    enabled = emulator.seed_key("on")
    disabled = emulator.seed_key("off", disabled=True)

    default = {key["hash"] for key in api.get("/keys").json()["data"]}
    explicit_false = {
        key["hash"] for key in api.get("/keys", params={"include_disabled": "false"}).json()["data"]
    }
    with_disabled = {
        key["hash"] for key in api.get("/keys", params={"include_disabled": "true"}).json()["data"]
    }

    assert default == explicit_false == {enabled.hash}
    assert with_disabled == {enabled.hash, disabled.hash}


def test_list_excludes_expired_keys_unless_asked(api, emulator):
    live = emulator.seed_key("live", expires_at="2099-01-01T00:00:00Z")
    expired = emulator.seed_key("expired", disabled=True, expires_at=PAST)

    def listed(**params: str) -> set[str]:
        return {key["hash"] for key in api.get("/keys", params=params).json()["data"]}

    assert listed(include_disabled="true") == {live.hash}
    assert listed(include_disabled="true", include_expired="false") == {live.hash}
    assert listed(include_disabled="true", include_expired="true") == {live.hash, expired.hash}
    assert listed(include_expired="true") == {live.hash}  # disabled still needs its own flag
    assert api.get(f"/keys/{expired.hash}").status_code == 200


def test_list_shows_the_default_workspace_unless_another_is_named(api, emulator):
    emulator.add_workspace("Other", "other", workspace_id=OTHER_WORKSPACE)
    home = emulator.seed_key("home")
    away = emulator.seed_key("away", workspace_id=OTHER_WORKSPACE)

    default = [key["hash"] for key in api.get("/keys").json()["data"]]
    other = [
        key["hash"] for key in api.get("/keys", params={"workspace_id": OTHER_WORKSPACE}).json()[
            "data"
        ]
    ]

    assert default == [home.hash]
    assert other == [away.hash]


@pytest.mark.parametrize(
    "params",
    [{"include_disabled": "yes"}, {"include_disabled": "True"}, {"include_expired": "1"},
     {"offset": "-1"}, {"offset": "ten"}, {"workspace_id": "nope"}],
)
def test_list_with_bad_query_is_400(api, params):
    assert error_of(api.get("/keys", params=params)) == (400, "Invalid request parameters")


# --- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/keys", None),
        ("POST", "/keys", {"name": "x"}),
        ("GET", "/keys/{hash}", None),
        ("PATCH", "/keys/{hash}", {"name": "y"}),
        ("DELETE", "/keys/{hash}", None),
    ],
)
def test_regular_key_on_keys_routes_is_403_and_changes_nothing(
    emulator, client_for, method, path, body
):
    regular = emulator.seed_key("inference")
    before = emulator.keys()

    response = client_for(regular.secret).request(
        method, path.format(hash=regular.hash), json=body
    )

    assert error_of(response) == (403, "Only management keys can perform this operation")
    assert emulator.keys() == before


@pytest.mark.parametrize("path", ["/keys", "/key", "/chat/completions"])
def test_missing_authorization_is_401(client_for, path):
    method = "POST" if path == "/chat/completions" else "GET"

    response = client_for(None).request(method, path, json={"messages": [{"role": "user"}]})

    assert error_of(response) == (401, "Missing Authentication header")


def test_unknown_key_is_401_user_not_found(emulator, client_for, sentinel):
    emulator.add_management_key()

    response = client_for(sentinel).get("/keys")

    assert error_of(response) == (401, "User not found.")
    assert sentinel not in response.text


def test_deleted_key_on_keys_routes_is_401_not_403(emulator, client_for):
    regular = emulator.seed_key("gone")
    emulator.delete_key(regular.hash)

    assert error_of(client_for(regular.secret).get("/keys")) == (401, "User not found.")


def test_unknown_route_is_404_in_the_envelope(api):
    assert error_of(api.get("/nope"))[0] == 404
