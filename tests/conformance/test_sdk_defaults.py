"""Why the project's client does not use the SDK with its defaults
(docs/adr/0006-client-stays-on-httpx.md).

The SDK, as it comes, retries `POST /keys` after a 5xx and after a timeout or network error
(`RetryConfig("backoff", ..., retry_connection_errors=True)`, status codes `5XX`). The API has no
idempotency key, so each retry can mint another key whose secret nobody holds. These tests pin that
behaviour: if a later SDK release stops doing it, they fail and the ADR is worth reopening.
(A connection closed with no answer at all, httpx's `RemoteProtocolError`, it does not retry.)
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys

import pytest

from emulator import Emulator, Fault
from tests.conformance.endpoints import SDK_DEPRECATION
from tests.conformance.harness import SdkFactory

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)


def test_default_retries_send_post_keys_again_after_a_500(
    emulator: Emulator, sdk_for: SdkFactory, management_key: str
):
    emulator.inject(Fault(path="/api/v1/keys", method="POST", status=500, retry_after="0.01"))

    sdk_for(management_key, retries=None).api_keys.create(name="sent-twice")

    assert [(r.method, r.status) for r in emulator.requests()] == [("POST", 500), ("POST", 201)]


def test_default_retries_mint_a_second_key_when_a_create_times_out(
    emulator: Emulator, sdk_for: SdkFactory, management_key: str
):
    # The first create is stored at once; its answer comes too late for the client. The margins
    # are wide so that a busy machine cannot time the retry out as well (it once did at 100 ms).
    emulator.inject(
        Fault(path="/api/v1/keys", method="POST", latency_after_commit=4.0)
    )
    sdk = sdk_for(management_key, retries=None, timeout_ms=1500)

    answer = sdk.api_keys.create(name="timed-out")

    stored = emulator.keys()
    assert [key["name"] for key in stored] == ["timed-out", "timed-out"]
    orphans = [key for key in stored if key["hash"] != answer.data.hash]
    assert len(orphans) == 1  # a live key whose secret was sent to nobody


FINALIZER_PROBE = """
import asyncio, gc
from openrouter import OpenRouter
OpenRouter(api_key="x")
gc.collect()
try:
    asyncio.get_event_loop_policy().get_event_loop()
except RuntimeError as error:
    raise SystemExit(f"no event loop: {error}")
"""


def test_an_sdk_left_to_make_its_own_async_client_takes_the_threads_event_loop_away():
    # Its finalizer closes that client with asyncio.run(), which ends by unsetting the loop:
    # in a process that runs asyncio (the Pulumi provider), the next get_event_loop() fails.
    finished = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", FINALIZER_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 1
    assert "no event loop: There is no current event loop" in finished.stderr


def test_the_suites_sdk_clients_leave_the_event_loop_alone(sdk_for: SdkFactory):
    sdk_for("sk-or-v1-" + "0" * 8)
    gc.collect()

    assert asyncio.get_event_loop_policy().get_event_loop() is not None
