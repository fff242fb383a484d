"""Whether a stack file can run against the local emulator, and on which port (scripts/sandbox.sh).

The emulator stands in for OpenRouter only, and `scripts/sandbox.sh` hands a stack the
emulator's URL and throwaway management key through the environment (`OPENROUTER_API_BASE_URL`,
`OPENROUTER_MANAGEMENT_KEY`). A stack file's own `apiBaseUrl` and `managementKey` win over the
environment (README, "Where the management key and the API URL come from"), and its GitHub and
Vercel consumers would be written for real. So a stack runs on the emulator only when:

- its `apiBaseUrl` is absent, or a loopback emulator URL (then it names the port, as the sandbox's
  does);
- it holds no `managementKey` unless its `apiBaseUrl` is that emulator URL (a key of its own
  would otherwise go where the environment cannot redirect it);
- it declares no GitHub or Vercel consumer and no `managementKeyTargets`.

    python scripts/sandbox_stack.py STACK_FILE [PORT]

prints the emulator port (the one `apiBaseUrl` names, else PORT), or every problem and exits 2.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

NAMESPACE = "openrouter-keys"
DEFAULT_PORT = 8788
"""The port of a stack's own emulator when its file names none: not the sandbox's 8787, so its
workspaces and guardrails never meet the sandbox's."""
EMULATOR_URL = re.compile(r"^http://(?:127\.0\.0\.1|localhost|\[::1\]):(?P<port>\d{1,5})/api/v1/?$")
DOCS = "docs/emulator.md#your-own-stack-on-the-emulator"


def _setting(config: Mapping[str, object], name: str) -> object:
    return config.get(f"{NAMESPACE}:{name}")


def _consumers(config: Mapping[str, object]) -> list[str]:
    """`keys.ID.github` / `keys.ID.vercel` entries and `managementKeyTargets`, as written."""
    found = []
    keys = _setting(config, "keys")
    for key_id, spec in (keys.items() if isinstance(keys, dict) else ()):
        for sink in ("github", "vercel"):
            if isinstance(spec, dict) and spec.get(sink):
                found.append(f"keys.{key_id}.{sink}")
    if _setting(config, "managementKeyTargets"):
        found.append("managementKeyTargets")
    return found


def emulator_port(document: object, port: int | None = None) -> tuple[int, list[str]]:
    """(the emulator's port, problems) for a parsed stack file; `port` is the one asked for."""
    config = document.get("config") if isinstance(document, dict) else None
    config = config if isinstance(config, dict) else {}
    problems = []
    url = _setting(config, "apiBaseUrl")
    chosen = port if port is not None else DEFAULT_PORT
    if url not in (None, ""):
        match = EMULATOR_URL.match(str(url))
        if match is None:
            problems.append(
                f"{NAMESPACE}:apiBaseUrl is {url!r}, not the emulator: the stack would send its"
                f" writes there. Fix: remove it (the script supplies the emulator's URL), or"
                f" write http://127.0.0.1:<port>/api/v1."
            )
        else:
            chosen = int(match["port"])
            if port is not None and port != chosen:
                problems.append(
                    f"--port {port} differs from the port of {NAMESPACE}:apiBaseUrl ({url})."
                    " Fix: leave out --port, or change apiBaseUrl."
                )
    elif _setting(config, "managementKey") is not None:
        problems.append(
            f"{NAMESPACE}:managementKey is set, and it would win over the emulator's key the"
            " script supplies. Fix: remove it from this stack file (a copy of a real stack"
            " keeps its key out), or also set apiBaseUrl to the emulator's URL."
        )
    for where in _consumers(config):
        problems.append(
            f"{where} is a GitHub or Vercel consumer: the emulator stands in for OpenRouter"
            " only, so those secrets would be written for real. Fix: remove it from this stack"
            " file."
        )
    return chosen, problems


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        sys.stderr.write(f"{__doc__}\n")
        return 2
    path = Path(argv[0])
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        sys.stderr.write(f"sandbox: cannot read {path}: {error}\n")
        return 2
    port, problems = emulator_port(document, int(argv[1]) if len(argv) == 2 else None)
    for problem in problems:
        sys.stderr.write(f"sandbox: {path}: {problem} ({DOCS})\n")
    if problems:
        return 2
    sys.stdout.write(f"{port}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
