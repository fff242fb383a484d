"""The emulator's state under one lock: the keys, the request log, and the books of guardrails,
workspaces and every API area (emulator/areas.py); what a key's budget layers, spend and data
regions are, since they read all of them.

The store never holds a regular key's secret: a key is found by the sha256 of the bearer token,
which is also its `hash`, so the secret exists only in the one create (or seed) response.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from emulator.areas import new_books
from emulator.budgets import budget_layer, refusal
from emulator.guardrail_book import GuardrailBook
from emulator.key_rules import (
    PAGE_SIZE,
    ListQuery,
    hash_secret,
    mask,
    new_management_secret,
    new_regular_secret,
)
from emulator.records import ManagementKey, RequestRecord, StoredKey
from emulator.wire import (
    DEFAULT_WORKSPACE_ID,
    EMULATOR_USER_ID,
    MSG_NO_WORKSPACE,
    ApiError,
    AreaBook,
    KeyRef,
    is_uuid,
    now_iso,
)
from emulator.workspaces import WorkspaceBook

# What an individual account with no guardrail and no regional-routing entitlement is allowed
# (inferred: the SDK says only that guardrails and the entitlement decide it).
ALLOWED_DATA_REGIONS = ("global",)
# What `GET /key` answers for an unknown, disabled or expired key (and `spend` for a deleted one).
MSG_USER_NOT_FOUND = "User not found."


class Store:
    """Every key, the request log and every book, under one lock."""

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

    def is_management_key(self, key_hash: str) -> bool:
        with self.lock:
            return key_hash in self._management

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

    def stored_key(self, key_hash: str) -> StoredKey | None:
        """The stored key itself, for authentication (callers hold the lock to read it)."""
        with self.lock:
            return self._keys.get(key_hash)

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

    # request log

    def log(self, record: RequestRecord) -> None:
        with self.lock:
            self._log.append(record)

    def requests(self) -> list[RequestRecord]:
        with self.lock:
            return list(self._log)

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

    def area_objects(self, area: str) -> list[dict[str, Any]]:
        with self.lock:
            return self.book(area).objects()

    def book(self, area: str) -> AreaBook:
        """An area's book by name (emulator/areas.py), or ValueError naming the areas."""
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

