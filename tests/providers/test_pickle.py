"""The provider as it is stored in state: a bare class reference, with nothing secret inside."""

from __future__ import annotations

import base64
import pickletools
import subprocess
import sys
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from providers.base import session
from providers.byok import ByokCredential, ByokCredentialProvider
from providers.default_guardrail import DefaultGuardrail, DefaultGuardrailProvider
from providers.guardrail import Guardrail, GuardrailProvider
from providers.guardrail_assignment import GuardrailAssignment, GuardrailAssignmentProvider
from providers.http.credentials import (
    CONFIG_API_BASE_URL,
    CONFIG_MANAGEMENT_KEY,
    ENV_MANAGEMENT_KEY,
)
from providers.key import ApiKey, KeyProvider
from providers.observability import ObservabilityDestination, ObservabilityDestinationProvider
from providers.workspace import Workspace, WorkspaceProvider
from providers.workspace_budgets import WorkspaceBudgets, WorkspaceBudgetsProvider
from tests.support.sentinel import assert_absent

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PINNED = [
    # (provider class, its module, its resource, the resource's type token): stored in every
    # resource's state, so renaming or moving any of them breaks existing stacks.
    (KeyProvider, "providers.key", ApiKey, "ApiKey"),
    (GuardrailProvider, "providers.guardrail", Guardrail, "Guardrail"),
    (
        GuardrailAssignmentProvider,
        "providers.guardrail_assignment",
        GuardrailAssignment,
        "GuardrailAssignment",
    ),
    (WorkspaceProvider, "providers.workspace", Workspace, "Workspace"),
    (WorkspaceBudgetsProvider, "providers.workspace_budgets", WorkspaceBudgets, "WorkspaceBudgets"),
    (DefaultGuardrailProvider, "providers.default_guardrail", DefaultGuardrail, "DefaultGuardrail"),
    (ByokCredentialProvider, "providers.byok", ByokCredential, "ByokCredential"),
    (
        ObservabilityDestinationProvider,
        "providers.observability",
        ObservabilityDestination,
        "ObservabilityDestination",
    ),
]
PROVIDERS = [row[0] for row in PINNED]


@pytest.fixture(autouse=True)
def _forget_configured_providers():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def configured_provider(secret: str, cls: type[Any] = KeyProvider) -> Any:
    provider = cls()
    config = Config(
        {CONFIG_MANAGEMENT_KEY: secret, CONFIG_API_BASE_URL: "http://127.0.0.1:9/api/v1"},
        "openrouter-keys",
    )
    provider.configure(ConfigureRequest(config))
    return provider


def pickled(provider: Any) -> bytes:
    """Exactly what `pulumi.dynamic.Resource` stores under `__provider`, decoded."""
    return base64.b64decode(serialize_provider(provider))


@pytest.mark.parametrize(("cls", "module", "resource", "name"), PINNED)
def test_provider_module_and_type_token_are_pinned(cls, module, resource, name):
    assert cls.__module__ == module
    assert cls.__qualname__ == ("KeyProvider" if name == "ApiKey" else f"{name}Provider")
    token = f"pulumi-python:{resource._resource_type_name}"
    assert token == f"pulumi-python:dynamic/openrouter:{name}"


@pytest.mark.parametrize("cls", PROVIDERS)
def test_configured_provider_pickle_holds_no_secret(sentinel, monkeypatch, cls):
    monkeypatch.setenv(ENV_MANAGEMENT_KEY, sentinel)
    provider = configured_provider(sentinel, cls)
    # The provider must really be configured for this test to mean anything.
    settings = session._MEMORY.stack_settings.get(provider)
    assert session.resolve_credentials(settings, {}).management_key == sentinel
    blob = serialize_provider(provider)
    assert_absent(sentinel, blob)
    assert_absent(sentinel, base64.b64decode(blob))
    assert vars(provider) == {}


@pytest.mark.parametrize(("cls", "module"), [(row[0], row[1]) for row in PINNED])
def test_pickle_is_a_bare_class_reference_under_1kb(sentinel, cls, module):
    raw = pickled(configured_provider(sentinel, cls))
    assert len(raw) < 1024
    name = cls.__qualname__
    strings = {arg for _, arg, _ in pickletools.genops(raw) if isinstance(arg, str)}
    assert {module, name} <= strings
    assert strings <= {module, name, f"{module} {name}"}


@pytest.mark.parametrize("cls", PROVIDERS)
def test_pickle_is_the_same_with_or_without_configuration(sentinel, cls):
    assert pickled(configured_provider(sentinel, cls)) == pickled(cls())


@pytest.mark.parametrize("cls", PROVIDERS)
def test_pickle_round_trips_to_a_stateless_provider(sentinel, cls):
    raw = pickled(configured_provider(sentinel, cls))
    restored = dill.loads(raw)  # noqa: S301 - our own bytes
    assert type(restored) is cls
    assert vars(restored) == {}


@pytest.mark.parametrize("module", [row[1] for row in PINNED])
def test_importing_the_provider_module_has_no_side_effects(module):
    # The provider process imports this module again on every start (refresh, destroy).
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
