"""Workspaces and their budgets, as OpenRouter's management API serves them.

docs/emulator.md lists each rule with its public source, and marks "(inferred)" what the sources
leave open. The rules that shape a client: every key lives in exactly one workspace and the
default one exists from the start; a workspace is addressed by id or slug; one that still holds
keys cannot be deleted; budgets are one per interval and must strictly decrease from lifetime to
daily; deleting a workspace deletes its budgets and guardrails.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from emulator.guardrail_book import GuardrailBook, default_guardrail_id
from emulator.wire import (
    DEFAULT_WORKSPACE_ID,
    EMULATOR_USER_ID,
    MSG_INVALID,
    MSG_NOT_FOUND,
    ApiError,
    KeyIndex,
    Request,
    Response,
    flag_param,
    flag_problems,
    is_number,
    json_object,
    method_not_allowed,
    now_iso,
    page_params,
    paged,
    refuse_unless_valid,
    text_problems,
    unknown_field_problems,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SERVER_TOOLS = (
    "openrouter:advisor", "openrouter:apply_patch", "openrouter:bash", "openrouter:datetime",
    "openrouter:fusion", "openrouter:image_generation", "openrouter:experimental__search_models",
    "openrouter:shell", "openrouter:subagent", "openrouter:tool_search", "openrouter:web_fetch",
    "openrouter:web_search",
)
# Broadest first: the order budgets must strictly decrease in, and the order they are listed in.
BUDGET_INTERVALS = ("lifetime", "monthly", "weekly", "daily")
MODEL_FIELDS = ("default_text_model", "default_image_model", "default_provider_sort")
FLAGS = ("is_data_discount_logging_enabled", "is_observability_broadcast_enabled",
         "is_observability_io_logging_enabled")
FIELDS = frozenset({"name", "slug", "description", *MODEL_FIELDS, "io_logging_api_key_ids",
                    "io_logging_sampling_rate", *FLAGS, "disabled_server_tools"})
NAME_LONGEST = 100
SLUG_LONGEST = 50
DESCRIPTION_LONGEST = 500
DEFAULT_WORKSPACE_NAME = "Default Workspace"
DEFAULT_WORKSPACE_SLUG = "default"

MSG_SLUG_TAKEN = "A workspace with this slug already exists"
MSG_HAS_KEYS = "Workspaces with active API keys cannot be deleted; remove the keys first"
MSG_CONFIRM_DEFAULT = (
    "Deleting the default workspace requires confirm_default_workspace_deletion=true"
)
MSG_DEFAULT_NOT_ENABLED = "Deleting the default workspace is not enabled for this account"
MSG_BUDGET_ORDER = (
    "Budget limits must strictly decrease as the interval narrows "
    "(lifetime > monthly > weekly > daily)"
)


# --- validation -----------------------------------------------------------------------------------


def workspace_problems(body: Mapping[str, Any], *, creating: bool) -> list[str]:
    """Every way a create (or update) body breaks the published request schema."""
    problems = unknown_field_problems(body, FIELDS)
    if creating:
        problems += [f"{name} is required" for name in ("name", "slug") if name not in body]
    problems += text_problems(body, "name", longest=NAME_LONGEST)
    problems += text_problems(body, "slug", longest=SLUG_LONGEST)
    if isinstance(body.get("slug"), str) and not SLUG_PATTERN.match(body["slug"]):
        problems.append("slug must be lowercase letters and digits in groups joined by one hyphen")
    problems += text_problems(body, "description", longest=DESCRIPTION_LONGEST, nullable=True,
                              shortest=0)
    for name in MODEL_FIELDS:
        problems += text_problems(body, name, longest=1000, nullable=True)
    ids = body.get("io_logging_api_key_ids")
    if ids is not None and not (
        isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        problems.append("io_logging_api_key_ids must be a list of integers or null")
    rate = body.get("io_logging_sampling_rate", 1)
    if not is_number(rate) or not 0.0001 <= rate <= 1:
        problems.append("io_logging_sampling_rate must be a number from 0.0001 to 1")
    problems += flag_problems(body, FLAGS, nullable=False)
    tools = body.get("disabled_server_tools")
    if tools is not None and not (isinstance(tools, list) and set(tools) <= set(SERVER_TOOLS)):
        problems.append(f"disabled_server_tools must be null or a list of {SERVER_TOOLS}")
    return problems


def budgets_out_of_order(limits: Mapping[str, float]) -> bool:
    """Whether the budgets set break lifetime > monthly > weekly > daily (unset ones skipped)."""
    ordered = [limits[interval] for interval in BUDGET_INTERVALS if interval in limits]
    return any(broader <= narrower for broader, narrower in pairwise(ordered))


# --- the store ------------------------------------------------------------------------------------


@dataclass
class StoredWorkspace:
    """A workspace as the server knows it. Defaults on create follow the published examples."""

    id: str
    name: str
    slug: str
    sequence: int
    description: str | None = None
    default_text_model: str | None = None
    default_image_model: str | None = None
    default_provider_sort: str | None = None
    io_logging_api_key_ids: list[int] | None = None
    io_logging_sampling_rate: float = 1.0
    is_data_discount_logging_enabled: bool = True
    is_observability_broadcast_enabled: bool = False
    is_observability_io_logging_enabled: bool = False
    disabled_server_tools: list[str] | None = None
    include_byok_in_budgets: bool = False
    created_at: str = field(default_factory=now_iso)
    created_by: str | None = EMULATOR_USER_ID
    updated_at: str | None = None

    def to_object(self) -> dict[str, Any]:
        raw = asdict(self)
        raw.pop("sequence")
        return {**raw, "default_guardrail_id": default_guardrail_id(self.id)}

    def apply(self, body: Mapping[str, Any]) -> None:
        """Write a validated body; an empty `disabled_server_tools` clears it (the SDK says so)."""
        for name, value in body.items():
            setattr(self, name, list(value) if isinstance(value, list) else value)
        if self.disabled_server_tools == []:
            self.disabled_server_tools = None


@dataclass
class StoredBudget:
    id: str
    workspace_id: str
    interval: str
    limit_usd: float
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def to_object(self) -> dict[str, Any]:
        """The WorkspaceBudget object: `reset_interval` null is the lifetime budget."""
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "limit_usd": self.limit_usd,
            "reset_interval": None if self.interval == "lifetime" else self.interval,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class WorkspaceBook:
    """Every workspace and budget. Callers hold the store's lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the one workspace every account has."""
        self._workspaces: dict[str, StoredWorkspace] = {}
        self._budgets: dict[tuple[str, str], StoredBudget] = {}
        self._sequence = 0
        self.create({"name": DEFAULT_WORKSPACE_NAME, "slug": DEFAULT_WORKSPACE_SLUG},
                    workspace_id=DEFAULT_WORKSPACE_ID)

    def find(self, ref: str) -> StoredWorkspace | None:
        """By id, else by slug (the API takes either in its paths)."""
        found = self._workspaces.get(ref)
        if found is not None:
            return found
        return next((w for w in self._workspaces.values() if w.slug == ref), None)

    def workspace_exists(self, workspace_id: str) -> bool:
        return workspace_id in self._workspaces

    def workspace_of_default_guardrail(self, guardrail_id: str) -> str | None:
        return next(
            (w for w in self._workspaces if default_guardrail_id(w) == guardrail_id), None
        )

    def all(self) -> list[StoredWorkspace]:
        """Newest first (inferred, as `/keys` lists)."""
        return sorted(self._workspaces.values(), key=lambda w: w.sequence, reverse=True)

    def create(self, body: Mapping[str, Any], workspace_id: str | None = None) -> StoredWorkspace:
        """Store a validated create body (its slug free); `workspace_id` only when seeding."""
        self.refuse_taken_slug(body["slug"], None)
        self._sequence += 1
        stored = StoredWorkspace(
            id=workspace_id or str(uuid.uuid4()), name=body["name"], slug=body["slug"],
            sequence=self._sequence,
        )
        if stored.id in self._workspaces:
            raise ValueError(f"workspace {stored.id} already exists")
        stored.apply(body)
        self._workspaces[stored.id] = stored
        return stored

    def refuse_taken_slug(self, slug: str, owner: StoredWorkspace | None) -> None:
        """A slug names one workspace (inferred: it addresses the workspace in every path)."""
        if any(w.slug == slug and w is not owner for w in self._workspaces.values()):
            raise ApiError(400, MSG_SLUG_TAKEN)

    def update(self, stored: StoredWorkspace, body: Mapping[str, Any]) -> None:
        if "slug" in body:
            self.refuse_taken_slug(body["slug"], stored)
        stored.apply(body)
        stored.updated_at = now_iso()

    def delete(self, stored: StoredWorkspace) -> None:
        del self._workspaces[stored.id]
        for interval in BUDGET_INTERVALS:
            self._budgets.pop((stored.id, interval), None)

    # budgets

    def budgets(self, workspace_id: str) -> list[StoredBudget]:
        """Broadest first (inferred)."""
        return [
            self._budgets[(workspace_id, interval)]
            for interval in BUDGET_INTERVALS
            if (workspace_id, interval) in self._budgets
        ]

    def budget(self, workspace_id: str, interval: str) -> StoredBudget | None:
        return self._budgets.get((workspace_id, interval))

    def set_budget(self, stored: StoredWorkspace, interval: str, limit: float) -> StoredBudget:
        """Create or change one interval's budget, refused (400, inferred) when the limits would
        no longer strictly decrease from lifetime to daily."""
        limits = {b.interval: b.limit_usd for b in self.budgets(stored.id)} | {interval: limit}
        if budgets_out_of_order(limits):
            raise ApiError(400, MSG_BUDGET_ORDER)
        budget = self._budgets.get((stored.id, interval))
        if budget is None:
            budget = StoredBudget(str(uuid.uuid4()), stored.id, interval, limit)
            self._budgets[(stored.id, interval)] = budget
        else:
            budget.limit_usd = limit
            budget.updated_at = now_iso()
        return budget

    def delete_budget(self, workspace_id: str, interval: str) -> None:
        self._budgets.pop((workspace_id, interval), None)


