"""`/_emulator/*`: what another process (the e2e tests, the sandbox script) uses to seed, drift,
inspect and fault the emulator. No authentication; the server listens on loopback only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator.faults import Fault, FaultBook
from emulator.key_rules import PATCH_FIELDS, as_timestamp, field_problems
from emulator.seeding import seed_key, seed_object, seed_workspace
from emulator.store import Store
from emulator.wire import (
    ADMIN_PREFIX,
    MSG_INVALID,
    MSG_NOT_FOUND,
    ApiError,
    Request,
    Response,
    is_number,
    json_object,
    read_json,
)


def admin_route(store: Store, faults: FaultBook, request: Request) -> Response:
    """`/_emulator/*`: inspect and change the emulator from another process (no auth, loopback)."""
    route = request.path[len(ADMIN_PREFIX) :].rstrip("/")
    try:
        if route.startswith("/keys/") and request.method in ("GET", "PATCH", "DELETE"):
            return admin_key_route(store, request, route[len("/keys/") :])
        if route.startswith(AREA_ROUTE) and request.method in ("GET", "POST"):
            return admin_area_route(store, request, route[len(AREA_ROUTE) :])
        handler = ADMIN_ROUTES.get((request.method, route))
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(store, faults, request.body)
    except (ValueError, TypeError) as error:
        raise ApiError(400, f"{MSG_INVALID}: {error}") from error


def optional_object(raw: bytes) -> dict[str, Any]:
    return json_object(raw) if raw.strip() else {}


def admin_list_keys(store: Store, _faults: FaultBook, _raw: bytes) -> Response:
    return Response(200, {"data": store.all_key_objects()})


def admin_seed_key(store: Store, _faults: FaultBook, raw: bytes) -> Response:
    body = json_object(raw)
    name = body.pop("name", None)
    seeded = seed_key(store, name, **body)
    return Response(201, {"hash": seeded.hash, "key": seeded.secret})


def admin_list_workspaces(store: Store, _faults: FaultBook, _raw: bytes) -> Response:
    return Response(200, {"data": store.workspace_objects()})


def admin_seed_workspace(store: Store, _faults: FaultBook, raw: bytes) -> Response:
    body = json_object(raw)
    workspace_id = body.pop("id", None)
    return Response(201, {"data": seed_workspace(store, body, workspace_id).to_object()})


def admin_list_guardrails(store: Store, _faults: FaultBook, _raw: bytes) -> Response:
    return Response(200, {"data": store.guardrail_objects()})


def admin_list_assignments(store: Store, _faults: FaultBook, _raw: bytes) -> Response:
    with store.lock:
        held = [{"key_hash": a.key_hash, "guardrail_id": a.guardrail_id}
                for a in store.guardrails.assignments()]
    return Response(200, {"data": held})


def admin_set_models(store: Store, _faults: FaultBook, raw: bytes) -> Response:
    """The model catalogue's slug -> canonical slug map guardrails store allowlists in."""
    body = json_object(raw)
    if not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in body.items()):
        raise ValueError("expected {\"slug\": \"canonical slug\", ...}")
    with store.lock:
        store.guardrails.canonical_models = dict(body)
    return Response(200, {"data": body})


def admin_add_management_key(store: Store, _faults: FaultBook, raw: bytes) -> Response:
    return Response(201, {"key": store.add_management_key(optional_object(raw).get("key"))})


def admin_add_faults(_store: Store, faults: FaultBook, raw: bytes) -> Response:
    body = read_json(raw)
    added = [Fault.from_mapping(item) for item in (body if isinstance(body, list) else [body])]
    for fault in added:
        faults.add(fault)
    return Response(201, {"data": [fault.as_dict() for fault in added]})


def admin_list_faults(_store: Store, faults: FaultBook, _raw: bytes) -> Response:
    return Response(200, {"data": [fault.as_dict() for fault in faults.pending()]})


def admin_clear_faults(_store: Store, faults: FaultBook, _raw: bytes) -> Response:
    faults.clear()
    return Response(200, {"cleared": True})


