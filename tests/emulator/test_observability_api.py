"""The `/observability/destinations` routes over loopback HTTP: shapes, statuses, the config each
type requires, masked secrets, partial PATCH, the five-per-type cap (docs/emulator.md maps each
fact to its test; test_area_books.py holds what every area answers alike: auth, soft delete,
paging; tests/conformance/test_observability.py parses the same answers with OpenRouter's SDK).
"""

from __future__ import annotations

import pytest

from emulator import DEFAULT_WORKSPACE_ID
from emulator.observability import DESTINATION_TYPES
from tests.emulator.destination_configs import REQUIRED, URL_KEYS
from tests.emulator.envelope import error_of
from tests.support.sentinel import assert_absent, make_sentinel

ROUTE = "/observability/destinations"
DESTINATION_FIELDS = {
    "id", "type", "name", "workspace_id", "config", "enabled", "privacy_mode",
    "broadcast_generation_cost", "broadcast_generation_cost_allocation",
    "broadcast_generation_identity", "broadcast_generation_request_context", "sampling_rate",
    "api_key_hashes", "filter_rules", "regions", "created_at", "updated_at",
}
AGENTS = "7c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
MISSING = "4d4d4d4d-0000-4000-8000-000000000000"


def full_config(kind: str) -> dict[str, str]:
    return {name: "https://collector.example.com" if name in URL_KEYS else f"{name}-value-long"
            for name in REQUIRED[kind]}


def langfuse(secret: str | None = None) -> dict[str, str]:
    return {"publicKey": "pk-lf-public", "secretKey": secret or make_sentinel()}


def create(api, kind: str = "langfuse", name: str = "d", **fields) -> dict:
    body = {"type": kind, "name": name, "config": full_config(kind), **fields}
    response = api.post(ROUTE, json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def mask(secret: str) -> str:
    return f"{secret[:3]}...{secret[-4:]}"


def test_the_seventeen_documented_types_each_require_their_config_keys(api):
    assert set(DESTINATION_TYPES) == set(REQUIRED)
    for kind, required in REQUIRED.items():
        assert create(api, kind)["type"] == kind
        for missing in required:
            config = {k: v for k, v in full_config(kind).items() if k != missing}
            status, message = error_of(api.post(ROUTE, json={
                "type": kind, "name": "d", "config": config,
            }))
            assert (status, f"config.{missing} is required for type {kind}" in message) == (
                400, True
            ), message


def test_create_answers_201_with_defaults_and_the_secret_masked(api, emulator, sentinel):
    response = api.post(ROUTE, json={"type": "langfuse", "name": "prod",
                                     "config": langfuse(sentinel)})

    assert response.status_code == 201
    assert set(response.json()) == {"data"}
    data = response.json()["data"]
    assert set(data) == DESTINATION_FIELDS
    assert data["config"] == {"publicKey": "pk-lf-public", "secretKey": mask(sentinel)}
    assert (data["enabled"], data["privacy_mode"], data["sampling_rate"], data["regions"]) == (
        True, False, 1.0, ["global"]
    )
    assert (data["api_key_hashes"], data["filter_rules"], data["workspace_id"]) == (
        None, None, DEFAULT_WORKSPACE_ID
    )
    assert data["updated_at"] == data["created_at"]
    assert_absent(sentinel, response.text, api.get(ROUTE).text, emulator.requests(),
                  emulator.objects("observability"),
                  vars(emulator.store.books["observability"]))


def test_s3_with_an_iam_role_needs_a_role_instead_of_access_keys(api):
    config = {"bucketName": "traces", "authMode": "iam_role"}

    message = error_of(api.post(ROUTE, json={"type": "s3", "name": "d", "config": config}))[1]
    made = api.post(ROUTE, json={"type": "s3", "name": "d",
                                 "config": {**config, "roleArn": "arn:aws:iam::1:role/r"}})

    assert "config.roleArn is required for type s3" in message
    assert made.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"name": "d", "config": {"url": "https://hook.example.com"}},  # no type
        {"type": "webhook", "config": {"url": "https://hook.example.com"}},  # no name
        {"type": "webhook", "name": "d"},  # no config
        {"type": "splunk", "name": "d", "config": {}},
        {"type": ["webhook"], "name": "d", "config": {}},
        {"type": "webhook", "name": "", "config": {"url": "https://hook.example.com"}},
        {"type": "webhook", "name": "d", "config": {"url": "ftp://hook.example.com"}},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com", "x": "y"}},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com",
                                                    "method": "GET"}},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com",
                                                    "headers": {"X-Token": 5}}},
        {"type": "webhook", "name": "d", "config": "https://hook.example.com"},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "sampling_rate": 0},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "sampling_rate": 1.5},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "api_key_hashes": []},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "api_key_hashes": ["ab" * 32]},  # not a key of the account
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "regions": []},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "regions": ["asia"]},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "enabled": "yes"},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "workspace_id": "agents"},
        {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
         "id": MISSING},
    ],
)
def test_an_invalid_create_is_400_and_stores_nothing(api, emulator, body):
    assert error_of(api.post(ROUTE, json=body))[0] == 400
    assert emulator.objects("observability") == []


