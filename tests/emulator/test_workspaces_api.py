"""The `/workspaces` routes over loopback HTTP: shapes, statuses, validation, slugs, the delete
rule, budgets and the rule that a key lives in a workspace that exists (docs/emulator.md maps each
fact to its test; tests/conformance/test_workspaces.py parses the same answers with the SDK).
"""

from __future__ import annotations

import pytest

from emulator import DEFAULT_WORKSPACE_ID
from tests.emulator.envelope import error_of

WORKSPACE_FIELDS = {
    "id", "name", "slug", "description", "default_text_model", "default_image_model",
    "default_provider_sort", "io_logging_api_key_ids", "io_logging_sampling_rate",
    "is_data_discount_logging_enabled", "is_observability_broadcast_enabled",
    "is_observability_io_logging_enabled", "disabled_server_tools", "include_byok_in_budgets",
    "created_at", "created_by", "updated_at", "default_guardrail_id",
}
BUDGET_FIELDS = {"id", "workspace_id", "limit_usd", "reset_interval", "created_at", "updated_at"}
INVALID = (400, "Invalid request parameters")
NOWHERE = "0b0e2f9c-0000-4000-8000-000000000000"


def create(api, slug: str = "agents", **fields) -> dict:
    response = api.post("/workspaces", json={"name": slug.title(), "slug": slug, **fields})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def put_budget(api, ref: str, interval: str, limit: float, **extra):
    return api.put(f"/workspaces/{ref}/budgets/{interval}", json={"limit_usd": limit, **extra})


# --- the default workspace and create -------------------------------------------------------------


def test_the_default_workspace_exists_from_the_start(api):
    listed = api.get("/workspaces").json()

    assert listed["total_count"] == 1
    [default] = listed["data"]
    assert set(default) == WORKSPACE_FIELDS
    assert (default["id"], default["slug"]) == (DEFAULT_WORKSPACE_ID, "default")


def test_create_answers_201_with_the_published_defaults(api):
    response = api.post("/workspaces", json={"name": "Agents", "slug": "agents"})

    assert response.status_code == 201
    assert set(response.json()) == {"data"}
    data = response.json()["data"]
    assert set(data) == WORKSPACE_FIELDS
    assert (data["name"], data["slug"], data["description"], data["updated_at"]) == (
        "Agents", "agents", None, None
    )
    assert (data["io_logging_sampling_rate"], data["io_logging_api_key_ids"]) == (1, None)
    assert (data["is_data_discount_logging_enabled"], data["is_observability_broadcast_enabled"],
            data["is_observability_io_logging_enabled"]) == (True, False, False)
    assert (data["include_byok_in_budgets"], data["disabled_server_tools"]) == (False, None)
    assert data["default_guardrail_id"] not in (data["id"], None)


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "agents"},  # no name
        {"name": "Agents"},  # no slug
        {"name": "", "slug": "agents"},
        {"name": "x" * 101, "slug": "agents"},
        {"name": "Agents", "slug": ""},
        {"name": "Agents", "slug": "a" * 51},
        {"name": "Agents", "slug": "Agents"},
        {"name": "Agents", "slug": "-agents"},
        {"name": "Agents", "slug": "agents-"},
        {"name": "Agents", "slug": "ag--ents"},
        {"name": "Agents", "slug": "ag_ents"},
        {"name": "Agents", "slug": "agents", "description": "x" * 501},
        {"name": "Agents", "slug": "agents", "io_logging_sampling_rate": 0},
        {"name": "Agents", "slug": "agents", "io_logging_sampling_rate": 1.5},
        {"name": "Agents", "slug": "agents", "io_logging_api_key_ids": ["1"]},
        {"name": "Agents", "slug": "agents", "is_observability_broadcast_enabled": None},
        {"name": "Agents", "slug": "agents", "disabled_server_tools": ["openrouter:teleport"]},
        {"name": "Agents", "slug": "agents", "budget": 5},
    ],
)
def test_invalid_create_is_400_and_stores_nothing(api, emulator, body):
    assert error_of(api.post("/workspaces", json=body)) == INVALID
    assert [w["id"] for w in emulator.workspaces()] == [DEFAULT_WORKSPACE_ID]


def test_a_slug_names_one_workspace_on_create_and_on_patch(api):
    create(api, "agents")
    other = create(api, "other")

    assert error_of(api.post("/workspaces", json={"name": "A", "slug": "agents"}))[0] == 400
    assert error_of(api.patch(f"/workspaces/{other['id']}", json={"slug": "agents"}))[0] == 400
    assert api.patch("/workspaces/agents", json={"slug": "agents"}).status_code == 200


# --- read and update ------------------------------------------------------------------------------


