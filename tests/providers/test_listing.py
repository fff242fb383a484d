"""The listing cache that answers reads (providers/http/listing.py,
docs/adr/0014-reads-in-pages.md):
one listing per scope however many threads ask, no older than its window, forgotten by any
write, a failure never cached as an answer, an absent object confirmed by its own request."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import pytest

from providers.base.provider_process import redacted_errors
from providers.http.errors import ServerError
from providers.http.listing import LISTINGS, Listings, listed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Fetch:
    """A listing that counts how often it is taken; optionally slow, or failing."""

    def __init__(self, items: Mapping[str, int], delay: float = 0.0, fail: bool = False) -> None:
        self.items = dict(items)
        self.delay = delay
        self.fail = fail
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> Mapping[str, int]:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise ServerError("GET /keys: HTTP 500", method="GET", path="/keys", status=500)
        return self.items


@pytest.fixture(autouse=True)
def _fresh() -> None:
    LISTINGS.forget()


def test_many_threads_make_one_listing_and_all_get_its_answer() -> None:
    cache = Listings()
    fetch = Fetch({"a": 1}, delay=0.2)
    answers: list[Mapping[str, int] | None] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        answers.append(cache.lookup("ws", fetch))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetch.calls == 1
    assert answers == [{"a": 1}] * 8


def test_each_scope_is_listed_on_its_own() -> None:
    cache = Listings()
    first, second = Fetch({"a": 1}), Fetch({"b": 2})
    assert cache.lookup("ws-1", first) == {"a": 1}
    assert cache.lookup("ws-2", second) == {"b": 2}
    assert cache.lookup("ws-1", first) == {"a": 1}
    assert (first.calls, second.calls) == (1, 1)


def test_a_listing_answers_within_its_window_only() -> None:
    clock = Clock()
    cache = Listings(window=10.0, clock=clock)
    fetch = Fetch({"a": 1})
    cache.lookup("ws", fetch)
    clock.now += 9.9
    cache.lookup("ws", fetch)
    assert fetch.calls == 1
    clock.now += 0.1  # 10 s after it was asked for: too old to answer
    fetch.items = {"a": 2}
    assert cache.lookup("ws", fetch) == {"a": 2}
    assert fetch.calls == 2


def test_the_window_counts_from_when_the_listing_was_asked_for() -> None:
    clock = Clock()
    cache = Listings(window=10.0, clock=clock)

    def slow() -> Mapping[str, int]:
        clock.now += 8.0  # the listing itself took 8 s
        return {"a": 1}

    cache.lookup("ws", slow)
    clock.now += 2.0
    fetch = Fetch({"a": 3})
    assert cache.lookup("ws", fetch) == {"a": 3}


def test_a_write_forgets_every_listing_and_none_answers_while_it_runs() -> None:
    cache = Listings()
    fetch = Fetch({"a": 1})
    cache.lookup("ws", fetch)
    with cache.writing():
        assert cache.lookup("ws", fetch) is None
        assert fetch.calls == 1  # not even taken while a write runs
    assert cache.lookup("ws", fetch) == {"a": 1}
    assert fetch.calls == 2


def test_a_listing_taken_while_a_write_began_is_not_kept() -> None:
    cache = Listings()
    release = threading.Event()
    listing_started = threading.Event()

    def racing() -> Mapping[str, int]:
        listing_started.set()
        release.wait(5)
        return {"a": 1}

    answer: list[Mapping[str, int] | None] = []
    reader = threading.Thread(target=lambda: answer.append(cache.lookup("ws", racing)))
    reader.start()
    assert listing_started.wait(5)
    with cache.writing():
        release.set()
        reader.join()
    assert answer == [None]  # it may predate the write: the caller asks for its one object
    fetch = Fetch({"a": 2})
    assert cache.lookup("ws", fetch) == {"a": 2}


def test_a_failed_listing_answers_nothing_and_is_not_retried_within_the_window() -> None:
    clock = Clock()
    cache = Listings(window=10.0, clock=clock)
    fetch = Fetch({"a": 1}, fail=True)
    assert cache.lookup("ws", fetch) is None
    assert cache.lookup("ws", fetch) is None
    assert fetch.calls == 1
    clock.now += 10.0
    fetch.fail = False
    assert cache.lookup("ws", fetch) == {"a": 1}


def test_listed_confirms_an_absent_object_with_its_own_request() -> None:
    fetch = Fetch({"a": 1})
    confirmed: list[str] = []

    def confirm(wanted: str, answer: int | None) -> int | None:
        confirmed.append(wanted)
        return answer

    assert listed("ws", fetch, "a", lambda: confirm("a", 99)) == 1
    assert listed("ws", fetch, "b", lambda: confirm("b", None)) is None
    assert listed("ws", fetch, "c", lambda: confirm("c", 3)) == 3
    assert confirmed == ["b", "c"]
    assert fetch.calls == 1


def test_every_provider_write_marks_itself_and_a_read_does_not() -> None:
    seen: dict[str, Mapping[str, int] | None] = {}
    fetch = Fetch({"a": 1})
    for operation in ("create", "update", "delete", "read", "check", "diff"):

        @redacted_errors(operation)
        def call(operation: str = operation) -> None:
            seen[operation] = LISTINGS.lookup(("scope", operation), fetch)

        call()
    assert {op: answer is None for op, answer in seen.items()} == {
        "create": True, "update": True, "delete": True,
        "read": False, "check": False, "diff": False,
    }


def test_a_write_after_a_read_makes_the_next_read_list_again() -> None:
    fetch = Fetch({"a": 1})
    LISTINGS.lookup("ws", fetch)

    @redacted_errors("update")
    def write() -> None:
        return None

    write()
    LISTINGS.lookup("ws", fetch)
    assert fetch.calls == 2
