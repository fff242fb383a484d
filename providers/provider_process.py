"""What this package does to the provider process the engine starts for it (`python -m
pulumi.dynamic`), set up once by `configure()`:

- a failed call reaches the person running pulumi as one line with its kind, not as a Python
  traceback: the SDK's servicer aborts every failed call with `traceback.format_exc()`;
- the process exits once the engine that started it is gone (a killed `pulumi up` otherwise left
  it running for minutes), after the calls in flight have finished;
- a key minted after the engine went away is deleted again before the call returns, because
  nothing can record it in state any more: without this, every create in flight when the CLI
  was killed left a key nobody holds, and the next `up` minted it again under the same name.

Nothing happens outside that process: imported by a program, a test or the CLI, this module
changes nothing until `install()` finds the SDK's servicer running as `__main__`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Final, ParamSpec, TypeVar

from providers.errors import OpenRouterError
from providers.listing import LISTINGS
from providers.messages import ProviderError, one_line, provider_error

_log = logging.getLogger(__name__)

SERVICER_MODULE: Final = "pulumi.dynamic.__main__"
POLL_SECONDS: Final = 1.0
"""How often the watcher asks whether the engine is still there."""
DRAIN_SECONDS: Final = 300.0
"""How long calls in flight may still run once the engine is gone (a create may be sweeping)."""
_PROBE_TIMEOUT: Final = 0.5


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.installed = False
        self.in_flight = 0
        self.engine: tuple[str, int] | None = None


_STATE = _State()


def engine_address(argv: list[str]) -> tuple[str, int] | None:
    """The engine's gRPC address: the plugin's last argument (`127.0.0.1:PORT`), if there is one."""
    if len(argv) < 2:
        return None
    host, colon, port = argv[-1].rpartition(":")
    if not colon or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


def engine_listening(address: tuple[str, int] | None = None) -> bool:
    """Whether the engine is still there; True when its address is unknown.

    Only a refused connection means gone: on loopback it is answered at once when nothing
    listens. A slow or timed-out connect (a busy machine) is no verdict, so a live engine is
    never taken for a dead one.
    """
    target = address or _STATE.engine
    if target is None:
        return True
    try:
        with socket.create_connection(target, timeout=_PROBE_TIMEOUT):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return True


@contextlib.contextmanager
def provider_call() -> Iterator[None]:
    """Count a provider call as in flight, so the process never exits in the middle of one."""
    with _STATE.lock:
        _STATE.in_flight += 1
    try:
        yield
    finally:
        with _STATE.lock:
            _STATE.in_flight -= 1


WRITES: Final = frozenset({"create", "update", "delete"})
"""The operations that change OpenRouter: each forgets every listing (providers/listing.py)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def redacted_errors(operation: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Run a provider method as one call in flight, and turn any failure of it into a redacted
    `ProviderError` with no chain (the servicer would print a chained exception's text too).
    A write forgets every listing, before and after it runs."""

    def decorate(method: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(method)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            marks = LISTINGS.writing() if operation in WRITES else contextlib.nullcontext()
            with provider_call(), marks:
                try:
                    return method(*args, **kwargs)
                except ProviderError as err:
                    raise ProviderError(err.kind, str(err)) from None
                except OpenRouterError as err:
                    raise provider_error("api", operation=operation, cause=str(err)) from None
                except Exception as err:
                    cause = f"{type(err).__name__}: {err}"
                    raise provider_error("internal", operation=operation, cause=cause) from None

        return wrapper

    return decorate


class _OneLineTraceback:
    """Stands in for the `traceback` module inside the SDK's servicer: a `ProviderError` is
    shown as its one-line message and kind; anything else keeps its full traceback."""

    def __getattr__(self, name: str) -> object:
        return getattr(traceback, name)

    @staticmethod
    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, ProviderError):
            return one_line(str(error), error.kind)
        return traceback.format_exc(limit, chain)


def servicer_module() -> ModuleType | None:
    """The SDK's servicer when this process is `python -m pulumi.dynamic`, else None."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if main is None or getattr(spec, "name", None) != SERVICER_MODULE:
        return None
    return main


def install() -> None:
    """Set up the provider process (idempotent); does nothing anywhere else."""
    servicer = servicer_module()
    if servicer is None:
        return
    with _STATE.lock:
        if _STATE.installed:
            return
        _STATE.installed = True
        _STATE.engine = engine_address(sys.argv)
    servicer.traceback = _OneLineTraceback()  # type: ignore[attr-defined]  # the SDK module's own global
    if _STATE.engine is not None:
        threading.Thread(target=_watch_engine, name="engine-watch", daemon=True).start()


def _watch_engine() -> None:
    """Exit the process once the engine is gone (twice in a row) and the calls in flight are
    done."""
    gone = 0
    while gone < 2:
        gone = 0 if engine_listening() else gone + 1
        time.sleep(POLL_SECONDS)
    _log.debug("the engine is gone; exiting after %d call(s) in flight", _STATE.in_flight)
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        with _STATE.lock:
            if _STATE.in_flight == 0:
                break
        time.sleep(0.1)
    os._exit(0)
