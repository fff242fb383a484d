"""What the store keeps about keys and requests: a regular key (everything but its secret), a
management key, the caller of a request, a seeded key handed back to a test, and one logged request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from emulator.budgets import WINDOW_SUFFIX, budget_layer
from emulator.key_rules import parse_timestamp
from emulator.wire import DEFAULT_WORKSPACE_ID, EMULATOR_USER_ID, KeyRef, now_iso


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

