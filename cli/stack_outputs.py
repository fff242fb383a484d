"""A stack's outputs as the CLI reads them: from `pulumi stack output --json --show-secrets` or a
file, checked
against the one schema the program writes (topology/keys_output.py), never a copy of it.

Reading is I/O at the edge (a subprocess, a file); the parse is pure. A value is never quoted
back in an error, only its JSON type: a hand-edited file may hold a key.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cli import diagnostics
from cli.keysource import REGULAR_KEY_VARIABLE
from providers import MANAGEMENT_KEY_VARIABLES
from topology.governance_output import (
    GOVERNANCE_OUTPUT,
    DeployedGovernance,
    parse_governance_output,
)
from topology.keys_output import (
    HIDDEN,
    KEYS_OUTPUT,
    KeysOutputError,
    json_type,
    parse_keys_output,
)

PULUMI_TIMEOUT_SECONDS: Final = 120
KEY_VARIABLES: Final = (*MANAGEMENT_KEY_VARIABLES, REGULAR_KEY_VARIABLE)
"""Never handed to `pulumi`, which needs none of them."""


@dataclass(frozen=True)
class ManagedKey:
    """One live generation a stack's `keys` output says it owns, and who consumes it."""

    stack: str
    key_id: str
    hash: str
    label: str
    name: str
    generation: int
    consumers: tuple[str, ...]
    rotation: str | None = None
    retiring: bool = False
    """An older generation still alive during a rotation: managed, but wired to nothing."""
    guardrail: str | None = None
    """The stack file's id of the guardrail it holds (`keys.<id>.guardrail`), if any."""
    workspace: str | None = None
    """The stack file's id of its workspace (`workspaces.<id>`); None: the default workspace, or
    one a `workspaceId` names."""
    successor: str | None = None
    """A retiring generation's: the hash of the next generation, which took over its consumers."""


@dataclass(frozen=True)
class ManagedGovernance:
    """The guardrails and workspaces one stack's `governance` output says it manages."""

    stack: str
    deployed: DeployedGovernance


@dataclass(frozen=True)
class StackOutputs:
    """What every stack of one audit run manages."""

    keys: tuple[ManagedKey, ...]
    governance: tuple[ManagedGovernance, ...]


def parse_stack_outputs(document: object, source: str, stack: str) -> list[ManagedKey]:
    """The keys one stack manages: each key's wired generation, then its retiring ones."""
    if not isinstance(document, Mapping):
        raise diagnostics.outputs_invalid(
            source, "the document", f"is {json_type(document)}, not an object of stack outputs"
        )
    if KEYS_OUTPUT not in document:
        present = ", ".join(sorted(map(str, document))) or "none"
        raise diagnostics.outputs_invalid(
            source,
            f"output `{KEYS_OUTPUT}`",
            f"is missing (outputs present: {present}); the stack is not an openrouter-keys "
            "stack or was never deployed",
        )
    try:
        keys = parse_keys_output(document[KEYS_OUTPUT])
    except KeysOutputError as error:
        raise diagnostics.outputs_invalid(source, error.path, error.problem) from None
    managed: list[ManagedKey] = []
    for key_id, key in keys.items():
        managed.append(
            ManagedKey(
                stack, key_id, key.hash, key.label, key.name, key.generation, key.consumers,
                key.rotation, guardrail=key.guardrail, workspace=key.workspace,
            )
        )
        later = key.generations[1:]  # each retiring generation's successor, in order
        managed.extend(
            ManagedKey(
                stack, key_id, older.hash, older.label, older.name, key.generation, (),
                older.rotation, retiring=True, guardrail=older.guardrail,
                workspace=older.workspace, successor=after.hash,
            )
            for older, after in zip(key.retiring, later, strict=True)
        )
    return managed


def parse_stack_governance(document: object, source: str, stack: str) -> ManagedGovernance:
    """The stack's `governance` output; absent (a stack of keys only, or an older one): empty.

    Call it after `parse_stack_outputs`, which has checked that the document is an object.
    """
    value = document.get(GOVERNANCE_OUTPUT) if isinstance(document, Mapping) else None
    if value == HIDDEN:
        raise diagnostics.outputs_invalid(
            source, f"output `{GOVERNANCE_OUTPUT}`", "is a secret, but it never holds secrets"
        )
    try:
        return ManagedGovernance(stack, parse_governance_output(value))
    except KeysOutputError as error:
        raise diagnostics.outputs_invalid(source, error.path, error.problem) from None


