"""docs/cli.md stays honest: every option, every diagnostic kind and every exit status is in it."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import pytest

from cli import __main__ as entry
from cli import diagnostics, doctor, governance, key_findings, scoped

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def options_of(command: str) -> list[str]:
    parser = entry.build_parser()
    [subparsers] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers.choices[command]
    return [o for a in sub._actions for o in a.option_strings if o not in {"-h", "--help"}]


def kinds_in_source() -> set[str]:
    modules = (diagnostics, key_findings, doctor, governance, scoped)
    source = "\n".join(inspect.getsource(m) for m in modules)
    return (
        set(re.findall(r'kind="([a-z-]+)"', source))
        | set(re.findall(r'_error\(\s*"([a-z-]+)"', source))
        | {kind.unmanaged for kind in governance.SCOPED_KINDS}
    )


@pytest.mark.parametrize("command", ["doctor", "audit"])
def test_every_option_is_documented(command):
    for option in options_of(command):
        assert f"`{option}" in DOC, option


def test_every_diagnostic_kind_is_documented():
    kinds = kinds_in_source()
    assert len(kinds) > 25  # the regexes still find them
    for kind in kinds:
        assert f"`{kind}`" in DOC, kind


def test_every_exit_status_is_documented():
    for status in (diagnostics.EXIT_OK, diagnostics.EXIT_FINDINGS, diagnostics.EXIT_ERROR, 130):
        assert f"| {status} |" in DOC
