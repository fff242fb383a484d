"""The OpenRouter dynamic provider and its HTTP client: the one door `topology` and `cli` use.

Three layers (docs/adr/0015-providers-in-three-layers.md): `http/` speaks to OpenRouter, `base/`
is the template every resource is built on, and each resource is a module at the top. A
resource's provider is stored in Pulumi state by its module path (pickled by reference), so
`providers.key.KeyProvider` and its siblings are a compatibility surface: never move or rename
them.

The names below are the package's public surface, each written once, as an import a type checker
reads; at run time `_HOMES` and `__all__` are derived from those imports, and each name is
imported lazily on first use, so that `cli` (which needs only the HTTP client and the shared
constants) does not load the Pulumi SDK and importing the package stays side-effect free.
tests/test_public_surface.py pins the list (as httpx pins its `__all__`); topology/ and cli/
import nothing else from this package (tests/test_policy.py).
"""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from providers.base.before_write import management_key_error
    from providers.base.fields import FIX_SEPARATOR
    from providers.base.messages import KEY_TYPES, FailureKind, ProviderError, one_line
    from providers.base.object_resource import ObjectApi
    from providers.base.values import shown
    from providers.byok import (
        BYOK_API,
        BYOK_PROVIDERS,
        ByokCredential,
        ByokCredentialArgs,
        ByokSettings,
    )
    from providers.default_guardrail import DefaultGuardrail, DefaultGuardrailArgs
    from providers.governance_api import (
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
    from providers.http.client import (
        BudgetLayer,
        CatalogueModel,
        CatalogueProvider,
        ClientSettings,
        CurrentKey,
        KeyRecord,
        OpenRouterClient,
    )
    from providers.http.credentials import (
        API_BASE_URL_SETTING,
        BASE_URL_FIX,
        CONFIG_API_BASE_URL,
        CONFIG_NAMESPACE,
        DEFAULT_BASE_URL,
        ENV_API_BASE_URL,
        MANAGEMENT_KEY_SETTING,
        MANAGEMENT_KEY_VARIABLES,
        MANAGEMENT_KEYS_PAGE,
        Credentials,
        base_url_problem,
        find_api_base_url,
        find_management_key,
        key_source,
        normal_base_url,
        stack_setting_name,
    )
    from providers.http.errors import (
        ApiError,
        KeyNotFound,
        NetworkError,
        NotFoundError,
        OpenRouterError,
        UnauthorizedError,
    )
    from providers.http.formats import KEY_HASH, UUID, parse_instant, short_hash
    from providers.http.redaction import KEY_PREFIX, mask, redact
    from providers.key import ApiKey, ApiKeyArgs
    from providers.key_inputs import INPUTS_BY_NAME, REPLACE_FIELDS, replacing_changes
    from providers.key_settings import KeySettings
    from providers.observability import (
        DESTINATION_TYPES,
        DESTINATIONS_API,
        PER_TYPE_CAP,
        SECRET_CONFIG_KEYS,
        DestinationSettings,
        FilterRules,
        ObservabilityDestination,
        ObservabilityDestinationArgs,
        config_error,
        config_problem,
    )
    from providers.workspace import Workspace, WorkspaceArgs
    from providers.workspace_budgets import WorkspaceBudgets, WorkspaceBudgetsArgs
    from providers.workspace_settings import WORKSPACE_SLUG, BudgetLimits, WorkspaceSettings


def _exports() -> dict[str, str]:
    """Each public name and its home module, read from the `if TYPE_CHECKING:` imports above,
    the one place the names are written (type checkers read the same imports)."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    (block,) = (
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    return {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module is not None
        for alias in node.names
    }


_HOMES: Final = _exports()
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'providers' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
