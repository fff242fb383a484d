"""The OpenRouter dynamic provider and its HTTP client: the one door `topology` and `cli` use.

Module paths under this package are stored in Pulumi state (the provider is pickled by
reference), so `providers.key.KeyProvider` is a compatibility surface: never move or rename it.

The names below are the package's public surface, imported lazily so that `cli` (which needs only
the HTTP client and the shared constants) does not load the Pulumi SDK, and importing the package
stays side-effect free. tests/test_public_surface.py pins the list; topology/ and cli/ import
nothing else from this package (tests/test_policy.py).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.client import (
        BudgetLayer,
        CatalogueModel,
        CatalogueProvider,
        ClientSettings,
        CreateKeyRequest,
        CurrentKey,
        KeyRecord,
        OpenRouterClient,
    )
    from providers.credentials import (
        API_BASE_URL_SETTING,
        BASE_URL_FIX,
        CONFIG_API_BASE_URL,
        CONFIG_NAMESPACE,
        DEFAULT_BASE_URL,
        ENV_API_BASE_URL,
        ENV_MANAGEMENT_KEY,
        ENV_PROVISIONING_KEY,
        KEYS_PAGE,
        MANAGEMENT_KEY_SETTING,
        MANAGEMENT_KEY_VARIABLES,
        MANAGEMENT_KEYS_PAGE,
        Credentials,
        Found,
        base_url_problem,
        find_api_base_url,
        find_management_key,
        key_source,
        normal_base_url,
        stack_setting_name,
    )
    from providers.default_guardrail import DefaultGuardrail, DefaultGuardrailArgs
    from providers.errors import (
        AmbiguousCreateError,
        ApiError,
        KeyNotFound,
        NetworkError,
        NotFoundError,
        OpenRouterError,
        UnauthorizedError,
    )
    from providers.fields import (
        FIX_SEPARATOR,
        KEY_HASH,
        LIMIT_RESETS,
        RFC3339_UTC_ONLY,
        UUID,
        LimitReset,
        parse_instant,
    )
    from providers.governance_api import (
        BUDGET_INTERVALS,
        Budgets,
        GuardrailRecord,
        WorkspaceRecord,
        all_assignments,
        get_budgets,
        get_guardrail,
        get_workspace,
        list_guardrails,
        list_workspaces,
    )
    from providers.guardrail import Guardrail, GuardrailArgs
    from providers.guardrail_assignment import GuardrailAssignment, GuardrailAssignmentArgs
    from providers.guardrail_settings import FILTER_TAGS, GuardrailPolicy
    from providers.inputs import (
        CONFIG_PATH,
        INPUTS_BY_NAME,
        REPLACE_FIELDS,
        replacing_changes,
        shown,
    )
    from providers.key import ApiKey, ApiKeyArgs, KeyProvider
    from providers.key_preview import management_key_error, management_key_problem
    from providers.key_settings import KeySettings, setting_rows
    from providers.messages import KEY_TYPES, ProviderError, one_line
    from providers.redaction import KEY_PREFIX, contains_key, mask, redact
    from providers.sdk_pickle import undo_sdk_pickle_wrapper
    from providers.workspace import Workspace, WorkspaceArgs
    from providers.workspace_budgets import WorkspaceBudgets, WorkspaceBudgetsArgs
    from providers.workspace_settings import WORKSPACE_SLUG, BudgetLimits, WorkspaceSettings

_HOMES: dict[str, str] = {
    "API_BASE_URL_SETTING": "providers.credentials",
    "CONFIG_API_BASE_URL": "providers.credentials",
    "AmbiguousCreateError": "providers.errors",
    "ApiError": "providers.errors",
    "ApiKey": "providers.key",
    "ApiKeyArgs": "providers.key",
    "BASE_URL_FIX": "providers.credentials",
    "BudgetLayer": "providers.client",
    "CatalogueModel": "providers.client",
    "CatalogueProvider": "providers.client",
    "CONFIG_NAMESPACE": "providers.credentials",
    "CONFIG_PATH": "providers.inputs",
    "ClientSettings": "providers.client",
    "CreateKeyRequest": "providers.client",
    "Credentials": "providers.credentials",
    "CurrentKey": "providers.client",
    "DEFAULT_BASE_URL": "providers.credentials",
    "ENV_API_BASE_URL": "providers.credentials",
    "ENV_MANAGEMENT_KEY": "providers.credentials",
    "ENV_PROVISIONING_KEY": "providers.credentials",
    "Found": "providers.credentials",
    "INPUTS_BY_NAME": "providers.inputs",
    "KEYS_PAGE": "providers.credentials",
    "KEY_PREFIX": "providers.redaction",
    "KEY_HASH": "providers.fields",
    "KEY_TYPES": "providers.messages",
    "KeySettings": "providers.key_settings",
    "LimitReset": "providers.fields",
    "RFC3339_UTC_ONLY": "providers.fields",
    "UUID": "providers.fields",
    "setting_rows": "providers.key_settings",
    "KeyNotFound": "providers.errors",
    "KeyProvider": "providers.key",
    "KeyRecord": "providers.client",
    "LIMIT_RESETS": "providers.fields",
    "MANAGEMENT_KEYS_PAGE": "providers.credentials",
    "MANAGEMENT_KEY_SETTING": "providers.credentials",
    "MANAGEMENT_KEY_VARIABLES": "providers.credentials",
    "NetworkError": "providers.errors",
    "OpenRouterClient": "providers.client",
    "OpenRouterError": "providers.errors",
    "ProviderError": "providers.messages",
    "REPLACE_FIELDS": "providers.inputs",
    "UnauthorizedError": "providers.errors",
    "base_url_problem": "providers.credentials",
    "contains_key": "providers.redaction",
    "find_api_base_url": "providers.credentials",
    "find_management_key": "providers.credentials",
    "key_source": "providers.credentials",
    "one_line": "providers.messages",
    "stack_setting_name": "providers.credentials",
    "management_key_error": "providers.key_preview",
    "management_key_problem": "providers.key_preview",
    "mask": "providers.redaction",
    "normal_base_url": "providers.credentials",
    "parse_instant": "providers.fields",
    "redact": "providers.redaction",
    "replacing_changes": "providers.inputs",
    "shown": "providers.inputs",
    "undo_sdk_pickle_wrapper": "providers.sdk_pickle",
    "Guardrail": "providers.guardrail",
    "GuardrailArgs": "providers.guardrail",
    "GuardrailAssignment": "providers.guardrail_assignment",
    "GuardrailAssignmentArgs": "providers.guardrail_assignment",
    "Workspace": "providers.workspace",
    "WorkspaceArgs": "providers.workspace",
    "WorkspaceBudgets": "providers.workspace_budgets",
    "WorkspaceBudgetsArgs": "providers.workspace_budgets",
    "DefaultGuardrail": "providers.default_guardrail",
    "DefaultGuardrailArgs": "providers.default_guardrail",
    "GuardrailPolicy": "providers.guardrail_settings",
    "WorkspaceSettings": "providers.workspace_settings",
    "WORKSPACE_SLUG": "providers.workspace_settings",
    "FILTER_TAGS": "providers.guardrail_settings",
    "FIX_SEPARATOR": "providers.fields",
    "BudgetLimits": "providers.workspace_settings",
    "BUDGET_INTERVALS": "providers.governance_api",
    "Budgets": "providers.governance_api",
    "GuardrailRecord": "providers.governance_api",
    "WorkspaceRecord": "providers.governance_api",
    "all_assignments": "providers.governance_api",
    "get_budgets": "providers.governance_api",
    "list_guardrails": "providers.governance_api",
    "list_workspaces": "providers.governance_api",
    "get_guardrail": "providers.governance_api",
    "get_workspace": "providers.governance_api",
    "NotFoundError": "providers.errors",
}

__all__ = [
    "API_BASE_URL_SETTING",
    "BASE_URL_FIX",
    "BUDGET_INTERVALS",
    "CONFIG_API_BASE_URL",
    "CONFIG_NAMESPACE",
    "CONFIG_PATH",
    "DEFAULT_BASE_URL",
    "ENV_API_BASE_URL",
    "ENV_MANAGEMENT_KEY",
    "ENV_PROVISIONING_KEY",
    "FILTER_TAGS",
    "FIX_SEPARATOR",
    "INPUTS_BY_NAME",
    "KEYS_PAGE",
    "KEY_HASH",
    "KEY_PREFIX",
    "KEY_TYPES",
    "LIMIT_RESETS",
    "MANAGEMENT_KEYS_PAGE",
    "MANAGEMENT_KEY_SETTING",
    "MANAGEMENT_KEY_VARIABLES",
    "REPLACE_FIELDS",
    "RFC3339_UTC_ONLY",
    "UUID",
    "WORKSPACE_SLUG",
    "AmbiguousCreateError",
    "ApiError",
    "ApiKey",
    "ApiKeyArgs",
    "BudgetLayer",
    "BudgetLimits",
    "Budgets",
    "CatalogueModel",
    "CatalogueProvider",
    "ClientSettings",
    "CreateKeyRequest",
    "Credentials",
    "CurrentKey",
    "DefaultGuardrail",
    "DefaultGuardrailArgs",
    "Found",
    "Guardrail",
    "GuardrailArgs",
    "GuardrailAssignment",
    "GuardrailAssignmentArgs",
    "GuardrailPolicy",
    "GuardrailRecord",
    "KeyNotFound",
    "KeyProvider",
    "KeyRecord",
    "KeySettings",
    "LimitReset",
    "NetworkError",
    "NotFoundError",
    "OpenRouterClient",
    "OpenRouterError",
    "ProviderError",
    "UnauthorizedError",
    "Workspace",
    "WorkspaceArgs",
    "WorkspaceBudgets",
    "WorkspaceBudgetsArgs",
    "WorkspaceRecord",
    "WorkspaceSettings",
    "all_assignments",
    "base_url_problem",
    "contains_key",
    "find_api_base_url",
    "find_management_key",
    "get_budgets",
    "get_guardrail",
    "get_workspace",
    "key_source",
    "list_guardrails",
    "list_workspaces",
    "management_key_error",
    "management_key_problem",
    "mask",
    "normal_base_url",
    "one_line",
    "parse_instant",
    "redact",
    "replacing_changes",
    "setting_rows",
    "shown",
    "stack_setting_name",
    "undo_sdk_pickle_wrapper",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'providers' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
