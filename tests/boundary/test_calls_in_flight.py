"""Calls in flight follow the engine (issue 21): the provider process, `python -m
pulumi.dynamic`, serves as many calls at once as the engine's parallelism, not the SDK's four.

The SDK builds its gRPC server on `ThreadPoolExecutor(max_workers=4)`; `provider_process.install()`
raises that pool's limit from inside the first call. These tests drive the real servicer over gRPC
with a provider that only waits (tests/support/slow_provider.py), and pin the SDK shape the
mechanism relies on.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import select
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from providers.base import provider_process
from tests.boundary.test_grpc import struct
from tests.support.slow_provider import SlowProvider

pytestmark = pytest.mark.grpc

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
WAIT_S = 1.5
"""How long each call waits: long enough that calls started together overlap on a busy machine."""


def overlap(spans: list[tuple[float, float]]) -> int:
    """The most spans running at one moment."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_overlap_counts_the_most_spans_at_one_moment():
    assert overlap([(0, 1), (1, 2), (2, 3)]) == 1
    assert overlap([(0, 3), (1, 2), (1.5, 4)]) == 3


@pytest.fixture
def provider_stub(request) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """`python -m pulumi.dynamic` with the environment the test passes (indirect parameter)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PULUMI_PROJECT": "openrouter-keys",
        **request.param,
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    channel: grpc.Channel | None = None
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else b""
        assert line.strip().isdigit(), f"no port: {line!r}"
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        stub.Configure(provider_pb2.ConfigureRequest(args=struct_pb2.Struct()), timeout=30)
        yield stub
    finally:
        if channel is not None:
            channel.close()
        process.kill()
        process.communicate(timeout=30)


def run_at_once(stub: provider_pb2_grpc.ResourceProviderStub, calls: int) -> int:
    """Send `calls` slow creates together, as the engine does with `--parallel`; how many ran at
    one moment in the provider process."""
    serialized = serialize_provider(SlowProvider())
    barrier = threading.Barrier(calls)

    def create(index: int) -> tuple[float, float]:
        props = struct({"__provider": serialized, "seconds": WAIT_S, "name": f"k{index}"})
        barrier.wait()
        response = stub.Create(
            provider_pb2.CreateRequest(urn=f"urn:k{index}", properties=props), timeout=60
        )
        outs: dict[str, Any] = rpc.deserialize_properties(response.properties)
        return outs["started"], outs["ended"]

    with ThreadPoolExecutor(max_workers=calls) as senders:
        spans = list(senders.map(create, range(calls)))
    return overlap(spans)


@pytest.mark.parametrize("provider_stub", [{"PULUMI_PARALLEL": "10"}], indirect=True)
def test_the_provider_process_runs_as_many_calls_at_once_as_the_engine_sends(provider_stub):
    # Fails without the fix: the SDK's pool runs four, the other six wait for them.
    assert run_at_once(provider_stub, 10) == 10


@pytest.mark.parametrize("provider_stub", [{"PULUMI_PARALLEL": "1"}], indirect=True)
def test_a_lower_parallelism_is_left_to_the_engine(provider_stub):
    # The pool never shrinks below the SDK's four; the engine sends no more than `--parallel`.
    assert run_at_once(provider_stub, 6) == provider_process.SDK_WORKERS


@pytest.mark.parametrize(
    ("environ", "cpus", "workers"),
    [
        ({}, 2, 8),  # the engine's default on this 2-core machine: 4 x CPUs
        ({}, 16, 64),
        ({"PULUMI_PARALLEL": "24"}, 2, 24),  # the engine's own variable wins, as in the engine
        ({"PULUMI_PARALLEL": "0"}, 2, 8),  # not positive: the engine ignores it too
        ({"PULUMI_PARALLEL": "many"}, 2, 8),
        ({"GOMAXPROCS": "3"}, 16, 12),  # the engine counts GOMAXPROCS, not the CPUs, when set
        ({"PULUMI_PARALLEL": "2"}, 2, 4),  # never fewer than the SDK's four
        ({"PULUMI_PARALLEL": "100000"}, 2, provider_process.MAX_WORKERS),
    ],
)
def test_the_pool_follows_the_engines_parallelism(environ, cpus, workers):
    assert provider_process.pool_workers(environ, cpus) == workers


def test_widening_serves_the_calls_already_queued_at_once_and_never_narrows():
    # The first call widens the pool while the engine's next calls already wait in its queue:
    # they must start now, not one per later submission.
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=4) as pool:
        busy = [pool.submit(release.wait, 30) for _ in range(4)]
        queued = [pool.submit(threading.Event().wait, 0) for _ in range(5)]
        assert provider_process.widen(pool, 9) == 9
        for future in queued:
            assert future.result(timeout=10) is False
        assert not any(future.done() for future in busy)
        assert provider_process.widen(pool, 5) == 9
        release.set()


def test_the_serving_pool_is_found_from_its_worker_and_nowhere_else():
    assert provider_process.serving_pool() is None
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert pool.submit(provider_process.serving_pool).result() is pool


def test_the_sdk_still_serves_grpc_from_a_thread_pool_of_four():
    # `install()` widens the pool its first call runs on, and the pool limit is read as the SDK
    # sets it: a servicer built another way (asyncio, another pool size) needs another look.
    spec = importlib.util.find_spec(provider_process.SERVICER_MODULE)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    main = next(
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "main"
    )
    pools = [
        ast.unparse(node) for node in ast.walk(main)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("ThreadPoolExecutor")
    ]
    assert pools == [f"futures.ThreadPoolExecutor(max_workers={provider_process.SDK_WORKERS})"]
