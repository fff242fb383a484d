"""The guardrail routes of the management API: `/guardrails`, `/guardrails/{id}` and the key
assignments, each answering with the status and the words OpenRouter uses (docs/emulator.md).
The bodies are checked by emulator/guardrail_rules.py and kept in emulator/guardrail_book.py.
"""

from __future__ import annotations

from typing import Any, Protocol

from emulator.guardrail_book import GuardrailBook
from emulator.guardrail_rules import key_hashes_of, refuse_bad_body
from emulator.wire import (
    DEFAULT_WORKSPACE_ID,
    MSG_INVALID,
    MSG_NO_WORKSPACE,
    MSG_NOT_FOUND,
    ApiError,
    KeyIndex,
    Page,
    Request,
    Response,
    is_uuid,
    json_object,
    method_not_allowed,
    page_params,
    paged,
    single,
)

MSG_DEFAULT_RENAME = "The name of a workspace default guardrail cannot be changed"
MSG_DEFAULT_ASSIGN = "A workspace default guardrail cannot be assigned to keys"
MSG_DEFAULT_DELETE = (
    "A workspace default guardrail cannot be deleted; configure it with PATCH instead"
)
MSG_OTHER_WORKSPACE = "Keys can only be assigned to a guardrail in their own workspace"


class WorkspaceDirectory(Protocol):
    """The workspace store as the guardrail routes see it."""

    def workspace_exists(self, workspace_id: str) -> bool: ...

    def workspace_of_default_guardrail(self, guardrail_id: str) -> str | None: ...


def is_guardrail_route(parts: list[str]) -> bool:
    """`/guardrails`, `/guardrails/assignments/keys`, `/guardrails/{id}`,
    `/guardrails/{id}/assignments/keys` and `.../remove`."""
    if not parts or parts[0] != "guardrails" or not all(parts):
        return False
    rest = parts[1:]
    return (
        len(rest) <= 1
        or rest == ["assignments", "keys"]
        or rest[1:] in (["assignments", "keys"], ["assignments", "keys", "remove"])
    )


def guardrails_route(
    book: GuardrailBook, workspaces: WorkspaceDirectory, keys: KeyIndex, request: Request,
    parts: list[str],
) -> Response:
    """Answer one guardrail request for a management key (the caller checked the route shape,
    authentication and the key's type)."""
    rest = parts[1:]
    if not rest:
        return collection(book, workspaces, request)
    if rest == ["assignments", "keys"]:
        only(request, "GET")
        return Response(200, assignment_page(book, keys, None, page_params(request.query)))
    if len(rest) == 1:
        return one_guardrail(book, workspaces, request, rest[0])
    return key_assignments(book, keys, request, rest[0], removing=len(rest) == 4)


def only(request: Request, *methods: str) -> None:
    if request.method not in methods:
        raise method_not_allowed()


def collection(book: GuardrailBook, workspaces: WorkspaceDirectory, request: Request) -> Response:
    """`GET /guardrails` (one workspace, the default unless named) and `POST /guardrails`."""
    only(request, "GET", "POST")
    if request.method == "GET":
        page = page_params(request.query)
        workspace_id = single(request.query, "workspace_id") or DEFAULT_WORKSPACE_ID
        if not is_uuid(workspace_id) or not workspaces.workspace_exists(workspace_id):
            raise ApiError(400, MSG_INVALID)
        listed = [g.to_object() for g in book.in_workspace(workspace_id)]
        return Response(200, paged(listed, page))
    body = json_object(request.body)
    refuse_bad_body(body, creating=True)
    if not workspaces.workspace_exists(body.get("workspace_id", DEFAULT_WORKSPACE_ID)):
        raise ApiError(400, MSG_NO_WORKSPACE)
    return Response(201, {"data": book.create(body).to_object()})


def one_guardrail(
    book: GuardrailBook, workspaces: WorkspaceDirectory, request: Request, guardrail_id: str
) -> Response:
    """`GET`, `PATCH` and `DELETE /guardrails/{id}`; a PATCH of a workspace default guardrail
    that was never written materializes it."""
    only(request, "GET", "PATCH", "DELETE")
    if request.method == "PATCH":
        body = json_object(request.body)
        refuse_bad_body(body, creating=False)
        stored = book.get(guardrail_id)
        owner = workspaces.workspace_of_default_guardrail(guardrail_id)
        if stored is None and owner is None:
            raise ApiError(404, MSG_NOT_FOUND)
        if "name" in body and owner is not None:
            raise ApiError(400, MSG_DEFAULT_RENAME)
        if stored is None:
            stored = book.materialize_default(guardrail_id, owner)
        book.apply(stored, body)
        return Response(200, {"data": stored.to_object()})
    stored = book.get(guardrail_id)
    if stored is None:
        raise ApiError(404, MSG_NOT_FOUND)
    if request.method == "GET":
        return Response(200, {"data": stored.to_object()})
    if stored.is_default:
        raise ApiError(403, MSG_DEFAULT_DELETE)
    book.delete(guardrail_id)
    return Response(200, {"deleted": True})


def key_assignments(
    book: GuardrailBook, keys: KeyIndex, request: Request, guardrail_id: str, *, removing: bool
) -> Response:
    """`GET`/`POST /guardrails/{id}/assignments/keys` and `POST .../remove`."""
    only(request, *(("POST",) if removing else ("GET", "POST")))
    if request.method == "GET":
        page = page_params(request.query)
        if book.get(guardrail_id) is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, assignment_page(book, keys, guardrail_id, page))
    hashes = key_hashes_of(request.body)
    guardrail = book.get(guardrail_id)
    if guardrail is None:
        raise ApiError(404, MSG_NOT_FOUND)
    if guardrail.is_default:
        raise ApiError(400, MSG_DEFAULT_ASSIGN)
    if removing:
        return Response(200, {"unassigned_count": book.unassign(guardrail, hashes)})
    found = [ref for h in hashes if (ref := keys.key_ref(h)) is not None]
    if guardrail.workspace_id is not None and any(
        ref.workspace_id != guardrail.workspace_id for ref in found
    ):
        raise ApiError(400, MSG_OTHER_WORKSPACE)
    return Response(200, {"assigned_count": book.assign(guardrail, [ref.hash for ref in found])})


def assignment_page(
    book: GuardrailBook, keys: KeyIndex, guardrail_id: str | None, page: Page
) -> dict[str, Any]:
    listed = [
        assignment.to_object(ref)
        for assignment in book.assignments(guardrail_id)
        if (ref := keys.key_ref(assignment.key_hash)) is not None
    ]
    return paged(listed, page)
