"""What `check` asks OpenRouter before a key is written, so that the preview fails whenever the
`up` would fail for a reason knowable before any write (docs/adr/0008-topology-guard.md).

`pulumi up` previews first and refuses the whole update when a `check` fails, so a rejected
management key, an unreachable API, a missing key to adopt or an adopted secret that belongs to
another key stop the update before its first step, not half way. A `check` that precedes no write
(nothing changed) asks nothing: a no-change preview makes no request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.client import KeyRecord
from providers.credentials import (
    API_BASE_URL_SETTING,
    MANAGEMENT_KEY_SETTING,
    Credentials,
    is_header_safe,
)
from providers.errors import KeyNotFound, OpenRouterError
from providers.governance_api import workspace_missing
from providers.inputs import (
    CONFIG_PATH,
    DECLARED,
    INPUTS_BY_NAME,
    diff_inputs,
    present,
    setting_path,
)
from providers.key_writes import verify_adopt_secret
from providers.messages import ProviderError, one_line, provider_error
from providers.session import (
    account_keys,
    ensure_management_key,
    open_client,
    remember_unavailable,
    unavailable_cause,
)


@dataclass(frozen=True)
class PreviewFailure:
    """A `check` failure: the input the engine names, the message, and its stable kind."""

    property: str
    reason: str
    kind: str


def write_follows(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """Whether this `check` precedes a create or an update (judged from the old inputs)."""
    if is_new(olds):
        return True
    before = {**olds, DECLARED: [name for name in INPUTS_BY_NAME if present(olds, name)]}
    return diff_inputs(before, news).has_changes


def _failure(property_: str, err: ProviderError) -> PreviewFailure:
    return PreviewFailure(property_, str(err), err.kind)


def _unavailable(credentials: Credentials, err: OpenRouterError) -> ProviderError:
    remember_unavailable(credentials, str(err))
    return provider_error("api-unavailable", cause=str(err), url=credentials.base_url)


def preview_write(
    credentials: Credentials, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> list[PreviewFailure]:
    """Ask what the write will need: a management key that OpenRouter accepts, a reachable API,
    the key to adopt, and the adopted secret's identity. Reports the first failure."""
    try:
        _ask_before_write(credentials, olds, news)
    except ProviderError as err:
        return [PreviewFailure(_property_of(err.kind), str(err), err.kind)]
    return []


def management_key_error(credentials: Credentials) -> ProviderError | None:
    """Why the management key may not write at all (GET /key, once per process and
    credentials), or None when OpenRouter accepts it as a management key.

    The program asks this before it registers anything, on every run: a `check` runs only for a
    resource that changes, and none for a deleted one, so without it a regular key or an
    unreachable API in the slot would pass a run that changes nothing (issue 19).
    """
    if not is_header_safe(credentials.management_key):
        return provider_error("management-key-unsendable", source=credentials.source)
    try:
        _ask_before_write(credentials, {}, {"name": ""}, new_key=False)
    except ProviderError as err:
        return err
    return None


def management_key_problem(credentials: Credentials) -> str | None:
    """`management_key_error` as one line with its kind (a `check` failure's text)."""
    err = management_key_error(credentials)
    return None if err is None else one_line(str(err), err.kind)


def _property_of(kind: str) -> str:
    """The input (or config) the engine names beside a failure of this kind."""
    if kind.startswith("management-key"):
        return MANAGEMENT_KEY_SETTING
    if kind.startswith("adopt-secret"):
        return "adopt_secret"
    if kind.startswith("adopt"):
        return "adopt"
    if kind == "key-name-taken":
        return "name"
    if kind == "workspace-not-found":
        return "workspace_id"
    return API_BASE_URL_SETTING


def _ask_before_write(
    credentials: Credentials,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    *,
    new_key: bool = True,
) -> None:
    known_down = unavailable_cause(credentials)
    if known_down is not None:
        raise provider_error("api-unavailable", cause=known_down, url=credentials.base_url)
    try:
        with open_client(credentials) as client:
            ensure_management_key(client, credentials)
            record = _adopted_record(client, olds, news)
            if record is None and new_key and is_new(olds):
                _refuse_a_missing_workspace(client, news)
                _refuse_a_taken_name(client, credentials, news)
        if record is not None and _secret_changes(olds, news):
            where = setting_path(INPUTS_BY_NAME["adopt_secret"], news)
            verify_adopt_secret(
                credentials, record.hash, record.label, news["adopt_secret"], where=where
            )
    except OpenRouterError as err:
        raise _unavailable(credentials, err) from None


def _adopted_record(
    client: Any, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> KeyRecord | None:
    """The key an `adopt` names, when this write takes it over or verifies its secret."""
    adopt = news.get("adopt")
    unchanged = olds.get("adopt") == adopt and not _secret_changes(olds, news)
    if not isinstance(adopt, str) or unchanged:
        return None
    try:
        record: KeyRecord = client.get_key(adopt)
    except KeyNotFound:
        where = setting_path(INPUTS_BY_NAME["adopt"], news)
        raise provider_error("adopt-not-found", hash=adopt, where=where) from None
    return record


def is_new(olds: Mapping[str, Any]) -> bool:
    return not {name for name in olds if not name.startswith("__")}


def _refuse_a_taken_name(
    client: Any, credentials: Credentials, news: Mapping[str, Any]
) -> None:
    """A new key's OpenRouter name must be free: a key already named so is most often the
    leftover of an interrupted `pulumi up` (minted, never recorded), and two keys of one name
    would let the ambiguous-create sweep take one for the other (ADR 0002)."""
    name = news.get("name")
    taken = [k for k in account_keys(client, credentials) if k.name == name]
    if not taken:
        return
    key = taken[0]
    used = "never used" if not (key.usage or key.byok_usage) else "used"
    where = news.get(CONFIG_PATH) or "this key"
    raise provider_error(
        "key-name-taken",
        where=where,
        name=name,
        hash=key.hash,
        created=key.created_at,
        used=used,
    )


def _refuse_a_missing_workspace(client: Any, news: Mapping[str, Any]) -> None:
    """A new key filed in a workspace OpenRouter does not have: the POST would fail with a bare
    400, after the other steps of the update. One GET, only for a workspace known at preview (a
    workspace of the stack made in this update is not)."""
    workspace = news.get("workspace_id")
    if isinstance(workspace, str) and workspace_missing(client, workspace):
        # The provider cannot tell which of the two settings the stack file used for it.
        path = news.get(CONFIG_PATH)
        where = (
            f"{path}.workspaceId` or `{path}.workspace"
            if isinstance(path, str) and path
            else "workspace_id"
        )
        raise provider_error("workspace-not-found", where=where, id=workspace)


def _secret_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    secret = news.get("adopt_secret")
    return isinstance(secret, str) and olds.get("adopt_secret") != secret
