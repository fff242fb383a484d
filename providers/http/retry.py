"""Retries for idempotent requests only (GET, PATCH, DELETE); never `POST /keys`.

The caller must state two things, stamina-style, or nothing runs: which idempotent method it
is sending (`POST` is refused outright) and which failures are worth another attempt (`retry_on`
has no default). So no code path can put a create through here by accident; the create has its
own, narrower rule in `client.py` (docs/adr/0002-ambiguous-create.md).

Backoff is exponential with full jitter, honours `Retry-After` (capped), and is bounded both by
a number of attempts and by a total time budget. This module knows nothing about httpx: it sees
only our own errors.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final, TypeVar

from providers.http.errors import ApiError, NetworkError, OpenRouterError

IDEMPOTENT_METHODS: Final = frozenset({"GET", "PATCH", "PUT", "DELETE"})
SETTING_POSTS: Final = frozenset({"/assignments/keys", "/assignments/keys/remove"})
"""Path endings of POSTs that set state rather than add to it: assigning a key to a guardrail
moves it there, so a repeat changes nothing (docs/reference/openrouter-api.md §7)."""
RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
BASE_DELAY_SECONDS: Final = 0.5
MAX_DELAY_SECONDS: Final = 8.0
RETRY_AFTER_CAP_SECONDS: Final = 30.0
"""A server asking for more than this is treated as asking for this: the budget decides."""

_T = TypeVar("_T")


class NotIdempotentError(ValueError):
    """A programming error: a non-idempotent method was handed to the retry helper."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, total seconds, and the sleep function (the test switch)."""

    max_attempts: int
    max_seconds: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[float, float], float] = field(default=random.uniform, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_seconds < 0:
            raise ValueError("max_seconds must not be negative")


def is_transient(error: OpenRouterError) -> bool:
    """429, 500, 502, 503, 504 and connection-level failures: worth another idempotent try."""
    if isinstance(error, ApiError):
        return error.status in RETRYABLE_STATUSES
    return isinstance(error, NetworkError)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or HTTP date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, policy: RetryPolicy, retry_after: float | None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP_SECONDS)
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
    return policy.jitter(0.0, ceiling)


class SharedPause:
    """The moment until which a server asked one client to wait (`Retry-After`), shared by
    every thread using that client.

    The provider serves as many calls at once as the engine sends, all on one client per
    credentials, and a rate limit is the account's: without this, each call in flight would
    collect a 429 of its own before backing off. The call that was answered waits in its retry
    loop; the others wait before their next request (`OpenRouterClient._request`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def hold(self, now: float, seconds: float) -> float:
        """Hold requests `seconds` from `now` (capped as a retry is); returns the moment."""
        with self._lock:
            self._until = max(self._until, now + min(seconds, RETRY_AFTER_CAP_SECONDS))
            return self._until

    @property
    def until(self) -> float:
        with self._lock:
            return self._until


def is_setting_post(method: str, path: str) -> bool:
    return method == "POST" and any(path.endswith(end) for end in SETTING_POSTS)


def call_idempotent(
    send: Callable[[], _T],
    *,
    method: str,
    retry_on: Callable[[OpenRouterError], bool],
    policy: RetryPolicy,
    path: str = "",
) -> _T:
    """Run `send` until it succeeds, `retry_on` declines, or the attempts or time run out.

    The last error is re-raised unchanged, so callers see the real cause.
    """
    if method not in IDEMPOTENT_METHODS and not is_setting_post(method, path):
        raise NotIdempotentError(
            f"{method} {path} is not idempotent and must not be retried blindly;"
            " only GET, PATCH, PUT, DELETE and assignment POSTs go through call_idempotent"
        )
    started = policy.clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return send()
        except OpenRouterError as error:
            if attempt >= policy.max_attempts or not retry_on(error):
                raise
            delay = backoff_delay(attempt, policy, getattr(error, "retry_after", None))
            if policy.clock() - started + delay > policy.max_seconds:
                raise
            policy.sleep(delay)
