"""What every route of the emulator shares: requests, answers, OpenRouter's error envelope, the
checks the published schemas imply, and offset/limit pages.

The key routes (emulator/app.py), the guardrail routes (emulator/guardrail_routes.py), the
workspace routes (emulator/workspaces.py) and every API area (emulator/areas.py) answer through
these, so one rule (say, a 400 for a bad `offset`) cannot differ between them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeGuard

API_PREFIX = "/api/v1"
ADMIN_PREFIX = "/_emulator"
DEFAULT_WORKSPACE_ID = "3f1b1d2e-5c4a-4e8b-9a67-0e0e0e0e0e01"
EMULATOR_USER_ID = "user_emulator_0000000000000000"

MSG_INVALID = "Invalid request parameters"
MSG_NOT_FOUND = "Resource not found"
MSG_MANAGEMENT_ONLY = "Only management keys can perform this operation"
# A body naming a workspace that does not exist (400 and the wording inferred).
MSG_NO_WORKSPACE = "Workspace not found"

# Offset/limit pages of the management lists (every one but /keys): limit 1-100, default 50.
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 100


class ApiError(Exception):
    """An error answer in OpenRouter's envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    authorization: str | None
    body: bytes


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def api_parts(path: str) -> list[str]:
    """`/api/v1/byok/9f0c` -> `["byok", "9f0c"]`: a path's segments after the API prefix."""
    return path[len(API_PREFIX) :].rstrip("/").strip("/").split("/")


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message}}


def method_not_allowed() -> ApiError:
    return ApiError(405, "Method Not Allowed")


def now_iso() -> str:
    """ISO 8601 with microseconds and +00:00, the format the management-key guide shows."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_uuid(value: object) -> TypeGuard[str]:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def read_json(raw: bytes) -> Any:
    """The request body as JSON (NaN and Infinity refused, as a strict JSON parser does)."""
    if not raw.strip():
        raise ApiError(400, MSG_INVALID)

    def refuse(_: str) -> Any:
        raise ValueError("non-finite number")

    try:
        return json.loads(raw, parse_constant=refuse)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, MSG_INVALID) from error


def json_object(raw: bytes) -> dict[str, Any]:
    body = read_json(raw)
    if not isinstance(body, dict):
        raise ApiError(400, MSG_INVALID)
    return body


def single(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(400, MSG_INVALID)
    return values[0]


def flag_param(query: Mapping[str, list[str]], name: str) -> bool:
    """A boolean query parameter: the literal `true` or `false` (absent: false)."""
    value = single(query, name)
    if value not in (None, "true", "false"):
        raise ApiError(400, MSG_INVALID)
    return value == "true"


def refuse_unless_valid(problems: list[str]) -> None:
    """The API's 400 when a body broke any rule (its message, like the API's, names none)."""
    if problems:
        raise ApiError(400, MSG_INVALID)


# --- pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """`offset` and `limit` of a management list, checked."""

    offset: int = 0
    limit: int = DEFAULT_PAGE_LIMIT


def offset_param(query: Mapping[str, list[str]]) -> int:
    """`offset`: an integer >= 0, default 0; anything else is a 400."""
    raw_offset = single(query, "offset")
    if raw_offset is None:
        return 0
    if not raw_offset.isdigit():
        raise ApiError(400, MSG_INVALID)
    return int(raw_offset)


def page_params(query: Mapping[str, list[str]]) -> Page:
    """`offset` (>= 0, default 0) and `limit` (1-100, default 50); anything else is a 400."""
    offset, raw_limit = offset_param(query), single(query, "limit")
    limit = DEFAULT_PAGE_LIMIT
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE_LIMIT:
            raise ApiError(400, MSG_INVALID)
        limit = int(raw_limit)
    return Page(offset, limit)


def paged(items: list[dict[str, Any]], page: Page) -> dict[str, Any]:
    """One page of a list and how many items the whole list holds."""
    return {"data": items[page.offset : page.offset + page.limit], "total_count": len(items)}


# --- field checks (each returns the problems it found, empty when the value is fine) --------------


def text_problems(
    body: Mapping[str, Any], name: str, *, longest: int, nullable: bool = False, shortest: int = 1
) -> list[str]:
    """A string of `shortest` to `longest` characters (null too when `nullable`), when present."""
    if name not in body or (nullable and body[name] is None):
        return []
    value = body[name]
    if not isinstance(value, str) or not shortest <= len(value) <= longest:
        return [f"{name} must be a string of {shortest} to {longest} characters"]
    return []


def flag_problems(body: Mapping[str, Any], names: Iterable[str], *, nullable: bool) -> list[str]:
    """Booleans (or null when `nullable`), when present."""
    return [
        f"{name} must be a boolean{' or null' if nullable else ''}"
        for name in names
        if name in body
        and not isinstance(body[name], bool)
        and not (nullable and body[name] is None)
    ]


def unknown_field_problems(body: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    return [f"unknown field {name!r}" for name in sorted(set(body) - set(allowed))]


# --- what the guardrail and workspace routes need to know about keys ------------------------------


@dataclass(frozen=True)
class KeyRef:
    """The parts of a stored key other routes show or check: never its secret."""

    hash: str
    name: str
    label: str
    workspace_id: str


class KeyIndex(Protocol):
    """The key store as the guardrail and workspace routes see it."""

    def key_ref(self, key_hash: str) -> KeyRef | None: ...

    def keys_in_workspace(self, workspace_id: str) -> list[KeyRef]: ...


# --- API areas: a module serving one part of the management API (emulator/areas.py lists them) ---


class Account(Protocol):
    """What an area's routes may ask about the rest of the account."""

    def key_ref(self, key_hash: str) -> KeyRef | None: ...

    def workspace_exists(self, workspace_id: str) -> bool: ...


