"""The rules of a regular key as OpenRouter states them: its secret and label, its timestamps,
which fields a create, a PATCH and a `GET /keys` query take and what each may hold (docs/emulator.md
cites each fact). Pure functions only: the store (emulator/store.py) and the key routes
(emulator/app.py) apply them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.wire import (
    DEFAULT_WORKSPACE_ID,
    MSG_INVALID,
    ApiError,
    flag_param,
    flag_problems,
    is_number,
    is_uuid,
    offset_param,
    single,
    unknown_field_problems,
)

# `GET /keys` pages: 100 keys, `offset` only (no `limit`).
PAGE_SIZE = 100
LIMIT_RESETS = ("daily", "weekly", "monthly")
REGULAR_PREFIX = "sk-or-v1-"
MANAGEMENT_PREFIX = "sk-or-mgmt-"

CREATE_FIELDS = frozenset(
    {"name", "limit", "limit_reset", "include_byok_in_limit", "expires_at", "workspace_id",
     "creator_user_id"}
)
# `workspace_id` moves a key (the SDK's UpdateKeysRequestBody; the 2026-08 notes said it could not).
PATCH_FIELDS = frozenset(
    {"name", "disabled", "limit", "limit_reset", "include_byok_in_limit", "workspace_id"}
)
# RFC 3339 in UTC with seconds (fractions allowed): what the later API revision insists on.
EXPIRES_AT_PATTERN = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$"
)

# --- pure helpers -------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def mask(secret: str) -> str:
    """The server-side `label`: prefix, first 3 and last 3 characters (`sk-or-v1-23c...95e`)."""
    for prefix in (REGULAR_PREFIX, MANAGEMENT_PREFIX):
        if secret.startswith(prefix):
            rest = secret[len(prefix) :]
            return f"{prefix}{rest[:3]}...{rest[-3:]}"
    return f"{secret[:3]}...{secret[-3:]}"


def new_regular_secret() -> str:
    return REGULAR_PREFIX + secrets.token_hex(32)


def new_management_secret() -> str:
    return MANAGEMENT_PREFIX + secrets.token_hex(32)


def parse_timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_timestamp(value: object) -> str:
    """A seeded or drifted timestamp: a string is checked and kept as written, a datetime is
    spelled as the emulator spells its own; anything else raises."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, str):
        parse_timestamp(value)
        return value
    raise TypeError("expected an ISO 8601 timestamp or a datetime")


def is_utc_timestamp(value: object) -> bool:
    if not isinstance(value, str) or not EXPIRES_AT_PATTERN.match(value):
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


def field_problems(body: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    """Why a create or update body is invalid, one entry per field; empty when it is valid."""
    problems = unknown_field_problems(body, allowed)
    if "name" in body and (not isinstance(body["name"], str) or not body["name"]):
        problems.append("name must be a non-empty string")
    if "limit" in body and body["limit"] is not None and (
        not is_number(body["limit"]) or body["limit"] < 0
    ):
        problems.append("limit must be a number >= 0 or null")
    if "limit_reset" in body and body["limit_reset"] not in (*LIMIT_RESETS, None):
        problems.append("limit_reset must be daily, weekly, monthly or null")
    problems += flag_problems(body, ("include_byok_in_limit", "disabled"), nullable=False)
    if "expires_at" in body and body["expires_at"] is not None and not is_utc_timestamp(
        body["expires_at"]
    ):
        problems.append("expires_at must be a UTC RFC 3339 timestamp with seconds")
    if "workspace_id" in body and not is_uuid(body["workspace_id"]):
        problems.append("workspace_id must be a uuid")
    if "creator_user_id" in body and body["creator_user_id"] is not None and (
        not isinstance(body["creator_user_id"], str) or not body["creator_user_id"]
    ):
        problems.append("creator_user_id must be a non-empty string or null")
    return problems


def create_problems(body: Mapping[str, Any]) -> list[str]:
    """Why a create body is invalid: `field_problems`, and `name` is required."""
    problems = field_problems(body, CREATE_FIELDS)
    if "name" not in body:
        problems.append("name is required")
    return problems

# --- the query of `GET /keys` -------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """The query of `GET /keys`, checked."""

    include_disabled: bool = False
    include_expired: bool = False
    offset: int = 0
    workspace_id: str = DEFAULT_WORKSPACE_ID


def list_params(query: Mapping[str, list[str]]) -> ListQuery:
    """`offset`, `include_disabled`, `include_expired` and `workspace_id`; a bad one is a 400."""
    workspace_id = single(query, "workspace_id")
    if workspace_id is not None and not is_uuid(workspace_id):
        raise ApiError(400, MSG_INVALID)
    return ListQuery(
        include_disabled=flag_param(query, "include_disabled"),
        include_expired=flag_param(query, "include_expired"),
        offset=offset_param(query),
        workspace_id=workspace_id or DEFAULT_WORKSPACE_ID,
    )

