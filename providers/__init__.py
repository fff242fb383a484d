"""The OpenRouter dynamic provider and its HTTP client.

Module paths under this package are stored in Pulumi state (the provider is pickled by
reference), so they are a compatibility surface: never move or rename them.

The names below are the package's public surface, imported lazily so that `cli` (which needs only
the HTTP client) does not load the Pulumi SDK, and importing the package stays side-effect free.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.client import ClientSettings, OpenRouterClient
    from providers.errors import AmbiguousCreateError, OpenRouterError
    from providers.key import ApiKey, ApiKeyArgs, KeyProvider, KeyProviderError
    from providers.redaction import mask, redact

_HOMES: dict[str, str] = {
    "ApiKey": "providers.key",
    "ApiKeyArgs": "providers.key",
    "KeyProvider": "providers.key",
    "KeyProviderError": "providers.key",
    "ClientSettings": "providers.client",
    "OpenRouterClient": "providers.client",
    "OpenRouterError": "providers.errors",
    "AmbiguousCreateError": "providers.errors",
    "mask": "providers.redaction",
    "redact": "providers.redaction",
}

__all__ = [
    "AmbiguousCreateError",
    "ApiKey",
    "ApiKeyArgs",
    "ClientSettings",
    "KeyProvider",
    "KeyProviderError",
    "OpenRouterClient",
    "OpenRouterError",
    "mask",
    "redact",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'providers' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
