"""Every provider, `KeyProvider` included, is a `ManagementProvider`: one `check` template, one
`diff`, one `configure`, one pickling behaviour and one client context (issue 20)."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from providers.base import session
from providers.base.management_resource import ManagementProvider
from providers.default_guardrail import DefaultGuardrailProvider
from providers.guardrail import GuardrailProvider
from providers.guardrail_assignment import GuardrailAssignmentProvider
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.key import KeyProvider
from providers.workspace import WorkspaceProvider
from providers.workspace_budgets import WorkspaceBudgetsProvider

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = [
    KeyProvider,
    GuardrailProvider,
    GuardrailAssignmentProvider,
    WorkspaceProvider,
    WorkspaceBudgetsProvider,
    DefaultGuardrailProvider,
]
TEMPLATE = ("check", "diff", "configure", "__getstate__", "__setstate__", "client", "reader")


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda cls: cls.__name__)
def test_every_provider_runs_the_one_template_of_the_base(provider):
    assert issubclass(provider, ManagementProvider)
    assert {name: getattr(provider, name) for name in TEMPLATE} == {
        name: getattr(ManagementProvider, name) for name in TEMPLATE
    }


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        name
        for node in ast.walk(tree)
        for name in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
    }


RESOURCE_MODULES = tuple(
    f"providers.{path.stem}"
    for path in (ROOT / "providers").glob("*.py")
    if path.stem != "__init__"
)
"""A resource's own modules (the key's, a guardrail's, ...): the top level of the package."""
LAYERS = {
    # a sub-package: what it may not import (its place in the layering of providers/)
    "http": ("providers.base", *RESOURCE_MODULES),
    "base": RESOURCE_MODULES,
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_the_http_layer_and_the_base_import_no_resource_module(layer):
    assert "providers.key" in RESOURCE_MODULES
    assert "providers.governance_api" in RESOURCE_MODULES
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m.startswith(LAYERS[layer]))
        for path in sorted((ROOT / "providers" / layer).glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("provider", "props"),
    [
        (KeyProvider(), {"name": "ci"}),
        (GuardrailProvider(), {"name": "ci-cheap", "policy": {}}),
        (WorkspaceProvider(), {"name": "Agents", "slug": "agents"}),
    ],
    ids=["key", "guardrail", "workspace"],
)
def test_an_unreachable_api_fails_any_preview_on_the_api_url_setting(
    provider, props, management_key, monkeypatch
):
    # The guardrail and workspace previews named `managementKey` for an unreachable URL.
    monkeypatch.setattr("providers.http.retry.backoff_delay", lambda *_args: 0.0)
    url = f"http://127.0.0.1:{closed_port()}/api/v1"
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    [failure] = provider.check({}, props).failures
    assert failure.property == "apiBaseUrl"
    assert failure.reason.endswith("[api-unavailable]")
