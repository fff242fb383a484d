"""A faithful local OpenRouter management API (keys, guardrails, workspaces) for tests, benchmarks
and the sandbox stack.

Never imported by `providers/`; see docs/emulator.md for what it implements and how faithfully.
"""

from emulator.app import DEFAULT_WORKSPACE_ID, RequestRecord, SeededKey
from emulator.faults import Fault
from emulator.server import SANDBOX_MANAGEMENT_KEY, Emulator, run_emulator

__all__ = [
    "DEFAULT_WORKSPACE_ID",
    "SANDBOX_MANAGEMENT_KEY",
    "Emulator",
    "Fault",
    "RequestRecord",
    "SeededKey",
    "run_emulator",
]
