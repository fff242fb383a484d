"""docs/troubleshooting.md has an entry for every message the project can print.

The messages are enumerated from the code, never listed here: the provider's message table, the
client's exception tree, every config problem (the `...; allowed: ...` messages of topology/), the
`ApiKey` input checks, and every CLI diagnostic kind. A new message without an entry fails.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re

import pytest

import cli
from cli import diagnostics
from cli.governance import SCOPED_KINDS
from providers import key_inputs as inputs
from providers.base import messages as provider_messages
from providers.base.messages import FailureKind
from providers.http import errors
from tests.topology.harness import ROOT
from topology.rules import Problem, TopologyConfigError

DOC = ROOT / "docs" / "troubleshooting.md"
README = ROOT / "README.md"
MIN_FRAGMENT = 12
"""Literal pieces shorter than this ("`", ": ") say nothing about which message it is."""


def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


def provider_kinds() -> list[str]:
    return sorted(provider_messages.MESSAGES)


def client_error_kinds() -> list[str]:
    tree = [errors.OpenRouterError, *subclasses(errors.OpenRouterError)]
    return sorted({cls.kind for cls in tree})


def cli_kinds() -> list[str]:
    modules = [
        importlib.import_module(f"cli.{info.name}") for info in pkgutil.iter_modules(cli.__path__)
    ]
    source = "\n".join(inspect.getsource(module) for module in modules)
    return sorted(
        set(re.findall(r'kind="([a-z-]+)"', source))
        | set(re.findall(r'_error\(\s*"([a-z-]+)"', source))
        | {kind.unmanaged for kind in SCOPED_KINDS}
    )


def _literal_pieces(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    return []


def _longest_piece(node: ast.AST) -> str | None:
    pieces = [piece.strip() for piece in _literal_pieces(node)]
    longest = max(pieces, key=len, default="")
    return longest if len(longest) >= MIN_FRAGMENT else None


def _strings(path: str) -> list[ast.AST]:
    """Every string expression of a module, outermost only (not the pieces of an f-string)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    inner |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
    return [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Constant | ast.JoinedStr) and id(n) not in inner
        and (isinstance(n, ast.JoinedStr) or isinstance(n.value, str))
    ]


def config_problem_fragments() -> list[str]:
    """The fixed text of every problem message: topology's messages all say `; allowed: `."""
    fragments = set()
    for path in sorted(str(f.relative_to(ROOT)) for f in (ROOT / "topology").glob("*.py")):
        for node in _strings(path):
            text = "".join(_literal_pieces(node))
            if "; allowed: " in text:
                piece = _longest_piece(node)
                if piece:
                    fragments.add(piece)
    return sorted(fragments)


def input_check_fragments() -> list[str]:
    """What `check` can say about an `ApiKey` input: every `_check_*` return, every Failure."""
    tree = ast.parse(inspect.getsource(inputs))
    fragments = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        checker = function.name.startswith("_check") or function.name == "check_inputs"
        for node in ast.walk(function):
            message: ast.AST | None = None
            is_reason = isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "reason"
            if checker and (isinstance(node, ast.Return) or is_reason):
                message = node.value  # type: ignore[union-attr]
            elif isinstance(node, ast.Call) and ast.unparse(node.func) == "Failure":
                message = node.args[1]
            piece = _longest_piece(message) if message is not None else None
            if piece:
                fragments.add(piece)
    return sorted(fragments)


def test_the_enumerations_find_the_messages():
    assert "management-key-not-management" in provider_kinds()
    assert {"forbidden-not-management", "ambiguous-create"} <= set(client_error_kinds())
    assert {"key-env-missing", "unmanaged-key", "key-type-mismatch"} <= set(cli_kinds())
    assert len(config_problem_fragments()) > 40
    assert any("future UTC timestamp" in f for f in input_check_fragments())


@pytest.mark.parametrize("kind", provider_kinds())
def test_every_provider_message_kind_has_an_entry(kind):
    assert f"| `{kind}` |" in doc()


@pytest.mark.parametrize("kind", client_error_kinds())
def test_every_client_error_kind_has_an_entry(kind):
    assert f"| `{kind}` |" in doc()


@pytest.mark.parametrize("kind", cli_kinds())
def test_every_cli_diagnostic_kind_has_an_entry(kind):
    assert f"| `{kind}` |" in doc()


@pytest.mark.parametrize("fragment", config_problem_fragments())
def test_every_config_problem_is_quoted(fragment):
    assert fragment in doc(), f"docs/troubleshooting.md does not quote: {fragment!r}"


@pytest.mark.parametrize("fragment", input_check_fragments())
def test_every_input_check_is_quoted(fragment):
    assert fragment in doc(), f"docs/troubleshooting.md does not quote: {fragment!r}"


def test_the_config_error_header_is_the_programs_own():
    header = str(TopologyConfigError([Problem("keys", "x;", "y.")])).splitlines()[0]
    assert header.replace("1 problem", "2 problems") in doc()


def test_the_readme_carries_the_common_ones_and_links_the_rest():
    text = README.read_text(encoding="utf-8")
    assert "(docs/troubleshooting.md)" in text
    for kind in ("management-key-not-management", "management-key-invalid"):
        assert f"`{kind}`" in text
    # The regular-key-in-the-management-slot message is quoted word for word.
    wanted = provider_messages.MESSAGES["management-key-not-management"].split("{label}) ", 1)[1]
    assert wanted.format() in text


def test_a_failure_the_provider_and_the_cli_both_report_has_one_kind():
    """A regular key in the management slot, or a management key answered 401, reads the same
    `[kind]` in `pulumi up` and in `python -m cli audit` (`FailureKind`, one table)."""
    raised = [
        diagnostics.not_a_management_key("sk-or-v1-abc...xyz", "$OPENROUTER_MANAGEMENT_KEY"),
        diagnostics.management_key_rejected("sk-or-v1-abc...xyz", "$OPENROUTER_MANAGEMENT_KEY"),
    ]

    assert [error.diagnostic.kind for error in raised] == [
        "management-key-not-management",
        "management-key-invalid",
    ]
    assert {str(kind) for kind in FailureKind} <= set(provider_kinds())
