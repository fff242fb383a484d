"""The one pager: every offset listing (keys, guardrails, workspaces, assignments, models)
walks its pages the same way, ended by `total_count` or by a short page."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

import httpx
import pytest

from providers import governance_api
from providers.http.client import ClientSettings, OpenRouterClient
from providers.http.errors import ForbiddenError, InvalidResponseError
from providers.http.paging import IN_FLIGHT, PAGE_SIZE, Page, walk
from tests.providers.test_client import key_object

BASE = "https://openrouter.test/api/v1"


class Pages:
    """Serves scripted JSON answers in order and records each request's path and query."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.url.path}?{request.url.query.decode()}")
        return httpx.Response(200, json=self.answers.pop(0))


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> OpenRouterClient:
    settings = ClientSettings(
        api_key="sk-or-v1-" + secrets.token_hex(32), base_url=BASE, sleep=lambda _s: None
    )
    return OpenRouterClient(settings, transport=httpx.MockTransport(handler))


def guardrail(number: int) -> dict[str, object]:
    return {"id": f"g{number}", "name": f"guardrail {number}"}


def test_a_management_listing_pages_by_limit_until_total_count():
    total = PAGE_SIZE + 2
    items = [guardrail(n) for n in range(total)]
    pages = Pages(
        {"data": items[:PAGE_SIZE], "total_count": total},
        {"data": items[PAGE_SIZE:], "total_count": total},
    )
    with client_for(pages) as client:
        listed = governance_api.list_guardrails(client, "ws-1")
    assert [g.id for g in listed] == [g["id"] for g in items]
    assert pages.asked == [
        f"/api/v1/guardrails?workspace_id=ws-1&offset=0&limit={PAGE_SIZE}",
        f"/api/v1/guardrails?workspace_id=ws-1&offset={PAGE_SIZE}&limit={PAGE_SIZE}",
    ]


def test_a_management_listing_stops_on_an_empty_page_before_total_count():
    pages = Pages({"data": [guardrail(1)], "total_count": 5}, {"data": [], "total_count": 5})
    with client_for(pages) as client:
        assert [g.id for g in governance_api.list_guardrails(client, None)] == ["g1"]
    assert len(pages.asked) == 2


def test_a_management_listing_without_total_count_cannot_be_paged():
    with client_for(Pages({"data": [guardrail(1)]})) as client, pytest.raises(
        InvalidResponseError, match="without `data` and `total_count`"
    ):
        governance_api.list_workspaces(client)


def model(number: int) -> dict[str, object]:
    return {"id": f"vendor/model-{number}", "name": f"Model {number}"}


def test_the_catalogue_is_one_answer_when_it_says_no_total():
    pages = Pages({"data": [model(1), model(2)]})
    with client_for(pages) as client:
        assert [m.id for m in client.list_models()] == ["vendor/model-1", "vendor/model-2"]
    assert pages.asked == ["/api/v1/models?output_modalities=all"]


def test_the_catalogue_reads_the_rest_page_by_page_when_it_holds_fewer_than_total():
    pages = Pages(
        {"data": [model(1)], "total_count": 3},
        {"data": [model(2), model(3)], "total_count": 3},
    )
    with client_for(pages) as client:
        assert len(client.list_models()) == 3
    assert pages.asked == [
        "/api/v1/models?output_modalities=all",
        "/api/v1/models?output_modalities=all&offset=1&limit=1000",
    ]


class Listing:
    """A management listing served by offset, thread-safe: each page may be held by `gate`
    (its offset) and answer `fail` statuses; records the offsets asked and the most requests
    in flight at once."""

    def __init__(
        self,
        items: list[dict[str, object]],
        gate: Callable[[int], None] = lambda _offset: None,
        fail: dict[int, int] | None = None,
        total: int | None = None,
    ) -> None:
        self.items, self.gate, self.fail = items, gate, fail or {}
        self.total = len(items) if total is None else total
        self.asked: list[int] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        with self.lock:
            self.asked.append(offset)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.gate(offset)
            if offset in self.fail:
                return httpx.Response(self.fail[offset], json={"error": {"message": "no"}})
            page = self.items[offset : offset + limit]
            return httpx.Response(200, json={"data": page, "total_count": self.total})
        finally:
            with self.lock:
                self.in_flight -= 1


