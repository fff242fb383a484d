"""What this package does to the provider process the engine starts for it (`python -m
pulumi.dynamic`), set up once by `configure()`:

- a failed call reaches the person running pulumi as one line with its kind, not as a Python
  traceback: the SDK's servicer aborts every failed call with `traceback.format_exc()`;
- the process exits once the engine that started it is gone (a killed `pulumi up` otherwise left
  it running for minutes), after the calls in flight have finished;
- a key minted after the engine went away is deleted again before the call returns, because
  nothing can record it in state any more: without this, every create in flight when the CLI
  was killed left a key nobody holds, and the next `up` minted it again under the same name;
- the process serves as many calls at once as the engine sends it: the SDK serves gRPC from a
  `ThreadPoolExecutor(max_workers=4)`, so four calls ran at a time whatever `--parallel` said
  (docs/engine.md, "Calls in flight");
- a `Diff` answer names the inputs that changed (`diffs`), which the SDK's `DiffResult` cannot
  carry: without them the preview shows `~ update` with no field and `up` no `[diff: ...]`.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as futures_thread
from types import ModuleType
from typing import Any, Final, ParamSpec, TypeVar

from providers.base.messages import ProviderError, one_line, provider_error
from providers.http.errors import OpenRouterError
from providers.http.listing import LISTINGS

_log = logging.getLogger(__name__)

SERVICER_MODULE: Final = "pulumi.dynamic.__main__"
POLL_SECONDS: Final = 1.0
"""How often the watcher asks whether the engine is still there."""
DRAIN_SECONDS: Final = 300.0
"""How long calls in flight may still run once the engine is gone (a create may be sweeping)."""
_PROBE_TIMEOUT: Final = 0.5
SDK_WORKERS: Final = 4
"""The calls the SDK's servicer serves at once: `ThreadPoolExecutor(max_workers=4)` in
`pulumi.dynamic.__main__.main()` (pinned by tests/boundary/test_calls_in_flight.py)."""
MAX_WORKERS: Final = 256
"""No more threads than this whatever the environment says (a typo in `PULUMI_PARALLEL`)."""
PARALLEL_ENV: Final = "PULUMI_PARALLEL"
"""The engine's own variable for its default `--parallel`; the plugin inherits the CLI's
environment, so the provider reads the same value the engine did."""


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
"""The operations that change OpenRouter: each forgets every listing (providers/http/listing.py)."""

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


def _positive_int(text: str | None) -> int | None:
    try:
        value = int((text or "").strip())
    except ValueError:
        return None
    return value if value > 0 else None


def usable_cpus() -> int:
    """The CPUs this process may run on, as Go's `runtime.NumCPU` counts them (its affinity)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def engine_parallelism(environ: Mapping[str, str], cpus: int) -> int:
    """What the engine takes for `--parallel` when the command line does not set it.

    pulumi v3.274 `defaultParallel()` (pkg/cmd/pulumi/operations/up.go): `PULUMI_PARALLEL` when
    positive, else 4 x `GOMAXPROCS`, which is the CPU count unless `GOMAXPROCS` is set. The
    engine passes its parallelism to no provider RPC a dynamic provider receives (only
    `Construct` and `Call` carry it), and not the `--parallel` flag to the plugin; its
    environment, though, the plugin inherits.
    """
    configured = _positive_int(environ.get(PARALLEL_ENV))
    if configured is not None:
        return configured
    return 4 * (_positive_int(environ.get("GOMAXPROCS")) or cpus)


def pool_workers(environ: Mapping[str, str], cpus: int) -> int:
    """Threads the provider process serves calls from: never fewer than the SDK's four, so a
    lower `--parallel` is left to the engine (it sends no more calls than that)."""
    return min(MAX_WORKERS, max(SDK_WORKERS, engine_parallelism(environ, cpus)))


def serving_pool() -> ThreadPoolExecutor | None:
    """The thread pool running the current call, when this thread is one of its workers.

    Every worker of a `ThreadPoolExecutor` runs `concurrent.futures.thread._worker` with a weak
    reference to its pool as first argument (CPython 3.11; pinned by a test). Anywhere else
    (the program, a test calling a provider directly), None."""
    thread = threading.current_thread()
    if getattr(thread, "_target", None) is not getattr(futures_thread, "_worker", None):
        return None
    args = getattr(thread, "_args", ())
    pool = args[0]() if args and callable(args[0]) else None
    return pool if isinstance(pool, ThreadPoolExecutor) else None


def _nothing() -> None:
    """A work item whose only effect is that submitting it starts a thread."""


def widen(pool: ThreadPoolExecutor, workers: int) -> int:
    """Let `pool` run up to `workers` calls at once (never fewer than it already may), and start
    the extra threads now: calls already queued behind the first four are picked up at once,
    not one per later submission. Returns the pool's limit."""
    current: int = pool._max_workers  # the limit has no public setter
    if workers <= current:
        return current
    pool._max_workers = workers
    for _ in range(workers - current):
        pool.submit(_nothing)
    return workers


_CHANGED = threading.local()
"""The inputs the provider's `diff` found changed, on the thread serving that `Diff` call."""


def report_changed(names: Sequence[str]) -> None:
    """Name the changed inputs in the answer to the `Diff` call this thread serves."""
    _CHANGED.names = list(names)


class _DiffResponse:
    """The proto's `DiffResponse` class (its constants too), building answers that carry the
    names `report_changed` gave on the same thread (the servicer calls the provider's `diff`,
    then builds its answer, in one call)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def __call__(self, **fields: object) -> object:
        names: list[str] = getattr(_CHANGED, "names", [])
        _CHANGED.names = []
        return self._real(**fields, diffs=names)


class _ProtoWithDiffs:
    """Stands in for the provider proto module inside the SDK's servicer, `DiffResponse` aside."""

    def __init__(self, proto: ModuleType) -> None:
        self._proto = proto
        self.DiffResponse = _DiffResponse(proto.DiffResponse)  # the proto's own name

    def __getattr__(self, name: str) -> object:
        return getattr(self._proto, name)


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
    servicer.proto = _ProtoWithDiffs(servicer.proto)  # type: ignore[attr-defined]  # its global too
    pool = serving_pool()
    if pool is not None:
        workers = widen(pool, pool_workers(os.environ, usable_cpus()))
        _log.debug("serving up to %d provider calls at once", workers)
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
