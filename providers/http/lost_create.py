"""Send a create once; settle one whose answer was lost (docs/adr/0002-ambiguous-create.md).

No create of the API has an idempotency key, so a `POST` whose answer is lost (a timeout after
sending, a dropped connection, a 5xx, a 2xx lacking what it must hold) may or may not have made
something. It is never re-sent blindly: what it may have made is looked for (same name, stamped
since the attempt began), deleted, and then either the create is sent once more (keys: their
secret is shown once, so an orphan is useless and a working key is the goal) or the error says
to run again (guardrails, workspaces, BYOK credentials, observability destinations). If the
search cannot finish, the error says what may be left and where to find it.

`settle_create` is the one mechanism; each resource gives its `LostCreate`: how to send, how to
find what it made, how to delete it, and the words its messages use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Generic, TypeVar

from providers.http.errors import (
    RUN_AGAIN,
    AmbiguousCreateError,
    CreateSweepFailedError,
    NetworkTimeoutError,
    OpenRouterError,
)
from providers.http.formats import parse_instant

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

SWEEP_CLOCK_SKEW_SECONDS: Final = 5.0
"""How much earlier than the attempt start an object may be stamped and still count as its own.

The start is put on the server's clock when the search's own answer carries a `Date` header, so
this covers only the header's one-second resolution and skew between OpenRouter's own machines;
without one the local clock is trusted with the same allowance.
"""
SWEEP_SETTLE_SECONDS: Final = 1.0
"""Pause before a key sweep, so a create still in flight on the server has time to land.

After a timeout the server has already kept the request longer than `read_timeout`, so the
pause is `read_timeout` instead: a create that lands within twice the timeout is still found.
"""


def settle_delay(cause: OpenRouterError, read_timeout: float) -> float:
    """How long to wait before looking for what a lost create made (`SWEEP_SETTLE_SECONDS`)."""
    return read_timeout if isinstance(cause, NetworkTimeoutError) else SWEEP_SETTLE_SECONDS


@dataclass(frozen=True)
class Window:
    """When the attempts of one create began, on a monotonic clock."""

    started: float
    clock: Callable[[], float]

    def since(self, server_now: datetime | None = None) -> datetime:
        """The earliest stamp an object the attempts made can carry: their start put on the
        server's clock (`server_now`, from a `Date` header; ours without one), less the skew."""
        elapsed = self.clock() - self.started
        reference = server_now or datetime.now(UTC)
        return reference - timedelta(seconds=elapsed + SWEEP_CLOCK_SKEW_SECONDS)


def made_since(created_at: str | None, since: datetime) -> bool:
    """Whether an object stamped `created_at` may be one the attempts made."""
    moment = parse_instant(created_at)
    return moment is not None and moment >= since


@dataclass(frozen=True)
class Leftover:
    """How the messages of one kind of create name what a lost attempt may have left."""

    sought: str = "what it made"
    stray: str = "it may exist without this stack knowing"
    where: str = "at https://openrouter.ai/settings"
    both: str = "Anything either attempt made was found and deleted"


@dataclass(frozen=True)
class LostCreate(Generic[_T]):
    """One create and how to settle it: `send` is one `POST` (re-sent by the client only after
    a definite, transient failure), `made` the ids of what the attempts may have made (given
    their window), `delete` removes one. With `again`, a settled first attempt is followed by
    one more `POST`, and `again` names what that one returned so the last look spares it."""

    path: str
    what: str
    key_name: str
    send: Callable[[], _T]
    made: Callable[[Window], list[str]]
    delete: Callable[[str], None]
    clock: Callable[[], float]
    words: Leftover = Leftover()
    pause: Callable[[OpenRouterError], None] | None = None
    again: Callable[[_T], str] | None = None


def settle_create(create: LostCreate[_T]) -> _T:
    """The create's result, or `AmbiguousCreateError` with nothing left behind, or
    `CreateSweepFailedError` naming what may be left; a definite failure is raised as is."""
    window = Window(create.clock(), create.clock)
    try:
        return create.send()
    except OpenRouterError as error:
        if error.definite:
            raise
        first = error
    _log.debug("POST %s ambiguous (%s); looking for what it made", create.path, first.kind)
    removed = _sweep(create, window, first)
    if create.again is None:
        raise _ambiguous(create, f"got no clear answer ({first.brief}); {_removed(removed)}")
    try:
        created = create.send()
    except OpenRouterError as error:
        if error.definite:
            raise
        _sweep(create, window, error)
        causes = first.brief
        if error.brief != first.brief:
            causes += f"; then {error.brief}"
        raise _ambiguous(
            create, f"got no clear answer, twice ({causes}). {create.words.both}"
        ) from None
    _sweep_late(create, window, create.again(created))
    return created


def _sweep(create: LostCreate[_T], window: Window, cause: OpenRouterError) -> int:
    """Delete whatever the attempts may have made; raise if that cannot finish."""
    if create.pause is not None:
        create.pause(cause)
    try:
        leftovers = create.made(window)
        for object_id in leftovers:
            create.delete(object_id)
    except OpenRouterError as error:
        words = create.words
        raise CreateSweepFailedError(
            f"POST {create.path}: creating {create.what} got no clear answer ({cause.brief}),"
            f" and looking for {words.sought} failed too ({error.brief}), so {words.stray}."
            f" Fix: find it {words.where}, delete it, then run `pulumi up` again.",
            method="POST",
            path=create.path,
            key_name=create.key_name,
        ) from None
    return len(leftovers)


def _sweep_late(create: LostCreate[_T], window: Window, kept: str) -> None:
    """Catch a first attempt that landed late. Best effort: what the second attempt made is good
    and is returned whatever happens here; a leftover shows up in the audit."""
    try:
        for object_id in create.made(window):
            if object_id != kept:
                create.delete(object_id)
    except OpenRouterError as error:
        _log.warning("POST %s late-orphan sweep incomplete (%s)", create.path, error.kind)


def _removed(count: int) -> str:
    if not count:
        return "none was made"
    if count == 1:
        return "the one it made was deleted"
    return f"the {count} it made were deleted"


def _ambiguous(create: LostCreate[_T], outcome: str) -> AmbiguousCreateError:
    return AmbiguousCreateError(
        f"POST {create.path}: creating {create.what} {outcome}, so nothing is left behind."
        f" {RUN_AGAIN}",
        method="POST",
        path=create.path,
        key_name=create.key_name,
    )
