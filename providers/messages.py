"""Every message the provider raises, and the one error type that carries it to `pulumi up`.

Messages are written for the person running `pulumi up`: the setting as written in the stack
file, what is wrong, and the fix. They are built only here (`provider_error`), always through
`redact`, because the engine shows what a provider raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

from providers.credentials import (
    BASE_URL_FIX,
    ENV_MANAGEMENT_KEY,
    ENV_PROVISIONING_KEY,
    KEYS_PAGE,
    MANAGEMENT_KEY_SETTING,
    MANAGEMENT_KEYS_PAGE,
    config_key,
)
from providers.errors import OpenRouterError
from providers.redaction import redact

KEY_TYPES = (
    "A management key creates, lists, updates and deletes other keys and cannot call models."
    " A regular key calls models and cannot manage keys."
)
_SET_KEY = (
    f"set it with `pulumi config set --secret {MANAGEMENT_KEY_SETTING}` (it prompts, so the key"
    f" stays out of your shell history) or export {ENV_MANAGEMENT_KEY}"
)
MESSAGES: Mapping[str, str] = {
    "management-key-missing": (
        f"No OpenRouter management key: neither stack config `{config_key(MANAGEMENT_KEY_SETTING)}`"
        f" nor {ENV_MANAGEMENT_KEY} (or its old name {ENV_PROVISIONING_KEY}) is set. Create one at"
        f" {MANAGEMENT_KEYS_PAGE}, then {_SET_KEY}."
    ),
    "management-key-not-management": (
        "The key in the management-key slot ({source}, {label}) is a regular key, not a"
        f" management key. {KEY_TYPES} Create a management key at {MANAGEMENT_KEYS_PAGE}, then"
        f" {_SET_KEY}."
    ),
    "management-key-invalid": (
        "OpenRouter rejected the management key ({source}) with 401: it is invalid, disabled or"
        f" deleted. Check it at {MANAGEMENT_KEYS_PAGE} (or create a new one), then {_SET_KEY}."
    ),
    "api-base-url-unsafe": (
        "{setting} is {url!r}, which cannot carry the management key: {problem}. Nothing was sent."
        f" Fix: {BASE_URL_FIX}."
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
        f" {KEYS_PAGE} (hash {{hash}}), then run `pulumi up` again."
    ),
    "api": "{operation}: {cause}",
    "internal": "{operation} failed unexpectedly: {cause}",
}


class ProviderError(Exception):
    """A provider failure whose text is written for the person running `pulumi up`.

    The text always goes through `redact`, because the engine shows what a provider raises.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(redact(message))


def provider_error(kind: str, **fields: object) -> ProviderError:
    """The one place provider messages are built, from `MESSAGES`."""
    return ProviderError(kind, MESSAGES[kind].format(**fields))


_P = ParamSpec("_P")
_R = TypeVar("_R")


def redacted_errors(operation: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn any failure of a provider method into a redacted `ProviderError` with no chain.

    The servicer aborts with `traceback.format_exc()`, which would print a chained exception's
    text too: `from None` keeps only our redacted message.
    """

    def decorate(method: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(method)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(*args, **kwargs)
            except ProviderError as err:
                raise ProviderError(err.kind, str(err)) from None
            except OpenRouterError as err:
                raise provider_error("api", operation=operation, cause=str(err)) from None
            except Exception as err:
                cause = f"{type(err).__name__}: {err}"
                raise provider_error("internal", operation=operation, cause=cause) from None

        return wrapper

    return decorate
