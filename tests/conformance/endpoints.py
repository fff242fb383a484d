"""Which endpoints the suite holds the emulator to, and the helpers every conformance test uses.

`ENDPOINTS` lists every (method, route) checked here, with the SDK operation that drives it and
the test that checks it: every route the project's client calls (`test_coverage.py` proves it
calls nothing else), and the guardrail, workspace, BYOK and observability routes the providers
call. A new
route needs a tuple here and a test in a `test_<area>.py`; the coverage test fails until both
exist, and until the test really calls the SDK operation it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from openrouter import errors
from pydantic import BaseModel

from tests.conformance.harness import Sdk

API_PREFIX = "/api/v1"
# A logged path's variable segments, named as the routes below name them.
_ROUTE_SHAPES = (
    (re.compile(r"^/keys/[^/]+$"), "/keys/{hash}"),
    (re.compile(r"^/guardrails/assignments/keys$"), "/guardrails/assignments/keys"),
    (re.compile(r"^/guardrails/[^/]+$"), "/guardrails/{id}"),
    (re.compile(r"^/guardrails/[^/]+/assignments/keys$"), "/guardrails/{id}/assignments/keys"),
    (re.compile(r"^/guardrails/[^/]+/assignments/keys/remove$"),
     "/guardrails/{id}/assignments/keys/remove"),
    (re.compile(r"^/workspaces/[^/]+$"), "/workspaces/{id}"),
    (re.compile(r"^/workspaces/[^/]+/budgets$"), "/workspaces/{id}/budgets"),
    (re.compile(r"^/workspaces/[^/]+/budgets/[^/]+$"), "/workspaces/{id}/budgets/{interval}"),
    (re.compile(r"^/byok/[^/]+$"), "/byok/{id}"),
    (re.compile(r"^/observability/destinations/[^/]+$"), "/observability/destinations/{id}"),
)
# The SDK's own deprecated fields (is_provisioning_key, rate_limit) warn when parsed or read; the
# emulator must still send them, since the published spec requires them.
SDK_DEPRECATION = "ignore:warning:DeprecationWarning"


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API: where it lives, how the SDK calls it, which test checks it."""

    method: str
    route: str
    sdk_operation: str
    test: str


API_KEY_ENDPOINTS = (
    Endpoint("GET", "/key", "api_keys.get_current_key_metadata",
             "test_api_keys.py::test_get_key_for_a_regular_key_lists_its_budget_layers"),
    Endpoint("GET", "/keys", "api_keys.list",
             "test_api_keys.py::test_list_pages_with_include_disabled_and_include_expired"),
    Endpoint("POST", "/keys", "api_keys.create",
             "test_api_keys.py::test_create_with_every_field_the_project_sends"),
    Endpoint("GET", "/keys/{hash}", "api_keys.get",
             "test_api_keys.py::test_get_one_key_after_it_was_used"),
    Endpoint("PATCH", "/keys/{hash}", "api_keys.update",
             "test_api_keys.py::test_update_with_every_field_the_project_sends"),
    Endpoint("DELETE", "/keys/{hash}", "api_keys.delete",
             "test_api_keys.py::test_delete_then_every_key_route_answers_404"),
)

GUARDRAIL_ENDPOINTS = (
    Endpoint("GET", "/guardrails", "guardrails.list",
             "test_guardrails.py::test_list_pages_one_workspace_with_total_count"),
    Endpoint("POST", "/guardrails", "guardrails.create",
             "test_guardrails.py::test_create_with_every_setting"),
    Endpoint("GET", "/guardrails/{id}", "guardrails.get",
             "test_guardrails.py::test_get_one_guardrail"),
    Endpoint("PATCH", "/guardrails/{id}", "guardrails.update",
             "test_guardrails.py::test_update_replaces_what_it_sends_and_keeps_the_rest"),
    Endpoint("DELETE", "/guardrails/{id}", "guardrails.delete",
             "test_guardrails.py::test_delete_unassigns_its_keys_then_answers_404"),
    Endpoint("GET", "/guardrails/{id}/assignments/keys",
             "guardrails.list_guardrail_key_assignments",
             "test_guardrails.py::test_assigning_a_key_that_holds_another_guardrail_moves_it"),
    Endpoint("POST", "/guardrails/{id}/assignments/keys", "guardrails.bulk_assign_keys",
             "test_guardrails.py::test_assigning_a_key_that_holds_another_guardrail_moves_it"),
    Endpoint("POST", "/guardrails/{id}/assignments/keys/remove", "guardrails.bulk_unassign_keys",
             "test_guardrails.py::test_unassign_counts_only_the_keys_that_held_it"),
    Endpoint("GET", "/guardrails/assignments/keys", "guardrails.list_key_assignments",
             "test_guardrails.py::test_every_key_assignment_pages_with_total_count"),
)

