"""How a key comes to exist: minted with one POST, or adopted (taken over) by its hash.

Each path verifies everything before its first write, and leaves nothing behind when a later
step fails (a minted key that cannot be disabled is deleted again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from providers.base.messages import provider_error
from providers.base.session import key_client
from providers.http.client import CreateKeyRequest, KeyRecord, OpenRouterClient
from providers.http.credentials import Credentials
from providers.http.errors import (
    InvalidRequestError,
    KeyNotFound,
    OpenRouterError,
    UnauthorizedError,
)
from providers.http.redaction import mask, redact
from providers.key_inputs import (
    INPUTS_BY_NAME,
    REPLACE_FIELDS,
    create_fields,
    diff_inputs,
    patch_changes,
    present,
    setting_path,
)
from providers.key_outputs import key_outputs


def mint_key(client: OpenRouterClient, news: Mapping[str, Any]) -> tuple[KeyRecord, str]:
    """One POST (never retried blindly; see the client), and one PATCH if asked to be disabled."""
    fields = create_fields(news)
    # cast: `name` is required and checked to be a non-empty string (inputs.check_inputs) before
    # the engine calls create, so the checked inputs always hold one.
    created = client.create_key(CreateKeyRequest(cast(str, fields.pop("name")), **fields))
    record = created.record
    if news.get("disabled") is True:
        try:
            record = client.update_key(record.hash, {"disabled": True})
        except OpenRouterError as err:
            _discard_half_created(client, record.hash, err)
    return record, created.secret


def _discard_half_created(client: OpenRouterClient, hash_: str, err: OpenRouterError) -> None:
    """A key that could not be disabled must not stay live and unmanaged: delete it, then fail."""
    try:
        client.delete_key(hash_)
    except OpenRouterError as delete_err:
        raise provider_error(
            "create-disable-orphan", hash=hash_, cause=str(err), delete_cause=str(delete_err)
        ) from None
    raise provider_error("create-disable-failed", hash=hash_, cause=str(err)) from None


def discard_undeliverable(client: OpenRouterClient, hash_: str) -> None:
    """The engine went away while this key was minted: delete it, then fail the call."""
    try:
        client.delete_key(hash_)
    except OpenRouterError as err:
        raise provider_error("create-undeliverable-orphan", hash=hash_, cause=str(err)) from None
    raise provider_error("create-undeliverable", hash=hash_)


def adopt_key(
    client: OpenRouterClient, credentials: Credentials, news: Mapping[str, Any]
) -> tuple[KeyRecord, str | None]:
    """Take over an existing key: check everything first, then PATCH only what differs."""
    hash_ = news["adopt"]
    try:
        record = client.get_key(hash_)
    except KeyNotFound:
        where = setting_path(INPUTS_BY_NAME["adopt"], news)
        raise provider_error("adopt-not-found", hash=hash_, where=where) from None
    current = key_outputs(record, key=None, declared=[], adopt=hash_)
    fixed = sorted(set(diff_inputs(current, news).replaces) & (REPLACE_FIELDS - {"adopt"}))
    if fixed:
        spec = INPUTS_BY_NAME[fixed[0]]
        where = setting_path(spec, news)
        shown_current = f"{spec.setting} {current.get(spec.name)!r}"
        raise provider_error("adopt-fixed-field", where=where, hash=hash_, current=shown_current)
    secret: str | None = None
    if present(news, "adopt_secret"):
        where = setting_path(INPUTS_BY_NAME["adopt_secret"], news)
        verify_adopt_secret(credentials, hash_, record.label, news["adopt_secret"], where=where)
        secret = news["adopt_secret"]
    changes = patch_changes(current, news)
    if changes:
        record = client.update_key(hash_, changes)
    return record, secret


def verify_adopt_secret(
    credentials: Credentials, hash_: str, label: object, secret: str, *, where: str
) -> None:
    """The secret must be a regular key whose label is the adopted key's label.

    `where` names the secret as the stack file does (`adoptedSecrets.<id>`).
    """
    shown_label = redact(str(label)) if label is not None else "label unknown"
    try:
        client = key_client(credentials, secret)
    except InvalidRequestError:  # not sendable as a header: it is no key at all
        raise provider_error(
            "adopt-secret-invalid", hash=hash_, label=shown_label, where=where
        ) from None
    with client:
        try:
            current = client.current_key()
        except UnauthorizedError:
            raise provider_error(
                "adopt-secret-invalid", hash=hash_, label=shown_label, where=where
            ) from None
    if current.is_management_key:
        raise provider_error(
            "adopt-secret-is-management", hash=hash_, label=shown_label, where=where
        )
    if current.label != label and mask(secret) != label:
        raise provider_error(
            "adopt-secret-mismatch",
            hash=hash_,
            label=shown_label,
            other_label=redact(str(current.label)),
            where=where,
        )
