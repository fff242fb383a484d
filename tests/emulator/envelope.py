"""The one check every error answer of the emulator's tests goes through."""

from __future__ import annotations

import httpx


def error_of(response: httpx.Response) -> tuple[int, str]:
    """The status and message of an answer in OpenRouter's error envelope, which must be the
    whole body and repeat the status as `error.code`."""
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == response.status_code
    return response.status_code, body["error"]["message"]
