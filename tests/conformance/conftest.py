"""Fixtures of the conformance suite: OpenRouter's own SDK, pointed at the emulator over
loopback HTTP, retries off unless a test asks for the SDK's defaults (tests/conformance/harness.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openrouter import OpenRouter
from openrouter.utils import RetryConfig

from emulator import Emulator
from tests.conformance.harness import NO_RETRIES, TIMEOUT_MS, Sdk, SdkFactory


@pytest.fixture(scope="session")
def unused_async_client() -> httpx.AsyncClient:
    """Handed to every SDK client so the SDK never makes its own.

    An `OpenRouter()` that made its async client closes it from a finalizer with `asyncio.run`,
    which leaves the thread with no current event loop: every later test that needs one (the
    Pulumi mocks) then fails. No request ever goes through this client, so it holds nothing to
    close.
    """
    return httpx.AsyncClient(follow_redirects=False)


@pytest.fixture
def sdk_for(emulator: Emulator, unused_async_client: httpx.AsyncClient) -> Iterator[SdkFactory]:
    """Build SDK clients holding a given key; `retries=None` keeps the SDK's own defaults.

    Each uses its own httpx client (closed after the test) that never follows a redirect and
    keeps every answer, so a test can compare the raw JSON with what the SDK parsed.
    """
    made: list[httpx.Client] = []

    def make(
        key: str, *, retries: RetryConfig | None = NO_RETRIES, timeout_ms: int = TIMEOUT_MS
    ) -> Sdk:
        answers: list[httpx.Response] = []

        def keep(response: httpx.Response) -> None:
            response.read()
            answers.append(response)

        http = httpx.Client(follow_redirects=False, event_hooks={"response": [keep]})
        made.append(http)
        options: dict[str, Any] = {} if retries is None else {"retry_config": retries}
        client = OpenRouter(
            api_key=key,
            server_url=emulator.api_base_url,
            client=http,
            async_client=unused_async_client,
            timeout_ms=timeout_ms,
            **options,
        )
        return Sdk(client, answers)

    yield make
    for http in made:
        http.close()


@pytest.fixture
def sdk(sdk_for: SdkFactory, management_key: str) -> Sdk:
    """The SDK holding this test's management key."""
    return sdk_for(management_key)
