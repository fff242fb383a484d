"""The `keys` stack output: what this stack deployed, in one shape for its three readers.

The program writes it at the end of every successful update (topology/outputs.py); the program
reads the previous one before registering anything, to refuse a change that would delete a live
key (topology/guard.py); `cli audit` reads it to tell managed keys from unmanaged ones. It holds
no secret (`label` is OpenRouter's masked form of a key), yet the program exports it as a Pulumi
secret: `pulumi up` prints every plain output in full on every run, which at 100 keys was 32 KB
of log for a one-key change (bench/README.md); read it with `--show-secrets`.

```text
keys (a secret output): {<key id>: {hash, label, name, rotation, fixed, disabled,  # the wired one
                  guardrail, workspace, created,
                  generation, consumers, protect,
                  retiring: [{hash, label, name, rotation, fixed, disabled,
                              guardrail, workspace, created}, ...]}}
```

- `generation`: the wired generation's 1-based place among the live ones (1 without rotations);
- `rotation`: its label in `rotations` (null for a key without rotations);
- `fixed`: the settings OpenRouter cannot change in place, as the stack file names them
  (`expiresAt`, `workspaceId`, `adopt`), where the key declared them;
- `protect`: whether the wired generation is protected (absent: written before this field);
- empty, false and null fields are left out (`rotation`, `fixed`, `disabled`, `guardrail`,
  `workspace`, `consumers`, `retiring`) and read back as such;
- `guardrail`, `workspace`: the ids in the stack file (`guardrails.<id>`, `workspaces.<id>`) of
  the guardrail the generation holds and the stack's workspace it lives in; absent: none (a
  `workspaceId` is in `fixed`), or written before these fields.
  The `governance` output (topology/governance_output.py) maps the ids to OpenRouter's.
- `created`: when OpenRouter made the key (its `created_at`, as OpenRouter wrote it); the next
  generation's is when a retiring one's consumers moved off it, which the guard compares with
  OpenRouter's `last_used_at` (topology/retirement.py). Absent: written before this field.

Importing this module loads pydantic only, never the Pulumi SDK, so the CLI can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

KEYS_OUTPUT: Final = "keys"
HIDDEN: Final = "[secret]"
"""What `pulumi stack output --json` prints for a secret output without `--show-secrets`."""
GENERATION_SEPARATOR: Final = "@"
"""Between a key id and a generation label in a resource name (`production@2025-11-28`)."""


def resource_name(key_id: str, rotation: str | None) -> str:
    """The name of a key's `ApiKey` resource: the key id, or `<id>@<generation>` (ADR 0003; `@`
    is outside both alphabets, so no two keys' generations can collide)."""
    return key_id if rotation is None else f"{key_id}{GENERATION_SEPARATOR}{rotation}"


class DeployedGeneration(BaseModel):
    """One live generation of a key (the only one for a key without rotations).

    Strict, so that a hand-edited or foreign output is refused rather than guessed at; unknown
    fields are ignored, so that an older reader understands a newer record.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    hash: str = Field(min_length=1)
    label: str
    name: str
    rotation: str | None = None
    fixed: dict[str, Any] = Field(default_factory=dict)
    disabled: bool = False
    guardrail: str | None = None
    workspace: str | None = None
    created: str | None = None

    def resource_name(self, key_id: str) -> str:
        """The `ApiKey` resource this generation is: `<id>`, or `<id>@<rotation>`."""
        return resource_name(key_id, self.rotation)


class DeployedKey(DeployedGeneration):
    """One key id: its wired generation's fields, its consumers, and the retiring generations."""

    generation: int
    consumers: tuple[str, ...] = Field(default=(), strict=False)  # JSON arrays arrive as lists
    protect: bool | None = None
    """None: written by a version that did not record it (treated as protected)."""
    retiring: tuple[DeployedGeneration, ...] = Field(default=(), strict=False)

    @field_validator("generation", mode="before")
    @classmethod
    def _engine_numbers_are_floats(cls, value: object) -> object:
        """Read back through the engine, every number is a float (protobuf): 2.0 is 2."""
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @property
    def generations(self) -> tuple[DeployedGeneration, ...]:
        """Every live generation, the retiring ones first, the wired one last."""
        return (*self.retiring, self)


class KeysOutputError(ValueError):
    """The output does not have the shape above: where (a JSON path) and what is wrong.

    The value itself is never quoted, only its JSON type: a hand-edited output may hold a key.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path} {problem}")


_EXPECTED: Final = {
    "hash": "a non-empty string",
    "generation": "an integer",
    "consumers": "an array of strings",
    "rotation": "a string or null",
    "retiring": "an array",
    "protect": "a boolean or null",
    "fixed": "an object",
    "disabled": "a boolean",
    "guardrail": "a string or null",
    "workspace": "a string or null",
    "created": "a string or null",
}
"""What each field must be, as a problem says it (else: a string)."""
_ITEM: Final = {"consumers": "a string", "retiring": "an object"}


def json_type(value: object) -> str:
    """A value's JSON type as a sentence says it: "null", "a string", "an array"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    return "an object"


def _where(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _expected(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "an object"
    if isinstance(loc[-1], int):
        container = str(loc[-2]) if len(loc) > 1 else ""
        return _ITEM.get(container, "an object")
    return _EXPECTED.get(str(loc[-1]), "a string")


def _error(prefix: str, error: ValidationError) -> KeysOutputError:
    first = error.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    expected = _expected(loc)
    if first["type"] == "missing":
        problem = f"is missing, not {expected}"
    elif first["type"] == "string_too_short":
        problem = f"is empty, not {expected}"
    else:
        problem = f"is {json_type(first.get('input'))}, not {expected}"
    return KeysOutputError(_where(prefix, loc), problem)


def parse_keys_output(value: object) -> dict[str, DeployedKey]:
    """The `keys` output as typed records, or `KeysOutputError` naming what is wrong where."""
    if value is None:
        return {}
    if value == HIDDEN:
        raise KeysOutputError(
            f"output `{KEYS_OUTPUT}`",
            "is hidden ([secret]): read the outputs with `pulumi stack output --json"
            " --show-secrets` (the output holds no key; it is secret only to stay out of logs)",
        )
    if not isinstance(value, Mapping):
        raise KeysOutputError(f"output `{KEYS_OUTPUT}`", f"is {json_type(value)}, not an object")
    parsed = {}
    for key_id, entry in value.items():
        prefix = f"{KEYS_OUTPUT}.{key_id}"
        if not isinstance(entry, Mapping):
            raise KeysOutputError(prefix, f"is {json_type(entry)}, not an object")
        try:
            parsed[str(key_id)] = DeployedKey.model_validate(entry)
        except ValidationError as error:
            raise _error(prefix, error) from None
    return parsed


_OMITTED_WHEN_EMPTY: Final = (
    "rotation",
    "fixed",
    "disabled",
    "guardrail",
    "workspace",
    "created",
    "consumers",
    "retiring",
)
"""Fields left out of the JSON when empty, false or null (most keys have none of them); each
reads back as its default."""


def keys_output(keys: Mapping[str, DeployedKey]) -> dict[str, Any]:
    """The JSON the program exports (the fields above left out when empty)."""
    return {key_id: _json(key) for key_id, key in keys.items()}


def _compact(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _OMITTED_WHEN_EMPTY or v}


def _json(model: BaseModel) -> dict[str, Any]:
    data = _compact(model.model_dump(mode="json", exclude_defaults=False))
    if "retiring" in data:
        data["retiring"] = [_compact(item) for item in data["retiring"]]
    return data
