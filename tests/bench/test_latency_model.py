"""bench/latency_model.py: the model of issue 21 computed from a bench_engine JSON file."""

from __future__ import annotations

from bench.latency_model import model_seconds, report, rows


def sample(
    latency: int, operation: str, seconds: float, calls: dict[str, int]
) -> dict[str, object]:
    return {"latency_ms": latency, "keys": 100, "operation": operation, "side": "project",
            "seconds": [seconds], "calls": [calls]}


def test_the_model_is_the_start_up_then_the_calls_p_at_a_time():
    assert model_seconds(4.0, 100, 8, 200) == 4.0 + 2.5


def test_each_latency_is_compared_with_the_same_command_at_zero_ms_in_the_same_run():
    document = {"samples": [
        sample(0, "up", 4.0, {"POST /keys": 100}),
        sample(200, "up", 7.8, {"POST /keys": 100, "GET /key": 4}),
        sample(200, "destroy", 9.0, {"DELETE /keys/{hash}": 100}),  # no 0 ms run: left out
    ]}
    assert rows("after", document, 8) == [
        ["after", "200", "100", "up", "project", "4.00", "104", "6.60", "7.80", "1.18"],
    ]
    assert "P = 8" in report([("after", document)], 8)
