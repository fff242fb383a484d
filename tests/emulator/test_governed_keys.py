"""What guardrails and workspace budgets do to a key: its `GET /key` budget layers and data
regions, the 403 once a layer is spent; and the admin routes and faults of the new endpoints.
"""

from __future__ import annotations

import httpx
import pytest

from emulator import DEFAULT_WORKSPACE_ID, Fault
from emulator.app import CHAT_COST

CHAT = {"model": "openrouter/auto", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def agents(emulator) -> dict:
    return emulator.add_workspace("Agents", "agents")


def guardrail(api, **settings) -> dict:
    return api.post("/guardrails", json={"name": "g", **settings}).json()["data"]


def assign(api, guardrail_id: str, *hashes: str) -> None:
    answer = api.post(f"/guardrails/{guardrail_id}/assignments/keys",
                      json={"key_hashes": list(hashes)})
    assert answer.json() == {"assigned_count": len(hashes)}


def current(client_for, secret: str) -> dict:
    return client_for(secret).get("/key").json()["data"]


def chat(client_for, secret: str):
    return client_for(secret).post("/chat/completions", json=CHAT)


# --- budget layers --------------------------------------------------------------------------------


def test_a_key_guardrail_with_a_limit_is_an_api_key_layer_counting_this_key(
    api, emulator, client_for
):
    capped = guardrail(api, limit_usd=20, reset_interval="monthly", include_byok_in_budgets=True)
    mine = emulator.seed_key("mine", usage=3)
    other = emulator.seed_key("other", usage=7)
    assign(api, capped["id"], mine.hash, other.hash)
    emulator.update_key(mine.hash, byok_usage_monthly=1.5)

    data = current(client_for, mine.secret)

    [layer] = data["budgets"]
    assert (layer["scope"], layer["guardrail_id"], layer["budget_id"]) == (
        "api_key", capped["id"], None
    )
    assert (layer["limit_usd"], layer["spend_usd"], layer["remaining_usd"]) == (20, 4.5, 15.5)
    assert (layer["reset_interval"], layer["include_byok"]) == ("monthly", True)
    assert layer["resets_at"].endswith("-01T00:00:00.000000+00:00")
    assert data["effective_budget"] == layer


def test_a_guardrail_without_a_limit_adds_no_layer(api, emulator, client_for):
    plain = guardrail(api, allowed_providers=["openai"])
    seeded = emulator.seed_key("k")
    assign(api, plain["id"], seeded.hash)

    assert current(client_for, seeded.secret)["budgets"] == []


def test_the_workspace_default_guardrail_governs_keys_without_their_own(
    api, emulator, client_for, agents
):
    api.patch(f"/guardrails/{agents['default_guardrail_id']}",
              json={"limit_usd": 10, "reset_interval": "daily"})
    free = emulator.seed_key("free", workspace_id=agents["id"])
    held = emulator.seed_key("held", workspace_id=agents["id"])
    own = guardrail(api, workspace_id=agents["id"], limit_usd=2, reset_interval="weekly")
    assign(api, own["id"], held.hash)

    [default_layer] = current(client_for, free.secret)["budgets"]
    [own_layer] = current(client_for, held.secret)["budgets"]

    assert (default_layer["scope"], default_layer["guardrail_id"]) == (
        "workspace_default_key", agents["default_guardrail_id"]
    )
    assert (own_layer["scope"], own_layer["guardrail_id"]) == ("api_key", own["id"])


def test_workspace_budgets_are_layers_broadest_first_counting_the_whole_workspace(
    api, emulator, client_for, agents
):
    for interval, limit in (("weekly", 50), ("lifetime", 900), ("daily", 10)):
        api.put(f"/workspaces/agents/budgets/{interval}", json={"limit_usd": limit})
    mine = emulator.seed_key("mine", workspace_id=agents["id"], usage=2, limit=5)
    emulator.seed_key("theirs", workspace_id=agents["id"], usage=3)
    emulator.seed_key("outsider", usage=100)

    budgets = current(client_for, mine.secret)["budgets"]

    assert [(b["scope"], b["reset_interval"], b["spend_usd"]) for b in budgets] == [
        ("workspace", None, 5), ("workspace", "weekly", 5), ("workspace", "daily", 5),
        ("key_limit", None, 2),
    ]
    stored = {b["id"] for b in emulator.workspace_budgets(agents["id"])}
    assert {b["budget_id"] for b in budgets[:3]} == stored
    assert budgets[0]["resets_at"] is None


def test_a_spent_guardrail_budget_refuses_inference_with_403(api, emulator, client_for):
    capped = guardrail(api, limit_usd=CHAT_COST, reset_interval="daily")
    seeded = emulator.seed_key("k")
    assign(api, capped["id"], seeded.hash)

    first, second = chat(client_for, seeded.secret), chat(client_for, seeded.secret)

    assert first.status_code == 200
    assert second.status_code == 403
    assert second.json()["error"]["message"].startswith("Guardrail budget exceeded")
    assert current(client_for, seeded.secret)["effective_budget"]["remaining_usd"] <= 0
    api.patch(f"/guardrails/{capped['id']}", json={"limit_usd": 1, "reset_interval": "daily"})
    assert chat(client_for, seeded.secret).status_code == 200


def test_a_spent_workspace_budget_names_its_broadest_interval(api, emulator, client_for, agents):
    api.put("/workspaces/agents/budgets/monthly", json={"limit_usd": 5})
    api.put("/workspaces/agents/budgets/daily", json={"limit_usd": 1})
    seeded = emulator.seed_key("k", workspace_id=agents["id"], usage=6)

    refused = chat(client_for, seeded.secret)

    assert (refused.status_code, refused.json()["error"]["message"]) == (
        403, "Workspace monthly budget exceeded"
    )
    assert emulator.key(seeded.hash)["usage"] == 6


def test_the_keys_own_limit_still_answers_402_after_the_other_layers(api, emulator, client_for):
    capped = guardrail(api, limit_usd=100, reset_interval="monthly")
    seeded = emulator.seed_key("k", limit=1, usage=1)
    assign(api, capped["id"], seeded.hash)

    assert chat(client_for, seeded.secret).status_code == 402


def test_data_regions_are_narrowed_by_the_governing_guardrail(api, emulator, client_for):
    global_only = guardrail(api, allowed_data_regions=["global", "europe"])
    europe_only = guardrail(api, allowed_data_regions=["europe"])
    a, b, c = (emulator.seed_key(name) for name in ("a", "b", "c"))
    assign(api, global_only["id"], a.hash)
    assign(api, europe_only["id"], b.hash)

    regions = [current(client_for, k.secret)["allowed_data_regions"] for k in (a, b, c)]

    assert regions == [["global"], [], ["global"]]


# --- admin routes and the Python handle -----------------------------------------------------------


def test_admin_seeds_and_lists_workspaces(admin, api, emulator):
    chosen = "5e5e5e5e-0000-4000-8000-000000000001"

    seeded = admin.post("/workspaces", json={"id": chosen, "name": "Seeded", "slug": "seeded"})
    duplicate = admin.post("/workspaces", json={"name": "Again", "slug": "seeded"})
    bad = admin.post("/workspaces", json={"name": "Bad", "slug": "Bad Slug"})

    assert (seeded.status_code, seeded.json()["data"]["id"]) == (201, chosen)
    assert duplicate.status_code == bad.status_code == 400
    assert "slug" in bad.json()["error"]["message"]
    listed = admin.get("/workspaces").json()["data"]
    assert [w["id"] for w in listed] == [chosen, DEFAULT_WORKSPACE_ID]
    assert api.get("/workspaces/seeded").json()["data"] == seeded.json()["data"]


def test_admin_lists_every_guardrail_and_assignment(admin, api, emulator, agents):
    home = guardrail(api)
    away = guardrail(api, workspace_id=agents["id"])
    seeded = emulator.seed_key("k")
    assign(api, home["id"], seeded.hash)

    listed = admin.get("/guardrails").json()["data"]
    held = admin.get("/assignments").json()["data"]

    assert {g["id"] for g in listed} == {home["id"], away["id"]}
    assert held == [{"key_hash": seeded.hash, "guardrail_id": home["id"]}]


def test_admin_sets_the_canonical_model_slugs(admin, api):
    answer = admin.put("/models", json={"openai/gpt-4o": "openai/gpt-4o-2024-08-06"})

    assert answer.status_code == 200
    assert guardrail(api, allowed_models=["openai/gpt-4o"])["allowed_models"] == [
        "openai/gpt-4o-2024-08-06"
    ]
    assert admin.put("/models", json={"openai/gpt-4o": 4}).status_code == 400


def test_reset_leaves_only_the_default_workspace(api, emulator, agents):
    guardrail(api)
    api.put("/workspaces/default/budgets/daily", json={"limit_usd": 5})
    emulator.set_canonical_models({"a": "b"})

    emulator.reset()

    assert [w["id"] for w in emulator.workspaces()] == [DEFAULT_WORKSPACE_ID]
    assert (emulator.guardrails(), emulator.workspace_budgets("default")) == ([], [])
    assert guardrail(api, allowed_models=["a"])["allowed_models"] == ["a"]


def test_add_workspace_checks_the_create_rules(emulator):
    with pytest.raises(ValueError, match="slug"):
        emulator.add_workspace("Bad", "Bad Slug")
    with pytest.raises(ValueError, match="already exists"):
        emulator.add_workspace("Again", "again", workspace_id=DEFAULT_WORKSPACE_ID)


# --- faults on the new paths ----------------------------------------------------------------------


def test_a_status_fault_on_a_guardrail_path_stores_nothing(api, emulator):
    emulator.inject(Fault(path="/api/v1/guardrails", method="POST", status=503, retry_after=2))

    response = api.post("/guardrails", json={"name": "g"})

    assert (response.status_code, response.headers["Retry-After"]) == (503, "2")
    assert emulator.guardrails() == []


def test_a_dropped_answer_after_commit_still_creates_the_workspace(api, emulator):
    emulator.inject(Fault(path="/api/v1/workspaces", method="POST", drop="after_commit"))

    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/workspaces", json={"name": "Ghost", "slug": "ghost"})

    assert "ghost" in {w["slug"] for w in emulator.workspaces()}
    assert [(r.method, r.status, r.fault) for r in emulator.requests()] == [
        ("POST", 201, "drop_after_commit")
    ]


def test_a_prefix_fault_covers_every_assignment_route(api, emulator):
    made = guardrail(api)
    emulator.inject(Fault(path=f"/api/v1/guardrails/{made['id']}/", prefix=True, status=500,
                          times=2))

    first = api.get(f"/guardrails/{made['id']}/assignments/keys")
    second = api.post(f"/guardrails/{made['id']}/assignments/keys/remove",
                      json={"key_hashes": ["a"]})
    third = api.get(f"/guardrails/{made['id']}/assignments/keys")

    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 200)
