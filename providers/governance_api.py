"""Guardrails, their key assignments, workspaces and budgets: the management API beyond keys.

Typed functions over `OpenRouterClient`'s generic calls (the client stays the only place that
speaks HTTP). Facts: docs/reference/openrouter-governance-api.md §1-§3.

Creates are never blindly retried. A create whose answer is lost is settled by the one
mechanism (`providers.http.lost_create`): a workspace is looked up by its slug (unique), a guardrail
by its name and creation time in its workspace; what the lost attempt made is deleted, and
`AmbiguousCreateError` says to run again, so nothing is left that the stack does not record
and nothing is made twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import Field

from providers.http.client import OpenRouterClient
from providers.http.errors import (
    InvalidResponseError,
    NotFoundError,
)
from providers.http.listing import listed
from providers.http.lost_create import made_since
from providers.http.objects import (
    ApiRecord,
    create_once,
    data_of,
    delete_object,
    parse_record,
    patch_record,
    path_segment,
    workspace_path,
)

BudgetInterval = Literal["lifetime", "monthly", "weekly", "daily"]
BUDGET_INTERVALS: Final[tuple[BudgetInterval, ...]] = ("lifetime", "monthly", "weekly", "daily")
"""Broadest first: each set limit must be strictly greater than the next narrower set one."""
_INTERVAL_OF: Final[Mapping[str, BudgetInterval]] = {i: i for i in BUDGET_INTERVALS}


# --- records ------------------------------------------------------------------------------------


class GuardrailRecord(ApiRecord):
    id: str = Field(min_length=1)
    name: str
    workspace_id: str | None = None
    created_at: str = ""

    def fields(self) -> dict[str, Any]:
        """Every field the API returned, as it returned it."""
        return self.model_dump()


class WorkspaceRecord(ApiRecord):
    id: str = Field(min_length=1)
    name: str
    slug: str
    description: str | None = None
    default_guardrail_id: str | None = None
    created_at: str = ""


class BudgetRecord(ApiRecord):
    limit_usd: float
    reset_interval: str | None = None

    @property
    def interval(self) -> BudgetInterval:
        """`reset_interval` null is the lifetime budget."""
        return _INTERVAL_OF.get(self.reset_interval or "lifetime", "lifetime")


class AssignmentRecord(ApiRecord):
    key_hash: str = Field(min_length=1)
    guardrail_id: str = Field(min_length=1)


@dataclass(frozen=True)
class Budgets:
    """A workspace's budgets by interval, and whether BYOK spend counts toward them."""

    limits: Mapping[BudgetInterval, float]
    include_byok: bool


# --- guardrails ---------------------------------------------------------------------------------


def guardrail_path(guardrail_id: str) -> str:
    return f"/guardrails/{path_segment(guardrail_id)}"


def get_guardrail(client: OpenRouterClient, guardrail_id: str) -> GuardrailRecord:
    """`NotFoundError` when it does not exist (or is a default guardrail never configured)."""
    path = guardrail_path(guardrail_id)
    return parse_record(GuardrailRecord, data_of(client.get_json(path)), "GET", path)


def read_guardrail(
    client: OpenRouterClient, reader: str, guardrail_id: str, workspace_id: str | None
) -> GuardrailRecord | None:
    """The guardrail as its GET returns it, from its workspace's listing when that holds it;
    None only when the GET says 404."""

    def fetch() -> dict[str, GuardrailRecord]:
        return {record.id: record for record in list_guardrails(client, workspace_id)}

    def confirm() -> GuardrailRecord | None:
        try:
            return get_guardrail(client, guardrail_id)
        except NotFoundError:
            return None

    return listed((reader, "guardrails", workspace_id), fetch, guardrail_id, confirm)


def list_guardrails(client: OpenRouterClient, workspace_id: str | None) -> list[GuardrailRecord]:
    params = {"workspace_id": workspace_id} if workspace_id else None
    items = client.list_json("/guardrails", params)
    return [parse_record(GuardrailRecord, item, "GET", "/guardrails") for item in items]


def create_guardrail(client: OpenRouterClient, body: Mapping[str, object]) -> GuardrailRecord:
    """`POST /guardrails`, sent once; a lost answer is settled by name and creation time."""
    name = str(body.get("name"))
    workspace = body.get("workspace_id")

    def made(since: datetime) -> list[str]:
        return [
            record.id
            for record in list_guardrails(client, str(workspace) if workspace else None)
            if record.name == name and made_since(record.created_at, since)
        ]

    return create_once(
        client, "/guardrails", body, GuardrailRecord, f"guardrail {name!r}", made, guardrail_path
    )


def update_guardrail(
    client: OpenRouterClient, guardrail_id: str, body: Mapping[str, object]
) -> GuardrailRecord:
    """`PATCH`: each field sent replaces the stored one whole (send the full desired set)."""
    return patch_record(client, guardrail_path(guardrail_id), body, GuardrailRecord)


def delete_guardrail(client: OpenRouterClient, guardrail_id: str) -> None:
    """A 404 counts as done; the API unassigns the keys that held it."""
    delete_object(client, guardrail_path(guardrail_id))


def assignment_path(guardrail_id: str) -> str:
    return f"{guardrail_path(guardrail_id)}/assignments/keys"


def assign_keys(client: OpenRouterClient, guardrail_id: str, key_hashes: list[str]) -> int:
    """Keys assigned (a key holding another guardrail moves); unknown hashes are not counted."""
    path = assignment_path(guardrail_id)
    answer = client.send_json("POST", path, {"key_hashes": key_hashes})
    return _count(answer, "assigned_count", path)


