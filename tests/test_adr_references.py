"""Every test an ADR says enforces it exists: "a decision no test enforces is a wish"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")


def references() -> list[tuple[str, str, str | None]]:
    found = []
    for adr in sorted((ROOT / "docs" / "adr").glob("[0-9]*.md")):
        for path, name in REFERENCE.findall(adr.read_text(encoding="utf-8")):
            found.append((adr.name, path, name or None))
    return found


def test_the_adrs_name_tests_at_all():
    assert len(references()) > 20


@pytest.mark.parametrize(("adr", "path", "name"), references())
def test_every_test_an_adr_names_exists(adr, path, name):
    source = ROOT / path
    assert source.is_file(), f"{adr} names {path}, which does not exist"
    if name is not None:
        assert re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.MULTILINE), (
            f"{adr} names {path}::{name}, which is not a test there"
        )
