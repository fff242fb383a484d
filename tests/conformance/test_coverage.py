"""The suite covers every endpoint the project calls, and its field check can fail.

The project's own client is driven through every method it has (the provider and the CLI call
nothing else); each (method, route) it sent must be in `ENDPOINTS`, and each entry there must name
a conformance test that exists and calls the SDK operation the entry names. A new client method on
a new route fails here until it has one. (`ENDPOINTS` also lists the guardrail and workspace
routes, which the client does not call yet: their SDK-driven tests are what covers them.)
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from openrouter import operations

from emulator import Emulator
from providers.http.client import ClientSettings, CreateKeyRequest, OpenRouterClient
from providers.http.paging import PAGE_SIZE
from tests.conformance.endpoints import (
    API_KEY_ENDPOINTS,
    CATALOGUE_ENDPOINTS,
    ENDPOINTS,
    SDK_DEPRECATION,
    fields_unknown_to,
    route_of,
)

HERE = Path(__file__).resolve().parent


def test_every_route_the_projects_client_calls_has_a_conformance_test(
    emulator: Emulator, management_key: str
):
    for index in range(PAGE_SIZE + 1):  # more than one page, so the list walks to a second
        emulator.seed_key(f"filler-{index:03d}")
    settings = ClientSettings(api_key=management_key, base_url=emulator.api_base_url)
    with OpenRouterClient(settings) as client:
        client.current_key()
        client.list_keys()
        created = client.create_key(CreateKeyRequest(name="walk", limit=1.0))
        client.get_key(created.record.hash)
        client.update_key(created.record.hash, {"name": "walked"})
        client.delete_key(created.record.hash)
        client.list_models()
        client.list_providers()

    called = {(r.method, route_of(r.path)) for r in emulator.requests()}
    covered = {(endpoint.method, endpoint.route) for endpoint in ENDPOINTS}
    assert called <= covered, sorted(called - covered)
    assert {(e.method, e.route) for e in API_KEY_ENDPOINTS + CATALOGUE_ENDPOINTS} <= called


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_each_endpoint_names_a_test_that_exists_and_calls_its_operation(endpoint):
    file, name = endpoint.test.split("::")
    assert (HERE / file).is_file()
    module = importlib.import_module(f"tests.conformance.{file.removesuffix('.py')}")
    test = getattr(module, name, None)
    assert callable(test), endpoint.test
    assert f".{endpoint.sdk_operation}(" in inspect.getsource(test), endpoint.sdk_operation


def test_endpoints_are_listed_once():
    routes = [(endpoint.method, endpoint.route) for endpoint in ENDPOINTS]
    assert len(routes) == len(set(routes))


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/v1/key", "/key"),
        ("/api/v1/keys", "/keys"),
        ("/api/v1/keys/", "/keys"),
        ("/api/v1/keys/" + "ab" * 32, "/keys/{hash}"),
        ("/api/v1/guardrails", "/guardrails"),
        ("/api/v1/guardrails/assignments/keys", "/guardrails/assignments/keys"),
        ("/api/v1/guardrails/9f0c", "/guardrails/{id}"),
        ("/api/v1/guardrails/9f0c/assignments/keys", "/guardrails/{id}/assignments/keys"),
        ("/api/v1/guardrails/9f0c/assignments/keys/remove",
         "/guardrails/{id}/assignments/keys/remove"),
        ("/api/v1/workspaces/agents", "/workspaces/{id}"),
        ("/api/v1/workspaces/agents/budgets", "/workspaces/{id}/budgets"),
        ("/api/v1/workspaces/agents/budgets/monthly", "/workspaces/{id}/budgets/{interval}"),
        ("/api/v1/byok", "/byok"),
        ("/api/v1/byok/9f0c", "/byok/{id}"),
        ("/api/v1/observability/destinations", "/observability/destinations"),
        ("/api/v1/observability/destinations/9f0c", "/observability/destinations/{id}"),
    ],
)
def test_logged_paths_map_to_their_route(path, route):
    assert route_of(path) == route


@pytest.mark.filterwarnings(SDK_DEPRECATION)
def test_the_field_check_finds_a_field_the_spec_lacks_at_any_depth():
    key = {
        "hash": "a" * 64, "name": "n", "label": "l", "disabled": False, "limit": None,
        "limit_remaining": None, "limit_reset": None, "include_byok_in_limit": False,
        "usage": 0, "usage_daily": 0, "usage_weekly": 0, "usage_monthly": 0, "byok_usage": 0,
        "byok_usage_daily": 0, "byok_usage_weekly": 0, "byok_usage_monthly": 0,
        "created_at": "2026-11-30T00:00:00Z", "updated_at": None, "creator_user_id": None,
        "workspace_id": "w", "last_used_at": None, "external_user": None,
    }
    clean = {"data": [key]}
    invented = {"data": [{**key, "owner": "me"}], "total": 1}

    assert fields_unknown_to(operations.ListResponse.model_validate(clean), clean) == []
    parsed = operations.ListResponse.model_validate(invented)
    assert fields_unknown_to(parsed, invented) == ["data.0.owner", "total"]
