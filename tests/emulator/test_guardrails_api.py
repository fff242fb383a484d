"""The `/guardrails` routes over loopback HTTP: shapes, statuses, validation, paging, the
one-guardrail-per-key rule and the workspace default guardrail (docs/emulator.md maps each fact
to its test; tests/conformance/test_guardrails.py parses the same answers with OpenRouter's SDK).
"""

from __future__ import annotations

import pytest

from emulator import DEFAULT_WORKSPACE_ID
from tests.emulator.envelope import error_of

GUARDRAIL_FIELDS = {
    "id", "name", "description", "workspace_id", "include_byok_in_budgets", "limit_usd",
    "reset_interval", "allowed_models", "allowed_providers", "ignored_models",
    "ignored_providers", "allowed_data_regions", "content_filter_builtins", "content_filters",
    "enforce_zdr", "enforce_zdr_anthropic", "enforce_zdr_openai", "enforce_zdr_google",
    "enforce_zdr_xai", "enforce_zdr_other", "enable_free_model_publication",
    "enable_free_model_training", "enable_paid_model_training", "allow_safety_retention_google",
    "allow_safety_retention_other", "created_at", "updated_at",
}
INVALID = (400, "Invalid request parameters")


def create(api, name: str = "g", **settings) -> dict:
    response = api.post("/guardrails", json={"name": name, **settings})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def new_key(api, name: str = "k", **fields) -> str:
    return api.post("/keys", json={"name": name, **fields}).json()["data"]["hash"]


def assign(api, guardrail_id: str, *hashes: str):
    return api.post(f"/guardrails/{guardrail_id}/assignments/keys",
                    json={"key_hashes": list(hashes)})


def default_guardrail_of(api, workspace: str = DEFAULT_WORKSPACE_ID) -> str:
    return api.get(f"/workspaces/{workspace}").json()["data"]["default_guardrail_id"]


# --- create ---------------------------------------------------------------------------------------


def test_create_answers_201_with_every_field_null_until_set(api):
    response = api.post("/guardrails", json={"name": "bare"})

    assert response.status_code == 201
    assert set(response.json()) == {"data"}
    data = response.json()["data"]
    assert set(data) == GUARDRAIL_FIELDS
    assert (data["name"], data["workspace_id"], data["include_byok_in_budgets"]) == (
        "bare", DEFAULT_WORKSPACE_ID, False
    )
    unset = GUARDRAIL_FIELDS - {"id", "name", "workspace_id", "include_byok_in_budgets",
                                "created_at"}
    assert {name: data[name] for name in unset} == dict.fromkeys(unset)


@pytest.mark.parametrize(
    "body",
    [
        {},  # no name
        {"name": ""},
        {"name": "x" * 201},
        {"name": None},
        {"name": "g", "owner": "me"},
        {"name": "g", "description": "x" * 1001},
        {"name": "g", "limit_usd": 5},
        {"name": "g", "reset_interval": "daily"},
        {"name": "g", "limit_usd": 5, "reset_interval": None},
        {"name": "g", "limit_usd": -1, "reset_interval": "daily"},
        {"name": "g", "limit_usd": "5", "reset_interval": "daily"},
        {"name": "g", "limit_usd": 5, "reset_interval": "yearly"},
        {"name": "g", "include_byok_in_budgets": None},
        {"name": "g", "allowed_models": []},
        {"name": "g", "allowed_providers": [""]},
        {"name": "g", "ignored_models": "openai/gpt-4o"},
        {"name": "g", "allowed_data_regions": []},
        {"name": "g", "allowed_data_regions": ["mars"]},
        {"name": "g", "enforce_zdr_openai": "yes"},
        {"name": "g", "content_filter_builtins": [{"slug": "dna", "action": "block"}]},
        {"name": "g", "content_filter_builtins": [{"slug": "email", "action": "shout"}]},
        {"name": "g", "content_filter_builtins": [{"slug": "email", "action": "block"},
                                                  {"slug": "email", "action": "flag"}]},
        {"name": "g", "content_filter_builtins": [
            {"slug": "regex-prompt-injection", "action": "block", "scan_scope": "system"}]},
        {"name": "g", "content_filters": [{"pattern": "", "action": "block"}]},
        {"name": "g", "content_filters": [{"pattern": "x", "action": "block", "label": "l" * 101}]},
        {"name": "g", "content_filters": [{"pattern": "x"}]},
        {"name": "g", "workspace_id": "agents"},
    ],
)
def test_invalid_create_is_400_and_stores_nothing(api, emulator, body):
    assert error_of(api.post("/guardrails", json=body)) == INVALID
    assert emulator.guardrails() == []


