"""`expires_at` must carry seconds (the SDK's CreateKeysRequestBody: "minute-precision timestamps
are rejected"), and every layer of the project refuses a minute-precision one with its fix.

The stack file (`expiresAt`, topology/config.py) and the provider's input check (`expires_at`,
providers/key_inputs.py) already required seconds; these tests prove both, beside the emulator,
so the
rule cannot drift apart between them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from emulator import Emulator
from providers.key_inputs import check_inputs
from tests.conformance.endpoints import SDK_DEPRECATION
from tests.conformance.harness import Sdk
from topology.config import parse_keys

MINUTE_PRECISION = ("2099-06-30T00:00Z", "2099-06-30T00:00+00:00")
NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", MINUTE_PRECISION)
def test_the_stack_file_refuses_expires_at_without_seconds_and_gives_the_fix(value):
    *_, problems = parse_keys(json.dumps({"ci": {"expiresAt": value}}))

    assert [problem.render() for problem in problems] == [
        f"keys.ci.expiresAt: '{value}' is not allowed; allowed: an RFC 3339 UTC timestamp with"
        " seconds, e.g. '2027-06-30T00:00:00Z'. Fix: write the instant in UTC ending in Z, in"
        " quotes, or remove `expiresAt` for a key that never expires."
    ]


@pytest.mark.parametrize("value", MINUTE_PRECISION)
def test_the_provider_refuses_expires_at_without_seconds_and_gives_the_fix(value):
    [failure] = check_inputs({}, {"name": "ci", "expires_at": value}, NOW)

    assert failure.property == "expires_at"
    assert failure.reason == (
        f"`expires_at`: '{value}' is not allowed: expected an RFC 3339 timestamp with seconds and"
        " a UTC zone, e.g. '2027-06-30T00:00:00Z'."
    )


def test_both_accept_the_same_instant_with_seconds():
    assert parse_keys(json.dumps({"ci": {"expiresAt": "2099-06-30T00:00:00Z"}}))[-1] == []
    assert check_inputs({}, {"name": "ci", "expires_at": "2099-06-30T00:00:00Z"}, NOW) == []


@pytest.mark.parametrize("value", MINUTE_PRECISION)
def test_the_emulator_refuses_what_the_api_refuses(
    emulator: Emulator, sdk: Sdk, management_key: str, value: str
):
    # A body the SDK itself could never send: its `expires_at` is a datetime.
    with httpx.Client(base_url=emulator.api_base_url) as http:
        answer = http.post(
            "/keys",
            json={"name": "ci", "expires_at": value},
            headers={"Authorization": f"Bearer {management_key}"},
        )

    assert answer.status_code == 400
    assert emulator.keys() == []


@pytest.mark.filterwarnings(SDK_DEPRECATION)
def test_the_sdk_always_sends_seconds_even_when_they_are_zero(emulator: Emulator, sdk: Sdk):
    sdk.api_keys.create(name="ci", expires_at=datetime(2099, 6, 30, tzinfo=UTC))

    [request] = emulator.requests()
    assert request.body["expires_at"] == "2099-06-30T00:00:00Z"
