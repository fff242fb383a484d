"""What `check` asks OpenRouter before a key is written, so that the preview fails whenever the
`up` would fail for a reason knowable before any write (docs/adr/0008-topology-guard.md).

`pulumi up` previews first and refuses the whole update when a `check` fails, so a rejected
management key, an unreachable API, a missing key to adopt or an adopted secret that belongs to
another key stop the update before its first step, not half way. A `check` that precedes no write
(nothing changed) asks nothing: a no-change preview makes no request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base.fields import CONFIG_PATH
from providers.base.messages import ProviderError, provider_error
from providers.base.session import account_keys
from providers.http.client import KeyRecord, OpenRouterClient
from providers.http.credentials import Credentials
from providers.http.errors import KeyNotFound
from providers.http.objects import workspace_missing
from providers.key_inputs import INPUTS_BY_NAME, setting_path
from providers.key_writes import verify_adopt_secret


def preview_adoption(
    client: OpenRouterClient,
    credentials: Credentials,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
) -> bool:
    """Ask about the key an `adopt` names, when this write takes it over or verifies its
    secret: raise what the write would fail with. False when the write adopts nothing."""
    record = _adopted_record(client, olds, news)
    if record is None:
        return False
    if _secret_changes(olds, news):
        where = setting_path(INPUTS_BY_NAME["adopt_secret"], news)
        verify_adopt_secret(
            credentials, record.hash, record.label, news["adopt_secret"], where=where
        )
    return True


def key_taken(
    client: OpenRouterClient, credentials: Credentials, news: Mapping[str, Any]
) -> ProviderError | None:
    """What a new key's create would fail on or duplicate: a workspace OpenRouter does not
    have, or a key that already has its name."""
    return _missing_workspace(client, news) or _taken_name(client, credentials, news)


def _adopted_record(
    client: OpenRouterClient, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> KeyRecord | None:
    """The key an `adopt` names, when this write takes it over or verifies its secret."""
    adopt = news.get("adopt")
    unchanged = olds.get("adopt") == adopt and not _secret_changes(olds, news)
    if not isinstance(adopt, str) or unchanged:
        return None
    try:
        return client.get_key(adopt)
    except KeyNotFound:
        where = setting_path(INPUTS_BY_NAME["adopt"], news)
        raise provider_error("adopt-not-found", hash=adopt, where=where) from None


def _taken_name(
    client: OpenRouterClient, credentials: Credentials, news: Mapping[str, Any]
) -> ProviderError | None:
    """A new key's OpenRouter name must be free: a key already named so is most often the
    leftover of an interrupted `pulumi up` (minted, never recorded), and two keys of one name
    would let the ambiguous-create sweep take one for the other (ADR 0002)."""
    name = news.get("name")
    taken = [k for k in account_keys(client, credentials) if k.name == name]
    if not taken:
        return None
    key = taken[0]
    used = "never used" if not (key.usage or key.byok_usage) else "used"
    where = news.get(CONFIG_PATH) or "this key"
    return provider_error(
        "key-name-taken",
        where=where,
        name=name,
        hash=key.hash,
        created=key.created_at,
        used=used,
    )


def _missing_workspace(client: OpenRouterClient, news: Mapping[str, Any]) -> ProviderError | None:
    """A new key filed in a workspace OpenRouter does not have: the POST would fail with a bare
    400, after the other steps of the update. One GET, only for a workspace known at preview (a
    workspace of the stack made in this update is not)."""
    workspace = news.get("workspace_id")
    if not (isinstance(workspace, str) and workspace_missing(client, workspace)):
        return None
    # The provider cannot tell which of the two settings the stack file used for it.
    path = news.get(CONFIG_PATH)
    where = (
        f"{path}.workspaceId` or `{path}.workspace"
        if isinstance(path, str) and path
        else "workspace_id"
    )
    return provider_error("workspace-not-found", where=where, id=workspace)


def _secret_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    secret = news.get("adopt_secret")
    return isinstance(secret, str) and olds.get("adopt_secret") != secret
