"""A faithful local OpenRouter management API (keys, guardrails, workspaces, BYOK credentials,
observability destinations) for tests, benchmarks and the sandbox stack.

Never imported by `providers/`; see docs/emulator.md for what it implements and how faithfully.
"""

from emulator.faults import Fault
from emulator.records import RequestRecord, SeededKey
from emulator.server import SANDBOX_MANAGEMENT_KEY, Emulator, run_emulator
from emulator.wire import DEFAULT_WORKSPACE_ID

__all__ = [
    "DEFAULT_WORKSPACE_ID",
    "SANDBOX_MANAGEMENT_KEY",
    "Emulator",
    "Fault",
    "RequestRecord",
    "SeededKey",
    "run_emulator",
]