@pytest.mark.parametrize(
    "rules",
    [
        "all",
        {"enabled": True},  # no groups
        {"groups": [{"rules": []}]},
        {"groups": [{"logic": "xor", "rules": [{"field": "model", "operator": "equals",
                                                "value": "x"}]}]},
        {"groups": [{"rules": [{"field": "cost", "operator": "equals", "value": "x"}]}]},
        {"groups": [{"rules": [{"field": "model", "operator": "like", "value": "x"}]}]},
        {"groups": [{"rules": [{"field": "model", "operator": "equals"}]}]},
        {"groups": [{"rules": [{"field": "total_cost", "operator": "gt", "value": "1"}]}]},
        {"groups": [{"rules": [{"field": "user_id", "operator": "exists", "value": "x"}]}]},
        {"groups": [], "extra": 1},
    ],
)
def test_filter_rules_keep_to_the_published_shape_and_enums(api, rules):
    body = {"type": "webhook", "name": "d", "config": {"url": "https://h.example.com"},
            "filter_rules": rules}

    assert error_of(api.post(ROUTE, json=body))[0] == 400


def test_filter_rules_regions_and_hashes_are_stored_with_their_defaults(api, emulator):
    key_hash = emulator.seed_key("api").hash
    rules = {"groups": [{"rules": [
        {"field": "model", "operator": "starts_with", "value": "openai/"},
        {"field": "total_cost", "operator": "gte", "value": 0.5},
        {"field": "user_id", "operator": "exists"},
    ]}]}

    data = create(api, "webhook", filter_rules=rules, regions=["eu", "us", "europe"],
                  api_key_hashes=[key_hash], sampling_rate=0.0001)

    assert data["filter_rules"] == {"enabled": True, "groups": [{"logic": "and",
                                                                 **rules["groups"][0]}]}
    assert (data["regions"], data["api_key_hashes"], data["sampling_rate"]) == (
        ["europe", "us"], [key_hash], 0.0001
    )


def test_at_most_five_of_a_type_per_workspace_then_409(api, emulator):
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)
    made = [create(api, "webhook", f"hook{index}") for index in range(5)]

    refused = api.post(ROUTE, json={"type": "webhook", "name": "sixth",
                                    "config": full_config("webhook")})

    assert error_of(refused) == (
        409, "At most 5 observability destinations of type webhook per workspace"
    )
    create(api, "langfuse")  # another type
    create(api, "webhook", workspace_id=AGENTS)  # another workspace
    api.delete(f"{ROUTE}/{made[0]['id']}")
    create(api, "webhook", "after a delete")  # a deleted one no longer counts


def test_patch_is_partial_ignores_masked_secrets_sent_back_and_keeps_unsent_config(
    api, emulator, sentinel
):
    made = api.post(ROUTE, json={"type": "langfuse", "name": "prod",
                                 "config": langfuse(sentinel)}).json()["data"]

    response = api.patch(f"{ROUTE}/{made['id']}", json={
        "config": {"secretKey": made["config"]["secretKey"],
                   "baseUrl": "https://cloud.langfuse.com"},
        "privacy_mode": True,
    })

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["config"] == {**made["config"], "baseUrl": "https://cloud.langfuse.com"}
    assert (data["name"], data["privacy_mode"], data["enabled"]) == ("prod", True, True)
    assert data["updated_at"] != made["updated_at"]
    assert_absent(sentinel, response.text, emulator.requests())


def test_patch_with_a_new_secret_replaces_it_in_place(api, emulator):
    made = create(api, "langfuse")
    new_secret = make_sentinel()

    data = api.patch(f"{ROUTE}/{made['id']}", json={"config": {"secretKey": new_secret}}).json()[
        "data"
    ]

    assert data["id"] == made["id"]
    assert data["config"]["secretKey"] == mask(new_secret)
    assert data["config"]["publicKey"] == made["config"]["publicKey"]
    assert_absent(new_secret, emulator.requests(), vars(emulator.store.books["observability"]))


@pytest.mark.parametrize(
    "body",
    [
        {"type": "webhook"},
        {"workspace_id": DEFAULT_WORKSPACE_ID},
        {"config": {"secretKey": None}},  # a required key cannot be removed
        {"config": {"nope": "x"}},
        {"sampling_rate": 2},
        {"name": None},
    ],
)
def test_patch_refuses_fixed_fields_and_bad_values_and_changes_nothing(api, body):
    made = create(api, "langfuse")

    assert error_of(api.patch(f"{ROUTE}/{made['id']}", json=body))[0] == 400
    assert api.get(f"{ROUTE}/{made['id']}").json()["data"] == made


def test_observability_alone_is_not_a_route(api):
    assert error_of(api.get("/observability")) == (404, "Not Found")


def test_seeding_checks_the_create_rules(emulator, sentinel):
    seeded = emulator.seed_object("observability", type="langfuse", name="by hand",
                                  config=langfuse(sentinel))

    assert emulator.objects("observability") == [seeded]
    assert seeded["config"]["secretKey"] == mask(sentinel)
    with pytest.raises(ValueError, match=r"config\.secretKey is required for type langfuse"):
        emulator.seed_object("observability", type="langfuse", name="d",
                             config={"publicKey": "pk"})
