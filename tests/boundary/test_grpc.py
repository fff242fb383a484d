"""The provider as the engine drives it: `python -m pulumi.dynamic` over gRPC.

The direct tests call the methods; these prove the same behaviour survives the real servicer:
the pickle as `pulumi.dynamic.Resource` makes it, config from the `Configure` RPC, float
numbers, dropped `None`s, the traceback on errors, and the process's own stdout and stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.key import KeyProvider
from tests.support.sentinel import assert_absent

pytestmark = pytest.mark.grpc

PROJECT_ROOT = Path(__file__).resolve().parents[2]
URN = "urn:pulumi:test::openrouter-keys::pulumi-python:dynamic/openrouter:ApiKey::ci"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
START_TIMEOUT_S = 30.0
RPC_TIMEOUT_S = 30.0


@dataclass
class ProviderProcess:
    """A running `python -m pulumi.dynamic` and a stub connected to it."""

    process: subprocess.Popen[bytes]
    stub: provider_pb2_grpc.ResourceProviderStub
    channel: grpc.Channel
    output: dict[str, str] = field(default_factory=dict)

    def stop(self) -> dict[str, str]:
        """Kill the process (idempotent) and return what it wrote."""
        if not self.output:
            self.channel.close()
            self.process.kill()
            stdout, stderr = self.process.communicate(timeout=30)
            self.output = {
                "stdout": stdout.decode(errors="replace"),
                "stderr": stderr.decode(errors="replace"),
            }
        return self.output


def _read_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
    line = process.stdout.readline() if ready else b""
    if not line.strip().isdigit():
        process.kill()
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"provider did not print its port: {line!r} {stderr.decode()[-2000:]}")
    return int(line)


@pytest.fixture
def provider_process() -> Iterator[ProviderProcess]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PULUMI_PROJECT": "openrouter-keys",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    channel: grpc.Channel | None = None
    try:
        port = _read_port(process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
        running = ProviderProcess(process, provider_pb2_grpc.ResourceProviderStub(channel), channel)
        yield running
    finally:
        if channel is not None:
            channel.close()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """Serialize like the engine does (the SDK's own serializer, secrets and all)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def plain(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def props_of(struct_value: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct_value)


@pytest.fixture
def configured(provider_process, emulator, management_key) -> ProviderProcess:
    config = {
        CONFIG_MANAGEMENT_KEY: {**SECRET_SIG, "value": management_key},
        CONFIG_API_BASE_URL: emulator.api_base_url,
        "openrouter-keys:protectKeys": "true",
    }
    args = struct_pb2.Struct()
    args.update(config)
    response = provider_process.stub.Configure(
        provider_pb2.ConfigureRequest(args=args, acceptSecrets=True), timeout=RPC_TIMEOUT_S
    )
    assert response.acceptSecrets is False
    return provider_process


def test_full_lifecycle_over_grpc_leaks_no_secret(configured, emulator, management_key):
    stub = configured.stub
    serialized = serialize_provider(KeyProvider())
    responses: list[Any] = []

    def call(method: str, request: Any) -> Any:
        response = getattr(stub, method)(request, timeout=RPC_TIMEOUT_S)
        responses.append(response)
        return response

    news = {"name": "ci-deploy", "limit": 5, "limit_reset": "monthly", "__provider": serialized}
    checked = call("Check", provider_pb2.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []
    inputs = props_of(checked.inputs)
    assert inputs["__provider"] == serialized

    created = call("Create", provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    outs = props_of(created.properties)
    assert created.id == outs["hash"]
    stored = emulator.keys()
    assert [record["hash"] for record in stored] == [created.id]
    minted = outs["key"]
    assert isinstance(minted, str)
    assert minted
    assert outs["limit"] == 5
    assert outs["label"] != minted

    same = call("Diff", provider_pb2.DiffRequest(
        id=created.id, urn=URN, olds=created.properties, news=checked.inputs))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

    raised = {**inputs, "limit": 10}
    in_place = call("Diff", provider_pb2.DiffRequest(
        id=created.id, urn=URN, olds=created.properties, news=struct(raised)))
    assert (in_place.changes, list(in_place.replaces)) == (provider_pb2.DiffResponse.DIFF_SOME, [])

    expiring = {**inputs, "expires_at": "2099-01-01T00:00:00Z"}
    replace = call("Diff", provider_pb2.DiffRequest(
        id=created.id, urn=URN, olds=created.properties, news=struct(expiring)))
    assert list(replace.replaces) == ["expires_at"]
    assert replace.deleteBeforeReplace is False

    read = call("Read", provider_pb2.ReadRequest(
        id=created.id, urn=URN, properties=created.properties, inputs=checked.inputs))
    assert read.id == created.id
    assert props_of(read.properties)["key"] == minted
    # Nothing drifted: no inputs, so the engine keeps the recorded ones (config_path too).
    assert not read.HasField("inputs")

    updated = call("Update", provider_pb2.UpdateRequest(
        id=created.id, urn=URN, olds=read.properties, news=struct(raised)))
    updated_outs = props_of(updated.properties)
    assert (updated_outs["limit"], updated_outs["key"], updated_outs["hash"]) == (
        10, minted, created.id
    )

    call("Delete", provider_pb2.DeleteRequest(
        id=created.id, urn=URN, properties=updated.properties))
    assert emulator.keys() == []
    gone = call("Read", provider_pb2.ReadRequest(
        id=created.id, urn=URN, properties=updated.properties, inputs=checked.inputs))
    assert gone.id == ""

    output = configured.stop()
    for text in (output["stdout"], output["stderr"]):
        assert_absent(management_key, text)
        assert_absent(minted, text)
    for response in responses:
        shown = plain(response)
        for container in ("properties", "inputs"):
            shown.get(container, {}).pop("key", None)
        text = json.dumps(shown)
        assert_absent(management_key, text)
        assert_absent(minted, text)


def test_check_over_grpc_lists_every_failure(configured):
    news = {
        "name": "",
        "limit": -1,
        "limit_reset": "hourly",
        "expires_at": "2027-06-30T00:00Z",
        "__provider": serialize_provider(KeyProvider()),
    }
    checked = configured.stub.Check(
        provider_pb2.CheckRequest(urn=URN, olds=struct({}), news=struct(news)),
        timeout=RPC_TIMEOUT_S,
    )
    assert [failure.property for failure in checked.failures] == [
        "name", "limit", "limit_reset", "expires_at"
    ]


def test_regular_key_error_over_grpc_is_clear_and_redacted(provider_process, emulator):
    seeded = emulator.seed_key(name="not-a-management-key")
    regular = seeded.secret
    args = struct_pb2.Struct()
    args.update({
        CONFIG_MANAGEMENT_KEY: {**SECRET_SIG, "value": regular},
        CONFIG_API_BASE_URL: emulator.api_base_url,
    })
    provider_process.stub.Configure(provider_pb2.ConfigureRequest(args=args), timeout=RPC_TIMEOUT_S)
    news = {"name": "ci", "__provider": serialize_provider(KeyProvider())}
    with pytest.raises(grpc.RpcError) as raised:
        provider_process.stub.Create(
            provider_pb2.CreateRequest(urn=URN, properties=struct(news)), timeout=RPC_TIMEOUT_S
        )
    details = raised.value.details()
    assert "is a regular key, not a management key" in details
    assert "https://openrouter.ai/settings/management-keys" in details
    assert_absent(regular, details)
    stored = emulator.keys()
    assert [record["hash"] for record in stored] == [seeded.hash]
    assert [r["method"] for r in emulator.requests() if r["method"] != "GET"] == []
    output = provider_process.stop()
    assert_absent(regular, output["stdout"] + output["stderr"])
