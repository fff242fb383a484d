"""The unit every config rule reports: a `Problem` (path, what is wrong, the fix), and the
helpers every rule module shares. Kept apart so `rules.py` and the consumer rules
(`consumers.py`, `github_rules.py`, `vercel_rules.py`) can all use them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: where, what (bad value and allowed values), and the fix."""

    path: str
    message: str
    fix: str

    def render(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


def index_path(path: str, name: str, index: int) -> str:
    return f"{path}.{name}[{index}]"


def first_seen(items: Iterable[str]) -> list[tuple[int, int]]:
    """(index of a repeat, index of its first occurrence) for every repeated item."""
    seen: dict[str, int] = {}
    repeats = []
    for index, item in enumerate(items):
        if item in seen:
            repeats.append((index, seen[item]))
        else:
            seen[item] = index
    return repeats


def suggest_name(text: str) -> str:
    """`text` as a secret or variable name GitHub and Vercel accept: [A-Z0-9_], no leading digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text).upper()
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"
