"""The OpenRouter regular key as a Pulumi resource: `KeyProvider` and `ApiKey`.

`KeyProvider` is pickled by reference into every resource's state, so this module path and the
class name must never change, and importing this module must have no side effects.

The management key is never held by a provider instance: `configure()` files the stack config
in a per-process registry outside the instance, every method reads it (or the environment) at
call time, and `__getstate__` is empty, so the pickle in state is a bare class reference
(docs/adr/0001-management-key-at-run-time.md).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from providers.client import (
    DEFAULT_BASE_URL,
    ClientSettings,
    CreateKeyRequest,
    KeyRecord,
    OpenRouterClient,
)
from providers.errors import KeyNotFound, OpenRouterError, UnauthorizedError
from providers.inputs import (
    DECLARED,
    REPLACE_FIELDS,
    check_inputs,
    create_fields,
    declared_inputs,
    diff_inputs,
    patch_changes,
    present,
)
from providers.redaction import mask, redact

_log = logging.getLogger(__name__)

CONFIG_MANAGEMENT_KEY = "openrouter-keys:managementKey"
CONFIG_API_BASE_URL = "openrouter-keys:apiBaseUrl"
ENV_MANAGEMENT_KEY = "OPENROUTER_MANAGEMENT_KEY"
ENV_PROVISIONING_KEY = "OPENROUTER_PROVISIONING_KEY"
ENV_API_BASE_URL = "OPENROUTER_API_BASE_URL"
DEFAULT_API_BASE_URL = DEFAULT_BASE_URL
MANAGEMENT_KEYS_PAGE = "https://openrouter.ai/settings/management-keys"
GUARD_PROPERTY = "managementKey"
"""The property a failed key-type guard is reported on in `check` (it is config, not an input)."""

_OUTPUT_ONLY = (
    "hash",
    "key",
    "label",
    "created_at",
    "limit_remaining",
    "usage",
    "usage_daily",
    "usage_weekly",
    "usage_monthly",
    DECLARED,
)

# --- errors: every message the provider raises comes from this table ---------------------------

_KEY_TYPES = (
    "A management key creates, lists, updates and deletes other keys and cannot call models."
    " A regular key calls models and cannot manage keys."
)
_SET_KEY = (
    "set it with `pulumi config set --secret managementKey` (it prompts, so the key stays out of"
    " your shell history) or export"
    f" {ENV_MANAGEMENT_KEY}"
)
_MESSAGES: Mapping[str, str] = {
    "management-key-missing": (
        "No OpenRouter management key: neither stack config `" + CONFIG_MANAGEMENT_KEY + "` nor"
        f" {ENV_MANAGEMENT_KEY} (or its old name {ENV_PROVISIONING_KEY}) is set. Create one at"
        f" {MANAGEMENT_KEYS_PAGE}, then {_SET_KEY}."
    ),
    "management-key-not-management": (
        "The key in the management-key slot ({source}, {label}) is a regular key, not a"
        f" management key. {_KEY_TYPES} Create a management key at {MANAGEMENT_KEYS_PAGE}, then"
        f" {_SET_KEY}."
    ),
    "management-key-invalid": (
        "OpenRouter rejected the management key ({source}) with 401: it is invalid, disabled or"
        f" deleted. Check it at {MANAGEMENT_KEYS_PAGE} (or create a new one), then {_SET_KEY}."
    ),
    "adopt-not-found": (
        "`adopt`: no key with hash {hash} exists (GET /keys/{hash} answered 404), so there is"
        " nothing to adopt. Copy the hash from the OpenRouter key list, or remove `adopt` to"
        " mint a new key."
    ),
    "adopt-fixed-field": (
        "`{property}`: the adopted key {hash} has {property} {current}, which OpenRouter cannot"
        " change in place; declare {current}, or remove `{property}`. Nothing was changed."
    ),
    "adopt-secret-invalid": (
        "`adopt_secret`: OpenRouter rejected the secret with 401 (invalid, disabled or deleted),"
        " so it cannot belong to key {hash}. Nothing was changed. Pass the secret of key"
        " {label}, or remove `adopt_secret` (the `key` output then stays empty)."
    ),
    "adopt-secret-is-management": (
        "`adopt_secret`: the secret given is a management key, not the regular key {hash}."
        " Nothing was changed. Pass the secret of key {label}, or remove `adopt_secret`."
    ),
    "adopt-secret-mismatch": (
        "`adopt_secret`: the secret given belongs to another key ({other_label}), not to the"
        " adopted key {hash} ({label}). Nothing was changed. Pass the secret of key {label}, or"
        " remove `adopt_secret` (the `key` output then stays empty)."
    ),
    "create-disable-failed": (
        "Created key {hash} but could not disable it ({cause}); the new key was deleted again,"
        " so nothing is left behind. Run `pulumi up` again."
    ),
    "create-disable-orphan": (
        "Created key {hash} but could not disable it ({cause}), and deleting it failed too"
        " ({delete_cause}). The key is live and not in state: delete it at"
        " https://openrouter.ai/settings/keys (hash {hash}), then run `pulumi up` again."
    ),
    "api": "{operation}: {cause}",
    "internal": "{operation} failed unexpectedly: {cause}",
}


class KeyProviderError(Exception):
    """A provider failure whose text is written for the person running `pulumi up`.

    The text always goes through `redact`, because the engine shows the full traceback.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(redact(message))


