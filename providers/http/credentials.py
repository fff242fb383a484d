"""Where the management key and the API base URL come from, and the one rule for the URL.

The provider (stack config handed to `configure()`, then the environment), the program
(`topology.config`) and the CLI all resolve both here, so the precedence, the variable names and
the rule that a key never travels over plain HTTP except to loopback cannot drift between them
(docs/adr/0001-management-key-at-run-time.md). Nothing here does I/O: callers pass the stack
value and the environment, and turn a problem into their own error with the setting's name.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

CONFIG_NAMESPACE: Final = "openrouter-keys"
"""The project's config namespace: `openrouter-keys:<setting>` in a stack file."""
MANAGEMENT_KEY_SETTING: Final = "managementKey"
API_BASE_URL_SETTING: Final = "apiBaseUrl"
ENV_MANAGEMENT_KEY: Final = "OPENROUTER_MANAGEMENT_KEY"
ENV_PROVISIONING_KEY: Final = "OPENROUTER_PROVISIONING_KEY"
"""The management key's name until 2026 (OpenRouter called it a provisioning key)."""
ENV_API_BASE_URL: Final = "OPENROUTER_API_BASE_URL"
MANAGEMENT_KEY_VARIABLES: Final = (ENV_MANAGEMENT_KEY, ENV_PROVISIONING_KEY)
DEFAULT_BASE_URL: Final = "https://openrouter.ai/api/v1"
MANAGEMENT_KEYS_PAGE: Final = "https://openrouter.ai/settings/management-keys"
KEYS_PAGE: Final = "https://openrouter.ai/settings/keys"
EMULATOR_BASE_URL_EXAMPLE: Final = "http://127.0.0.1:8787/api/v1"

_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def config_key(setting: str) -> str:
    """`managementKey` -> `openrouter-keys:managementKey`, as the engine names stack config."""
    return f"{CONFIG_NAMESPACE}:{setting}"


CONFIG_MANAGEMENT_KEY: Final = config_key(MANAGEMENT_KEY_SETTING)
CONFIG_API_BASE_URL: Final = config_key(API_BASE_URL_SETTING)


@dataclass(frozen=True)
class Found:
    """A value and the setting it came from, named as the user wrote it."""

    value: str = field(repr=False)
    setting: str
    """`stack config managementKey`, `OPENROUTER_MANAGEMENT_KEY`, `--api-base-url`, ..."""


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def stack_setting_name(setting: str) -> str:
    """How a message names a stack setting: as the stack file spells it."""
    return f"stack config {config_key(setting)}"


def key_source(setting: str) -> str:
    """How a message names where the management key came from: `stack config
    openrouter-keys:managementKey`, or `environment OPENROUTER_MANAGEMENT_KEY`."""
    return setting if setting.startswith("stack config") else f"environment {setting}"


def find_management_key(stack_value: object, environ: Mapping[str, str]) -> Found | None:
    """Stack config first, then OPENROUTER_MANAGEMENT_KEY, then its old name; read at call time
    so that rotating the management key needs no `pulumi up`."""
    value = _text(stack_value)
    if value is not None:
        return Found(value, stack_setting_name(MANAGEMENT_KEY_SETTING))
    for variable in MANAGEMENT_KEY_VARIABLES:
        value = _text(environ.get(variable))
        if value is not None:
            return Found(value, variable)
    return None


def find_api_base_url(
    stack_value: object, environ: Mapping[str, str], *, flag: str | None = None,
    flag_name: str = "--api-base-url",
) -> Found:
    """A command-line flag (the CLI's), else stack config `apiBaseUrl`, else
    OPENROUTER_API_BASE_URL, else the real API. Not yet checked: see `base_url_problem`."""
    if _text(flag) is not None:
        return Found(str(flag).strip(), flag_name)
    value = _text(stack_value)
    if value is not None:
        return Found(value, stack_setting_name(API_BASE_URL_SETTING))
    value = _text(environ.get(ENV_API_BASE_URL))
    if value is not None:
        return Found(value, ENV_API_BASE_URL)
    return Found(DEFAULT_BASE_URL, "the default")


def is_header_safe(value: str) -> bool:
    """Visible ASCII only: what a bearer token can be, and nothing httpx would refuse."""
    return all("!" <= character <= "~" for character in value)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: traffic that never leaves this machine."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why `url` cannot carry the management key, or None when it can.

    https anywhere; plain http only to loopback (the emulator), since the key travels in the
    Authorization header of every request.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "it is not an http(s) URL with a host"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            f"plain http to {parts.hostname} would send the management key unencrypted; plain"
            " http is only for loopback (127.0.0.1, localhost, ::1)"
        )
    return None


BASE_URL_FIX: Final = (
    f"use an https URL such as {DEFAULT_BASE_URL}, or the emulator's {EMULATOR_BASE_URL_EXAMPLE}"
)


def normal_base_url(url: str) -> str:
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Credentials:
    """The management key and the API base URL one call uses, and where the key came from."""

    management_key: str = field(repr=False)
    base_url: str
    source: str

    def guard_cache_key(self) -> str:
        """Names the credential in the key-type guard's cache without keeping the key itself."""
        material = f"{self.base_url}\0{self.management_key}".encode()
        return hashlib.sha256(material).hexdigest()