def pages_after_the_first(count: int) -> list[int]:
    return [PAGE_SIZE * n for n in range(1, count)]


def test_the_pages_a_total_announces_are_asked_together_and_kept_in_order():
    items = [guardrail(n) for n in range(3 * PAGE_SIZE + 7)]
    together = threading.Barrier(3, timeout=5)  # the three pages after the first, all at once
    listing = Listing(items, gate=lambda offset: together.wait() if offset else None)
    with client_for(listing) as client:
        listed = governance_api.list_guardrails(client, None)
    assert [g.id for g in listed] == [g["id"] for g in items]
    assert listing.asked[0] == 0
    assert sorted(listing.asked[1:]) == pages_after_the_first(4)


def test_at_most_in_flight_pages_are_asked_at_once():
    items = [guardrail(n) for n in range(10 * PAGE_SIZE)]
    full = threading.Barrier(IN_FLIGHT, timeout=5)  # the first pages ahead fill the window
    listing = Listing(items, gate=lambda o: full.wait() if 0 < o <= IN_FLIGHT * PAGE_SIZE else None)
    with client_for(listing) as client:
        listed = governance_api.list_guardrails(client, None)
    assert [g.id for g in listed] == [g["id"] for g in items]
    assert listing.most_in_flight == IN_FLIGHT
    assert sorted(listing.asked) == [0, *pages_after_the_first(10)]


def test_a_listing_that_fits_in_its_first_page_is_one_request():
    listing = Listing([guardrail(n) for n in range(PAGE_SIZE)])
    with client_for(listing) as client:
        assert len(governance_api.list_guardrails(client, None)) == PAGE_SIZE
    assert listing.asked == [0]


def test_a_failed_page_fails_the_listing_as_one_at_a_time_would():
    # A later page fails first (in time); the walk still fails with the first page, in order,
    # that failed, as it did one page at a time.
    items = [guardrail(n) for n in range(4 * PAGE_SIZE)]
    later_failed = threading.Event()

    def gate(offset: int) -> None:
        if offset == 2 * PAGE_SIZE:
            later_failed.set()
        if offset == PAGE_SIZE:
            assert later_failed.wait(5)

    listing = Listing(items, gate=gate, fail={PAGE_SIZE: 403, 2 * PAGE_SIZE: 404})
    with client_for(listing) as client, pytest.raises(ForbiddenError):
        governance_api.list_guardrails(client, None)
    assert set(listing.asked) == {0, *pages_after_the_first(4)}


def test_a_page_ahead_that_fails_past_the_end_changes_nothing():
    # The first pages announce more than there is: the empty page ends the listing, as it did
    # one page at a time, and the failure of a page past it is never seen.
    items = [guardrail(n) for n in range(PAGE_SIZE)]
    listing = Listing(items, total=4 * PAGE_SIZE, fail={3 * PAGE_SIZE: 403})
    with client_for(listing) as client:
        assert len(governance_api.list_guardrails(client, None)) == PAGE_SIZE


def key_record(number: int) -> dict[str, object]:
    return {"hash": f"h{number}", "name": f"k{number}"}


SHIFTING = {  # keys shift between pages: a later page repeats some
    0: [key_record(n) for n in range(0, 3)],
    3: [key_record(n) for n in (2, 3, 4)],
    6: [key_record(n) for n in (5, 6)],
}
SHORT_MIDDLE = {  # a page shorter than asked before the end: the next offsets move
    0: [key_record(n) for n in range(0, 3)],
    3: [key_record(n) for n in (3, 4)],
    5: [key_record(n) for n in (5, 6, 7)],
    6: [key_record(99)],  # asked ahead at the old step; one page at a time never reads it
}