@pytest.mark.parametrize(
    "pattern",
    ["secret(?=s)", "(?!no)x", "(?<=a)b", "(?<!a)b", r"(a)\1", r"(?<q>a)\k<q>", "(a+)+",
     "(?:x*)*", "(b{2,})+", "(?i)acme", "(unclosed"],
)
def test_a_pattern_the_guide_says_is_rejected_is_400_invalid_regex_pattern(api, emulator, pattern):
    response = api.post("/guardrails", json={
        "name": "g", "content_filters": [{"pattern": pattern, "action": "block"}]
    })

    status, message = error_of(response)
    assert (status, message.split(":")[0]) == (400, "invalid_regex_pattern")
    assert emulator.guardrails() == []


@pytest.mark.parametrize(
    "pattern",
    ["ACME-[0-9]{6}", r"\b(sk-[a-zA-Z0-9]{48})\b", r"\(?=literal\)", "[(?=]", r"(?<id>\d+)-x",
     r"\\1", "(ab)+", "a{2,}b*"],
)
def test_a_plain_javascript_pattern_is_kept_as_sent(api, pattern):
    data = create(api, content_filters=[{"pattern": pattern, "action": "flag"}])

    assert data["content_filters"] == [{"pattern": pattern, "action": "flag", "label": None}]


def test_builtins_get_their_label_and_only_prompt_injection_a_scan_scope(api):
    data = create(api, content_filter_builtins=[
        {"slug": "credit-card", "action": "redact", "label": "ignored", "scan_scope": "user_only"},
        {"slug": "regex-prompt-injection", "action": "block"},
    ])

    assert data["content_filter_builtins"] == [
        {"slug": "credit-card", "action": "redact", "label": "[CREDIT_CARD]"},
        {"slug": "regex-prompt-injection", "action": "block", "label": "[REGEX_PROMPT_INJECTION]",
         "scan_scope": "all_messages"},
    ]


def test_the_deprecated_enforce_zdr_fills_only_the_groups_not_sent(api):
    data = create(api, enforce_zdr=True, enforce_zdr_google=False)

    groups = ("anthropic", "openai", "google", "xai", "other")
    assert [data[f"enforce_zdr_{group}"] for group in groups] == [True, True, False, True, True]


def test_model_slugs_come_back_as_the_catalogues_canonical_slugs(api, emulator):
    emulator.set_canonical_models({"openai/gpt-4o-mini": "openai/gpt-4o-mini-2024-07-18"})

    data = create(api, allowed_models=["openai/gpt-4o-mini", "x/y"],
                  ignored_models=["openai/gpt-4o-mini"])

    assert data["allowed_models"] == ["openai/gpt-4o-mini-2024-07-18", "x/y"]
    assert data["ignored_models"] == ["openai/gpt-4o-mini-2024-07-18"]


def test_two_creates_with_one_name_make_two_guardrails(api, emulator):
    create(api, "same")
    create(api, "same")

    assert [g["name"] for g in emulator.guardrails()] == ["same", "same"]


# --- list -----------------------------------------------------------------------------------------


def test_list_pages_by_limit_with_total_count_newest_first(api):
    made = [create(api, f"g{index:02d}")["id"] for index in range(7)]

    pages = [api.get("/guardrails", params={"offset": offset, "limit": 3}).json()
             for offset in (0, 3, 6, 9)]

    assert [len(page["data"]) for page in pages] == [3, 3, 1, 0]
    assert {page["total_count"] for page in pages} == {7}
    assert [g["id"] for page in pages for g in page["data"]] == made[::-1]
    assert len(api.get("/guardrails").json()["data"]) == 7  # default limit 50


