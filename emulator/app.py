"""The OpenRouter management API over an in-memory store, as docs/emulator.md describes.

This module holds the keys, authentication, `GET /key`, the admin routes and the HTTP handler;
guardrails (emulator/guardrails.py) and workspaces (emulator/workspaces.py) keep their state and
routes in modules of their own, answering through the same helpers (emulator/wire.py).

Shapes, statuses and messages follow the published API (docs/emulator.md cites each fact); where
OpenRouter's generated SDK and older notes disagree, the SDK's models (the published spec) win, and
tests/conformance/ checks every answer against them. The store never holds a regular key's
secret: a key is found by the sha256 of the bearer token, which is also its `hash`, so the secret
exists only in the one create (or seed) response.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.areas import area_of, new_books
from emulator.budgets import (
    WINDOW_SUFFIX,
    budget_layer,
    effective_budget,
    refusal,
    window_end,
)
from emulator.catalogue import MODELS_ROUTE, PROVIDERS_ROUTE, catalogue_route
from emulator.guardrails import GuardrailBook, guardrails_route, is_guardrail_route
from emulator.wire import (
    DEFAULT_WORKSPACE_ID,
    EMULATOR_USER_ID,
    MSG_INVALID,
    MSG_MANAGEMENT_ONLY,
    MSG_NO_WORKSPACE,
    MSG_NOT_FOUND,
    ApiError,
    AreaBook,
    KeyRef,
    Request,
    Response,
    flag_param,
    is_number,
    is_uuid,
    json_object,
    now_iso,
    single,
)
from emulator.workspaces import (
    StoredWorkspace,
    WorkspaceBook,
    is_workspace_route,
    workspace_problems,
    workspaces_route,
)

# Names other modules and tests read from here.
__all__ = ["DEFAULT_WORKSPACE_ID", "effective_budget", "window_end"]

API_PREFIX = "/api/v1"
ADMIN_PREFIX = "/_emulator"
PAGE_SIZE = 100
LIMIT_RESETS = ("daily", "weekly", "monthly")
# What the emulated account has bought, in USD (GET /credits).
ACCOUNT_CREDITS = 100.0
# What one chat completion costs the calling key, in USD (small, so limits last many calls).
CHAT_COST = 0.0001
REGULAR_PREFIX = "sk-or-v1-"
MANAGEMENT_PREFIX = "sk-or-mgmt-"

MSG_MISSING_AUTH = "Missing Authentication header"
MSG_USER_NOT_FOUND = "User not found."

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
    problems = [f"unknown field {name!r}" for name in sorted(set(body) - allowed)]
    if "name" in body and (not isinstance(body["name"], str) or not body["name"]):
        problems.append("name must be a non-empty string")
    if "limit" in body and body["limit"] is not None and (
        not is_number(body["limit"]) or body["limit"] < 0
    ):
        problems.append("limit must be a number >= 0 or null")
    if "limit_reset" in body and body["limit_reset"] not in (*LIMIT_RESETS, None):
        problems.append("limit_reset must be daily, weekly, monthly or null")
    for flag in ("include_byok_in_limit", "disabled"):
        if flag in body and not isinstance(body[flag], bool):
            problems.append(f"{flag} must be a boolean")
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
    problems = field_problems(body, CREATE_FIELDS)
    if "name" not in body:
        problems.append("name is required")
    return problems


# --- the store ----------------------------------------------------------------------------------


@dataclass
class StoredKey:
    """A regular key as the server knows it: everything but the secret."""

    hash: str
    name: str
    label: str
    sequence: int
    disabled: bool = False
    limit: float | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    usage: float = 0.0
    usage_daily: float = 0.0
    usage_weekly: float = 0.0
    usage_monthly: float = 0.0
    byok_usage: float = 0.0
    byok_usage_daily: float = 0.0
    byok_usage_weekly: float = 0.0
    byok_usage_monthly: float = 0.0
    created_at: str = field(default_factory=now_iso)
    updated_at: str | None = None
    expires_at: str | None = None
    creator_user_id: str | None = EMULATOR_USER_ID
    workspace_id: str = DEFAULT_WORKSPACE_ID
    last_used_at: str | None = None
    # Partner-only (a Connect client secret sets it on create); always null here.
    external_user: str | None = None

    def spend_in(self, reset: str | None, include_byok: bool) -> float:
        """Usage in a reset window (all of it for a lifetime budget), plus the same window's
        BYOK usage when it counts (inferred: the docs say only that budgets reset daily, weekly
        or monthly)."""
        suffix = WINDOW_SUFFIX.get(reset or "", "")
        spent: float = getattr(self, f"usage{suffix}")
        if include_byok:
            spent += getattr(self, f"byok_usage{suffix}")
        return spent

    def limit_spend(self) -> float:
        """What the key's own limit counts."""
        return self.spend_in(self.limit_reset, self.include_byok_in_limit)

    def limit_remaining(self) -> float | None:
        if self.limit is None:
            return None
        return self.limit - self.limit_spend()

    def key_limit_budget(self, now: datetime) -> dict[str, Any] | None:
        """The `key_limit` layer of `GET /key` `budgets` (the SDK's KeyBudget), or None when the
        key has no limit. Its figures are `limit` and `limit_remaining` again, by definition."""
        if self.limit is None:
            return None
        return budget_layer(
            "key_limit", limit=self.limit, spend=self.limit_spend(), reset=self.limit_reset,
            include_byok=self.include_byok_in_limit, now=now,
        )

    def ref(self) -> KeyRef:
        return KeyRef(self.hash, self.name, self.label, self.workspace_id)

    def is_expired(self, at: datetime) -> bool:
        return self.expires_at is not None and parse_timestamp(self.expires_at) <= at

    def to_object(self) -> dict[str, Any]:
        """The key object, field for field as the SDK's models require it."""
        raw = asdict(self)
        raw.pop("sequence")
        return {
            "hash": raw["hash"],
            "name": raw["name"],
            "label": raw["label"],
            "disabled": raw["disabled"],
            "limit": raw["limit"],
            "limit_remaining": self.limit_remaining(),
            **{k: raw[k] for k in ("limit_reset", "include_byok_in_limit")},
            **{k: raw[k] for k in raw if k.startswith(("usage", "byok_usage"))},
            **{
                k: raw[k]
                for k in ("created_at", "updated_at", "expires_at", "creator_user_id",
                          "workspace_id", "last_used_at", "external_user")
            },
        }

    def sort_key(self) -> tuple[datetime, int]:
        return (parse_timestamp(self.created_at), self.sequence)


