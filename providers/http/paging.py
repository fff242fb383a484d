"""The one pager: every offset listing of the API (keys, guardrails, workspaces, assignments,
the model catalogue) is walked here, so the page size and the end rules live once.

A listing ends on an empty page, when the answer's `total_count` is reached, or, for a listing
that gives no total (`GET /keys`), on a page shorter than `PAGE_SIZE`
(docs/reference/openrouter-api.md §4.1, §7). Keys shift between pages while they are listed,
so a listing that names an identity is de-duplicated by it, and a page of nothing but repeats
is an error rather than a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from providers.http.errors import InvalidResponseError

PAGE_SIZE: Final = 100
"""The most items a management listing serves a page (`GET /keys` always serves that many; the
others serve `limit`, at most 100); a shorter `GET /keys` page is the last."""
MAX_PAGES: Final = 10_000
"""A bound on any listing (a million keys); reaching it means the server misbehaves."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class Page(Generic[_T]):
    """One page's items, and the listing's `total_count` when the answer says it."""

    items: list[_T]
    total: int | None = None
    status: int | None = None


def walk(
    path: str,
    fetch: Callable[[int], Page[_T]],
    *,
    ident: Callable[[_T], str] | None = None,
    noun: str = "item",
) -> list[_T]:
    """Every item of the listing at `path`, `fetch(offset)` giving the page at that offset.

    With `ident`, an item already listed is dropped (keys shift when one is created meanwhile);
    `noun` names the items in the error a page of nothing but repeats raises.
    """
    seen: dict[str, _T] = {}
    items: list[_T] = []
    offset = 0
    for _ in range(MAX_PAGES):
        page = fetch(offset)
        fresh = page.items
        if ident is not None:
            fresh = [item for item in page.items if ident(item) not in seen]
            if page.items and not fresh:
                raise InvalidResponseError(
                    f"GET {path}: the page at offset {offset} repeats only {noun}s already"
                    f" listed; the listing would never end. Run again; if it persists, the"
                    f" {noun} list changed shape.",
                    method="GET",
                    path=path,
                    status=page.status,
                )
            seen.update((ident(item), item) for item in fresh)
        items.extend(fresh)
        offset += len(page.items)
        if _last(page, offset):
            return items
    raise InvalidResponseError(
        f"GET {path}: still more pages after {MAX_PAGES}; refusing to list forever.",
        method="GET",
        path=path,
    )


def _last(page: Page[_T], listed: int) -> bool:
    if not page.items:
        return True
    if page.total is not None:
        return listed >= page.total
    return len(page.items) < PAGE_SIZE