def admin_list_requests(store: Store, _faults: FaultBook, _raw: bytes) -> Response:
    return Response(200, {"data": [record.as_dict() for record in store.requests()]})


def admin_clear_requests(store: Store, _faults: FaultBook, _raw: bytes) -> Response:
    store.clear_requests()
    return Response(200, {"cleared": True})


def admin_reset(store: Store, faults: FaultBook, raw: bytes) -> Response:
    body = optional_object(raw)
    faults.clear()
    store.reset(keep_management_keys=not body.get("management_keys", False))
    return Response(200, {"reset": True})


ADMIN_ROUTES: dict[tuple[str, str], Callable[[Store, FaultBook, bytes], Response]] = {
    ("GET", "/keys"): admin_list_keys,
    ("POST", "/seed-key"): admin_seed_key,
    ("POST", "/management-keys"): admin_add_management_key,
    ("GET", "/workspaces"): admin_list_workspaces,
    ("POST", "/workspaces"): admin_seed_workspace,
    ("GET", "/guardrails"): admin_list_guardrails,
    ("GET", "/assignments"): admin_list_assignments,
    ("PUT", "/models"): admin_set_models,
    ("POST", "/faults"): admin_add_faults,
    ("GET", "/faults"): admin_list_faults,
    ("DELETE", "/faults"): admin_clear_faults,
    ("GET", "/requests"): admin_list_requests,
    ("DELETE", "/requests"): admin_clear_requests,
    ("POST", "/reset"): admin_reset,
}


def admin_key_route(store: Store, request: Request, key_hash: str) -> Response:
    if request.method == "DELETE":
        if not store.delete(key_hash):
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"deleted": True})
    if request.method == "PATCH":
        changes = json_object(request.body)
        return Response(200, {"data": admin_update(store, key_hash, changes)})
    found = store.key_object(key_hash)
    if found is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return Response(200, {"data": found})


AREA_ROUTE = "/areas/"


def admin_area_route(store: Store, request: Request, name: str) -> Response:
    """`GET /_emulator/areas/{area}`: every live object of an area (emulator/areas.py);
    `POST`: seed one, checked by the create rules."""
    if name not in store.books:
        raise ApiError(404, f"no area {name!r}; areas: {sorted(store.books)}")
    if request.method == "GET":
        return Response(200, {"data": store.area_objects(name)})
    return Response(201, {"data": seed_object(store, name, json_object(request.body))})


ADMIN_UPDATABLE = frozenset(
    {*PATCH_FIELDS, "expires_at", "workspace_id", "creator_user_id", "usage", "usage_daily",
     "usage_weekly", "usage_monthly", "byok_usage", "byok_usage_daily", "byok_usage_weekly",
     "byok_usage_monthly", "created_at", "last_used_at"}
)


def admin_update(store: Store, key_hash: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change a key behind Pulumi's back, including fields the public API cannot change."""
    unknown = sorted(set(changes) - ADMIN_UPDATABLE)
    if unknown:
        raise ValueError(f"fields {unknown} cannot be changed; allowed: {sorted(ADMIN_UPDATABLE)}")
    api_part = {k: v for k, v in changes.items() if k in PATCH_FIELDS | {"expires_at",
                                                                           "workspace_id"}}
    problems = field_problems(api_part, PATCH_FIELDS | {"expires_at", "workspace_id"})
    problems += store.missing_workspace_problems(api_part)
    for name, value in changes.items():
        if name.startswith(("usage", "byok_usage")) and (not is_number(value) or value < 0):
            problems.append(f"{name} must be a number >= 0")
    changes = dict(changes)
    for moment in ("created_at", "last_used_at"):
        if moment not in changes or (moment == "last_used_at" and changes[moment] is None):
            continue
        try:
            changes[moment] = as_timestamp(changes[moment])
        except (TypeError, ValueError):
            problems.append(f"{moment} must be an ISO 8601 timestamp")
    if problems:
        raise ValueError("; ".join(problems))
    updated = store.update(key_hash, changes)
    if updated is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return updated

