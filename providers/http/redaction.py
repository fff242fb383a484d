"""Key detection, masking and redaction.

Every message this project builds from a response body or an exception goes through `redact`,
so a key that reaches an error, a log line or a traceback shows only as its mask. The mask has
OpenRouter's own label shape (`sk-or-v1-23c...95e`), which is enough to tell keys apart and too
little to use one.
"""

from __future__ import annotations

import re

KEY_PREFIX = "sk-or-"
"""Every OpenRouter key starts with this; the next segment names the kind (`v1`, `mgmt`, ...)."""

SHOWN_CHARACTERS = 3
"""How many characters of the secret part stay visible at each end of a mask."""

_KIND = r"[A-Za-z0-9]{1,16}-"
_KEY_PATTERN = re.compile(
    rf"sk-or-(?:{_KIND})?[A-Za-z0-9_\-]*(?:\.\.\.[A-Za-z0-9]*)?", re.IGNORECASE
)
_MASK_PATTERN = re.compile(
    rf"(?i)sk-or-(?:{_KIND})?[A-Za-z0-9]{{0,{SHOWN_CHARACTERS}}}\.\.\.[A-Za-z0-9]{{0,4}}"
)
"""A mask (ours, or OpenRouter's label, which sometimes shows 4 trailing characters)."""


def _split(key: str) -> tuple[str, str]:
    """`sk-or-v1-abc…` -> (`sk-or-v1-`, `abc…`); the kind segment is optional."""
    match = re.match(rf"(?i)sk-or-(?:{_KIND})?", key)
    if match is None:
        return "", key
    prefix = match.group(0)
    return prefix, key[len(prefix) :]


def mask(key: str) -> str:
    """`sk-or-v1-23c…95e` -> `sk-or-v1-23c...95e`; never more than 6 characters of the secret.

    A value too short to hide anything is masked completely rather than shown.
    """
    prefix, secret = _split(key.strip())
    if len(secret) <= 2 * SHOWN_CHARACTERS:
        return f"{prefix or KEY_PREFIX}***"
    return f"{prefix}{secret[:SHOWN_CHARACTERS]}...{secret[-SHOWN_CHARACTERS:]}"


def _mask_match(match: re.Match[str]) -> str:
    found = match.group(0)
    if _MASK_PATTERN.fullmatch(found):
        return found
    return mask(found)


def redact(text: str) -> str:
    """Replace anything shaped like an OpenRouter key (`sk-or-…`, any kind) with its mask."""
    return _KEY_PATTERN.sub(_mask_match, text)


def contains_key(text: str) -> bool:
    """Whether `text` holds something shaped like an unmasked key."""
    return redact(text) != text