def test_a_workspace_answers_by_id_and_by_slug(api):
    made = create(api)

    assert api.get(f"/workspaces/{made['id']}").json() == {"data": made}
    assert api.get("/workspaces/agents").json() == {"data": made}
    assert error_of(api.get("/workspaces/nowhere")) == (404, "Resource not found")


def test_list_pages_by_limit_with_total_count(api):
    for index in range(4):
        create(api, f"w{index}")

    pages = [api.get("/workspaces", params={"offset": offset, "limit": 2}).json()
             for offset in (0, 2, 4)]

    assert [len(page["data"]) for page in pages] == [2, 2, 1]
    assert {page["total_count"] for page in pages} == {5}
    assert error_of(api.get("/workspaces", params={"limit": 101})) == INVALID


def test_patch_changes_what_it_sends_and_an_empty_tool_list_is_null(api):
    made = create(api, description="keep", disabled_server_tools=["openrouter:web_search"])

    response = api.patch("/workspaces/agents", json={"name": "Renamed",
                                                     "disabled_server_tools": []})

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["name"], data["description"], data["disabled_server_tools"]) == (
        "Renamed", "keep", None
    )
    assert (data["created_at"], data["updated_at"] is not None) == (made["created_at"], True)


@pytest.mark.parametrize("body", [{"name": None}, {"slug": "Bad"}, {"id": NOWHERE}, []])
def test_invalid_patch_is_400_and_changes_nothing(api, body):
    made = create(api)

    assert error_of(api.patch("/workspaces/agents", json=body)) == INVALID
    assert api.get("/workspaces/agents").json()["data"] == made


# --- delete ---------------------------------------------------------------------------------------


def test_a_workspace_with_keys_cannot_be_deleted_disabled_ones_included(api, emulator):
    made = create(api)
    emulator.seed_key("dormant", workspace_id=made["id"], disabled=True)

    status, message = error_of(api.delete("/workspaces/agents"))

    assert (status, message) == (
        400, "Workspaces with active API keys cannot be deleted; remove the keys first"
    )
    assert api.get("/workspaces/agents").status_code == 200


def test_delete_takes_the_budgets_and_guardrails_with_it(api, emulator):
    made = create(api)
    put_budget(api, "agents", "monthly", 50)
    theirs = api.post("/guardrails", json={"name": "theirs", "workspace_id": made["id"]}).json()
    api.patch(f"/guardrails/{made['default_guardrail_id']}", json={"description": "configured"})
    mover = api.post("/keys", json={"name": "mover", "workspace_id": made["id"]}).json()["data"]
    api.post(f"/guardrails/{theirs['data']['id']}/assignments/keys",
             json={"key_hashes": [mover["hash"]]})
    api.patch(f"/keys/{mover['hash']}", json={"workspace_id": DEFAULT_WORKSPACE_ID})

    response = api.delete("/workspaces/agents")

    assert (response.status_code, response.json()) == (200, {"deleted": True})
    assert emulator.guardrails() == []
    assert emulator.key_guardrail(mover["hash"]) is None
    assert emulator.workspace_budgets(made["id"]) is None
    assert error_of(api.get(f"/guardrails/{made['default_guardrail_id']}"))[0] == 404


def test_the_default_workspace_wants_confirmation_and_is_then_refused(api):
    unconfirmed = api.delete(f"/workspaces/{DEFAULT_WORKSPACE_ID}")
    confirmed = api.delete("/workspaces/default",
                           params={"confirm_default_workspace_deletion": "true"})

    assert error_of(unconfirmed)[0] == 400
    assert error_of(confirmed)[0] == 403
    assert error_of(api.delete("/workspaces/default",
                               params={"confirm_default_workspace_deletion": "yes"})) == INVALID
    assert api.get("/workspaces/default").status_code == 200


# --- budgets --------------------------------------------------------------------------------------


def test_a_budget_is_upserted_per_interval_and_lifetime_has_no_reset(api):
    made = create(api)

    first = put_budget(api, "agents", "lifetime", 900)
    again = put_budget(api, made["id"], "lifetime", 800)

    assert first.status_code == again.status_code == 200
    assert set(first.json()) == {"data", "include_byok_in_budgets"}
    data = again.json()["data"]
    assert set(data) == BUDGET_FIELDS
    assert (data["workspace_id"], data["limit_usd"], data["reset_interval"]) == (
        made["id"], 800, None
    )
    assert (data["id"], data["created_at"]) == (first.json()["data"]["id"],
                                                 first.json()["data"]["created_at"])
    assert data["updated_at"] >= data["created_at"]


def test_byok_in_budgets_is_one_setting_for_every_interval(api):
    create(api)
    put_budget(api, "agents", "monthly", 500)

    put_budget(api, "agents", "daily", 30, include_byok_in_budgets=True)
    monthly = api.get("/workspaces/agents/budgets/monthly").json()
    unchanged = put_budget(api, "agents", "weekly", 100).json()

    assert monthly["include_byok_in_budgets"] is True
    assert unchanged["include_byok_in_budgets"] is True
    assert api.get("/workspaces/agents").json()["data"]["include_byok_in_budgets"] is True


