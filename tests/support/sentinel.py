"""A run-time secret sentinel and the search that proves it never leaked.

The sentinel looks like a real regular key, so any redaction that recognises keys by shape treats it
as one; it is generated per run, so no committed file ever holds it. A failure names where the
secret was found and shows it masked, never in full.
"""

from __future__ import annotations

import base64
import pickle
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

KEY_PREFIXES = ("sk-or-v1-", "sk-or-mgmt-")


def make_sentinel() -> str:
    """A fresh key-shaped secret: `sk-or-v1-` and 64 random lowercase hex characters."""
    return "sk-or-v1-" + secrets.token_hex(32)


def masked(secret: str) -> str:
    for prefix in KEY_PREFIXES:
        if secret.startswith(prefix):
            rest = secret[len(prefix) :]
            return f"{prefix}{rest[:3]}...{rest[-3:]}"
    return f"{secret[:2]}...{secret[-2:]}" if len(secret) > 8 else "***"


def encoded_forms(secret: str) -> dict[str, bytes]:
    """What the secret looks like when written out: plain, hex, and base64 at every alignment.

    Base64 of a longer blob holds the secret's encoding in one of three shapes, depending on where
    the secret starts modulo 3; each shape keeps only the characters that do not depend on the
    neighbouring bytes.
    """
    raw = secret.encode("utf-8")
    forms: dict[str, bytes] = {"plain text": raw, "hex": raw.hex().encode()}
    encoders = (("base64", base64.b64encode), ("urlsafe base64", base64.urlsafe_b64encode))
    for offset in range(3):
        for name, encode in encoders:
            text = encode(b"\0" * offset + raw)
            stable = text[4 if offset else 0 : -4]
            if len(stable) >= 16:
                forms[f"{name} (alignment {offset})"] = stable
    return forms


def _blobs(value: Any, where: str) -> Iterator[tuple[str, bytes]]:
    """Every piece of bytes to search inside a haystack, with a description of where it is."""
    if isinstance(value, bytes | bytearray | memoryview):
        yield where, bytes(value)
    elif isinstance(value, str):
        yield where, value.encode("utf-8", "surrogatepass")
    elif isinstance(value, Path):
        files = sorted(p for p in value.rglob("*") if p.is_file()) if value.is_dir() else [value]
        for file in files:
            yield f"{where} file {file}", file.read_bytes()
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _blobs(key, f"{where} key {key!r}" if not isinstance(key, str) else where)
            yield from _blobs(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from _blobs(item, f"{where}[{index}]")
    elif value is not None:
        yield f"{where} (repr)", repr(value).encode("utf-8", "surrogatepass")
        try:
            pickled = pickle.dumps(value)
        except Exception:  # unpicklable objects are checked by repr only
            return
        yield f"{where} (pickle)", pickled


def find_secret(secret: str, *haystacks: Any) -> list[str]:
    """Where the secret shows up in the haystacks, as safe descriptions (empty: nowhere)."""
    if not isinstance(secret, str) or len(secret) < 8:
        raise ValueError("the secret to look for must be a string of at least 8 characters")
    forms = encoded_forms(secret)
    found: list[str] = []
    for index, haystack in enumerate(haystacks):
        for where, blob in _blobs(haystack, f"haystack #{index} ({type(haystack).__name__})"):
            for form, needle in forms.items():
                position = blob.find(needle)
                if position >= 0:
                    found.append(f"{form} in {where} at byte {position}")
    return found


def assert_absent(secret: str, *haystacks: Any) -> None:
    """Fail when the secret appears, in any encoding, anywhere in the haystacks."""
    found = find_secret(secret, *haystacks)
    if found:
        raise AssertionError(
            f"secret {masked(secret)} leaked: " + "; ".join(found)
        )


def assert_present(secret: str, *haystacks: Any) -> None:
    """The positive control: the search finds the secret where it is meant to be."""
    if not find_secret(secret, *haystacks):
        raise AssertionError(f"secret {masked(secret)} not found in the haystacks")
