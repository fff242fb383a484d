"""The vocabulary of a resource's field table: what kind of value a field holds, what a change of
it does, and the facts of OpenRouter's formats the kinds check against.

A resource declares each of its settings once, as a typed field carrying a `Row`
(providers/key_settings.py); the config model, the plan, the resource's inputs, the provider's
check and diff, the create and update requests and the outputs all derive from that declaration,
so a new setting is one row and one test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Final, Literal, get_args

LimitReset = Literal["daily", "weekly", "monthly"]
"""How often a spending limit resets (https://openrouter.ai/docs/api-reference/api-keys)."""
LIMIT_RESETS: Final = get_args(LimitReset)
RFC3339_UTC: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<zone>Z|[+-]\d{2}:\d{2})$"
)
"""An RFC 3339 timestamp with seconds (OpenRouter refuses minute precision) and a zone."""
RFC3339_UTC_ONLY: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|\+00:00)$"
)
"""The same in UTC, the only zone OpenRouter accepts for `expires_at`."""
UUID: Final = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
KEY_HASH: Final = re.compile(r"^[0-9a-f]{64}$")
"""A key's hash, as the key list shows it (never the key itself)."""
SHORT_HASH_CHARS: Final = 12
CONFIG_PATH: Final = "config_path"
"""Input naming a resource in the stack file (`keys.<id>`), so messages speak its language. It
is bookkeeping: never sent to OpenRouter, never diffed."""


def short_hash(hash_: str) -> str:
    """A key's hash as a message names it: its first 12 characters, then `...` (enough to find
    it in the key list; the full hash is a key's id, never a secret)."""
    return f"{hash_[:SHORT_HASH_CHARS]}..."

FIX_SEPARATOR: Final = "; fix: "
"""Between what is wrong and the fix in a model rule's message, so a reader of the stack file's
errors can show the two apart (topology/config.py) and the provider can show them together."""
_BEYOND_MICROSECONDS: Final = re.compile(r"(\.\d{6})\d+")


def parse_instant(value: str | datetime | None, *, naive_is_utc: bool = True) -> datetime | None:
    """Any ISO 8601 instant as an aware UTC datetime; None when absent or not one.

    The one parser for every timestamp the project reads: the API's formats vary
    (docs/reference/openrouter-api.md §3) and RFC 3339 allows more fractional digits than
    Python parses. A timestamp without a zone is UTC when it comes from the API; a user's
    setting must name its zone, so its check passes `naive_is_utc=False`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(_BEYOND_MICROSECONDS.sub(r"\1", value.strip()))
        except ValueError:
            return None
    if moment.tzinfo is None:
        if not naive_is_utc:
            return None
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Kind(Enum):
    """The value type of a field; picks its validator and its normal form for diffing."""

    TEXT = "text"
    USD = "usd"
    LIMIT_RESET = "limit_reset"
    FLAG = "flag"
    TIMESTAMP = "timestamp"
    UUID = "uuid"
    KEY_HASH = "key_hash"
    SECRET = "secret"  # noqa: S105 - the kind of a secret input, not a secret


class OnChange(Enum):
    """What a change of the field does to the resource."""

    UPDATE = "update"
    """PATCHed in place (or, for a secret, re-verified): the resource stays the same one."""
    REPLACE = "replace"
    """The API cannot change it in place: only a new resource can carry the new value."""


@dataclass(frozen=True)
class DiffPlan:
    """What a provider's `diff` found, before it is translated into Pulumi's `DiffResult`."""

    changed: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changed)


@dataclass(frozen=True)
class Row:
    """What a field means to every layer: attached to its declaration with `Annotated`."""

    kind: Kind
    on_change: OnChange
    api_field: str | None
    """The field of the create and update requests carrying it; None when it is never sent."""
    expected: str
    """What a stack file may write, as a message says it: "a number of US dollars >= 0, ..."."""
    fix: str
    """The fix a message gives for a bad value."""
    default: object = None
    """The value an omitted field stands for, once it had been declared before."""
    removal_diffs: bool = True
    """Whether "declared before, omitted now" is a change back to `default`."""
    on_create: bool = True
    """Whether the create request accepts it (else it is set by an update right after)."""
