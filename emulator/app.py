"""The router of the emulated OpenRouter API, and the key routes (docs/emulator.md).

A request for `/api/v1` goes to the public catalogue, or is authenticated (emulator/auth.py) and
then answered by `GET /key` and inference (emulator/views.py), the key routes below, guardrails
(emulator/guardrail_routes.py), workspaces (emulator/workspaces.py) or an API area registered in
emulator/areas.py. Keys are stored in emulator/store.py by the rules of emulator/key_rules.py.

Shapes, statuses and messages follow the published API (docs/emulator.md cites each fact); where
OpenRouter's generated SDK and older notes disagree, the SDK's models (the published spec) win, and
tests/conformance/ checks every answer against them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.areas import area_of
from emulator.auth import authenticate
from emulator.budgets import effective_budget, window_end
from emulator.catalogue import MODELS_ROUTE, PROVIDERS_ROUTE, catalogue_route
from emulator.guardrail_routes import guardrails_route, is_guardrail_route
from emulator.key_rules import PAGE_SIZE, PATCH_FIELDS, create_problems, field_problems, list_params
from emulator.records import Caller
from emulator.store import Store
from emulator.views import ACCOUNT_CREDITS, CHAT_COST, chat_completion, current_key
from emulator.wire import (
    API_PREFIX,
    DEFAULT_WORKSPACE_ID,
    MSG_MANAGEMENT_ONLY,
    MSG_NOT_FOUND,
    ApiError,
    Request,
    Response,
    json_object,
    method_not_allowed,
    refuse_unless_valid,
)
from emulator.workspaces import is_workspace_route, workspaces_route

# Names tests read from here, where they lived before the split.
__all__ = ["CHAT_COST", "DEFAULT_WORKSPACE_ID", "PAGE_SIZE", "effective_budget", "field_problems",
           "window_end"]


def keys_route(store: Store, request: Request, caller: Caller, key_hash: str | None) -> Response:
    """`/keys` and `/keys/{hash}`, for a caller already known to hold a management key."""
    if key_hash is None:
        if request.method == "GET":
            query = list_params(request.query)
            if not store.workspaces.workspace_exists(query.workspace_id):
                raise ApiError(404, MSG_NOT_FOUND)  # the SDK declares a 404 here (inferred why)
            return Response(200, {"data": store.page(query, datetime.now(UTC))})
        if request.method == "POST":
            body = json_object(request.body)
            refuse_unless_valid(create_problems(body))
            store.refuse_unknown_workspace(body)
            with store.lock:
                stored, secret = store.create(body)
                return Response(201, {"data": stored.to_object(), "key": secret})
        raise method_not_allowed()
    if request.method == "GET":
        found = store.key_object(key_hash)
        if found is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"data": found})
    if request.method == "PATCH":
        body = json_object(request.body)
        refuse_unless_valid(field_problems(body, PATCH_FIELDS))
        store.refuse_unknown_workspace(body)
        updated = store.update(key_hash, body)
        if updated is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"data": updated})
    if request.method == "DELETE":
        if not store.delete(key_hash):
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"deleted": True})
    raise method_not_allowed()


def api_route(store: Store, request: Request) -> Response:
    """Answer one `/api/v1` request, or raise the `ApiError` the real API answers."""
    route = request.path[len(API_PREFIX) :].rstrip("/") or "/"
    if route in (MODELS_ROUTE, PROVIDERS_ROUTE):
        return catalogue_route(request, route)  # public: no key needed
    return keyed_route(store, request, route)


def keyed_route(store: Store, request: Request, route: str) -> Response:
    """Every route but the public catalogue's: the caller's key decides what it may do."""
    parts = route.strip("/").split("/")
    known = (
        route in ("/key", "/auth/key", "/chat/completions", "/keys", "/credits")
        or (len(parts) == 2 and parts[0] == "keys" and parts[1])
        or is_guardrail_route(parts)
        or is_workspace_route(parts)
        or area_of(parts) is not None
    )
    if not known:
        raise ApiError(404, "Not Found")
    caller = authenticate(store, request.authorization)
    if route in ("/key", "/auth/key"):
        if request.method != "GET":
            raise method_not_allowed()
        return current_key(store, caller)
    if route == "/chat/completions":
        if request.method != "POST":
            raise method_not_allowed()
        return chat_completion(store, caller, request.body)
    if caller.kind != "management":
        raise ApiError(403, MSG_MANAGEMENT_ONLY)
    return management_route(store, request, caller, parts)


def management_route(store: Store, request: Request, caller: Caller, parts: list[str]) -> Response:
    """A known route, for a caller already known to hold a management key."""
    area = area_of(parts)
    if area is not None:
        return store.books[area.name].answer(store, request, parts)
    if parts == ["credits"]:
        if request.method != "GET":
            raise method_not_allowed()
        return Response(200, {"data": {"total_credits": ACCOUNT_CREDITS,
                                       "total_usage": store.total_usage()}})
    if parts[0] == "guardrails":
        return guardrails_route(store.guardrails, store.workspaces, store, request, parts)
    if parts[0] == "workspaces":
        return workspaces_route(store.workspaces, store.guardrails, store, request, parts)
    key_hash = parts[1] if len(parts) == 2 else None
    return keys_route(store, request, caller, key_hash)
