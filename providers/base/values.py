"""A value's one normal form, whether it is known yet, and how a message quotes it: every
provider's check and diff use these, the key's (providers/key_inputs.py) and the other resources'
(providers/base/management_resource.py) alike, so a value equal for one is equal for all."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from pulumi.output import Unknown

from providers.base.fields import Kind
from providers.http.formats import parse_instant
from providers.http.redaction import redact

_SHOWN_MAX = 80


def shown(value: object) -> str:
    """A bad value as an error message quotes it: short, and redacted in case it is a key."""
    text = repr(value)
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 3] + "..."
    return redact(text)


def is_unknown(value: object) -> bool:
    """A value not known yet during preview (an output of another resource), or a list or map
    holding one."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(item) for item in value)
    return False


def normal_timestamp(value: object) -> object:
    """One spelling per instant, so `...00Z` equals `...00.000+00:00`."""
    if not isinstance(value, str):
        return value
    parsed = parse_instant(value, naive_is_utc=False)
    if parsed is None:
        return value
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


def normal_value(value: object, kind: Kind | None = None) -> object:
    """The form two values are compared in: 5 == 5.0, a map's null field is a missing one, and,
    by the field's kind, one timestamp spelling and lowercase UUIDs."""
    if kind is Kind.TIMESTAMP:
        return normal_timestamp(value)
    if isinstance(value, str):
        return value.lower() if kind is Kind.UUID else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Mapping):
        return {k: normal_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [normal_value(v) for v in value]
    return value
