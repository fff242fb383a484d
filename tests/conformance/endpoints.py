"""Which endpoints the suite holds the emulator to, and the helpers every conformance test uses.

`ENDPOINTS` lists every (method, route) the project calls, with the SDK operation that drives it
and the test that checks it. `test_coverage.py` proves the project's client calls nothing else.
When the project starts calling more of the API (guardrails, workspaces), add a tuple here and a
`test_<area>.py` beside `test_api_keys.py`; the coverage test fails until both exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

API_PREFIX = "/api/v1"
_KEY_HASH_SEGMENT = re.compile(r"^/keys/[^/]+$")
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

ENDPOINTS: tuple[Endpoint, ...] = API_KEY_ENDPOINTS
"""Every endpoint the project calls. Guardrails and workspaces join when the project uses them."""


def route_of(path: str) -> str:
    """`/api/v1/keys/3f2a...` -> `/keys/{hash}`: a logged path as the route it belongs to."""
    route = path.removeprefix(API_PREFIX).rstrip("/") or "/"
    return "/keys/{hash}" if _KEY_HASH_SEGMENT.match(route) else route


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
