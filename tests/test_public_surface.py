"""What other code and Pulumi state rely on: the provider's module path and the package surface."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import providers
from providers.key import ApiKey, KeyProvider

ROOT = Path(__file__).resolve().parents[1]


def test_the_provider_class_lives_where_state_refers_to_it():
    # dill pickles the provider by reference: a move would break refresh and destroy of every
    # stack already deployed.
    assert (KeyProvider.__module__, KeyProvider.__qualname__) == ("providers.key", "KeyProvider")
    assert ApiKey.__module__ == "providers.key"


EXPORTED = [
    "BYOK_API",
    "BYOK_PROVIDERS",
    "ByokCredential",
    "ByokCredentialArgs",
    "ByokSettings",
    "DESTINATION_TYPES",
    "PER_TYPE_CAP",
    "DESTINATIONS_API",
    "ObjectApi",
    "SECRET_CONFIG_KEYS",
    "DestinationSettings",
    "FilterRules",
    "ObservabilityDestination",
    "ObservabilityDestinationArgs",
    "config_error",
    "config_problem",
    "API_BASE_URL_SETTING",
    "CONFIG_API_BASE_URL",
    "BASE_URL_FIX",
    "CONFIG_NAMESPACE",
    "DEFAULT_BASE_URL",
    "ENV_API_BASE_URL",
    "INPUTS_BY_NAME",
    "KEY_HASH",
    "KEY_PREFIX",
    "KEY_TYPES",
    "MANAGEMENT_KEYS_PAGE",
    "MANAGEMENT_KEY_SETTING",
    "MANAGEMENT_KEY_VARIABLES",
    "REPLACE_FIELDS",
    "UUID",
    "ApiError",
    "ApiKey",
    "ApiKeyArgs",
    "BudgetLayer",
    "CatalogueModel",
    "CatalogueProvider",
    "ClientSettings",
    "Credentials",
    "CurrentKey",
    "KeyNotFound",
    "KeyRecord",
    "KeySettings",
    "NetworkError",
    "OpenRouterClient",
    "OpenRouterError",
    "ProviderError",
    "UnauthorizedError",
    "base_url_problem",
    "find_api_base_url",
    "find_management_key",
    "key_source",
    "management_key_error",
    "one_line",
    "stack_setting_name",
    "mask",
    "normal_base_url",
    "get_guardrail",
    "get_workspace",
    "NotFoundError",
    "FILTER_TAGS",
    "FIX_SEPARATOR",
    "WORKSPACE_SLUG",
    "Guardrail",
    "GuardrailArgs",
    "GuardrailAssignment",
    "GuardrailAssignmentArgs",
    "Workspace",
    "WorkspaceArgs",
    "WorkspaceBudgets",
    "WorkspaceBudgetsArgs",
    "DefaultGuardrail",
    "DefaultGuardrailArgs",
    "GuardrailPolicy",
    "WorkspaceSettings",
    "BudgetLimits",
    "Budgets",
    "GuardrailRecord",
    "WorkspaceRecord",
    "all_assignments",
    "get_budgets",
    "list_guardrails",
    "list_workspaces",
    "parse_instant",
    "redact",
    "replacing_changes",
    "FailureKind",
    "short_hash",
    "shown",
]
"""The surface `topology` and `cli` may use, pinned as httpx pins its exported members: adding or
removing a name is a deliberate change to this list."""


def test_the_public_surface_is_exactly_the_pinned_list():
    assert sorted(providers.__all__) == sorted(EXPORTED)
    assert len(set(providers.__all__)) == len(providers.__all__)


@pytest.mark.parametrize("name", EXPORTED)
def test_every_public_name_resolves_to_the_object_of_its_home_module(name):
    value = getattr(providers, name)
    home = providers._HOMES[name]
    assert home.startswith("providers.")
    assert getattr(importlib.import_module(home), name) is value


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = providers.Nope


def test_importing_the_client_does_not_load_the_pulumi_sdk():
    # cli imports only the client; the lazy package surface must not drag the SDK in.
    code = (
        "import sys, providers; from providers import OpenRouterClient;"
        " print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
