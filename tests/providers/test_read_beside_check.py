"""A read's management-key check travels beside its first listing (issue 21): one round trip
before a refresh's first answer, not two, and nothing a read learnt is used, nor anything else
asked, before the verdict accepts the key (providers/base/session.py `checked_beside`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from providers.base import session
from providers.base.messages import ProviderError
from providers.http.client import ClientSettings, OpenRouterClient
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.http.listing import LISTINGS
from providers.key import KeyProvider
from tests.support.sentinel import assert_absent

CHECK = "/api/v1/key"
LISTING = "/api/v1/keys"
WAIT = 5.0
"""How long a gate waits for what the change makes happen first; a pass never waits it out."""


class Gated(httpx.BaseTransport):
    """The emulator over HTTP, each request first held by `before` (its path) and, once
    answered, reported to `after` (its path and status); `answer` may answer it instead."""

    def __init__(
        self,
        before: Callable[[str], None] = lambda _path: None,
        after: Callable[[str, int], None] = lambda _path, _status: None,
        answer: Callable[[str], httpx.Response | None] = lambda _path: None,
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.before, self.after, self.answer = before, after, answer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.before(path)
        response = self.answer(path)
        if response is None:
            response = self.inner.handle_request(request)
            response.read()
        self.after(path, response.status_code)
        return response


@pytest.fixture(autouse=True)
def _fresh_process_memory() -> Iterator[None]:
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def through(monkeypatch: pytest.MonkeyPatch, transport: Gated) -> None:
    """Every client the provider opens talks through `transport`."""

    def client(settings: ClientSettings) -> OpenRouterClient:
        return OpenRouterClient(settings, transport=transport)

    monkeypatch.setattr(session, "OpenRouterClient", client)


def provider_with(management_key: str, base_url: str) -> KeyProvider:
    provider = KeyProvider()
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: base_url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    return provider


def asked(emulator: Any) -> list[str]:
    return sorted(f"{r['method']} {r['path']}" for r in emulator.requests())


def test_the_check_and_the_first_listing_travel_together(emulator, management_key, monkeypatch):
    listing_asked = threading.Event()
    overlapped: list[bool] = []

    def before(path: str) -> None:
        if path == LISTING:
            listing_asked.set()
        if path == CHECK:  # answered only once the listing is on its way too
            overlapped.append(listing_asked.wait(WAIT))

    through(monkeypatch, Gated(before=before))
    key = emulator.seed_key("ci", limit=3)
    provider = provider_with(management_key, emulator.api_base_url)

    read = provider.read(key.hash, {"name": "ci"})

    assert (read.id, read.outs["limit"]) == (key.hash, 3)
    assert overlapped == [True]
    assert asked(emulator) == [f"GET {CHECK}", f"GET {LISTING}"]


def regular_verdict(path: str) -> httpx.Response | None:
    """`GET /key` as a regular key's answer; the rest goes to the emulator."""
    if path != CHECK:
        return None
    data = {"label": "sk-or-v1-abc...xyz", "is_management_key": False}
    return httpx.Response(200, json={"data": data})


def test_a_listing_answered_before_a_refusal_is_not_used(emulator, management_key, monkeypatch):
    listing_answered = threading.Event()
    answered_first: list[bool] = []

    def before(path: str) -> None:
        if path == CHECK:  # the verdict comes back only after the listing did
            answered_first.append(listing_answered.wait(WAIT))

    def after(path: str, _status: int) -> None:
        if path == LISTING:
            listing_answered.set()

    through(monkeypatch, Gated(before=before, after=after, answer=regular_verdict))
    key = emulator.seed_key("ci")
    provider = provider_with(management_key, emulator.api_base_url)

    with pytest.raises(ProviderError) as raised:
        provider.read(key.hash, {"name": "ci"})

    assert answered_first == [True]
    assert raised.value.kind == "management-key-not-management"
    # The words of the check that runs before a write, for the same answer.
    credentials = session.credentials_of(provider)
    with pytest.raises(ProviderError) as before_a_write, session.open_client(credentials) as c:
        session.ensure_management_key(c, credentials)
    assert str(raised.value) == str(before_a_write.value)
    assert_absent(management_key, str(raised.value))
    assert asked(emulator) == [f"GET {LISTING}"]  # the check never reached the emulator


def test_a_refused_key_asks_for_nothing_after_its_listing_failed(emulator, monkeypatch):
    # A key OpenRouter does not know: the listing fails, and the read does not fall back to
    # `GET /keys/{hash}` before the verdict, which refuses the key in the guard's words.
    one_key_asked = threading.Event()

    def before(path: str) -> None:
        if path.startswith(LISTING + "/"):
            one_key_asked.set()
        if path == CHECK:  # would let a fallback GET go first, were one sent before the verdict
            one_key_asked.wait(1.0)

    through(monkeypatch, Gated(before=before))
    key = emulator.seed_key("ci")
    unknown = emulator.add_management_key() + "0"
    provider = provider_with(unknown, emulator.api_base_url)

    with pytest.raises(ProviderError) as raised:
        provider.read(key.hash, {"name": "ci"})

    assert raised.value.kind == "management-key-invalid"
    assert not one_key_asked.is_set()
    assert asked(emulator) == [f"GET {CHECK}", f"GET {LISTING}"]


def test_a_verdict_known_in_the_process_asks_nothing_more(emulator, management_key, monkeypatch):
    through(monkeypatch, Gated())
    first, second = emulator.seed_key("a"), emulator.seed_key("b")
    provider = provider_with(management_key, emulator.api_base_url)
    provider.read(first.hash, {"name": "a"})
    LISTINGS.forget()
    emulator.clear_requests()

    assert provider.read(second.hash, {"name": "b"}).id == second.hash

    assert asked(emulator) == [f"GET {LISTING}"]


def test_reads_arriving_together_share_one_check_and_one_listing(
    emulator, management_key, monkeypatch
):
    listing_asked = threading.Event()

    def before(path: str) -> None:
        if path == LISTING:
            listing_asked.set()
        if path == CHECK:
            listing_asked.wait(WAIT)

    through(monkeypatch, Gated(before=before))
    keys = [emulator.seed_key(f"k{n}", limit=n + 1) for n in range(8)]
    provider = provider_with(management_key, emulator.api_base_url)
    start = threading.Barrier(len(keys))
    limits: dict[str, object] = {}

    def read(hash_: str) -> None:
        start.wait()
        limits[hash_] = provider.read(hash_, {"name": "x"}).outs["limit"]

    threads = [threading.Thread(target=read, args=(key.hash,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert limits == {key.hash: n + 1 for n, key in enumerate(keys)}
    assert asked(emulator) == [f"GET {CHECK}", f"GET {LISTING}"]