def test_list_shows_one_workspace_the_default_unless_named(api, emulator):
    agents = emulator.add_workspace("Agents", "agents")["id"]
    home = create(api, "home")
    away = create(api, "away", workspace_id=agents)

    default = api.get("/guardrails").json()
    named = api.get("/guardrails", params={"workspace_id": agents}).json()

    assert ([g["id"] for g in default["data"]], default["total_count"]) == ([home["id"]], 1)
    assert ([g["id"] for g in named["data"]], named["total_count"]) == ([away["id"]], 1)


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"offset": "-1"},
     {"workspace_id": "agents"}, {"workspace_id": "0b0e2f9c-0000-4000-8000-000000000000"}],
)
def test_list_with_a_bad_query_is_400(api, params):
    assert error_of(api.get("/guardrails", params=params)) == INVALID


# --- get, update, delete --------------------------------------------------------------------------


def test_get_returns_the_stored_object_and_404_for_any_other_id(api):
    made = create(api, limit_usd=5, reset_interval="weekly")

    assert api.get(f"/guardrails/{made['id']}").json() == {"data": made}
    for path in ("/guardrails/0b0e2f9c-0000-4000-8000-000000000000", "/guardrails/nope"):
        assert error_of(api.get(path)) == (404, "Resource not found")


def test_patch_replaces_each_field_it_sends_and_keeps_the_rest(api):
    made = create(api, description="keep", allowed_models=["a/b", "c/d"],
                  content_filters=[{"pattern": "x", "action": "flag"}], limit_usd=5,
                  reset_interval="daily")

    response = api.patch(f"/guardrails/{made['id']}", json={
        "allowed_models": ["e/f"], "content_filters": None, "name": "renamed",
        "include_byok_in_budgets": True,
    })

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["allowed_models"], data["content_filters"], data["name"]) == (
        ["e/f"], None, "renamed"
    )
    assert (data["description"], data["limit_usd"], data["include_byok_in_budgets"]) == (
        "keep", 5, True
    )
    assert (data["created_at"], data["id"]) == (made["created_at"], made["id"])
    assert data["updated_at"] is not None


@pytest.mark.parametrize(
    "body",
    [{"limit_usd": 9}, {"reset_interval": "weekly"}, {"workspace_id": DEFAULT_WORKSPACE_ID},
     {"name": None}, {"include_byok_in_budgets": None}, {"allowed_models": []}],
)
def test_invalid_patch_is_400_and_changes_nothing(api, body):
    made = create(api, limit_usd=5, reset_interval="daily")

    assert error_of(api.patch(f"/guardrails/{made['id']}", json=body)) == INVALID
    assert api.get(f"/guardrails/{made['id']}").json()["data"] == made


def test_limit_and_reset_change_together_or_clear_together(api):
    made = create(api, limit_usd=5, reset_interval="daily")

    changed = api.patch(f"/guardrails/{made['id']}",
                        json={"limit_usd": 8, "reset_interval": "monthly"}).json()["data"]
    cleared = api.patch(f"/guardrails/{made['id']}",
                        json={"limit_usd": None, "reset_interval": None}).json()["data"]

    assert (changed["limit_usd"], changed["reset_interval"]) == (8, "monthly")
    assert (cleared["limit_usd"], cleared["reset_interval"]) == (None, None)


def test_delete_answers_deleted_true_and_every_route_then_404s(api):
    made = create(api)

    response = api.delete(f"/guardrails/{made['id']}")

    assert (response.status_code, response.json()) == (200, {"deleted": True})
    for call in (lambda: api.get(f"/guardrails/{made['id']}"),
                 lambda: api.delete(f"/guardrails/{made['id']}"),
                 lambda: api.patch(f"/guardrails/{made['id']}", json={"name": "x"}),
                 lambda: api.get(f"/guardrails/{made['id']}/assignments/keys")):
        assert error_of(call()) == (404, "Resource not found")


# --- the workspace default guardrail --------------------------------------------------------------


def test_the_default_guardrail_is_404_until_a_patch_configures_it(api, emulator):
    agents = emulator.add_workspace("Agents", "agents")["id"]
    default_id = default_guardrail_of(api, agents)

    before = api.get(f"/guardrails/{default_id}")
    configured = api.patch(f"/guardrails/{default_id}", json={"enforce_zdr_other": True})
    after = api.get(f"/guardrails/{default_id}")

    assert error_of(before) == (404, "Resource not found")
    assert configured.status_code == 200
    data = configured.json()["data"]
    assert (data["id"], data["workspace_id"], data["name"], data["enforce_zdr_other"]) == (
        default_id, agents, f"Workspace {agents} Default", True
    )
    assert after.json() == configured.json()
    listed = api.get("/guardrails", params={"workspace_id": agents}).json()["data"]
    assert [g["id"] for g in listed] == [default_id]


