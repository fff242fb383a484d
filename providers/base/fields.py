"""The vocabulary of a resource's field table: what kind of value a field holds, what a change of
it does.

A resource declares each of its settings once, as a typed field carrying a `Row`
(providers/key_settings.py); the config model, the plan, the resource's inputs, the provider's
check and diff, the create and update requests and the outputs all derive from that declaration,
so a new setting is one row and one test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

CONFIG_PATH: Final = "config_path"
"""Input naming a resource in the stack file (`keys.<id>`), so messages speak its language. It
is bookkeeping: never sent to OpenRouter, never diffed."""

FIX_SEPARATOR: Final = "; fix: "
"""Between what is wrong and the fix in a model rule's message, so a reader of the stack file's
errors can show the two apart (topology/config.py) and the provider can show them together."""
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