@pytest.mark.parametrize(
    ("interval", "limit"),
    [("lifetime", 500), ("lifetime", 100), ("weekly", 500), ("weekly", 20), ("daily", 600)],
)
def test_limits_must_strictly_decrease_from_lifetime_to_daily(api, interval, limit):
    create(api)
    put_budget(api, "agents", "monthly", 500)
    put_budget(api, "agents", "daily", 20)

    status, message = error_of(put_budget(api, "agents", interval, limit))

    assert status == 400
    assert "strictly decrease" in message
    budgets = api.get("/workspaces/agents/budgets").json()["data"]
    assert [(b["reset_interval"], b["limit_usd"]) for b in budgets] == [("monthly", 500),
                                                                       ("daily", 20)]


def test_a_budget_between_its_neighbours_is_accepted(api):
    create(api)
    for interval, limit in (("monthly", 500), ("daily", 20), ("weekly", 100), ("lifetime", 501)):
        assert put_budget(api, "agents", interval, limit).status_code == 200

    listed = api.get("/workspaces/agents/budgets").json()

    assert set(listed) == {"data", "include_byok_in_budgets"}
    assert [b["limit_usd"] for b in listed["data"]] == [501, 500, 100, 20]


@pytest.mark.parametrize(
    "body",
    [{}, {"limit_usd": 0}, {"limit_usd": -5}, {"limit_usd": "5"}, {"limit_usd": None},
     {"limit_usd": 5, "include_byok_in_budgets": "yes"}, {"limit_usd": 5, "reset": "daily"}],
)
def test_an_invalid_budget_body_is_400(api, body):
    create(api)

    assert error_of(api.put("/workspaces/agents/budgets/daily", json=body)) == INVALID


def test_budget_routes_check_the_interval_then_the_workspace(api):
    create(api)

    assert error_of(put_budget(api, "agents", "hourly", 5)) == INVALID
    assert error_of(api.get("/workspaces/agents/budgets/hourly")) == INVALID
    assert error_of(put_budget(api, "nowhere", "daily", 5)) == (404, "Resource not found")
    assert error_of(api.get("/workspaces/nowhere/budgets")) == (404, "Resource not found")
    assert error_of(api.get("/workspaces/agents/budgets/daily")) == (404, "Resource not found")
    assert api.delete("/workspaces/agents/budgets/daily").json() == {"deleted": True}
    assert api.post("/workspaces/agents/budgets/daily", json={}).status_code == 405


# --- keys live in workspaces that exist -----------------------------------------------------------


def test_a_key_needs_a_workspace_that_exists(api, emulator):
    seeded = emulator.seed_key("home")

    assert error_of(api.post("/keys", json={"name": "x", "workspace_id": NOWHERE})) == (
        400, "Workspace not found"
    )
    assert error_of(api.patch(f"/keys/{seeded.hash}", json={"workspace_id": NOWHERE}))[0] == 400
    assert error_of(api.get("/keys", params={"workspace_id": NOWHERE})) == (
        404, "Resource not found"
    )
    with pytest.raises(ValueError, match="is not a workspace"):
        emulator.seed_key("lost", workspace_id=NOWHERE)
    stored = emulator.keys()
    assert [key["hash"] for key in stored] == [seeded.hash]


def test_a_key_created_in_a_workspace_is_listed_there_only(api):
    made = create(api)
    key = api.post("/keys", json={"name": "resident", "workspace_id": made["id"]}).json()

    listed = api.get("/keys", params={"workspace_id": made["id"]}).json()["data"]

    assert key["data"]["workspace_id"] == made["id"]
    assert [k["hash"] for k in listed] == [key["data"]["hash"]]
    assert api.get("/keys").json()["data"] == []


# --- auth and routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/workspaces"), ("POST", "/workspaces"), ("GET", "/workspaces/default"),
     ("PATCH", "/workspaces/default"), ("DELETE", "/workspaces/default"),
     ("GET", "/workspaces/default/budgets"), ("PUT", "/workspaces/default/budgets/daily")],
)
def test_every_route_wants_a_management_key(client_for, emulator, method, path):
    regular = client_for(emulator.seed_key("inference").secret)

    assert error_of(client_for(None).request(method, path, json={}))[0] == 401
    assert error_of(regular.request(method, path, json={})) == (
        403, "Only management keys can perform this operation"
    )


def test_member_routes_are_not_emulated(api):
    assert error_of(api.get("/workspaces/default/members")) == (404, "Not Found")
    assert error_of(api.post("/workspaces/default/members/add", json={})) == (404, "Not Found")
