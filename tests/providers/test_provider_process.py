"""What the provider does to its own process (providers/base/provider_process.py): errors on one
line,
exit with the engine, and no key minted for an engine that is gone (issue 9, cases 5 and 6)."""

from __future__ import annotations

import ast
import importlib.util
import socket
from pathlib import Path

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import proto

from providers.base import provider_process, session
from providers.base.messages import ProviderError, provider_error
from providers.guardrail import GuardrailProvider
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.key import KeyProvider


@pytest.fixture(autouse=True)
def _fresh():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


@pytest.mark.parametrize(
    ("argv", "address"),
    [
        (["main.py", "127.0.0.1:40123"], ("127.0.0.1", 40123)),
        (["main.py", "--tracing", "x", "[::1]:40123"], ("::1", 40123)),
        (["main.py"], None),
        (["main.py", "not-an-address"], None),
    ],
)
def test_the_engine_address_is_the_plugins_last_argument(argv, address):
    assert provider_process.engine_address(argv) == address


def test_an_engine_that_listens_is_there_and_a_closed_port_is_not():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = server.getsockname()
        assert provider_process.engine_listening(address) is True
    assert provider_process.engine_listening(address) is False


def test_without_a_known_engine_the_process_is_taken_as_served():
    assert provider_process.engine_listening(None) is True


def test_a_provider_error_is_formatted_as_one_line_with_its_kind():
    try:
        raise provider_error("management-key-missing")
    except ProviderError:
        shown = provider_process._OneLineTraceback.format_exc()
    assert "\n" not in shown
    assert "Traceback" not in shown
    assert shown.endswith("[management-key-missing]")


def test_anything_else_keeps_its_traceback():
    try:
        raise ValueError("a bug")
    except ValueError:
        shown = provider_process._OneLineTraceback.format_exc()
    assert shown.startswith("Traceback (most recent call last):")


def test_the_sdk_servicer_still_formats_failed_calls_with_traceback_format_exc():
    # The one-line display swaps the servicer's `traceback` global: a servicer that formats
    # errors another way would show tracebacks again, so its shape is pinned here. (Its module
    # serves gRPC when imported, so it is read, not imported.)
    spec = importlib.util.find_spec(provider_process.SERVICER_MODULE)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    wrapper = next(
        node for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "_abort_with_traceback"
    )
    calls = {ast.unparse(node.func) for node in ast.walk(wrapper) if isinstance(node, ast.Call)}
    assert "traceback.format_exc" in calls
    assert any(
        isinstance(node, ast.Import) and any(a.name == "traceback" for a in node.names)
        for node in tree.body
    )


def test_install_does_nothing_outside_the_provider_process():
    assert provider_process.servicer_module() is None  # pytest is __main__ here
    provider_process.install()
    assert provider_process._STATE.installed is False


def test_a_key_minted_after_the_engine_went_away_is_deleted_again(
    emulator, management_key, monkeypatch
):
    provider = KeyProvider()
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: emulator.api_base_url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    monkeypatch.setattr("providers.key.engine_listening", lambda: False)

    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "ci"})

    assert raised.value.kind == "create-undeliverable"
    assert emulator.keys() == []
    methods = [r.method for r in emulator.requests()]
    assert methods.count("POST") == 1
    assert methods.count("DELETE") == 1


def test_calls_in_flight_are_counted_until_they_end():
    with provider_process.provider_call():
        with provider_process.provider_call():
            assert provider_process._STATE.in_flight == 2
        assert provider_process._STATE.in_flight == 1
    assert provider_process._STATE.in_flight == 0


def test_a_diff_answer_names_the_inputs_the_providers_diff_found_changed():
    # The SDK's `DiffResult` has no `diffs`: without the relay the engine got no field names,
    # so the preview showed `~ update` alone and `up` printed no `[diff: ...]`.
    relay = provider_process._ProtoWithDiffs(proto)
    olds = {"name": "ci", "policy": {"limit_usd": 1.0}, "config_path": "guardrails.ci"}
    news = {**olds, "name": "ci-2", "policy": {"limit_usd": 2.0}, "config_path": "guardrails.b"}
    result = GuardrailProvider().diff("id", olds, news)

    answer = relay.DiffResponse(changes=relay.DiffResponse.DIFF_SOME, replaces=result.replaces)

    assert list(answer.diffs) == ["name", "policy"]  # bookkeeping (`config_path`) never
    assert answer.changes == proto.DiffResponse.DIFF_SOME
    assert list(relay.DiffResponse(changes=relay.DiffResponse.DIFF_NONE).diffs) == []
    assert relay.CheckResponse is proto.CheckResponse