# --- routes ---------------------------------------------------------------------------------------


def is_workspace_route(parts: list[str]) -> bool:
    """`/workspaces`, `/workspaces/{ref}`, `/workspaces/{ref}/budgets[/{interval}]`."""
    return (
        bool(parts) and parts[0] == "workspaces" and all(parts)
        and (len(parts) <= 2 or (parts[2] == "budgets" and len(parts) <= 4))
    )


def workspaces_route(
    book: WorkspaceBook, guardrails: GuardrailBook, keys: KeyIndex, request: Request,
    parts: list[str],
) -> Response:
    """Answer one workspace request for a management key (the caller checked the route shape,
    authentication and the key's type)."""
    if len(parts) == 1:
        return collection(book, request)
    if len(parts) == 2:
        return one_workspace(book, guardrails, keys, request, parts[1])
    if len(parts) == 3:
        if request.method != "GET":
            raise method_not_allowed()
        stored = found(book, parts[1])
        return Response(200, budgets_answer(stored, [
            budget.to_object() for budget in book.budgets(stored.id)
        ]))
    return one_budget(book, request, parts[1], parts[3])


def found(book: WorkspaceBook, ref: str) -> StoredWorkspace:
    stored = book.find(ref)
    if stored is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return stored


def budgets_answer(stored: StoredWorkspace, data: Any) -> dict[str, Any]:
    """A budget answer: the budget(s) and the workspace-wide BYOK flag beside them."""
    return {"data": data, "include_byok_in_budgets": stored.include_byok_in_budgets}


