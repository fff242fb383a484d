"""The one pager: every offset listing of the API (keys, guardrails, workspaces, assignments,
the model catalogue) is walked here, so the page size and the end rules live once.

A listing ends on an empty page, when the answer's `total_count` is reached, or, for a listing
that gives no total (`GET /keys`), on a page shorter than `PAGE_SIZE`
(docs/reference/openrouter-api.md §4.1, §7). Keys shift between pages while they are listed,
so a listing that names an identity is de-duplicated by it, and a page of nothing but repeats
is an error rather than a loop.

Pages are asked for ahead of their turn, at most `IN_FLIGHT` at once, rather than one after
another: once a page gives `total_count`, every page up to it; in a listing without a total
(`GET /keys`), after each full page, as many pages ahead as full pages came so far (1, 2, 3,
then 4), so a listing that ends early wastes at most three requests and one that fits in its first
page (a short page) asks nothing more. Each answer is used only at its turn, exactly as the walk
one page at a time would (the same items in the same order, the same end, the same error from
the first page that fails); a page asked ahead that the walk does not reach is dropped unread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Generic, TypeVar

from providers.http.errors import InvalidResponseError

PAGE_SIZE: Final = 100
"""The most items a management listing serves a page (`GET /keys` always serves that many; the
others serve `limit`, at most 100); a shorter `GET /keys` page is the last."""
MAX_PAGES: Final = 10_000
"""A bound on any listing (a million keys); reaching it means the server misbehaves."""
IN_FLIGHT: Final = 4
"""The most pages of one listing asked at once: as many as the SDK's provider host served calls
before issue 21, polite beside a refresh's other reads."""

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
    page_size: int | None = None,
) -> list[_T]:
    """Every item of the listing at `path`, `fetch(offset)` giving the page at that offset.

    With `ident`, an item already listed is dropped (keys shift when one is created meanwhile);
    `noun` names the items in the error a page of nothing but repeats raises. With `page_size`
    (the most items a page serves), pages are asked for ahead of their turn (module docstring);
    `fetch` is then called from other threads too.
    """
    seen: dict[str, _T] = {}
    items: list[_T] = []
    offset = 0
    with _Ahead(fetch, page_size) as ahead:
        for _ in range(MAX_PAGES):
            page = ahead.page(offset)
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
            ahead.plan(offset, page)
    raise InvalidResponseError(
        f"GET {path}: still more pages after {MAX_PAGES}; refusing to list forever.",
        method="GET",
        path=path,
    )


class _Ahead(Generic[_T]):
    """The pages of one walk asked for before their turn, `step` apart, at most `IN_FLIGHT` at
    once (module docstring). Without a `step`, and until a page announces more, each page is
    asked for at its turn, in the caller's thread."""

    def __init__(self, fetch: Callable[[int], Page[_T]], step: int | None) -> None:
        self._fetch = fetch
        self._step = step
        self._pool: ThreadPoolExecutor | None = None
        self._asked: dict[int, Future[Page[_T]]] = {}
        self._full = 0
        """Full pages read so far in a listing without a total: how far ahead it asks."""

    def __enter__(self) -> _Ahead[_T]:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        """Pages not yet sent are never sent; the walk returns once those in flight ended, so
        no request of it outlives it (its client may be closed next)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def page(self, offset: int) -> Page[_T]:
        """The page at `offset`: the answer asked ahead for it, else asked for now."""
        asked = self._asked.pop(offset, None)
        if asked is not None:
            return asked.result()
        if self._pool is None:
            return self._fetch(offset)
        return self._pool.submit(self._fetch, offset).result()

    def plan(self, offset: int, page: Page[_T]) -> None:
        """Ask ahead for the pages from `offset` that `page` (the one just read) announces, keeping
        at most `IN_FLIGHT` asked; drop any asked for an offset the walk will not reach (after a
        page shorter than `step`)."""
        step = self._step
        if step is None or step <= 0:
            return
        if page.total is not None:
            end = page.total
        elif len(page.items) >= step:
            self._full += 1
            end = offset + step * min(self._full, IN_FLIGHT)
        else:
            return
        for stale in [o for o in self._asked if o < offset or (o - offset) % step]:
            self._asked.pop(stale).cancel()
        for ahead in range(offset, end, step):
            if len(self._asked) >= IN_FLIGHT:
                break
            if ahead not in self._asked:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="page")
                self._asked[ahead] = self._pool.submit(self._fetch, ahead)


def _last(page: Page[_T], listed: int) -> bool:
    if not page.items:
        return True
    if page.total is not None:
        return listed >= page.total
    return len(page.items) < PAGE_SIZE
