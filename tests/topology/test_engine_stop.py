"""The engine ending the program is one line (topology/engine_stop.py); the e2e proof through
bin/pulumi, a GitHub consumer without its plugin, is tests/e2e/test_messages_e2e.py."""

from __future__ import annotations

import grpc
import pytest
from pulumi.runtime import settings as sdk_settings

from topology.engine_stop import STOPPED, EngineStoppedError, install_engine_stop


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    current = sdk_settings.grpc_error_to_exception
    monkeypatch.setattr(sdk_settings, "grpc_error_to_exception", current)
    install_engine_stop()
    install_engine_stop()  # idempotent: never wraps itself


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("code", [grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE])
def test_a_monitor_that_stopped_is_one_run_error_with_the_projects_line(code):
    with pytest.raises(EngineStoppedError) as caught:
        sdk_settings.handle_grpc_error(FakeRpcError(code, "context canceled"))
    assert str(caught.value) == STOPPED
    assert "docs/troubleshooting.md" in STOPPED


@pytest.mark.usefixtures("installed")
def test_every_other_grpc_failure_keeps_the_sdks_handling():
    error = sdk_settings.grpc_error_to_exception(FakeRpcError(grpc.StatusCode.INTERNAL, "boom"))
    assert type(error) is Exception
    assert str(error) == "boom"