@dataclass(frozen=True)
class ManagementKey:
    hash: str
    label: str
    created_at: str


@dataclass(frozen=True)
class Caller:
    """Who authenticated a request: kind is 'management' or 'regular'."""

    kind: str
    hash: str


@dataclass(frozen=True)
class SeededKey:
    """A regular key put in the store by a test; the secret never shows in repr."""

    hash: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class RequestRecord:
    """One logged API request. Never holds the bearer key: `auth` says only which kind it was.

    `body` is the JSON the client sent (None when empty or not JSON), so a test can assert that an
    update sent only the changed fields.
    """

    method: str
    path: str
    query: str
    status: int | None
    auth: str
    fault: str | None = None
    body: Any = None

    def __getitem__(self, name: str) -> Any:
        """Mapping-style access, so code reading the admin route's JSON reads this the same way."""
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SEED_API_FIELDS = ("limit", "limit_reset", "include_byok_in_limit", "expires_at", "workspace_id",
                   "creator_user_id")
SEED_SETTINGS = frozenset(
    {*SEED_API_FIELDS, "disabled", "usage", "created_at", "last_used_at", "secret"}
)


class Store:
    """Every key and the request log, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._keys: dict[str, StoredKey] = {}
        self._management: dict[str, ManagementKey] = {}
        self._log: list[RequestRecord] = []
        self._sequence = 0
        self.workspaces = WorkspaceBook()
        self.guardrails = GuardrailBook()
        self.books: dict[str, AreaBook] = new_books()
        # Bumped by reset: a request that started before a reset (say, sleeping in an injected
        # latency) must not write into the next test's world.
        self.generation = 0

    # management keys

    def add_management_key(self, secret: str | None = None) -> str:
        secret = secret or new_management_secret()
        if not isinstance(secret, str) or not secret.strip():
            raise ValueError("a management key must be a non-empty string")
        digest = hash_secret(secret)
        with self.lock:
            if digest in self._keys:
                raise ValueError("that secret is already a regular key")
            self._management[digest] = ManagementKey(digest, mask(secret), now_iso())
        return secret

    def management_label(self, key_hash: str) -> str:
        with self.lock:
            return self._management[key_hash].label

    def management_key_count(self) -> int:
        with self.lock:
            return len(self._management)

    # regular keys

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def create(self, body: Mapping[str, Any], secret: str | None = None) -> tuple[StoredKey, str]:
        """Store a new key from a validated create body; returns it and its one-time secret."""
        secret = secret or new_regular_secret()
        digest = hash_secret(secret)
        with self.lock:
            if digest in self._keys or digest in self._management:
                raise ValueError("that secret is already in use")
            stored = StoredKey(
                hash=digest,
                name=body["name"],
                label=mask(secret),
                sequence=self._next_sequence(),
                limit=body.get("limit"),
                limit_reset=body.get("limit_reset"),
                include_byok_in_limit=bool(body.get("include_byok_in_limit", False)),
                expires_at=body.get("expires_at"),
                workspace_id=body.get("workspace_id") or DEFAULT_WORKSPACE_ID,
                creator_user_id=body.get("creator_user_id") or EMULATOR_USER_ID,
            )
            self._keys[digest] = stored
            return stored, secret

    def key_object(self, key_hash: str) -> dict[str, Any] | None:
        """The key object for a hash (a snapshot taken under the lock), or None."""
        with self.lock:
            stored = self._keys.get(key_hash)
            return None if stored is None else stored.to_object()

    def update(self, key_hash: str, changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """Apply validated changes and stamp `updated_at`; the new key object, or None."""
        with self.lock:
            stored = self._keys.get(key_hash)
            if stored is None:
                return None
            for name, value in changes.items():
                setattr(stored, name, value)
            stored.updated_at = now_iso()
            return stored.to_object()

    def delete(self, key_hash: str) -> bool:
        """Delete a key; its guardrail assignment goes with it."""
        with self.lock:
            self.guardrails.forget_key(key_hash)
            return self._keys.pop(key_hash, None) is not None

    # what the guardrail and workspace routes see of keys (wire.KeyIndex)

    def key_ref(self, key_hash: str) -> KeyRef | None:
        with self.lock:
            stored = self._keys.get(key_hash)
            return None if stored is None else stored.ref()

    def workspace_exists(self, workspace_id: str) -> bool:
        with self.lock:
            return self.workspaces.workspace_exists(workspace_id)

    def keys_in_workspace(self, workspace_id: str) -> list[KeyRef]:
        """Every key in a workspace, disabled and expired ones included."""
        with self.lock:
            return [k.ref() for k in self._newest_first() if k.workspace_id == workspace_id]

    def missing_workspace_problems(self, body: Mapping[str, Any]) -> list[str]:
        """For seeding and drift: a key's workspace must exist, as in the real API."""
        workspace_id = body.get("workspace_id")
        with self.lock:
            if not is_uuid(workspace_id) or self.workspaces.workspace_exists(workspace_id):
                return []
        return [f"workspace_id {workspace_id} is not a workspace; add it first "
                "(Emulator.add_workspace or POST /_emulator/workspaces)"]

    def refuse_unknown_workspace(self, body: Mapping[str, Any]) -> None:
        """A key can only be put in a workspace that exists (400, inferred: the API declares no
        404 for a body)."""
        workspace_id = body.get("workspace_id")
        if workspace_id is not None and not self.workspaces.workspace_exists(workspace_id):
            raise ApiError(400, MSG_NO_WORKSPACE)

    def _newest_first(self) -> list[StoredKey]:
        return sorted(self._keys.values(), key=StoredKey.sort_key, reverse=True)

    def all_key_objects(self) -> list[dict[str, Any]]:
        """Every stored key object, newest first (created_at, then creation order)."""
        with self.lock:
            return [key.to_object() for key in self._newest_first()]

    def page(self, query: ListQuery, now: datetime) -> list[dict[str, Any]]:
        """One `GET /keys` page: one workspace, disabled and expired keys only when asked, 100
        at most."""
        with self.lock:
            selected = [
                key
                for key in self._newest_first()
                if key.workspace_id == query.workspace_id
                and (query.include_disabled or not key.disabled)
                and (query.include_expired or not key.is_expired(now))
            ]
            return [key.to_object() for key in selected[query.offset : query.offset + PAGE_SIZE]]

    def budget_layers(self, key_hash: str, now: datetime) -> list[dict[str, Any]]:
        """`GET /key` `budgets` for a regular key, in the order enforcement checks them: the
        guardrail that governs it, its workspace's budgets (broadest first), its own limit."""
        with self.lock:
            stored = self._keys.get(key_hash)
            if stored is None:
                return []
            layers = [*self.guardrail_layers(stored, now), *self.workspace_layers(stored, now)]
            own = stored.key_limit_budget(now)
            return layers if own is None else [*layers, own]

    def guardrail_layers(self, stored: StoredKey, now: datetime) -> list[dict[str, Any]]:
        """The governing guardrail's spend cap, counted on this key alone (the SDK: "otherwise
        this key"), or nothing when no guardrail with a limit governs the key."""
        governing = self.guardrails.governing(stored.hash, stored.workspace_id)
        if governing is None or governing[1].settings["limit_usd"] is None:
            return []
        scope, guardrail = governing
        reset = guardrail.settings["reset_interval"]
        byok = guardrail.include_byok_in_budgets
        return [budget_layer(
            scope, limit=guardrail.settings["limit_usd"], spend=stored.spend_in(reset, byok),
            reset=reset, include_byok=byok, now=now, guardrail_id=guardrail.id,
        )]

    def workspace_layers(self, stored: StoredKey, now: datetime) -> list[dict[str, Any]]:
        """Each budget of the key's workspace, counted on every key of that workspace."""
        workspace = self.workspaces.find(stored.workspace_id)
        if workspace is None:
            return []
        byok = workspace.include_byok_in_budgets
        members = [k for k in self._keys.values() if k.workspace_id == workspace.id]
        layers = []
        for budget in self.workspaces.budgets(workspace.id):
            reset = None if budget.interval == "lifetime" else budget.interval
            layers.append(budget_layer(
                "workspace", limit=budget.limit_usd,
                spend=sum(k.spend_in(reset, byok) for k in members), reset=reset,
                include_byok=byok, now=now, budget_id=budget.id,
            ))
        return layers

    def data_regions(self, key_hash: str) -> list[str]:
        """The account's regions, narrowed by the allowlist of the guardrail governing the key."""
        with self.lock:
            stored = self._keys.get(key_hash)
            governing = None if stored is None else self.guardrails.governing(
                stored.hash, stored.workspace_id
            )
            allowed = None if governing is None else governing[1].settings["allowed_data_regions"]
            return [r for r in ALLOWED_DATA_REGIONS if allowed is None or r in allowed]

    def total_usage(self) -> float:
        """Usage of every live key: what `GET /credits` reports as `total_usage` (deleted keys'
        spend is forgotten, a simplification)."""
        with self.lock:
            return sum(key.usage for key in self._keys.values())

    def spend(self, key_hash: str, cost: float) -> None:
        """Charge one inference call to a key, or raise what the API answers instead."""
        with self.lock:
            stored = self._keys.get(key_hash)
            if stored is None:
                raise ApiError(401, MSG_USER_NOT_FOUND)
            refused = refusal(self.budget_layers(key_hash, datetime.now(UTC)))
            if refused is not None:
                raise refused
            for name in ("usage", "usage_daily", "usage_weekly", "usage_monthly"):
                setattr(stored, name, getattr(stored, name) + cost)
            stored.last_used_at = now_iso()

    # auth

    def authenticate(self, header: str | None) -> Caller:
        """The caller behind an Authorization header, or the 401 the API answers."""
        if not header or not header.strip():
            raise ApiError(401, MSG_MISSING_AUTH)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, MSG_MISSING_AUTH)
        digest = hash_secret(token.strip())
        with self.lock:
            if digest in self._management:
                return Caller("management", digest)
            stored = self._keys.get(digest)
            if stored is None or stored.disabled or stored.is_expired(datetime.now(UTC)):
                raise ApiError(401, MSG_USER_NOT_FOUND)
            return Caller("regular", digest)

    def identify(self, header: str | None) -> str:
        """Which kind of key a header carries, for the request log; never raises."""
        try:
            return self.authenticate(header).kind
        except ApiError as error:
            return "none" if error.message == MSG_MISSING_AUTH else "invalid"

    # request log

    def log(self, record: RequestRecord) -> None:
        with self.lock:
            self._log.append(record)

    def requests(self) -> list[RequestRecord]:
        with self.lock:
            return list(self._log)

    def logged_body(self, path: str, raw: bytes) -> Any:
        """What the log keeps of a request body: its JSON (None when empty or not JSON), with
        the secrets of an area's body masked as that area masks them."""
        try:
            body = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError):
            return None
        area = area_of(api_parts(path))
        if area is None:
            return body
        with self.lock:
            return self.books[area.name].logged(body)

    def clear_requests(self) -> None:
        with self.lock:
            self._log.clear()

    def reset(self, *, keep_management_keys: bool = True) -> None:
        with self.lock:
            self.generation += 1
            self._keys.clear()
            self._log.clear()
            self.workspaces.reset()
            self.guardrails.reset()
            self.books = new_books()
            if not keep_management_keys:
                self._management.clear()

    # seeding

    def seed(self, name: str, **settings: Any) -> SeededKey:
        """Put a regular key in the store with settings the API cannot set (usage, created_at,
        disabled), checking the rest by the create rules so a test cannot seed a shape the real
        API would never hold."""
        api_fields = {
            k: settings[k] for k in SEED_API_FIELDS if settings.get(k) is not None
        }
        body = {"name": name, **api_fields}
        problems = create_problems(body)
        disabled = settings.get("disabled", False)
        usage = settings.get("usage", 0.0)
        if not isinstance(disabled, bool):
            problems.append("disabled must be a boolean")
        if not is_number(usage) or usage < 0:
            problems.append("usage must be a number >= 0")
        stamps: dict[str, str] = {}
        for moment in ("created_at", "last_used_at"):
            if settings.get(moment) is None:
                continue
            try:
                stamps[moment] = as_timestamp(settings[moment])
            except (TypeError, ValueError):
                problems.append(f"{moment} must be an ISO 8601 timestamp or a datetime")
        unknown = sorted(set(settings) - SEED_SETTINGS)
        problems += [f"unknown seed setting {setting!r}" for setting in unknown]
        problems += self.missing_workspace_problems(body)
        if problems:
            raise ValueError(f"cannot seed key {name!r}: {'; '.join(problems)}")
        with self.lock:
            stored, secret = self.create(body, settings.get("secret"))
            stored.disabled = disabled
            for counter in ("usage", "usage_daily", "usage_weekly", "usage_monthly"):
                setattr(stored, counter, float(usage))
            for moment, stamp in stamps.items():
                setattr(stored, moment, stamp)
        return SeededKey(stored.hash, secret)

    def seed_workspace(
        self, body: Mapping[str, Any], workspace_id: str | None = None
    ) -> StoredWorkspace:
        """A workspace made behind the API's back (by hand in the dashboard), checked by the
        create rules; `workspace_id` lets a test choose its id."""
        problems = workspace_problems(body, creating=True)
        if workspace_id is not None and not is_uuid(workspace_id):
            problems.append(f"id must be a lowercase uuid, got {workspace_id!r}")
        with self.lock:
            if workspace_id is not None and self.workspaces.workspace_exists(workspace_id):
                problems.append(f"workspace {workspace_id} already exists")
            if any(w.slug == body.get("slug") for w in self.workspaces.all()):
                problems.append(f"slug {body.get('slug')!r} is taken")
            if problems:
                raise ValueError(f"cannot seed workspace: {'; '.join(problems)}")
            return self.workspaces.create(body, workspace_id)

    def seed_object(self, area: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """An object of an API area (emulator/areas.py) made behind the API's back, checked by
        its create rules (ValueError naming each problem, or an unknown area)."""
        with self.lock:
            return self.book(area).seed(self, body)

    def area_objects(self, area: str) -> list[dict[str, Any]]:
        with self.lock:
            return self.book(area).objects()

    def book(self, area: str) -> AreaBook:
        if area not in self.books:
            raise ValueError(f"no area {area!r}; areas: {sorted(self.books)}")
        return self.books[area]

    # inspection (the Python API and the admin routes): answers shaped as the API shapes them

    def workspace_objects(self) -> list[dict[str, Any]]:
        with self.lock:
            return [w.to_object() for w in self.workspaces.all()]

    def budget_objects(self, ref: str) -> list[dict[str, Any]] | None:
        with self.lock:
            found = self.workspaces.find(ref)
            if found is None:
                return None
            return [b.to_object() for b in self.workspaces.budgets(found.id)]

    def guardrail_objects(self) -> list[dict[str, Any]]:
        """Every guardrail of every workspace, configured default guardrails included."""
        with self.lock:
            return [g.to_object() for g in self.guardrails.all()]

    def key_guardrail(self, key_hash: str) -> str | None:
        with self.lock:
            held = self.guardrails.guardrail_of_key(key_hash)
            return None if held is None else held.id


# --- routes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """The query of `GET /keys`, checked."""

    include_disabled: bool = False
    include_expired: bool = False
    offset: int = 0
    workspace_id: str = DEFAULT_WORKSPACE_ID


def list_params(query: Mapping[str, list[str]]) -> ListQuery:
    raw_offset = single(query, "offset")
    offset = 0
    if raw_offset is not None:
        if not raw_offset.isdigit():
            raise ApiError(400, MSG_INVALID)
        offset = int(raw_offset)
    workspace_id = single(query, "workspace_id")
    if workspace_id is not None and not is_uuid(workspace_id):
        raise ApiError(400, MSG_INVALID)
    return ListQuery(
        include_disabled=flag_param(query, "include_disabled"),
        include_expired=flag_param(query, "include_expired"),
        offset=offset,
        workspace_id=workspace_id or DEFAULT_WORKSPACE_ID,
    )


LEGACY_RATE_LIMIT = {
    "requests": -1,
    "interval": "10s",
    "note": "This field is deprecated and safe to ignore.",
}
USAGE_COUNTERS = ("usage", "usage_daily", "usage_weekly", "usage_monthly", "byok_usage",
                  "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly")


# What an individual account with no guardrail and no regional-routing entitlement is allowed
# (inferred: the SDK says only that guardrails and the entitlement decide it).
ALLOWED_DATA_REGIONS = ("global",)
# The account has bought credits (ACCOUNT_CREDITS), so its free-model ceiling is the higher tier
# (inferred: the SDK says the ceiling depends on credits purchased, not which number it is).
FREE_MODEL_DAILY_LIMIT = 1000


def account_view() -> dict[str, Any]:
    """The `GET /key` fields that describe the account or policy rather than the key."""
    return {
        "allowed_data_regions": list(ALLOWED_DATA_REGIONS),
        "free_model_daily_requests": {
            "limit": FREE_MODEL_DAILY_LIMIT, "remaining": FREE_MODEL_DAILY_LIMIT, "used": 0
        },
        "is_free_tier": False,
        "organization_id": None,
        "rate_limit": dict(LEGACY_RATE_LIMIT),
    }


def management_key_view(label: str) -> dict[str, Any]:
    """`GET /key` for a management key: no limit, no usage, no budget and no workspace of its
    own (it works across workspaces and cannot call models; inferred for `workspace_id`)."""
    return {
        "label": label,
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
        **dict.fromkeys(USAGE_COUNTERS, 0.0),
        "is_management_key": True,
        "is_provisioning_key": True,
        "creator_user_id": EMULATOR_USER_ID,
        "expires_at": None,
        "workspace_id": None,
        "budgets": [],
        "effective_budget": None,
        **account_view(),
    }


def regular_key_view(
    key_object: Mapping[str, Any], budgets: list[dict[str, Any]], regions: list[str]
) -> dict[str, Any]:
    """`GET /key` for a regular key: its own key object reshaped, with its budget layers and the
    data regions its guardrail leaves it."""
    return {
        "label": key_object["label"],
        **{k: key_object[k] for k in ("limit", "limit_remaining", "limit_reset",
                                      "include_byok_in_limit")},
        **{k: key_object[k] for k in USAGE_COUNTERS},
        "is_management_key": False,
        "is_provisioning_key": False,
        "creator_user_id": key_object["creator_user_id"],
        "expires_at": key_object["expires_at"],
        "workspace_id": key_object["workspace_id"],
        "budgets": budgets,
        "effective_budget": effective_budget(budgets),
        **account_view(),
        "allowed_data_regions": regions,
    }


def current_key(store: Store, caller: Caller) -> Response:
    if caller.kind == "management":
        return Response(200, {"data": management_key_view(store.management_label(caller.hash))})
    with store.lock:
        found = store.key_object(caller.hash)
        if found is None:
            raise ApiError(401, MSG_USER_NOT_FOUND)
        budgets = store.budget_layers(caller.hash, datetime.now(UTC))
        regions = store.data_regions(caller.hash)
    return Response(200, {"data": regular_key_view(found, budgets, regions)})


def chat_completion(store: Store, caller: Caller, raw: bytes) -> Response:
    """A minimal OpenAI-shaped completion that charges the calling key a little."""
    if caller.kind == "management":
        raise ApiError(401, MSG_USER_NOT_FOUND)
    body = json_object(raw)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ApiError(400, MSG_INVALID)
    store.spend(caller.hash, CHAT_COST)
    model = body.get("model") if isinstance(body.get("model"), str) else "openrouter/auto"
    return Response(
        200,
        {
            "id": f"gen-emulator-{secrets.token_hex(8)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "provider": "emulator",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello from the emulator."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6,
                      "cost": CHAT_COST},
        },
    )


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
            if create_problems(body):
                raise ApiError(400, MSG_INVALID)
            store.refuse_unknown_workspace(body)
            with store.lock:
                stored, secret = store.create(body)
                return Response(201, {"data": stored.to_object(), "key": secret})
        raise ApiError(405, "Method Not Allowed")
    if request.method == "GET":
        found = store.key_object(key_hash)
        if found is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"data": found})
    if request.method == "PATCH":
        body = json_object(request.body)
        if field_problems(body, PATCH_FIELDS):
            raise ApiError(400, MSG_INVALID)
        store.refuse_unknown_workspace(body)
        updated = store.update(key_hash, body)
        if updated is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"data": updated})
    if request.method == "DELETE":
        if not store.delete(key_hash):
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, {"deleted": True})
    raise ApiError(405, "Method Not Allowed")


def api_parts(path: str) -> list[str]:
    """`/api/v1/byok/9f0c` -> `["byok", "9f0c"]`."""
    return path[len(API_PREFIX) :].rstrip("/").strip("/").split("/")


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
    caller = store.authenticate(request.authorization)
    if route in ("/key", "/auth/key"):
        if request.method != "GET":
            raise ApiError(405, "Method Not Allowed")
        return current_key(store, caller)
    if route == "/chat/completions":
        if request.method != "POST":
            raise ApiError(405, "Method Not Allowed")
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
            raise ApiError(405, "Method Not Allowed")
        return Response(200, {"data": {"total_credits": ACCOUNT_CREDITS,
                                       "total_usage": store.total_usage()}})
    if parts[0] == "guardrails":
        return guardrails_route(store.guardrails, store.workspaces, store, request, parts)
    if parts[0] == "workspaces":
        return workspaces_route(store.workspaces, store.guardrails, store, request, parts)
    key_hash = parts[1] if len(parts) == 2 else None
    return keys_route(store, request, caller, key_hash)