# --- reading (I/O) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StackSource:
    """Where one stack's outputs come from: a file, or `pulumi stack output` when `file` is None."""

    stack: str
    file: Path | None = None

    @property
    def description(self) -> str:
        if self.file is None:
            return f"`pulumi stack output --json --show-secrets --stack {self.stack}`"
        return str(self.file)


def stack_source(value: str, *, from_file: bool) -> StackSource:
    """`--stack NAME`, or `--outputs FILE` / `--outputs NAME=FILE` (NAME defaults to the stem)."""
    if not from_file:
        return StackSource(stack=value)
    name, sep, rest = value.partition("=")
    if sep and name and rest and "/" not in name and not Path(value).exists():
        return StackSource(stack=name, file=Path(rest))
    path = Path(value)
    return StackSource(stack=path.stem, file=path)


def load_managed(sources: Iterable[StackSource], env: Mapping[str, str]) -> StackOutputs:
    """Every stack's managed keys, guardrails and workspaces; any unreadable stack stops the
    command."""
    keys: list[ManagedKey] = []
    governance: list[ManagedGovernance] = []
    for source in sources:
        document = (
            pulumi_stack_json(STACK_OUTPUT_WORDS, source.stack, env)
            if source.file is None
            else read_outputs_file(source.file)
        )
        keys.extend(parse_stack_outputs(document, source.description, source.stack))
        governance.append(parse_stack_governance(document, source.description, source.stack))
    return StackOutputs(tuple(keys), tuple(governance))


def read_outputs_file(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise diagnostics.outputs_file_missing(str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        cause = (
            error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        )
        raise diagnostics.outputs_file_unreadable(str(path), cause.lower()) from None
    return _decode(text, str(path))


def _decode(text: str, source: str) -> object:
    if not text.strip():
        raise diagnostics.outputs_invalid(source, "the document", "is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg never contains the document; error.doc does, so only position is quoted.
        raise diagnostics.outputs_invalid(
            source,
            "the document",
            f"is not JSON ({error.msg} at line {error.lineno}, column {error.colno})",
        ) from None


STACK_OUTPUT_WORDS: Final = ("stack", "output", "--json", "--show-secrets")
"""`keys` is a secret output only to stay out of `pulumi up`'s log; no output holds a key."""


def pulumi_stack_json(words: Sequence[str], stack: str, env: Mapping[str, str]) -> object:
    """Run `pulumi <words> --stack <stack>` and decode its JSON; no key variable reaches it."""
    executable = shutil.which("pulumi", path=env.get("PATH", os.defpath))
    if executable is None:
        raise diagnostics.pulumi_not_found(stack)
    child_env = {name: value for name, value in env.items() if name not in KEY_VARIABLES}
    child_env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    command = [executable, *words, "--non-interactive", "--stack", stack]
    shown = f"`pulumi {' '.join(words)} --stack {stack}`"
    try:
        finished = subprocess.run(  # noqa: S603 -- fixed argv, no shell, resolved executable
            command,
            env=child_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise diagnostics.stack_output_failed(
            stack, f"no answer within {PULUMI_TIMEOUT_SECONDS} s", shown
        ) from None
    except OSError as error:
        cause = str(error.strerror or error).lower()
        raise diagnostics.stack_output_failed(stack, cause, shown) from None
    if finished.returncode != 0:
        raise diagnostics.stack_output_failed(
            stack, f"exit status {finished.returncode}: {_first_line(finished.stderr)}", shown
        )
    return _decode(finished.stdout, shown)


def plain_stack_setting(stack: str, setting: str, env: Mapping[str, str]) -> str | None:
    """The stack's config value `setting` (`namespace:name`), None when it is not set.

    Read with `pulumi config --json`, which leaves a secret's value out: a secret setting is
    refused by name rather than taken for absent, so a command never falls back to another API.
    """
    config = pulumi_stack_json(("config", "--json"), stack, env)
    entry = config.get(setting) if isinstance(config, Mapping) else None
    if not isinstance(entry, Mapping):
        return None
    value = entry.get("value")
    if entry.get("secret") and not isinstance(value, str):
        raise diagnostics.stack_setting_secret(stack, setting)
    return value if isinstance(value, str) else None


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped[:limit]
    return "no error output"