def test_each_workspace_has_its_own_stable_default_guardrail_id(api, emulator):
    agents = emulator.add_workspace("Agents", "agents")["id"]

    ids = {default_guardrail_of(api), default_guardrail_of(api, agents)}
    assert len(ids) == 2
    assert default_guardrail_of(api, "agents") == default_guardrail_of(api, agents)


def test_the_default_guardrail_cannot_be_renamed_even_before_it_exists(api):
    default_id = default_guardrail_of(api)

    status, message = error_of(api.patch(f"/guardrails/{default_id}", json={"name": "mine"}))

    assert (status, message) == (400, "The name of a workspace default guardrail cannot be changed")
    assert error_of(api.get(f"/guardrails/{default_id}"))[0] == 404
    api.patch(f"/guardrails/{default_id}", json={"description": "now it exists"})
    assert error_of(api.patch(f"/guardrails/{default_id}", json={"name": "mine"}))[0] == 400


def test_the_default_guardrail_is_never_assigned_or_deleted(api):
    default_id = default_guardrail_of(api)
    api.patch(f"/guardrails/{default_id}", json={"description": "configured"})
    key_hash = new_key(api)

    assert error_of(assign(api, default_id, key_hash))[0] == 400
    assert error_of(api.post(f"/guardrails/{default_id}/assignments/keys/remove",
                             json={"key_hashes": [key_hash]}))[0] == 400
    assert error_of(api.delete(f"/guardrails/{default_id}"))[0] == 403
    assert api.get(f"/guardrails/{default_id}").status_code == 200
    assert api.get(f"/guardrails/{default_id}/assignments/keys").json() == {
        "data": [], "total_count": 0
    }


# --- key assignments ------------------------------------------------------------------------------


def test_assign_answers_the_count_and_a_key_holds_one_guardrail(api, emulator):
    first, second = create(api, "first"), create(api, "second")
    a, b = new_key(api, "a"), new_key(api, "b")

    assert assign(api, first["id"], a, b).json() == {"assigned_count": 2}
    assert assign(api, second["id"], b).json() == {"assigned_count": 1}

    assert (emulator.key_guardrail(a), emulator.key_guardrail(b)) == (first["id"], second["id"])
    everyone = api.get("/guardrails/assignments/keys").json()
    assert everyone["total_count"] == 2
    assert {(x["key_hash"], x["guardrail_id"]) for x in everyone["data"]} == {
        (a, first["id"]), (b, second["id"])
    }


def test_an_assignment_names_the_key_and_who_made_it(api):
    guardrail = create(api)
    created = api.post("/keys", json={"name": "ci"}).json()["data"]
    assign(api, guardrail["id"], created["hash"])

    [held] = api.get(f"/guardrails/{guardrail['id']}/assignments/keys").json()["data"]

    assert set(held) == {"id", "key_hash", "key_name", "key_label", "guardrail_id", "assigned_by",
                         "created_at"}
    assert (held["key_hash"], held["key_name"], held["key_label"]) == (
        created["hash"], "ci", created["label"]
    )
    assert held["assigned_by"].startswith("user_")


def test_assigning_again_keeps_the_assignment_and_counts_it(api):
    guardrail = create(api)
    key_hash = new_key(api)
    assign(api, guardrail["id"], key_hash)
    before = api.get("/guardrails/assignments/keys").json()["data"]

    again = assign(api, guardrail["id"], key_hash, key_hash)

    assert again.json() == {"assigned_count": 1}
    assert api.get("/guardrails/assignments/keys").json()["data"] == before


def test_unknown_key_hashes_are_skipped_and_not_counted(api, emulator):
    guardrail = create(api)
    key_hash = new_key(api)

    answer = assign(api, guardrail["id"], "0" * 64, key_hash)

    assert answer.json() == {"assigned_count": 1}
    assert emulator.key_guardrail(key_hash) == guardrail["id"]


def test_a_key_of_another_workspace_refuses_the_whole_assignment(api, emulator):
    agents = emulator.add_workspace("Agents", "agents")["id"]
    theirs = create(api, "theirs", workspace_id=agents)
    insider, outsider = new_key(api, "in", workspace_id=agents), new_key(api, "out")

    response = assign(api, theirs["id"], insider, outsider)

    assert error_of(response) == (
        400, "Keys can only be assigned to a guardrail in their own workspace"
    )
    assert (emulator.key_guardrail(insider), emulator.key_guardrail(outsider)) == (None, None)


