"""The retry helper: idempotent methods only, an explicit predicate, bounded attempts and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.http import retry
from providers.http.errors import (
    BadRequestError,
    KeyNotFound,
    NetworkError,
    OpenRouterError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
)
from providers.http.retry import (
    RETRY_AFTER_CAP_SECONDS,
    NotIdempotentError,
    RetryPolicy,
    backoff_delay,
    call_idempotent,
    is_transient,
    parse_retry_after,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy(clock: FakeClock, *, attempts: int = 5, seconds: float = 60.0) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts,
        max_seconds=seconds,
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda low, high: high,  # the ceiling, so delays are predictable
    )


def failing(*errors: OpenRouterError, result: str = "ok"):
    pending = list(errors)
    calls: list[int] = []

    def send() -> str:
        calls.append(1)
        if pending:
            raise pending.pop(0)
        return result

    return send, calls


def server_error(status: int = 503, retry_after: float | None = None) -> ServerError:
    return ServerError("x", method="GET", path="/keys", status=status, retry_after=retry_after)


@pytest.mark.parametrize("method", ["POST", "post", "put", "", "Get"])
def test_non_idempotent_methods_are_refused_before_anything_is_sent(method):
    send, calls = failing()
    with pytest.raises(NotIdempotentError, match="not idempotent"):
        call_idempotent(send, method=method, retry_on=is_transient, policy=policy(FakeClock()))
    assert calls == []


@pytest.mark.parametrize("path", ["/keys", "/guardrails", "/workspaces", "/guardrails/g/x"])
def test_a_create_post_is_refused_wherever_it_goes(path):
    send, calls = failing()
    with pytest.raises(NotIdempotentError, match=f"POST {path} is not idempotent"):
        call_idempotent(
            send, method="POST", retry_on=is_transient, policy=policy(FakeClock()), path=path
        )
    assert calls == []


@pytest.mark.parametrize(
    "path", ["/guardrails/g/assignments/keys", "/guardrails/g/assignments/keys/remove"]
)
def test_an_assignment_post_sets_state_and_is_retried(path):
    clock = FakeClock()
    send, calls = failing(server_error())
    assert (
        call_idempotent(send, method="POST", retry_on=is_transient, policy=policy(clock), path=path)
        == "ok"
    )
    assert len(calls) == 2


def test_the_predicate_has_no_default():
    send, _ = failing()
    with pytest.raises(TypeError, match="retry_on"):
        call_idempotent(send, method="GET", policy=policy(FakeClock()))  # type: ignore[call-arg]


def test_success_after_transient_failures_sleeps_with_growing_backoff():
    clock = FakeClock()
    send, calls = failing(server_error(), server_error(), server_error())
    assert call_idempotent(send, method="GET", retry_on=is_transient, policy=policy(clock)) == "ok"
    assert len(calls) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_gives_up_after_max_attempts_and_raises_the_last_error():
    clock = FakeClock()
    last = server_error(504)
    send, calls = failing(server_error(), server_error(), last)
    with pytest.raises(ServerError) as caught:
        call_idempotent(
            send, method="DELETE", retry_on=is_transient, policy=policy(clock, attempts=3)
        )
    assert caught.value is last
    assert len(calls) == 3
    assert len(clock.sleeps) == 2


def test_gives_up_when_the_next_wait_would_pass_the_time_budget():
    clock = FakeClock()
    send, calls = failing(*(server_error(retry_after=4.0) for _ in range(10)))
    with pytest.raises(ServerError):
        call_idempotent(send, method="GET", retry_on=is_transient, policy=policy(clock, seconds=10))
    assert clock.sleeps == [4.0, 4.0]
    assert len(calls) == 3
    assert clock.now <= 10


def test_retry_after_is_capped():
    clock = FakeClock()
    send, _ = failing(RateLimitedError("x", method="GET", path="/k", status=429, retry_after=3600))
    call_idempotent(send, method="PATCH", retry_on=is_transient, policy=policy(clock, seconds=999))
    assert clock.sleeps == [RETRY_AFTER_CAP_SECONDS]


def test_the_callers_predicate_decides():
    clock = FakeClock()
    send, calls = failing(server_error())
    with pytest.raises(ServerError):
        call_idempotent(send, method="GET", retry_on=lambda _e: False, policy=policy(clock))
    assert len(calls) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ServerError("x", method="GET", path="/", status=500), True),
        (ServerError("x", method="GET", path="/", status=502), True),
        (ServerError("x", method="GET", path="/", status=503), True),
        (ServerError("x", method="GET", path="/", status=504), True),
        (ServerError("x", method="GET", path="/", status=501), False),
        (RateLimitedError("x", method="GET", path="/", status=429), True),
        (NetworkError("x", method="GET", path="/", definite=True), True),
        (NetworkError("x", method="GET", path="/", definite=False), True),
        (BadRequestError("x", method="GET", path="/", status=400), False),
        (UnauthorizedError("x", method="GET", path="/", status=401), False),
        (KeyNotFound("x", method="GET", path="/", status=404), False),
    ],
)
def test_which_failures_are_transient(error, transient):
    assert is_transient(error) is transient


def test_non_openrouter_exceptions_are_never_swallowed():
    def send() -> str:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        call_idempotent(send, method="GET", retry_on=lambda _e: True, policy=policy(FakeClock()))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0.25", 0.25),
        (" 3 ", 3.0),
        ("-5", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
    ],
)
def test_retry_after_seconds_forms(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date_is_seconds_from_now():
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=now) == 90.0


def test_retry_after_date_in_the_past_means_no_wait():
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(header, now=now) == 0.0


@given(st.integers(min_value=1, max_value=50))
def test_jittered_backoff_stays_within_its_ceiling(attempt):
    real = RetryPolicy(max_attempts=3, max_seconds=1)
    delay = backoff_delay(attempt, real, None)
    assert 0.0 <= delay <= min(retry.MAX_DELAY_SECONDS, 0.5 * 2 ** (attempt - 1))


def test_policy_refuses_zero_attempts():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0, max_seconds=1)
