"""Where a command gets its key: an environment variable or standard input, never argv.

A key on the command line lands in shell history and in every `ps` listing, so there is no flag
that takes one. The value is checked for shape only (one line, no spaces, `sk-or-` prefix) so
that a wrong secret, such as a GitHub token, is never sent to OpenRouter; which kind of key it is
only the API can tell.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from cli import diagnostics
from providers import KEY_PREFIX

REGULAR_KEY_VARIABLE = "OPENROUTER_API_KEY"
"""Where `doctor` reads the key it is asked about, by default."""
# Far above any real key (73 characters); stops a pasted file from being sent as a header.
MAX_KEY_LENGTH = 512


@dataclass(frozen=True)
class KeyInput:
    """A key and where it came from; `repr` never shows the key."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"KeyInput(value=<hidden>, source={self.source!r})"


def from_env(env: Mapping[str, str], variables: tuple[str, ...], command: str) -> KeyInput:
    """The first of `variables` that is set wins; a set but empty variable is an error."""
    for variable in variables:
        if variable in env:
            value = env[variable].strip()
            if not value:
                raise diagnostics.key_env_empty(variable)
            return KeyInput(check_shape(value, f"${variable}"), f"${variable}")
    raise diagnostics.key_env_missing(variables, command)


def from_stdin(stream: TextIO) -> KeyInput:
    """Read the key from a pipe, or prompt without echo when standard input is a terminal."""
    raw = (
        getpass.getpass("OpenRouter key: ") if stream.isatty() else stream.read(MAX_KEY_LENGTH + 2)
    )
    value = raw.strip()
    if not value:
        raise diagnostics.key_stdin_empty()
    return KeyInput(check_shape(value, "standard input"), "standard input")


def check_shape(value: str, source: str) -> str:
    """Reject values that cannot be a key, without ever quoting them."""
    if len(value) > MAX_KEY_LENGTH:
        raise diagnostics.key_malformed(source, f"it is {len(value)} characters long")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise diagnostics.key_malformed(
            source, "it holds spaces, line breaks or control characters"
        )
    if not value.startswith(KEY_PREFIX):
        raise diagnostics.key_malformed(source, "it lacks the prefix every OpenRouter key has")
    return value
