"""The provider as it is stored in state: a bare class reference, with nothing secret inside."""

from __future__ import annotations

import base64
import pickletools
import subprocess
import sys
from pathlib import Path

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from providers import session
from providers.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY, ENV_MANAGEMENT_KEY
from providers.key import ApiKey, KeyProvider
from tests.support.sentinel import assert_absent

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _forget_configured_providers():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def configured_provider(secret: str) -> KeyProvider:
    provider = KeyProvider()
    config = Config(
        {CONFIG_MANAGEMENT_KEY: secret, CONFIG_API_BASE_URL: "http://127.0.0.1:9/api/v1"},
        "openrouter-keys",
    )
    provider.configure(ConfigureRequest(config))
    return provider


def pickled(provider: KeyProvider) -> bytes:
    """Exactly what `pulumi.dynamic.Resource` stores under `__provider`, decoded."""
    return base64.b64decode(serialize_provider(provider))


def test_provider_module_and_type_token_are_pinned():
    # Stored in every resource's state: renaming or moving either breaks existing stacks.
    assert KeyProvider.__module__ == "providers.key"
    assert KeyProvider.__qualname__ == "KeyProvider"
    token = f"pulumi-python:{ApiKey._resource_type_name}"
    assert token == "pulumi-python:dynamic/openrouter:ApiKey"


def test_configured_provider_pickle_holds_no_secret(sentinel, monkeypatch):
    monkeypatch.setenv(ENV_MANAGEMENT_KEY, sentinel)
    provider = configured_provider(sentinel)
    # The provider must really be configured for this test to mean anything.
    settings = session._MEMORY.stack_settings.get(provider)
    assert session.resolve_credentials(settings, {}).management_key == sentinel
    blob = serialize_provider(provider)
    assert_absent(sentinel, blob)
    assert_absent(sentinel, base64.b64decode(blob))
    assert vars(provider) == {}


def test_pickle_is_a_bare_class_reference_under_1kb(sentinel):
    raw = pickled(configured_provider(sentinel))
    assert len(raw) < 1024
    strings = {arg for _, arg, _ in pickletools.genops(raw) if isinstance(arg, str)}
    assert {"providers.key", "KeyProvider"} <= strings
    assert strings <= {"providers.key", "KeyProvider", "providers.key KeyProvider"}


def test_pickle_is_the_same_with_or_without_configuration(sentinel):
    assert pickled(configured_provider(sentinel)) == pickled(KeyProvider())


def test_pickle_round_trips_to_a_stateless_provider(sentinel):
    restored = dill.loads(pickled(configured_provider(sentinel)))  # noqa: S301 - our own bytes
    assert type(restored) is KeyProvider
    assert vars(restored) == {}


def test_importing_the_provider_module_has_no_side_effects():
    # The provider process imports this module again on every start (refresh, destroy).
    result = subprocess.run(
        [sys.executable, "-c", "import providers.key"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
