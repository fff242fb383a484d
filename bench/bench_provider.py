"""What one `ApiKey` costs: HTTP calls per operation, pickle size, and latency through gRPC.

Run by hand (never a test): `.venv/bin/python -m bench.bench_provider [--rounds N]`. It starts the
emulator in-process and the real provider process (`python -m pulumi.dynamic`), and reports:

- HTTP calls per operation, counted from the emulator's request log;
- the size of the pickled provider each resource stores under `__provider`;
- the median latency of each operation through the gRPC boundary, as a ratio to the bare HTTP
  call it makes (the same client call against the same emulator, in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from emulator import run_emulator
from providers.base import session
from providers.http.client import ClientSettings, CreateKeyRequest, OpenRouterClient
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.key import KeyProvider

PROJECT_ROOT = Path(__file__).resolve().parents[1]
URN = "urn:pulumi:bench::openrouter-keys::pulumi-python:dynamic/openrouter:ApiKey::bench"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
TIMEOUT_S = 30.0


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _configured(api_base_url: str, management_key: str) -> KeyProvider:
    provider = KeyProvider()
    raw = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: api_base_url}
    provider.configure(ConfigureRequest(Config(raw, "openrouter-keys")))
    return provider


def count_calls(emulator: Any, management_key: str) -> dict[str, int]:
    """HTTP requests each provider operation sends, from a fresh process memory."""
    session.reset_process_memory()
    provider = _configured(emulator.api_base_url, management_key)
    counts: dict[str, int] = {}

    def measure(label: str, operation: Callable[[], Any]) -> Any:
        before = len(emulator.requests())
        result = operation()
        counts[label] = len(emulator.requests()) - before
        return result

    news = {"name": "bench", "limit": 5}
    measure("guard (first operation of a process: check)", lambda: provider.check({}, news))
    measure("check", lambda: provider.check({}, news))
    created = measure("create", lambda: provider.create(news))
    measure("create with disabled: true", lambda: provider.create({**news, "disabled": True}))
    measure("diff", lambda: provider.diff(created.id, created.outs, {**news, "limit": 6}))
    read = measure("read", lambda: provider.read(created.id, created.outs))
    updated = measure(
        "update", lambda: provider.update(created.id, read.outs, {**news, "limit": 6})
    )
    measure("delete", lambda: provider.delete(created.id, updated.outs))
    guard_gets = [
        r for r in emulator.requests() if r["method"] == "GET" and r["path"].endswith("/key")
    ]
    counts["guard GET /key in the whole process"] = len(guard_gets)
    session.reset_process_memory()
    return counts


def pickle_size() -> dict[str, int]:
    serialized = serialize_provider(KeyProvider())
    return {"base64 chars": len(serialized), "bytes": len(base64.b64decode(serialized))}


@contextmanager
def provider_process() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PULUMI_PROJECT": "openrouter-keys"}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], TIMEOUT_S)
        port = int(process.stdout.readline()) if ready else 0
        if not port:
            raise RuntimeError("the provider process did not print its port")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT_S)


def _timed(samples: dict[str, list[float]], label: str, call: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = call()
    samples.setdefault(label, []).append(time.perf_counter() - start)
    return result


def grpc_latency(emulator: Any, management_key: str, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    serialized = serialize_provider(KeyProvider())
    news = {"name": "bench", "limit": 5, "__provider": serialized}
    raised = {**news, "limit": 6}
    with provider_process() as stub:
        args = struct_pb2.Struct()
        args.update({
            CONFIG_MANAGEMENT_KEY: {**SECRET_SIG, "value": management_key},
            CONFIG_API_BASE_URL: emulator.api_base_url,
        })
        stub.Configure(provider_pb2.ConfigureRequest(args=args), timeout=TIMEOUT_S)
        # The first call pays unpickling, configure and the guard: not part of the medians.
        stub.Check(provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(news)))
        for _ in range(rounds):
            checked = _timed(samples, "check", lambda: stub.Check(
                provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(news)),
                timeout=TIMEOUT_S,
            ))
            created = _timed(samples, "create", lambda checked=checked: stub.Create(
                provider_pb2.CreateRequest(urn=URN, properties=checked.inputs), timeout=TIMEOUT_S
            ))
            _timed(samples, "diff", lambda created=created: stub.Diff(
                provider_pb2.DiffRequest(
                    id=created.id, urn=URN, olds=created.properties, news=_struct(raised)
                ),
                timeout=TIMEOUT_S,
            ))
            read = _timed(samples, "read", lambda created=created: stub.Read(
                provider_pb2.ReadRequest(id=created.id, urn=URN, properties=created.properties),
                timeout=TIMEOUT_S,
            ))
            updated = _timed(samples, "update", lambda created=created, read=read: stub.Update(
                provider_pb2.UpdateRequest(
                    id=created.id, urn=URN, olds=read.properties, news=_struct(raised)
                ),
                timeout=TIMEOUT_S,
            ))
            _timed(samples, "delete", lambda created=created, updated=updated: stub.Delete(
                provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=updated.properties),
                timeout=TIMEOUT_S,
            ))
    return samples


def bare_http(
    emulator: Any, management_key: str, rounds: int, *, fresh_client: bool
) -> dict[str, list[float]]:
    """The same client calls the provider makes, without the provider or gRPC around them.

    With `fresh_client` each call builds its own client, as the provider does per operation (an
    SSL context each time); without it one client is reused, which is the request alone.
    """
    samples: dict[str, list[float]] = {}
    settings = ClientSettings(api_key=management_key, base_url=emulator.api_base_url)
    with OpenRouterClient(settings) as shared:

        def once(call: Callable[[OpenRouterClient], Any]) -> Any:
            if not fresh_client:
                return call(shared)
            with OpenRouterClient(settings) as client:
                return call(client)

        once(lambda c: c.current_key())  # warm-up: first connection, imports
        for _ in range(rounds):
            _timed(samples, "GET /key", lambda: once(lambda c: c.current_key()))
            created = _timed(samples, "POST /keys", lambda: once(
                lambda c: c.create_key(CreateKeyRequest(name="bench", limit=5))
            ))
            hash_ = created.record.hash
            _timed(samples, "GET /keys/{hash}", lambda hash_=hash_: once(
                lambda c: c.get_key(hash_)
            ))
            _timed(samples, "PATCH /keys/{hash}", lambda hash_=hash_: once(
                lambda c: c.update_key(hash_, {"limit": 6})
            ))
            _timed(samples, "DELETE /keys/{hash}", lambda hash_=hash_: once(
                lambda c: c.delete_key(hash_)
            ))
    return samples


BARE_EQUIVALENT = {
    "check": None,
    "diff": None,
    "create": "POST /keys",
    "read": "GET /keys/{hash}",
    "update": "PATCH /keys/{hash}",
    "delete": "DELETE /keys/{hash}",
}


def render(
    *,
    counts: dict[str, int],
    size: dict[str, int],
    through_grpc: dict[str, list[float]],
    bare: dict[str, list[float]],
    bare_fresh: dict[str, list[float]],
    rounds: int,
) -> str:
    lines = ["### HTTP calls per operation", "", "| operation | HTTP calls |", "|---|---|"]
    lines += [f"| {label} | {count} |" for label, count in counts.items()]
    lines += [
        "",
        "### Pickle per resource (`__provider`)",
        "",
        f"{size['bytes']} bytes ({size['base64 chars']} base64 characters), the same for every"
        " resource and every configuration.",
        "",
        f"### Latency through gRPC (median of {rounds})",
        "",
        "| operation | through gRPC (ms) | bare HTTP call | bare, reused client (ms) | ratio"
        " | bare, fresh client (ms) | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for operation, bare_label in BARE_EQUIVALENT.items():
        grpc_ms = statistics.median(through_grpc[operation]) * 1000
        if bare_label is None:
            lines.append(f"| {operation} | {grpc_ms:.2f} | none (no HTTP) | - | - | - | - |")
            continue
        bare_ms = statistics.median(bare[bare_label]) * 1000
        fresh_ms = statistics.median(bare_fresh[bare_label]) * 1000
        lines.append(
            f"| {operation} | {grpc_ms:.2f} | {bare_label} | {bare_ms:.2f} |"
            f" {grpc_ms / bare_ms:.1f} | {fresh_ms:.2f} | {grpc_ms / fresh_ms:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="samples per operation")
    parser.add_argument(
        "--emulator-nodelay",
        action="store_true",
        help="set TCP_NODELAY on the emulator's responses (its keep-alive replies otherwise"
        " wait ~40 ms for a delayed ACK, which hides everything else)",
    )
    options = parser.parse_args()
    rounds = options.rounds
    if options.emulator_nodelay:
        from emulator.httpd import Handler  # noqa: PLC0415 - only for this experiment

        Handler.disable_nagle_algorithm = True
    with run_emulator() as emulator:
        management_key = emulator.add_management_key()
        counts = count_calls(emulator, management_key)
        size = pickle_size()
        bare = bare_http(emulator, management_key, rounds, fresh_client=False)
        bare_fresh = bare_http(emulator, management_key, rounds, fresh_client=True)
        through_grpc = grpc_latency(emulator, management_key, rounds)
    print(render(
        counts=counts,
        size=size,
        through_grpc=through_grpc,
        bare=bare,
        bare_fresh=bare_fresh,
        rounds=rounds,
    ))


if __name__ == "__main__":
    main()
