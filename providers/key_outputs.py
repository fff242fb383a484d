"""The outputs of `ApiKey`, from the server's record and what only state remembers.

Kept apart from the lifecycle (providers/key.py) because create, read, update and adoption all
build outputs the same way, and refresh turns them back into inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from providers.base.fields import CONFIG_PATH
from providers.http.client import KeyRecord
from providers.http.redaction import redact
from providers.key_inputs import DECLARED
from providers.key_settings import setting_rows

OUTPUT_ONLY: Final = (
    "hash",
    "key",
    "label",
    "created_at",
    DECLARED,
)
"""Outputs the program never sets; declared on `ApiKey` so that they become attributes.

Usage counters and `limit_remaining` are not among them: they change with every call a key
serves, so in state they were stale at once, rewritten by every refresh, and 190 bytes a key;
`audit` and `doctor` read them live (bench/README.md)."""


def key_outputs(
    record: KeyRecord,
    *,
    key: str | None,
    declared: list[str],
    adopt: str | None,
    config_path: object = None,
) -> dict[str, Any]:
    """Every output of `ApiKey`: the record's fields, the secret (state only) and bookkeeping
    (`config_path` too: a refresh turns outputs back into inputs, and one without it showed
    `-config_path` for every key, then `+config_path` at the next update)."""
    return {
        "hash": record.hash,
        "key": key,
        "label": redact(record.label),
        "name": record.name,
        # Every setting as the server has it (the record's fields carry the settings' names).
        **{name: getattr(record, name) for name, _, _ in setting_rows()},
        "workspace_id": record.workspace_id,
        "created_at": record.created_at,
        "adopt": adopt,
        DECLARED: declared,
        CONFIG_PATH: config_path if isinstance(config_path, str) else None,
    }


def inputs_after_refresh(outs: Mapping[str, Any], olds: Mapping[str, Any]) -> dict[str, Any] | None:
    """The declared inputs as the server now has them, so the next preview shows the drift; None
    when no declared setting moved since state was written (`olds`, the recorded outputs).

    With None the engine keeps the recorded inputs whole, bookkeeping (`config_path`) included.
    Rebuilt on every read, they lost it, so the program's next registration of every key differed
    from state and the engine rewrote the whole snapshot once per key: a `preview --refresh` of
    500 keys took 29 s against 8.5 s for the engine's floor (bench/README.md, "Fixed costs per
    phase"). When a setting did drift, `config_path` is kept too.
    """
    declared = [name for name in outs.get(DECLARED) or [] if name != "adopt_secret"]
    if all(outs.get(name) == olds.get(name) for name in declared):
        return None
    return {name: outs.get(name) for name in [*declared, CONFIG_PATH] if outs.get(name) is not None}
