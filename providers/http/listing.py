"""Reads answered from one listing: a refresh of N keys asks `GET /keys` N/100 times, not N GETs.

The engine reads every resource of a refresh at once, so the provider process lists each scope
(a workspace's keys, a guardrail's assignments, ...) once and answers each read from the
listing, within a short window and while nothing is being written (docs/adr/0014-reads-in-pages.md):

- one listing per scope, taken once: the first reader lists while the others wait for it;
- a listing answers reads for `LISTING_SECONDS` from the moment it was asked for, no longer;
- any write in this process (a create, update or delete of any resource) forgets every listing,
  and while one is in flight no listing is taken or used: the caller asks for its one object;
- a failed listing is no new way to fail: its readers fall back to their own request, and the
  scope is not listed again within the window;
- an object absent from a listing is not called deleted from it: the caller asks for it by id.

Only what a listing holds is answered from it, and a listing is the same object a GET returns
(docs/reference/openrouter-api.md §3): what a read returns does not depend on this cache.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from providers.http.errors import OpenRouterError

LISTING_SECONDS: Final = 10.0
"""How long a listing may answer reads, from the moment it was asked for. A refresh reads every
resource at once (hundreds of reads from memory take well under a second); a listing older than
this is taken again rather than trusted."""

_T = TypeVar("_T")


@dataclass
class _Entry:
    """One scope's listing (or the failure to take it) and the lock its readers wait on."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    asked_at: float | None = None
    generation: int = -1
    items: Mapping[str, object] | None = None


class Listings:
    """The process's listings by scope; thread-safe (the provider serves calls from several
    threads). `clock` is the test switch for time."""

    def __init__(
        self,
        window: float = LISTING_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self._generation = 0
        self._writing = 0

    def lookup(
        self, scope: Hashable, fetch: Callable[[], Mapping[str, _T]]
    ) -> Mapping[str, _T] | None:
        """The scope's listing by id, taken once per window; None when it may not answer (a
        write in flight, or the listing failed): the caller then asks for its one object."""
        with self._lock:
            if self._writing:
                return None
            entry = self._entries.setdefault(scope, _Entry())
        with entry.lock:  # the first reader lists; the others wait here for its answer
            with self._lock:
                generation = self._generation
                if self._writing:
                    return None
            if entry.generation == generation and self._fresh(entry.asked_at):
                return entry.items  # type: ignore[return-value]  # this scope's fetch made them
            asked_at = self._clock()
            try:
                items: Mapping[str, _T] | None = dict(fetch())
            except OpenRouterError:
                items = None  # the callers' own requests report what is wrong, as before
            with self._lock:
                if self._generation != generation or self._writing:
                    return None  # a write began meanwhile: this listing may predate it
                entry.asked_at, entry.generation, entry.items = asked_at, generation, items
            return items

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around every write: forget every listing when it starts and when it ends, and take
        none while it runs."""
        self._forget(+1)
        try:
            yield
        finally:
            self._forget(-1)

    def forget(self) -> None:
        """Forget every listing (a test switch; a process starts empty)."""
        self._forget(0)

    def _forget(self, writing: int) -> None:
        with self._lock:
            self._writing += writing
            self._generation += 1
            self._entries.clear()

    def _fresh(self, asked_at: float | None) -> bool:
        return asked_at is not None and self._clock() - asked_at < self._window


LISTINGS: Final = Listings()
"""The provider process's listings (providers/base/provider_process.py marks its writes)."""


_PENDING = threading.local()
"""The calling thread's read, while its management-key verdict is asked beside its listing."""


@contextlib.contextmanager
def verdict_pending(judged: Callable[[], None]) -> Iterator[None]:
    """Within the block, `listed` calls `judged` (which raises the management key's refusal)
    after its listing is taken and before it answers from it or asks for anything else:
    providers/base/session.py `checked_beside` sends the key's check beside the first listing."""
    _PENDING.judged = judged
    try:
        yield
    finally:
        _PENDING.judged = None


def listed(
    scope: Hashable,
    fetch: Callable[[], Mapping[str, _T]],
    wanted: str,
    confirm: Callable[[], _T | None],
) -> _T | None:
    """`wanted` as its scope's listing holds it, else as `confirm` (one request for it alone)
    finds it: None only when `confirm` says it is gone. A listing taken while the management
    key's verdict was pending is used only once the verdict accepts the key."""
    items = LISTINGS.lookup(scope, fetch)
    judged: Callable[[], None] | None = getattr(_PENDING, "judged", None)
    if judged is not None:
        judged()
    if items is not None and wanted in items:
        return items[wanted]
    return confirm()