WORKSPACE_ENDPOINTS = (
    Endpoint("GET", "/workspaces", "workspaces.list",
             "test_workspaces.py::test_list_pages_with_total_count_default_included"),
    Endpoint("POST", "/workspaces", "workspaces.create",
             "test_workspaces.py::test_create_with_every_field"),
    Endpoint("GET", "/workspaces/{id}", "workspaces.get",
             "test_workspaces.py::test_get_by_id_or_slug"),
    Endpoint("PATCH", "/workspaces/{id}", "workspaces.update",
             "test_workspaces.py::test_update_renames_and_moves_the_slug"),
    Endpoint("DELETE", "/workspaces/{id}", "workspaces.delete",
             "test_workspaces.py::test_delete_is_refused_while_keys_live_there"),
    Endpoint("GET", "/workspaces/{id}/budgets", "workspaces.list_budgets",
             "test_workspaces.py::test_budgets_per_interval_broadest_first"),
    Endpoint("GET", "/workspaces/{id}/budgets/{interval}", "workspaces.get_budget",
             "test_workspaces.py::test_budgets_per_interval_broadest_first"),
    Endpoint("PUT", "/workspaces/{id}/budgets/{interval}", "workspaces.set_budget",
             "test_workspaces.py::test_budgets_per_interval_broadest_first"),
    Endpoint("DELETE", "/workspaces/{id}/budgets/{interval}", "workspaces.delete_budget",
             "test_workspaces.py::test_deleting_a_budget_answers_deleted_even_when_none_was_set"),
)

BYOK_ENDPOINTS = (
    Endpoint("GET", "/byok", "byok.list",
             "test_byok.py::test_list_pages_one_workspace_and_filters_by_provider"),
    Endpoint("POST", "/byok", "byok.create", "test_byok.py::test_create_with_every_field"),
    Endpoint("GET", "/byok/{id}", "byok.get", "test_byok.py::test_get_one_credential"),
    Endpoint("PATCH", "/byok/{id}", "byok.update",
             "test_byok.py::test_update_with_key_rotates_in_place"),
    Endpoint("DELETE", "/byok/{id}", "byok.delete",
             "test_byok.py::test_delete_then_every_route_is_the_sdks_not_found_error"),
)

OBSERVABILITY_ENDPOINTS = (
    Endpoint("GET", "/observability/destinations", "observability.list",
             "test_observability.py::test_list_pages_one_workspace_and_parses_every_type"),
    Endpoint("POST", "/observability/destinations", "observability.create",
             "test_observability.py::test_create_with_every_field"),
    Endpoint("GET", "/observability/destinations/{id}", "observability.get",
             "test_observability.py::test_get_one_destination"),
    Endpoint("PATCH", "/observability/destinations/{id}", "observability.update",
             "test_observability.py::test_update_is_partial_and_ignores_a_masked_secret"),
    Endpoint("DELETE", "/observability/destinations/{id}", "observability.delete",
             "test_observability.py::test_delete_then_every_route_is_the_sdks_not_found_error"),
)

CATALOGUE_ENDPOINTS = (
    Endpoint("GET", "/models", "models.list",
             "test_catalogue.py::test_every_model_of_every_output_kind_in_one_answer"),
    Endpoint("GET", "/providers", "providers.list",
             "test_catalogue.py::test_every_provider_by_slug_and_name"),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    API_KEY_ENDPOINTS + GUARDRAIL_ENDPOINTS + WORKSPACE_ENDPOINTS + BYOK_ENDPOINTS
    + OBSERVABILITY_ENDPOINTS + CATALOGUE_ENDPOINTS
)
"""Every endpoint the emulator is held to: the client's, and every management area's."""


def route_of(path: str) -> str:
    """`/api/v1/keys/3f2a...` -> `/keys/{hash}`: a logged path as the route it belongs to."""
    route = path.removeprefix(API_PREFIX).rstrip("/") or "/"
    return next((name for shape, name in _ROUTE_SHAPES if shape.match(route)), route)


def conforms(sdk: Sdk, parsed: object) -> None:
    """The last answer has no field the SDK's model lacks (parsing already proved the rest)."""
    assert fields_unknown_to(parsed, sdk.last_json()) == []


def assert_gone(operations: Any, object_id: str) -> None:
    """After a DELETE of an area's object (`sdk.byok`, `sdk.observability`): a GET, a PATCH and
    a second DELETE of its id are each the SDK's not-found error, with the API's message."""
    for call in (
        lambda: operations.get(id=object_id),
        lambda: operations.update(id=object_id, name="back"),
        lambda: operations.delete(id=object_id),
    ):
        with pytest.raises(errors.NotFoundResponseError) as caught:
            call()
        assert caught.value.data.error.message == "Resource not found"


def fields_unknown_to(model: Any, raw: Any, where: str = "") -> list[str]:
    """Paths in a raw answer that the SDK's parsed model has no field for.

    Parsing proves every required field is there; this proves the emulator invents nothing the
    published spec lacks, so no code of ours can come to depend on a field only the emulator has.
    """
    if isinstance(model, BaseModel) and isinstance(raw, dict):
        known = {info.alias or name: name for name, info in type(model).model_fields.items()}
        found: list[str] = []
        for name, value in raw.items():
            if name not in known:
                found.append(f"{where}{name}")
            else:
                found += fields_unknown_to(getattr(model, known[name]), value, f"{where}{name}.")
        return found
    if isinstance(model, list) and isinstance(raw, list):
        return [
            path
            for index, (item, raw_item) in enumerate(zip(model, raw, strict=True))
            for path in fields_unknown_to(item, raw_item, f"{where}{index}.")
        ]
    return []