def unassign_keys(client: OpenRouterClient, guardrail_id: str, key_hashes: list[str]) -> int:
    """Keys that held this guardrail and now hold none; a 404 (guardrail gone) counts as done."""
    path = f"{assignment_path(guardrail_id)}/remove"
    try:
        answer = client.send_json("POST", path, {"key_hashes": key_hashes})
    except NotFoundError:
        return 0
    return _count(answer, "unassigned_count", path)


def guardrail_keys(client: OpenRouterClient, guardrail_id: str) -> set[str]:
    """The hashes of the keys this guardrail is assigned to."""
    path = assignment_path(guardrail_id)
    return {
        parse_record(AssignmentRecord, item, "GET", path).key_hash
        for item in client.list_json(path)
    }


def holds_key(client: OpenRouterClient, reader: str, guardrail_id: str, key_hash: str) -> bool:
    """Whether the guardrail is assigned to the key, from the guardrail's listing (one for a
    whole refresh); a key the listing lacks is asked about again with a fresh listing."""

    def fetch() -> dict[str, bool]:
        return dict.fromkeys(guardrail_keys(client, guardrail_id), True)

    def confirm() -> bool | None:
        try:
            return True if key_hash in guardrail_keys(client, guardrail_id) else None
        except NotFoundError:
            return None  # the guardrail is gone, and its assignments with it

    return bool(listed((reader, "assignments", guardrail_id), fetch, key_hash, confirm))


def all_assignments(client: OpenRouterClient) -> dict[str, str]:
    """Every key's guardrail in the account: key hash -> guardrail id."""
    path = "/guardrails/assignments/keys"
    records = [parse_record(AssignmentRecord, item, "GET", path) for item in client.list_json(path)]
    return {record.key_hash: record.guardrail_id for record in records}


def _count(answer: Any, field: str, path: str) -> int:
    value = answer.get(field) if isinstance(answer, Mapping) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidResponseError(
            f"POST {path}: the answer has no `{field}`. Run again and report it if it persists.",
            method="POST",
            path=path,
        )
    return value


# --- workspaces ---------------------------------------------------------------------------------


def get_workspace(client: OpenRouterClient, workspace: str) -> WorkspaceRecord:
    path = workspace_path(workspace)
    return parse_record(WorkspaceRecord, data_of(client.get_json(path)), "GET", path)


def read_workspace(
    client: OpenRouterClient, reader: str, workspace_id: str
) -> WorkspaceRecord | None:
    """The workspace as its GET returns it, from the account's listing when that holds it;
    None only when the GET says 404."""

    def fetch() -> dict[str, WorkspaceRecord]:
        return {record.id: record for record in list_workspaces(client)}

    def confirm() -> WorkspaceRecord | None:
        try:
            return get_workspace(client, workspace_id)
        except NotFoundError:
            return None

    return listed((reader, "workspaces"), fetch, workspace_id, confirm)


def list_workspaces(client: OpenRouterClient) -> list[WorkspaceRecord]:
    return [
        parse_record(WorkspaceRecord, item, "GET", "/workspaces")
        for item in client.list_json("/workspaces")
    ]


def create_workspace(client: OpenRouterClient, body: Mapping[str, object]) -> WorkspaceRecord:
    """`POST /workspaces`, sent once; a lost answer is settled by the slug (unique)."""
    slug = str(body.get("slug"))

    def made(since: datetime) -> list[str]:
        try:
            record = get_workspace(client, slug)
        except NotFoundError:
            return []
        return [record.id] if made_since(record.created_at, since) else []

    return create_once(
        client, "/workspaces", body, WorkspaceRecord, f"workspace {slug!r}", made, workspace_path
    )


def update_workspace(
    client: OpenRouterClient, workspace_id: str, body: Mapping[str, object]
) -> WorkspaceRecord:
    return patch_record(client, workspace_path(workspace_id), body, WorkspaceRecord)


def delete_workspace(client: OpenRouterClient, workspace_id: str) -> None:
    """A 404 counts as done. The API refuses (400) while any key lives in it."""
    delete_object(client, workspace_path(workspace_id))


def get_budgets(client: OpenRouterClient, workspace_id: str) -> Budgets:
    path = f"{workspace_path(workspace_id)}/budgets"
    payload = client.get_json(path)
    items = data_of(payload)
    if not isinstance(items, list):
        items = None
    records = [parse_record(BudgetRecord, item, "GET", path) for item in items or []]
    include = payload.get("include_byok_in_budgets") if isinstance(payload, Mapping) else None
    return Budgets(
        limits={record.interval: record.limit_usd for record in records},
        include_byok=include is True,
    )


def put_budget(
    client: OpenRouterClient,
    workspace_id: str,
    interval: BudgetInterval,
    limit_usd: float,
    include_byok: bool | None,
) -> None:
    """Create or change one interval's budget; `include_byok` (workspace-wide) when not None."""
    body: dict[str, object] = {"limit_usd": limit_usd}
    if include_byok is not None:
        body["include_byok_in_budgets"] = include_byok
    client.send_json("PUT", f"{workspace_path(workspace_id)}/budgets/{interval}", body)


def delete_budget(client: OpenRouterClient, workspace_id: str, interval: BudgetInterval) -> None:
    """Succeeds also when no budget was set for the interval."""
    delete_object(client, f"{workspace_path(workspace_id)}/budgets/{interval}")


