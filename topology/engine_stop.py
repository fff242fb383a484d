"""When the engine ends the program after a resource failed, say so in one line, not a traceback.

A resource can fail in the engine rather than in this program: a missing GitHub or Vercel plugin
(`no resource plugin 'pulumi-resource-github' found ...`), an OpenRouter call the provider
reports as failed. The engine prints that error under the resource, then shuts its resource
monitor; the program's registrations still in flight fail with gRPC `UNAVAILABLE` or `CANCELLED`.
The SDK turns `UNAVAILABLE` into a `RunError` ("Resource monitor has terminated, shutting down")
but `CANCELLED` into a bare `Exception("context canceled")`, which the language host prints as
"Program failed with an unhandled exception" and some 55 lines of SDK traceback, under the
engine's own line that already said what failed (pulumi-language-python-exec: a `RunError` is
printed as its message alone; anything else with its traceback).

`install_engine_stop()`, the first thing `__main__.py` does, makes both codes one
`EngineStoppedError`, a `RunError` whose message points at the resource's own error. Every
other gRPC failure keeps the SDK's own handling. The SDK's helper is looked up through its
module at each call (`handle_grpc_error` in pulumi/runtime/settings.py), so replacing that
module attribute is enough; the provider process does the same for its own tracebacks
(providers/base/provider_process.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pulumi
from pulumi.runtime import settings as sdk_settings

STOPPED: Final = (
    "the engine stopped this program because a resource failed (its error is the one shown under"
    " that resource: a missing GitHub or Vercel plugin, a failed OpenRouter call, ...); nothing"
    " more was registered. Fix: the fix of that error (docs/troubleshooting.md)."
)
STOP_CODES: Final = frozenset({"UNAVAILABLE", "CANCELLED"})
"""The gRPC codes of a resource monitor that is shutting down or gone."""


class EngineStoppedError(pulumi.RunError):
    """The engine ended the program; the reason is the engine's own error, printed before."""

    def __init__(self) -> None:
        super().__init__(STOPPED)


def is_engine_stop(error: Any) -> bool:
    """Whether a gRPC error means the resource monitor is shutting down or gone."""
    code = getattr(error, "code", None)
    if not callable(code):
        return False
    return getattr(code(), "name", None) in STOP_CODES


def _replacement(original: Callable[[Any], Exception]) -> Callable[[Any], Exception]:
    def grpc_error_to_exception(error: Any) -> Exception:
        return EngineStoppedError() if is_engine_stop(error) else original(error)

    grpc_error_to_exception.engine_stop = True  # type: ignore[attr-defined]  # marks it installed
    return grpc_error_to_exception


def install_engine_stop() -> None:
    """Make an engine stop one line in this process; idempotent."""
    current = sdk_settings.grpc_error_to_exception
    if getattr(current, "engine_stop", False):
        return
    sdk_settings.grpc_error_to_exception = _replacement(current)  # type: ignore[assignment]  # same call shape
