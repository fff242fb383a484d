"""The `keys` stack output: what this stack deployed, in one shape for its three readers.

The program writes it at the end of every successful update (topology/outputs.py); the program
reads the previous one before registering anything, to refuse a change that would delete a live
key (topology/guard.py); `cli audit` reads it to tell managed keys from unmanaged ones. It holds
no secret: `label` is OpenRouter's masked form of a key.

```text
keys: {<key id>: {hash, label, name, rotation, fixed, disabled,      # the wired generation
                  generation, consumers, protect,
                  retiring: [{hash, label, name, rotation, fixed, disabled}, ...]}}
```

- `generation`: the wired generation's 1-based place among the live ones (1 without rotations);
- `rotation`: its label in `rotations` (null for a key without rotations);
- `fixed`: the settings OpenRouter cannot change in place, as the stack file names them
  (`expiresAt`, `workspaceId`, `adopt`), where the key declared them;
- `protect`: whether the wired generation is protected (absent: written before this field).

Importing this module loads pydantic only, never the Pulumi SDK, so the CLI can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEYS_OUTPUT: Final = "keys"
GENERATION_SEPARATOR: Final = "@"
"""Between a key id and a generation label in a resource name (`production@2025-11-28`)."""


def resource_name(key_id: str, rotation: str | None) -> str:
    """The name of a key's `ApiKey` resource: the key id, or `<id>@<generation>` (ADR 0003; `@`
    is outside both alphabets, so no two keys' generations can collide)."""
    return key_id if rotation is None else f"{key_id}{GENERATION_SEPARATOR}{rotation}"


class DeployedGeneration(BaseModel):
    """One live generation of a key (the only one for a key without rotations)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    hash: str = Field(min_length=1)
    label: str
    name: str
    rotation: str | None = None
    fixed: dict[str, Any] = Field(default_factory=dict)
    disabled: bool = False

    def resource_name(self, key_id: str) -> str:
        """The `ApiKey` resource this generation is: `<id>`, or `<id>@<rotation>`."""
        return resource_name(key_id, self.rotation)


class DeployedKey(DeployedGeneration):
    """One key id: its wired generation's fields, its consumers, and the retiring generations."""

    generation: int = 1
    consumers: tuple[str, ...] = ()
    protect: bool | None = None
    """None: written by a version that did not record it (treated as protected)."""
    retiring: tuple[DeployedGeneration, ...] = ()

    @property
    def generations(self) -> tuple[DeployedGeneration, ...]:
        """Every live generation, the retiring ones first, the wired one last."""
        return (*self.retiring, self)


class KeysOutputError(ValueError):
    """The output does not have the shape above; the text names the JSON path."""


def parse_keys_output(value: object) -> dict[str, DeployedKey]:
    """The `keys` output as typed records, or `KeysOutputError` naming what is wrong where."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KeysOutputError(f"{KEYS_OUTPUT}: expected a map of key id to entry")
    parsed = {}
    for key_id, entry in value.items():
        try:
            parsed[str(key_id)] = DeployedKey.model_validate(entry)
        except ValidationError as error:
            first = error.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise KeysOutputError(
                f"{KEYS_OUTPUT}.{key_id}{'.' + where if where else ''}: {first['msg']}"
            ) from None
    return parsed


def keys_output(keys: Mapping[str, DeployedKey]) -> dict[str, Any]:
    """The JSON the program exports (empty `fixed` and false `disabled` left out)."""
    return {key_id: _json(key) for key_id, key in keys.items()}


def _json(model: BaseModel) -> dict[str, Any]:
    data = model.model_dump(mode="json", exclude_defaults=False)
    if not data.get("fixed"):
        data.pop("fixed", None)
    if not data.get("disabled"):
        data.pop("disabled", None)
    if "retiring" in data:
        data["retiring"] = [
            {k: v for k, v in item.items() if (k not in ("fixed", "disabled") or v)}
            for item in data["retiring"]
        ]
    return data