def provider_error(kind: str, **fields: object) -> KeyProviderError:
    """The one place provider messages are built, from `_MESSAGES`."""
    return KeyProviderError(kind, _MESSAGES[kind].format(**fields))


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _redacted_errors(operation: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn any failure of a provider method into a redacted `KeyProviderError` with no chain.

    The servicer aborts with `traceback.format_exc()`, which would print a chained exception's
    text too: `from None` keeps only our redacted message.
    """

    def decorate(method: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(method)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(*args, **kwargs)
            except KeyProviderError as err:
                raise KeyProviderError(err.kind, str(err)) from None
            except OpenRouterError as err:
                raise provider_error("api", operation=operation, cause=str(err)) from None
            except Exception as err:
                cause = f"{type(err).__name__}: {err}"
                raise provider_error("internal", operation=operation, cause=cause) from None

        return wrapper

    return decorate


# --- where the management key comes from ------------------------------------------------------


@dataclass(frozen=True)
class StackSettings:
    """What `configure()` found in the stack config (values may be absent)."""

    management_key: str | None = field(default=None, repr=False)
    api_base_url: str | None = None


@dataclass(frozen=True)
class Credentials:
    """The management key and API base URL one call uses, and where the key came from."""

    management_key: str = field(repr=False)
    base_url: str
    source: str

    def fingerprint(self) -> str:
        """Identifies the credential in the guard cache without keeping the key itself."""
        material = f"{self.base_url}\0{self.management_key}".encode()
        return hashlib.sha256(material).hexdigest()


class _ProcessMemory:
    """Process-local state that must never travel in a pickle.

    It holds what `configure()` saw per provider instance (weakly, so it dies with the
    instance) and the fingerprints of credentials the guard has accepted. Up to four RPCs run at
    once on one instance, hence the lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stack_settings: weakref.WeakKeyDictionary[KeyProvider, StackSettings] = (
            weakref.WeakKeyDictionary()
        )
        self.verified_management_keys: set[str] = set()

    def reset(self) -> None:
        with self.lock:
            self.stack_settings.clear()
            self.verified_management_keys.clear()


_MEMORY = _ProcessMemory()


def reset_process_memory() -> None:
    """Forget configure() results and guard verdicts (a test switch; a process starts empty)."""
    _MEMORY.reset()


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def stack_settings_from(req: ConfigureRequest) -> StackSettings:
    return StackSettings(
        management_key=_text(req.config.get(CONFIG_MANAGEMENT_KEY)),
        api_base_url=_text(req.config.get(CONFIG_API_BASE_URL)),
    )


def resolve_credentials(stack: StackSettings | None, environ: Mapping[str, str]) -> Credentials:
    """Stack config first, then the environment; read at call time so a rotation needs no `up`."""
    stack = stack or StackSettings()
    candidates = (
        (stack.management_key, f"stack config {CONFIG_MANAGEMENT_KEY}"),
        (_text(environ.get(ENV_MANAGEMENT_KEY)), f"environment {ENV_MANAGEMENT_KEY}"),
        (_text(environ.get(ENV_PROVISIONING_KEY)), f"environment {ENV_PROVISIONING_KEY}"),
    )
    for key, source in candidates:
        if key is not None:
            base_url = (
                stack.api_base_url
                or _text(environ.get(ENV_API_BASE_URL))
                or DEFAULT_API_BASE_URL
            )
            return Credentials(key, base_url.rstrip("/"), source)
    raise provider_error("management-key-missing")


# --- the key-type guard ------------------------------------------------------------------------


def is_verified_management_key(credentials: Credentials) -> bool:
    """Whether the guard already accepted this credential in this process."""
    with _MEMORY.lock:
        return credentials.fingerprint() in _MEMORY.verified_management_keys


def ensure_management_key(client: OpenRouterClient, credentials: Credentials) -> None:
    """One `GET /key` per process per credential: the slot must hold a management key.

    Only the fingerprint of an accepted key is cached, never the key; a rejected key is asked
    about again next time (it may have been fixed in the meantime).
    """
    fingerprint = credentials.fingerprint()
    with _MEMORY.lock:
        if fingerprint in _MEMORY.verified_management_keys:
            return
        # Held across the request on purpose: four parallel first calls make one GET, not four.
        try:
            current = client.current_key()
        except UnauthorizedError:
            raise provider_error("management-key-invalid", source=credentials.source) from None
        if not current.is_management_key:
            raise provider_error(
                "management-key-not-management",
                source=credentials.source,
                label=redact(current.label or "label unknown"),
            )
        _MEMORY.verified_management_keys.add(fingerprint)


# --- outputs -----------------------------------------------------------------------------------


def _json_like(value: object) -> object:
    """Outputs must be JSON-like: timestamps become RFC 3339 UTC strings."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def key_outputs(
    record: KeyRecord,
    *,
    key: str | None,
    declared: list[str],
    adopt: str | None,
) -> dict[str, Any]:
    """Every output of `ApiKey`, from the server's record and what only state remembers."""
    return {
        "hash": record.hash,
        "key": key,
        "label": redact(record.label) if record.label is not None else None,
        "name": record.name,
        "limit": record.limit,
        "limit_reset": record.limit_reset,
        "include_byok_in_limit": record.include_byok_in_limit,
        "expires_at": _json_like(record.expires_at),
        "disabled": record.disabled,
        "workspace_id": record.workspace_id,
        "created_at": _json_like(record.created_at),
        "limit_remaining": record.limit_remaining,
        "usage": record.usage,
        "usage_daily": record.usage_daily,
        "usage_weekly": record.usage_weekly,
        "usage_monthly": record.usage_monthly,
        "adopt": adopt,
        DECLARED: declared,
    }


def inputs_after_refresh(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The declared inputs as the server now has them, so the next preview shows the drift."""
    return {
        name: outs.get(name)
        for name in outs.get(DECLARED) or []
        if name != "adopt_secret" and outs.get(name) is not None
    }


# --- the provider ------------------------------------------------------------------------------


def _client(credentials: Credentials, api_key: str | None = None) -> OpenRouterClient:
    return OpenRouterClient(
        ClientSettings(api_key=api_key or credentials.management_key, base_url=credentials.base_url)
    )


class KeyProvider(ResourceProvider):
    """Creates, adopts, reads, updates and deletes OpenRouter regular keys.

    Stateless by design: the instance carries nothing, and pickles to a class reference.
    """

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Nothing to restore: settings are read in the provider process, at call time."""

    def configure(self, req: ConfigureRequest) -> None:
        settings = stack_settings_from(req)
        with _MEMORY.lock:
            _MEMORY.stack_settings[self] = settings

    def _credentials(self) -> Credentials:
        with _MEMORY.lock:
            stack = _MEMORY.stack_settings.get(self)
        return resolve_credentials(stack, os.environ)

    @_redacted_errors("check")
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        now = datetime.now(UTC)
        failures = [CheckFailure(f.property, f.reason) for f in check_inputs(olds, news, now)]
        try:
            credentials = self._credentials()
        except KeyProviderError:
            return CheckResult(dict(news), failures)  # no key yet: nothing to ask the API
        guard_failure = _preview_guard(credentials)
        if guard_failure is not None:
            failures.append(CheckFailure(GUARD_PROPERTY, guard_failure))
        elif not failures and _adopts_anew(olds, news):
            adopt_failure = _preview_adopt(credentials, news["adopt"])
            if adopt_failure is not None:
                failures.append(CheckFailure("adopt", adopt_failure))
        return CheckResult(dict(news), failures)

    @_redacted_errors("diff")
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan = diff_inputs(olds, news)
        # delete_before_replace stays False: the new key exists before the old one goes, so
        # consumers are never left pointing at a deleted key.
        return DiffResult(
            changes=plan.has_changes,
            replaces=list(plan.replaces),
            delete_before_replace=False,
        )

    @_redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        credentials = self._credentials()
        with _client(credentials) as client:
            ensure_management_key(client, credentials)
            if present(props, "adopt"):
                record, secret = _adopt(client, credentials, props)
            else:
                record, secret = _mint(client, props)
        outs = key_outputs(
            record, key=secret, declared=declared_inputs(props), adopt=props.get("adopt")
        )
        return CreateResult(record.hash, outs)

    @_redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        credentials = self._credentials()
        with _client(credentials) as client:
            try:
                record = client.get_key(id_)
            except KeyNotFound:
                return ReadResult(None, {})
        declared = props.get(DECLARED)
        outs = key_outputs(
            record,
            key=props.get("key"),
            declared=list(declared) if isinstance(declared, list | tuple) else [],
            adopt=props.get("adopt"),
        )
        # A user-driven get has no `declared` yet: leave its inputs alone.
        inputs = inputs_after_refresh(outs) if declared is not None else None
        return ReadResult(record.hash, outs, inputs)

    @_redacted_errors("update")
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        credentials = self._credentials()
        changes = patch_changes(olds, news)
        secret_changed = "adopt_secret" in diff_inputs(olds, news).changed
        key = olds.get("key")
        with _client(credentials) as client:
            ensure_management_key(client, credentials)
            if secret_changed:
                label = olds.get("label")
                _verify_adopt_secret(credentials, id_, label, news["adopt_secret"])
                key = news["adopt_secret"]
            record = client.update_key(id_, changes) if changes else None
        declared = declared_inputs(news)
        adopt = news.get("adopt")
        if record is None:
            # Nothing to PATCH (only bookkeeping or the adopted secret changed): keep the
            # server's values from state rather than spend a request.
            outs = {k: v for k, v in olds.items() if not k.startswith("__")}
            outs.update({"key": key, DECLARED: declared, "adopt": adopt})
            return UpdateResult(outs)
        return UpdateResult(key_outputs(record, key=key, declared=declared, adopt=adopt))

    @_redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        credentials = self._credentials()
        with _client(credentials) as client:
            ensure_management_key(client, credentials)
            client.delete_key(id_)  # 404 counts as done: the key is gone either way


# --- create and adopt --------------------------------------------------------------------------


def _preview_guard(credentials: Credentials) -> str | None:
    """During preview, report a wrong key type early; an unreachable API is no verdict."""
    if is_verified_management_key(credentials):
        return None  # asked once per process already
    try:
        with _client(credentials) as client:
            ensure_management_key(client, credentials)
    except KeyProviderError as err:
        return str(err)
    except OpenRouterError as err:
        # Unreachable or throttled: not a verdict on the key. The guard runs again before
        # the first write, and fails there if it must.
        _log.debug("key-type guard skipped during check: %s", redact(str(err)))
    return None


def _preview_adopt(credentials: Credentials, hash_: str) -> str | None:
    """A key to adopt must exist, and `check` is where the engine can still refuse the whole
    update: found at `create`, the update would stop half done, after replacements whose old
    keys the next update deletes first (ADR 0003)."""
    if not is_verified_management_key(credentials):
        return None  # the guard could not run: no verdict without a trusted key
    try:
        with _client(credentials) as client:
            client.get_key(hash_)
    except KeyNotFound:
        return str(provider_error("adopt-not-found", hash=hash_))
    except OpenRouterError as err:
        _log.debug("adopt check skipped during check: %s", redact(str(err)))
    return None


def _adopts_anew(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """This check precedes a create or a replace that takes over a key (`adopt` is new)."""
    adopt = news.get("adopt")
    return isinstance(adopt, str) and olds.get("adopt") != adopt


def _mint(client: OpenRouterClient, news: Mapping[str, Any]) -> tuple[KeyRecord, str]:
    """One POST (never retried blindly; see the client), and one PATCH if asked to be disabled."""
    created = client.create_key(CreateKeyRequest(**create_fields(news)))
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


def _adopt(
    client: OpenRouterClient, credentials: Credentials, news: Mapping[str, Any]
) -> tuple[KeyRecord, str | None]:
    """Take over an existing key: check everything first, then PATCH only what differs."""
    hash_ = news["adopt"]
    try:
        record = client.get_key(hash_)
    except KeyNotFound:
        raise provider_error("adopt-not-found", hash=hash_) from None
    current = key_outputs(record, key=None, declared=[], adopt=hash_)
    fixed = sorted(set(diff_inputs(current, news).replaces) & (REPLACE_FIELDS - {"adopt"}))
    if fixed:
        name = fixed[0]
        raise provider_error(
            "adopt-fixed-field", property=name, hash=hash_, current=repr(current.get(name))
        )
    secret: str | None = None
    if present(news, "adopt_secret"):
        _verify_adopt_secret(credentials, hash_, record.label, news["adopt_secret"])
        secret = news["adopt_secret"]
    changes = patch_changes(current, news)
    if changes:
        record = client.update_key(hash_, changes)
    return record, secret


def _verify_adopt_secret(
    credentials: Credentials, hash_: str, label: object, secret: str
) -> None:
    """The secret must be a regular key whose label is the adopted key's label."""
    shown_label = redact(str(label)) if label is not None else "label unknown"
    with _client(credentials, api_key=secret) as client:
        try:
            current = client.current_key()
        except UnauthorizedError:
            raise provider_error("adopt-secret-invalid", hash=hash_, label=shown_label) from None
    if current.is_management_key:
        raise provider_error("adopt-secret-is-management", hash=hash_, label=shown_label)
    if current.label != label and mask(secret) != label:
        raise provider_error(
            "adopt-secret-mismatch",
            hash=hash_,
            label=shown_label,
            other_label=redact(str(current.label)),
        )


# --- the resource ------------------------------------------------------------------------------


def _stdlib_batch_setitems() -> Callable[..., Any]:
    """`pickle._Pickler._batch_setitems` as the standard library defines it.

    pulumi 3.272 `serialize_provider` wraps this method in a sorting wrapper on every dynamic
    resource and never puts it back, so each `ApiKey` adds one more layer: serialising slows down
    linearly, and past ~950 keys in one process it fails with RecursionError (the likely cause of
    pulumi/pulumi#17803). The original is found under the wrappers, through their closures.
    """
    method: Any = pickle._Pickler._batch_setitems
    while getattr(method, "__qualname__", "") != "_Pickler._batch_setitems":
        cells = [c.cell_contents for c in getattr(method, "__closure__", None) or ()]
        method = next((c for c in cells if callable(c)), None)
        if method is None:  # pragma: no cover - a future SDK that no longer wraps it
            return pickle._Pickler._batch_setitems
    return method


def undo_sdk_pickle_wrapper() -> None:
    """Put the standard pickler back after the SDK serialised a provider (see above).

    The SDK's next call re-wraps the original once, so serialisation stays sorted and
    deterministic. `ApiKey` calls this after every registration, so no caller has to.
    """
    pickle._Pickler._batch_setitems = _stdlib_batch_setitems()


@dataclass
class ApiKeyArgs:
    """Inputs of an OpenRouter regular key; see docs/resources/api-key.md."""

    name: pulumi.Input[str]
    limit: pulumi.Input[float] | None = None
    limit_reset: pulumi.Input[str] | None = None
    include_byok_in_limit: pulumi.Input[bool] | None = None
    expires_at: pulumi.Input[str] | None = None
    disabled: pulumi.Input[bool] | None = None
    workspace_id: pulumi.Input[str] | None = None
    adopt: pulumi.Input[str] | None = None
    adopt_secret: pulumi.Input[str] | None = None


class ApiKey(Resource, module="openrouter", name="ApiKey"):
    """An OpenRouter regular (inference) key, minted by the management key.

    The type token `pulumi-python:dynamic/openrouter:ApiKey` is part of every URN: never change it.
    """

    hash: pulumi.Output[str]
    key: pulumi.Output[str | None]
    label: pulumi.Output[str]
    name: pulumi.Output[str]
    limit: pulumi.Output[float | None]
    limit_reset: pulumi.Output[str | None]
    include_byok_in_limit: pulumi.Output[bool]
    expires_at: pulumi.Output[str | None]
    disabled: pulumi.Output[bool]
    workspace_id: pulumi.Output[str]
    created_at: pulumi.Output[str]
    limit_remaining: pulumi.Output[float | None]
    usage: pulumi.Output[float]
    usage_daily: pulumi.Output[float]
    usage_weekly: pulumi.Output[float]
    usage_monthly: pulumi.Output[float]
    adopt: pulumi.Output[str | None]
    declared: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        args: ApiKeyArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            **dict.fromkeys(_OUTPUT_ONLY),
            **{arg: getattr(args, arg) for arg in args.__dataclass_fields__},
        }
        if args.adopt_secret is not None:
            # Stored inputs hold it: make sure state encrypts it even if passed as plain text.
            props["adopt_secret"] = pulumi.Output.secret(args.adopt_secret)
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["key"])
        try:
            super().__init__(
                KeyProvider(),
                resource_name,
                props,
                pulumi.ResourceOptions.merge(secret_opts, opts),
            )
        finally:
            undo_sdk_pickle_wrapper()
