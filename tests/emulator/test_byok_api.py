"""The `/byok` routes over loopback HTTP: shapes, statuses, validation, the write-only key and its
label, rotation in place, the provider filter (docs/emulator.md maps each fact to its test;
test_area_books.py holds what every area answers alike: auth, soft delete, paging;
tests/conformance/test_byok.py parses the same answers with OpenRouter's SDK).
"""

from __future__ import annotations

import pytest

from emulator import DEFAULT_WORKSPACE_ID, Fault
from tests.emulator.envelope import error_of
from tests.support.sentinel import assert_absent, make_sentinel

CREDENTIAL_FIELDS = {
    "id", "provider", "workspace_id", "name", "label", "disabled", "is_byok_only", "is_fallback",
    "is_required", "sort_order", "declared_region", "declared_zdr", "allowed_api_key_hashes",
    "allowed_models", "allowed_user_ids", "created_at",
}
AGENTS = "7c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
MISSING = "4d4d4d4d-0000-4000-8000-000000000000"


def create(api, provider: str = "openai", **fields) -> dict:
    body = {"provider": provider, "key": make_sentinel(), **fields}
    response = api.post("/byok", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def label_of(secret: str) -> str:
    return f"{secret[:3]}...{secret[-4:]}"


def test_create_answers_201_with_the_label_and_never_the_key(api, emulator, sentinel):
    response = api.post("/byok", json={"provider": "anthropic", "key": sentinel, "name": "prod"})

    assert response.status_code == 201
    assert set(response.json()) == {"data"}
    data = response.json()["data"]
    assert set(data) == CREDENTIAL_FIELDS
    assert (data["provider"], data["name"], data["workspace_id"]) == (
        "anthropic", "prod", DEFAULT_WORKSPACE_ID
    )
    assert data["label"] == label_of(sentinel)
    assert (data["disabled"], data["is_fallback"], data["sort_order"]) == (False, False, 0)
    assert data["allowed_api_key_hashes"] is None
    assert_absent(sentinel, response.text, api.get(f"/byok/{data['id']}").text,
                  api.get("/byok").text, emulator.objects("byok"), emulator.requests(),
                  vars(emulator.store.books["byok"]))


@pytest.mark.parametrize(
    "body",
    [
        {"key": "sk-abcdefghijklmnop"},  # no provider
        {"provider": "openai"},  # no key
        {"provider": "openai", "key": ""},
        {"provider": "OpenAI", "key": "sk-abcdefghijklmnop"},
        {"provider": "not-a-provider", "key": "sk-abcdefghijklmnop"},
        {"provider": ["openai"], "key": "sk-abcdefghijklmnop"},
        {"provider": "openai", "key": 5},
        {"provider": "openai", "key": "k", "name": "x" * 256},
        {"provider": "openai", "key": "k", "workspace_id": "agents"},
        {"provider": "openai", "key": "k", "disabled": "yes"},
        {"provider": "openai", "key": "k", "allowed_api_key_hashes": []},
        {"provider": "openai", "key": "k", "allowed_api_key_hashes": ["A" * 64]},
        {"provider": "openai", "key": "k", "allowed_api_key_hashes": ["ab" * 32]},  # not a key
        {"provider": "openai", "key": "k", "allowed_models": ["m"] * 101},
        {"provider": "openai", "key": "k", "allowed_user_ids": [""]},
        {"provider": "openai", "key": "k", "declared_region": "asia"},
        {"provider": "openai", "key": "k", "is_fallback": True, "is_byok_only": True},
        {"provider": "openai", "key": "k", "label": "mine"},
        {"provider": "openai", "key": "k", "sort_order": 3},
    ],
)
def test_an_invalid_create_is_400_and_stores_nothing(api, emulator, body):
    status, _ = error_of(api.post("/byok", json=body))

    assert status == 400
    assert emulator.objects("byok") == []


def test_a_400_names_each_problem_but_never_the_key(api, sentinel):
    response = api.post("/byok", json={"provider": "nope", "key": sentinel, "name": 5})

    status, message = error_of(response)
    assert status == 400
    assert message.startswith("Invalid request parameters: ")
    assert "provider must be a BYOK provider slug" in message
    assert "name must be a string" in message
    assert_absent(sentinel, response.text)


def test_allowed_api_key_hashes_take_up_to_100_keys_of_the_account(api, emulator):
    hashes = [emulator.seed_key(f"k{index}").hash for index in range(101)]

    assert create(api, allowed_api_key_hashes=hashes[:100])["allowed_api_key_hashes"] == hashes[
        :100
    ]
    assert error_of(api.post("/byok", json={
        "provider": "openai", "key": "k", "allowed_api_key_hashes": hashes,
    }))[0] == 400


def test_a_workspace_must_exist_and_defaults_to_the_default_one(api, emulator):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)

    assert create(api, workspace_id=AGENTS)["workspace_id"] == AGENTS
    assert error_of(api.post("/byok", json={
        "provider": "openai", "key": "k", "workspace_id": MISSING,
    })) == (400, "Workspace not found")


