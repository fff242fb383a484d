"""What `check` asks OpenRouter during a preview, so that the engine can refuse a whole update
before any step runs instead of stopping it half done (docs/adr/0003-consumer-ordering.md §9).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from providers.credentials import Credentials
from providers.errors import KeyNotFound, OpenRouterError
from providers.messages import ProviderError, provider_error
from providers.redaction import redact
from providers.session import ensure_management_key, is_verified_management_key, open_client

_log = logging.getLogger(__name__)


def preview_guard(credentials: Credentials) -> str | None:
    """During preview, report a wrong key type early; an unreachable API is no verdict."""
    if is_verified_management_key(credentials):
        return None  # asked once per process already
    try:
        with open_client(credentials) as client:
            ensure_management_key(client, credentials)
    except ProviderError as err:
        return str(err)
    except OpenRouterError as err:
        # Unreachable or throttled: not a verdict on the key. The guard runs again before
        # the first write, and fails there if it must.
        _log.debug("key-type guard skipped during check: %s", redact(str(err)))
    return None


def preview_adopt(credentials: Credentials, hash_: str) -> str | None:
    """A key to adopt must exist, and `check` is where the engine can still refuse the whole
    update: found at `create`, the update would stop half done, after replacements whose old
    keys the next update deletes first (ADR 0003)."""
    if not is_verified_management_key(credentials):
        return None  # the guard could not run: no verdict without a trusted key
    try:
        with open_client(credentials) as client:
            client.get_key(hash_)
    except KeyNotFound:
        return str(provider_error("adopt-not-found", hash=hash_))
    except OpenRouterError as err:
        _log.debug("adopt check skipped during check: %s", redact(str(err)))
    return None


def adopts_anew(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """This check precedes a create or a replace that takes over a key (`adopt` is new)."""
    adopt = news.get("adopt")
    return isinstance(adopt, str) and olds.get("adopt") != adopt