def test_unassign_counts_the_keys_that_held_this_guardrail_only(api, emulator):
    mine, other = create(api, "mine"), create(api, "other")
    held, elsewhere, free = new_key(api, "a"), new_key(api, "b"), new_key(api, "c")
    assign(api, mine["id"], held)
    assign(api, other["id"], elsewhere)

    response = api.post(f"/guardrails/{mine['id']}/assignments/keys/remove",
                        json={"key_hashes": [held, elsewhere, free, "0" * 64]})

    assert (response.status_code, response.json()) == (200, {"unassigned_count": 1})
    assert [emulator.key_guardrail(h) for h in (held, elsewhere, free)] == [None, other["id"], None]


@pytest.mark.parametrize(
    "body",
    [{}, {"key_hashes": []}, {"key_hashes": [1]}, {"key_hashes": [""]}, {"key_hashes": "abc"},
     {"key_hashes": ["a"], "more": True}, [{"key_hashes": ["a"]}]],
)
@pytest.mark.parametrize("suffix", ["", "/remove"])
def test_a_bad_bulk_body_is_400(api, body, suffix):
    guardrail = create(api)

    response = api.post(f"/guardrails/{guardrail['id']}/assignments/keys{suffix}", json=body)

    assert error_of(response) == INVALID


def test_deleting_a_key_or_its_guardrail_ends_the_assignment(api, emulator):
    guardrail = create(api)
    kept, deleted = new_key(api, "kept"), new_key(api, "deleted")
    assign(api, guardrail["id"], kept, deleted)

    api.delete(f"/keys/{deleted}")
    assert [a["key_hash"] for a in api.get("/guardrails/assignments/keys").json()["data"]] == [
        kept
    ]
    api.delete(f"/guardrails/{guardrail['id']}")
    assert api.get("/guardrails/assignments/keys").json() == {"data": [], "total_count": 0}
    assert emulator.key_guardrail(kept) is None


def test_a_key_moved_to_another_workspace_keeps_its_guardrail(api, emulator):
    agents = emulator.add_workspace("Agents", "agents")["id"]
    guardrail = create(api)
    key_hash = new_key(api)
    assign(api, guardrail["id"], key_hash)

    api.patch(f"/keys/{key_hash}", json={"workspace_id": agents})

    assert emulator.key_guardrail(key_hash) == guardrail["id"]


def test_assignment_lists_page_with_total_count(api):
    guardrail = create(api)
    hashes = [new_key(api, f"k{index}") for index in range(5)]
    assign(api, guardrail["id"], *hashes)

    pages = [api.get(f"/guardrails/{guardrail['id']}/assignments/keys",
                     params={"offset": offset, "limit": 2}).json() for offset in (0, 2, 4)]

    assert [len(page["data"]) for page in pages] == [2, 2, 1]
    assert {page["total_count"] for page in pages} == {5}
    assert sorted(a["key_hash"] for page in pages for a in page["data"]) == sorted(hashes)


# --- auth and routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/guardrails"), ("POST", "/guardrails"), ("GET", "/guardrails/x"),
     ("PATCH", "/guardrails/x"), ("DELETE", "/guardrails/x"),
     ("GET", "/guardrails/x/assignments/keys"), ("POST", "/guardrails/x/assignments/keys"),
     ("POST", "/guardrails/x/assignments/keys/remove"), ("GET", "/guardrails/assignments/keys")],
)
def test_every_route_wants_a_management_key(client_for, emulator, method, path):
    regular = client_for(emulator.seed_key("inference").secret)

    assert error_of(client_for(None).request(method, path, json={})) == (
        401, "Missing Authentication header"
    )
    assert error_of(regular.request(method, path, json={})) == (
        403, "Only management keys can perform this operation"
    )


def test_member_assignment_routes_are_not_emulated_and_wrong_methods_are_405(api):
    assert error_of(api.get("/guardrails/x/assignments/members")) == (404, "Not Found")
    assert error_of(api.get("/guardrails/assignments/members")) == (404, "Not Found")
    assert api.put("/guardrails", json={}).status_code == 405
    assert api.get("/guardrails/x/assignments/keys/remove").status_code == 405
