"""HTTP clients for the emulator tests: real loopback requests through httpx.

Every client shares one TLS context: httpx loads the CA bundle for each new client (about 50 ms),
which for plain-http loopback calls is pure waste and would dominate this folder's runtime.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from emulator import Emulator

ClientFactory = Callable[..., httpx.Client]


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


@pytest.fixture
def new_client(tls_context: ssl.SSLContext) -> Iterator[ClientFactory]:
    """Make httpx clients (closed after the test) that share the session TLS context."""
    clients: list[httpx.Client] = []

    def make(**options: Any) -> httpx.Client:
        options.setdefault("timeout", 5.0)
        client = httpx.Client(verify=tls_context, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client_for(
    emulator: Emulator, new_client: ClientFactory
) -> Callable[[str | None], httpx.Client]:
    """An httpx client on the API base URL that sends the given key (None: no header)."""

    def make(key: str | None) -> httpx.Client:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return new_client(base_url=emulator.api_base_url, headers=headers)

    return make


@pytest.fixture
def api(client_for: Callable[[str | None], httpx.Client], management_key: str) -> httpx.Client:
    """A client holding this test's management key."""
    return client_for(management_key)


@pytest.fixture
def admin(emulator: Emulator, new_client: ClientFactory) -> httpx.Client:
    """A client on the unauthenticated admin routes."""
    return new_client(base_url=f"{emulator.url}/_emulator")
