"""OpenRouter's formats: a key's hash and how a message shortens it, a workspace's UUID,
timestamps as the API writes them and as a setting must, and how often a limit resets."""

from __future__ import annotations

import re
from datetime import UTC, datetime
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
def short_hash(hash_: str) -> str:
    """A key's hash as a message names it: its first 12 characters, then `...` (enough to find
    it in the key list; the full hash is a key's id, never a secret)."""
    return f"{hash_[:SHORT_HASH_CHARS]}..."


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