def test_sort_order_is_assigned_per_provider_and_workspace(api, emulator):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)

    orders = [create(api)["sort_order"], create(api)["sort_order"],
              create(api, "anthropic")["sort_order"],
              create(api, workspace_id=AGENTS)["sort_order"]]

    assert orders == [0, 1, 0, 0]


def test_patch_with_key_rotates_in_place_and_regenerates_the_label(api, emulator):
    made = create(api, name="prod", allowed_models=["openai/gpt-4o-mini"])
    new_secret = make_sentinel()

    response = api.patch(f"/byok/{made['id']}", json={"key": new_secret})

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == made["id"]
    assert data["label"] == label_of(new_secret) != made["label"]
    assert {k: v for k, v in data.items() if k != "label"} == {
        k: v for k, v in made.items() if k != "label"
    }
    assert [(r.method, r.status) for r in emulator.requests()][-1] == ("PATCH", 200)
    assert_absent(new_secret, emulator.requests(), vars(emulator.store.books["byok"]),
                  response.text)


def test_patch_changes_only_what_it_sends_and_null_clears_a_restriction(api, emulator):
    key_hash = emulator.seed_key("api").hash
    made = create(api, allowed_api_key_hashes=[key_hash], name="prod")

    data = api.patch(f"/byok/{made['id']}", json={
        "allowed_api_key_hashes": None, "disabled": True, "is_fallback": True,
    }).json()["data"]

    assert (data["allowed_api_key_hashes"], data["disabled"], data["is_fallback"]) == (
        None, True, True
    )
    assert (data["name"], data["label"], data["provider"]) == ("prod", made["label"], "openai")


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "anthropic"},
        {"workspace_id": DEFAULT_WORKSPACE_ID},
        {"key": ""},
        {"allowed_api_key_hashes": ["cd" * 32]},
        {"is_byok_only": True},  # the credential is a fallback
    ],
)
def test_patch_refuses_fixed_fields_and_bad_values_and_changes_nothing(api, body):
    made = create(api, is_fallback=True)

    assert error_of(api.patch(f"/byok/{made['id']}", json=body))[0] == 400
    assert api.get(f"/byok/{made['id']}").json()["data"] == made


def test_list_filters_by_provider(api):
    made = [create(api, "openai" if index % 2 else "anthropic") for index in range(5)]

    openai = api.get("/byok", params={"provider": "openai"}).json()

    assert [c["id"] for c in openai["data"]] == [
        c["id"] for c in made[::-1] if c["provider"] == "openai"
    ]
    assert openai["total_count"] == 2
    assert error_of(api.get("/byok", params={"provider": "nope"}))[0] == 400


def test_a_fault_on_create_is_applied_and_a_lost_answer_still_stores_it(api, emulator):
    emulator.inject(Fault(path="/api/v1/byok", method="POST", status=500),
                    Fault(path="/api/v1/byok", method="POST", drop="after_commit"))

    assert api.post("/byok", json={"provider": "openai", "key": "k"}).status_code == 500
    assert emulator.objects("byok") == []
    with pytest.raises(Exception):  # noqa: B017, PT011 - httpx's error for a closed connection
        api.post("/byok", json={"provider": "openai", "key": "k"})

    assert len(emulator.objects("byok")) == 1
    assert [(r.method, r.status, r.fault) for r in emulator.requests()] == [
        ("POST", 500, "status"), ("POST", 201, "drop_after_commit"),
    ]


def test_seeding_checks_the_create_rules_and_masks_the_key(emulator, sentinel):
    seeded = emulator.seed_object("byok", provider="openai", key=sentinel, name="by hand")

    assert emulator.objects("byok") == [seeded]
    assert seeded["label"] == label_of(sentinel)
    with pytest.raises(ValueError, match="provider must be a BYOK provider slug"):
        emulator.seed_object("byok", provider="nope", key="k")
    with pytest.raises(ValueError, match="no area 'byoc'"):
        emulator.objects("byoc")
    emulator.reset()
    assert emulator.objects("byok") == []


def test_the_admin_routes_seed_and_list(new_client, emulator):
    admin = new_client(base_url=f"{emulator.url}/_emulator")

    seeded = admin.post("/areas/byok", json={"provider": "openai", "key": "k" * 20})
    refused = admin.post("/areas/byok", json={"provider": "nope", "key": "k"})

    assert seeded.status_code == 201
    assert admin.get("/areas/byok").json() == {"data": [seeded.json()["data"]]}
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Invalid request parameters: cannot seed a BYOK credential: provider must be a BYOK "
        "provider slug"
    )
    assert admin.get("/areas/nope").status_code == 404
