"""docs/emulator.md maps each copied fact to the test that pins it: every test it names exists.

A renamed or deleted test would otherwise leave a fact that reads as pinned and is not.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "docs" / "emulator.md"
# A test name in backquotes, alone or after its file; a name cut short with "…" is skipped.
NAMED = re.compile(r"`(?:(test_\w+\.py)::)?(test_\w+)`")


def defined_tests() -> dict[str, set[str]]:
    """Test function names per file name, in the emulator's and the conformance suite's tests."""
    found: dict[str, set[str]] = {}
    for folder in ("emulator", "conformance"):
        for path in (ROOT / "tests" / folder).glob("test_*.py"):
            source = path.read_text(encoding="utf-8")
            found[path.name] = set(re.findall(r"^def (test_\w+)\(", source, re.MULTILINE))
    return found


def test_every_test_the_notes_name_exists():
    tests = defined_tests()
    every = set().union(*tests.values())
    named = NAMED.findall(NOTES.read_text(encoding="utf-8"))

    assert len(named) > 60
    missing = [
        f"{file}::{name}" if file else name
        for file, name in named
        if (name not in tests.get(file, set()) if file else name not in every)
    ]
    assert missing == []


def test_the_check_finds_a_name_that_does_not_exist():
    text = "`test_keys_api.py::test_no_such_test` and `test_create_answers_…`"

    assert NAMED.findall(text) == [("test_keys_api.py", "test_no_such_test")]
