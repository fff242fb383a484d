"""What a stack last deployed, read back from its own `keys` output before anything is registered.

The engine's builtin `pulumi:pulumi:readStackOutputs` invoke (what a `StackReference` uses)
returns a stack's outputs as its last successful update recorded them. Outputs are written only
when every key and sink of an update succeeded (topology/outputs.py), so this is what the stack
is known to hold, even after an update that stopped part way (docs/adr/0008-topology-guard.md).
This module is the program's only read of a stack's record; topology/guard.py judges it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.runtime import invoke

from topology.governance_output import (
    GOVERNANCE_OUTPUT,
    DeployedGovernance,
    parse_governance_output,
)
from topology.keys_output import KEYS_OUTPUT, DeployedKey, KeysOutputError, parse_keys_output
from topology.rules import Problem

READ_STACK_OUTPUTS: Final = "pulumi:pulumi:readStackOutputs"
STACK_FILE_PREFIX: Final = "Pulumi."
STACK_FILE_SUFFIX: Final = ".yaml"
READ_ATTEMPTS: Final = 5
READ_PAUSE_SECONDS: Final = 0.2
DEFAULT_ORGANIZATION: Final = "organization"
"""What a file backend calls the organization of every stack."""


@dataclass(frozen=True)
class Deployment:
    """What one stack deployed: its keys by id (empty for a stack never deployed)."""

    stack: str
    keys: Mapping[str, DeployedKey]
    governance: DeployedGovernance = field(default_factory=DeployedGovernance)
    unreadable: str | None = None
    """Why another stack's record could not be read: then `keys` is empty, not known empty."""


OutputsReader = Callable[[str], Mapping[str, Any]]
"""Stack name -> that stack's outputs, or raises; `read_outputs` is the real one."""


class DeploymentUnreadableError(Exception):
    """The stack's record could not be read or parsed; the text says why, without values."""


class SecretsUnreadableError(DeploymentUnreadableError):
    """The record's `keys` output is a secret this run cannot decrypt (another passphrase or
    secrets provider): reading it again cannot help."""


NEVER_DEPLOYED: Final = "unknown stack"
"""How the engine's `readStackOutputs` fails for a stack file with no stack in the backend."""


def qualified_name(stack: str) -> str:
    """`organization/openrouter-keys/<stack>`: how the engine names a stack to read."""
    organization = pulumi.get_organization() or DEFAULT_ORGANIZATION
    return f"{organization}/{pulumi.get_project()}/{stack}"


def read_outputs(stack: str) -> Mapping[str, Any]:
    """The last recorded outputs of `stack` in this backend (secret outputs decrypted)."""
    result = invoke(READ_STACK_OUTPUTS, {"name": qualified_name(stack)})
    value = result.value if isinstance(result.value, Mapping) else {}
    outputs = value.get("outputs")
    outputs = outputs if isinstance(outputs, Mapping) else {}
    if KEYS_OUTPUT in (value.get("secretOutputNames") or ()) and outputs.get(KEYS_OUTPUT) == {}:
        # The engine hands back `{}` for a secret it cannot decrypt, and logs only an info line;
        # the program exports an empty record in plain text (topology/outputs.py), so a secret
        # `{}` is always one it could not read.
        raise SecretsUnreadableError(
            f"its `{KEYS_OUTPUT}` output is encrypted with a passphrase or secrets provider this"
            " run cannot use"
        )
    return outputs


def deployment_of(
    stack: str,
    read: OutputsReader = read_outputs,
    sleep: Callable[[float], None] = time.sleep,
) -> Deployment:
    """What `stack` deployed, or `DeploymentUnreadableError` (the guard then refuses to go on).

    A read can fail while the engine is writing the same checkpoint (a file backend answered
    `failed to load checkpoint: EOF` at the start of an update): it is tried again a few times
    before the guard gives up.
    """
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            outputs = read(stack)
            break
        except DeploymentUnreadableError:
            raise
        except Exception as error:  # any backend or engine failure: the guard cannot judge
            if attempt == READ_ATTEMPTS:
                raise DeploymentUnreadableError(f"{type(error).__name__}: {error}") from None
            sleep(READ_PAUSE_SECONDS * attempt)
    try:
        return Deployment(
            stack,
            parse_keys_output(outputs.get(KEYS_OUTPUT)),
            parse_governance_output(outputs.get(GOVERNANCE_OUTPUT)),
        )
    except KeysOutputError as error:
        raise DeploymentUnreadableError(str(error)) from None


def unreadable_problem(stack: str, cause: str) -> Problem:
    return Problem(
        KEYS_OUTPUT,
        f"what stack {stack} last deployed could not be read ({cause}), so the program cannot"
        " tell which keys this change would delete; allowed: an update whose effect on live keys"
        " is known.",
        "run it again; if it persists, check the backend (`pulumi stack output --json"
        " --show-secrets`), and see the topology guard in docs/troubleshooting.md.",
    )


def stack_names(stack_dir: Path) -> list[str]:
    """The stacks of this project, from their files (`stacks/Pulumi.<stack>.yaml`)."""
    if not stack_dir.is_dir():
        return []
    return sorted(
        path.name[len(STACK_FILE_PREFIX) : -len(STACK_FILE_SUFFIX)]
        for path in stack_dir.glob(f"{STACK_FILE_PREFIX}*{STACK_FILE_SUFFIX}")
    )


def other_deployments(
    stacks: Iterable[str],
    read: OutputsReader = read_outputs,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Deployment]:
    """What the other stacks deployed. One never deployed manages nothing; one whose record
    cannot be read is returned with the reason, so that an adoption it might own is refused."""
    found = []
    for stack in stacks:
        try:
            found.append(deployment_of(stack, read, sleep))
        except DeploymentUnreadableError as error:
            if NEVER_DEPLOYED in str(error):
                continue
            found.append(Deployment(stack, {}, unreadable=str(error)))
    return found