def collection(book: WorkspaceBook, request: Request) -> Response:
    """`GET /workspaces` (every workspace) and `POST /workspaces`."""
    if request.method == "GET":
        page = page_params(request.query)
        return Response(200, paged([w.to_object() for w in book.all()], page))
    if request.method != "POST":
        raise method_not_allowed()
    body = json_object(request.body)
    refuse_unless_valid(workspace_problems(body, creating=True))
    return Response(201, {"data": book.create(body).to_object()})


def one_workspace(
    book: WorkspaceBook, guardrails: GuardrailBook, keys: KeyIndex, request: Request, ref: str
) -> Response:
    """`GET`, `PATCH` and `DELETE /workspaces/{id or slug}`."""
    if request.method == "PATCH":
        body = json_object(request.body)
        refuse_unless_valid(workspace_problems(body, creating=False))
        stored = found(book, ref)
        book.update(stored, body)
        return Response(200, {"data": stored.to_object()})
    if request.method == "GET":
        return Response(200, {"data": found(book, ref).to_object()})
    if request.method != "DELETE":
        raise method_not_allowed()
    confirmed = flag_param(request.query, "confirm_default_workspace_deletion")
    stored = found(book, ref)
    if stored.id == DEFAULT_WORKSPACE_ID:
        raise (ApiError(403, MSG_DEFAULT_NOT_ENABLED) if confirmed
               else ApiError(400, MSG_CONFIRM_DEFAULT))
    if keys.keys_in_workspace(stored.id):
        raise ApiError(400, MSG_HAS_KEYS)
    book.delete(stored)
    guardrails.forget_workspace(stored.id)
    return Response(200, {"deleted": True})


def budget_body(raw: bytes) -> dict[str, Any]:
    """An upsert body: `limit_usd` > 0 (required), `include_byok_in_budgets` (optional)."""
    body = json_object(raw)
    limit = body.get("limit_usd")
    refuse_unless_valid(
        unknown_field_problems(body, ("limit_usd", "include_byok_in_budgets"))
        + flag_problems(body, ("include_byok_in_budgets",), nullable=False)
        + ([] if is_number(limit) and limit > 0 else ["limit_usd must be a number > 0"])
    )
    return body


def one_budget(book: WorkspaceBook, request: Request, ref: str, interval: str) -> Response:
    """`GET`, `PUT` and `DELETE /workspaces/{id or slug}/budgets/{interval}`."""
    if request.method not in ("GET", "PUT", "DELETE"):
        raise method_not_allowed()
    body = budget_body(request.body) if request.method == "PUT" else {}
    if interval not in BUDGET_INTERVALS:
        raise ApiError(400, MSG_INVALID)
    stored = found(book, ref)
    if request.method == "DELETE":
        book.delete_budget(stored.id, interval)
        return Response(200, {"deleted": True})
    if request.method == "GET":
        budget = book.budget(stored.id, interval)
        if budget is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, budgets_answer(stored, budget.to_object()))
    budget = book.set_budget(stored, interval, float(body["limit_usd"]))
    if "include_byok_in_budgets" in body:
        stored.include_byok_in_budgets = body["include_byok_in_budgets"]
    return Response(200, budgets_answer(stored, budget.to_object()))