@pytest.mark.parametrize("answers", [SHIFTING, SHORT_MIDDLE], ids=["shifting", "short-middle"])
def test_walking_ahead_keeps_the_items_and_their_order_of_one_page_at_a_time(
    answers: dict[int, list[dict[str, object]]],
):
    def fetch(offset: int) -> Page[dict[str, object]]:
        return Page(answers.get(offset, []), total=8)

    def ident(item: dict[str, object]) -> str:
        return str(item["hash"])

    one_at_a_time = walk("/keys", fetch, ident=ident, noun="key")
    ahead = walk("/keys", fetch, ident=ident, noun="key", page_size=3)
    assert ahead == one_at_a_time
    assert key_record(99) not in ahead


class Keys:
    """`GET /keys` pages as a fetch: `count` keys, 100 a page and no total; records the offsets
    asked and the threads that asked; `gate` may hold a page (its offset)."""

    def __init__(self, count: int, gate: Callable[[int], None] = lambda _offset: None) -> None:
        self.count, self.gate = count, gate
        self.asked: list[int] = []
        self.callers: set[threading.Thread] = set()
        self.lock = threading.Lock()

    def __call__(self, offset: int) -> Page[dict[str, object]]:
        with self.lock:
            self.asked.append(offset)
            self.callers.add(threading.current_thread())
        self.gate(offset)
        end = min(offset + PAGE_SIZE, self.count)
        return Page([key_record(n) for n in range(offset, end)])


def key_walk(keys: Keys, **ahead: int) -> list[dict[str, object]]:
    return walk("/keys", keys, ident=lambda item: str(item["hash"]), noun="key", **ahead)


@pytest.mark.parametrize("count", [0, 1, PAGE_SIZE - 1])
def test_a_key_listing_that_fits_in_its_first_page_is_one_request(count: int):
    keys = Keys(count)
    assert key_walk(keys, page_size=PAGE_SIZE) == [key_record(n) for n in range(count)]
    assert keys.asked == [0]
    assert keys.callers == {threading.current_thread()}


def test_a_key_listing_of_one_full_page_asks_the_next_page_only():
    keys = Keys(PAGE_SIZE)
    assert len(key_walk(keys, page_size=PAGE_SIZE)) == PAGE_SIZE
    assert keys.asked == [0, PAGE_SIZE]  # as one page at a time: the empty page ends it


def test_a_key_listing_asks_pages_ahead_after_full_ones_and_wastes_at_most_three():
    # After the first two full pages, the third and fourth are asked together: each waits
    # for the other, which a walk one page at a time would never let happen.
    count = 5 * PAGE_SIZE
    together = threading.Barrier(2, timeout=5)
    held = (2 * PAGE_SIZE, 3 * PAGE_SIZE)
    keys = Keys(count, gate=lambda o: together.wait() if o in held else None)
    one_at_a_time = key_walk(Keys(count))
    assert key_walk(keys, page_size=PAGE_SIZE) == one_at_a_time
    assert len(one_at_a_time) == count
    needed = {PAGE_SIZE * n for n in range(6)}  # five full pages, then the empty one
    assert needed <= set(keys.asked)
    assert len(keys.asked) == len(set(keys.asked)) <= len(needed) + IN_FLIGHT - 1


def test_the_client_asks_key_pages_ahead():
    objects = [key_object(f"k{n}") for n in range(3 * PAGE_SIZE)]
    together = threading.Barrier(2, timeout=5)  # the second and third pages, at once

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        if offset in (2 * PAGE_SIZE, 3 * PAGE_SIZE):
            together.wait()
        return httpx.Response(200, json={"data": objects[offset : offset + PAGE_SIZE]})

    with client_for(handler) as client:
        listed = client.list_keys()
    assert [k.hash for k in listed] == [k["hash"] for k in objects]