class AreaBook(Protocol):
    """An area's state and routes. Its methods run under the store's lock."""

    def answer(self, account: Account, request: Request, parts: list[str]) -> Response:
        """Answer one request for a management key (the router checked auth and the shape)."""
        ...

    def seed(self, account: Account, body: Mapping[str, Any]) -> dict[str, Any]:
        """Store an object made behind the API's back, checked by the create rules (raises
        ValueError naming each problem); answers the object as the API shows it."""
        ...

    def objects(self) -> list[dict[str, Any]]:
        """Every live object of every workspace, as the API shows them."""
        ...

    def logged(self, body: Any) -> Any:
        """A request body as the request log keeps it: every secret masked as the API masks
        it, so the log never holds one."""
        ...


@dataclass(frozen=True)
class Area:
    """One area of the management API: the first path segment it owns, which paths under it are
    routes, and a fresh book (a reset makes a new one)."""

    name: str
    is_route: Callable[[list[str]], bool]
    new_book: Callable[[], AreaBook]


def refuse_naming(problems: list[str]) -> None:
    """A 400 whose message names every problem (the areas whose rules a client needs to read);
    a problem names a field, never its value, so no secret reaches a message."""
    if problems:
        raise ApiError(400, f"{MSG_INVALID}: {'; '.join(problems)}")


SECRET_SHOWN_FROM = 12
KEY_HASH_PATTERN = re.compile(r"^[a-f0-9]{64}$")


def mask_secret(secret: str) -> str:
    """A secret as BYOK labels and masked observability config show it: its first 3 and last 4
    characters (`sk-...AbCd`, the published example); one too short to show any of is `...`."""
    if len(secret) < SECRET_SHOWN_FROM:
        return "..."
    return f"{secret[:3]}...{secret[-4:]}"


def key_hash_list_problems(
    account: Account, body: Mapping[str, Any], name: str, *, most: int | None = None
) -> list[str]:
    """Null, or 1 to `most` OpenRouter key hashes (64 lowercase hex), each a key of the account
    (a hash of another account is a 400, as the BYOK and observability models say)."""
    value = body.get(name)
    if name not in body or value is None:
        return []
    limit = "" if most is None else f" to {most}"
    if not isinstance(value, list) or not value or (most is not None and len(value) > most):
        return [f"{name} must be null or a list of 1{limit} key hashes"]
    if not all(isinstance(item, str) and KEY_HASH_PATTERN.match(item) for item in value):
        return [f"{name} items must be 64 lowercase hex characters"]
    if any(account.key_ref(item) is None for item in value):
        return [f"{name} names a key hash that is not a key of this account"]
    return []


def bounded_list_problems(body: Mapping[str, Any], name: str, *, most: int) -> list[str]:
    """Null, or a list of at most `most` non-empty strings, when present."""
    value = body.get(name)
    if name not in body or value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > most
        or not all(isinstance(item, str) and item for item in value)
    ):
        return [f"{name} must be null or a list of at most {most} non-empty strings"]
    return []


def list_workspace(query: Mapping[str, list[str]], account: Account) -> str:
    """The `workspace_id` of a list (the default workspace unless named); 400 when it is not a
    workspace of the account."""
    workspace_id = single(query, "workspace_id") or DEFAULT_WORKSPACE_ID
    if not is_uuid(workspace_id) or not account.workspace_exists(workspace_id):
        raise ApiError(400, MSG_INVALID)
    return workspace_id


def create_workspace(body: Mapping[str, Any], account: Account) -> str:
    """The workspace a create body puts its object in: the one named, else the default; 400
    `Workspace not found` when it does not exist (the default may have been deleted)."""
    workspace_id = body.get("workspace_id", DEFAULT_WORKSPACE_ID)
    if not account.workspace_exists(workspace_id):
        raise ApiError(400, MSG_NO_WORKSPACE)
    return str(workspace_id)
