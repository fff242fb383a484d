"""The one place an area of the management API is registered.

An area is a module of its own (its validation and a book deriving from emulator/book.py's
`Book`, which holds the state and routes every area shares) ending in `AREA = <Book>.area()`;
adding one is that module plus one line below. The router sends a management key's request for
one of its paths to its book, the request log masks its secrets through it, a reset gives it a
fresh book, and the admin routes and `Emulator.seed`/`Emulator.objects` reach it by name
(docs/emulator.md, "Add an API area"). Keys, guardrails and workspaces predate this table: key
budgets read guardrails and workspaces directly, so those three are wired in the store by hand.
"""

from __future__ import annotations

from emulator import byok, observability
from emulator.wire import Area, AreaBook

AREAS: tuple[Area, ...] = (
    byok.AREA,
    observability.AREA,
)


def area_of(parts: list[str]) -> Area | None:
    """The area whose route a path is (its segments after `/api/v1`), or None."""
    return next((area for area in AREAS if parts and area.is_route(parts)), None)


def new_books() -> dict[str, AreaBook]:
    return {area.name: area.new_book() for area in AREAS}
