"""The stack settings this project reads, and the refusal of every other name in its namespace.

A misspelt setting used to be silently ignored: `openrouter-keys:key:` instead of `keys:` left the
program with no keys, and the preview planned to delete every key. Pulumi hands the program every
config key of the stack, so each one in the project's namespace must be a setting listed here,
and a namespace that is one slip away from `openrouter-keys` is refused too (docs/config.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import Final

from providers import CONFIG_NAMESPACE, shown
from topology.rules import Problem
from topology.scoped import KINDS

PROJECT_SETTINGS: Final = (
    "keys",
    "guardrails",
    "workspaces",
    "managementKeyTargets",
    "protectKeys",
    "apiBaseUrl",
    "adoptedSecrets",
    "retireQuietPeriod",
    "retireInUse",
    *(kind.setting for kind in KINDS),
    "managementKey",
)
"""Every `openrouter-keys:<setting>`; Pulumi.yaml declares all but `managementKey` (ADR 0001)."""
NAMESPACE_SLIP: Final = 3
"""A namespace this many edits or fewer from `openrouter-keys` is taken for a misspelling."""


def edit_distance(left: str, right: str) -> int:
    """Levenshtein distance: the fewest single-character edits turning `left` into `right`."""
    previous = list(range(len(right) + 1))
    for i, char in enumerate(left, start=1):
        current = [i]
        for j, other in enumerate(right, start=1):
            substitution = previous[j - 1] + (char != other)
            current.append(min(previous[j] + 1, current[j - 1] + 1, substitution))
        previous = current
    return previous[-1]


def _normal(namespace: str) -> str:
    return namespace.casefold().replace("_", "-")


def looks_like_ours(namespace: str) -> bool:
    """`openrouter-key`, `OpenRouter-Keys`, `openrouter_keys`, `openrouter`: a slip, not another
    package's namespace."""
    if namespace == CONFIG_NAMESPACE:
        return False
    normal = _normal(namespace)
    near = edit_distance(normal, CONFIG_NAMESPACE) <= NAMESPACE_SLIP
    return near or normal.startswith("openrouter")


def setting_problems(config_keys: Iterable[str]) -> list[Problem]:
    """A problem for every config key that names no setting of this project, with a guess."""
    problems = []
    for full_key in sorted(set(config_keys)):
        namespace, colon, setting = full_key.partition(":")
        if not colon:
            continue
        if namespace == CONFIG_NAMESPACE:
            if setting in PROJECT_SETTINGS:
                continue
            head = setting.split(".", 1)[0].split("[", 1)[0]
            if head in PROJECT_SETTINGS and head != setting:
                problems.append(
                    Problem(
                        full_key,
                        f"is a setting named {shown(setting)}, not a value inside `{head}`:"
                        " `pulumi config set` without `--path` takes the whole text as the"
                        f" name; allowed: {', '.join(PROJECT_SETTINGS)}.",
                        f"run `pulumi config rm '{full_key}'`, then set it again with `--path`:"
                        f" `pulumi config set --path '{full_key}' <value>` (add `--secret` for"
                        " a secret).",
                    )
                )
                continue
            close = get_close_matches(setting, PROJECT_SETTINGS, n=1, cutoff=0.5)
            guess = f"`{CONFIG_NAMESPACE}:{close[0]}`" if close else "one of the settings"
            problems.append(
                Problem(
                    full_key,
                    f"unknown setting {shown(setting)} in the `{CONFIG_NAMESPACE}` namespace;"
                    f" allowed: {', '.join(PROJECT_SETTINGS)}. An unknown setting is never"
                    " ignored: a misspelt `keys` would plan to delete every key.",
                    f"rename it to {guess} (docs/config.md), or remove it.",
                )
            )
        elif looks_like_ours(namespace):
            close = get_close_matches(setting, PROJECT_SETTINGS, n=1, cutoff=0.5)
            target = f"{CONFIG_NAMESPACE}:{close[0] if close else setting}"
            problems.append(
                Problem(
                    full_key,
                    f"namespace {shown(namespace)} looks like a misspelling of"
                    f" `{CONFIG_NAMESPACE}`, so this program would not read it; allowed: settings"
                    f" under `{CONFIG_NAMESPACE}:`.",
                    f"rename it to `{target}`.",
                )
            )
    return problems
