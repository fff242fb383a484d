"""Guardrails no behaviour test can catch, checked over the source tree with `ast`.

- only `providers/client.py` builds an `httpx.Client` / `httpx.AsyncClient`, and no other
  project code imports httpx. Tests are exempt from both: the emulator's own tests speak raw HTTP
  to it on purpose, to check bytes our client would never send;
- `follow_redirects` is never switched on, and the one client says `False` explicitly;
- no transport retries (`retries=` on an `HTTPTransport`);
- nothing outside `cli/`, `emulator/__main__.py` and `bench/` calls `print`;
- what ships (`providers/`, `topology/`, `cli/`, `__main__.py`) never imports `emulator` or
  `tests`: the emulator's only contract with the code it stands in front of is HTTP (ADR 0005);
- `topology/` and `cli/` import `providers` only through its front door (`from providers import
  ...`, pinned in tests/test_public_surface.py), never a module of it.

Each rule is a pure function over one parsed module, proven on a bad snippet first, then run
over every Python file of the project.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import providers

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "venv", ".git", "bin", "node_modules", "__pycache__", "build", "dist"}
CLIENT_MODULE = "providers/client.py"
PRINT_ALLOWED = ("cli/", "bench/", "emulator/__main__.py")
SHIPPED = ("providers/", "topology/", "cli/", "__main__.py")
TEST_ONLY_PACKAGES = {"emulator", "tests"}
CLIENT_CLASSES = {"Client", "AsyncClient"}
TRANSPORT_CLASSES = {"HTTPTransport", "AsyncHTTPTransport"}


@functools.cache
def project_files() -> tuple[str, ...]:
    found: list[str] = []
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                if entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
                    stack.append(entry)
            elif entry.suffix == ".py":
                found.append(entry.relative_to(ROOT).as_posix())
    return tuple(sorted(found))


@functools.cache
def parse(relative: str) -> ast.Module:
    return ast.parse((ROOT / relative).read_text(encoding="utf-8"), filename=relative)


def is_test(relative: str) -> bool:
    return relative.startswith("tests/")


def _httpx_aliases(tree: ast.Module) -> tuple[set[str], dict[str, str]]:
    """Names bound to the httpx module, and names bound to things imported from it."""
    modules: set[str] = set()
    members: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "httpx" or alias.name.startswith("httpx."):
                    modules.add(alias.asname or "httpx")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "httpx":
            for alias in node.names:
                members[alias.asname or alias.name] = alias.name
    return modules, members


def _called_httpx_names(tree: ast.Module) -> Iterator[tuple[str, ast.Call]]:
    """(httpx attribute, call) for every call of something from httpx, however imported."""
    modules, members = _httpx_aliases(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        ):
            yield func.attr, node
        elif isinstance(func, ast.Name) and func.id in members:
            yield members[func.id], node


def imports_httpx(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "httpx" for a in node.names
        ):
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "httpx":
            lines.append(node.lineno)
    return lines


def client_constructions(tree: ast.Module) -> list[int]:
    return [call.lineno for name, call in _called_httpx_names(tree) if name in CLIENT_CLASSES]


def redirect_violations(tree: ast.Module) -> list[int]:
    """Any call passing `follow_redirects` anything but a literal False."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "follow_redirects" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    lines.append(node.lineno)
    return lines


def transport_retry_violations(tree: ast.Module) -> list[int]:
    lines = []
    for name, call in _called_httpx_names(tree):
        if name in TRANSPORT_CLASSES and any(k.arg == "retries" for k in call.keywords):
            lines.append(call.lineno)
    return lines


def print_calls(tree: ast.Module) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"print", "pprint"}
    ]


def emulator_or_test_imports(tree: ast.Module) -> list[int]:
    """Imports of the emulator or the test suite (which only tests, bench and scripts may use)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        if roots & TEST_ONLY_PACKAGES:
            lines.append(node.lineno)
    return lines


def providers_submodule_imports(tree: ast.Module) -> list[int]:
    """Imports of a module inside `providers` rather than of the package's public names."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
            if node.module == "providers":
                public = set(providers.__all__)
                names += [f"providers.{a.name}" for a in node.names if a.name not in public]
        else:
            continue
        if any(name.startswith("providers.") for name in names):
            lines.append(node.lineno)
    return lines


# --- the rules catch what they should -----------------------------------------------------------

BAD_SNIPPETS = {
    "client": (client_constructions, "import httpx\nc = httpx.Client()\n"),
    "client-from": (client_constructions, "from httpx import AsyncClient as A\nA()\n"),
    "client-alias": (client_constructions, "import httpx as h\nh.Client(timeout=1)\n"),
    "import": (imports_httpx, "from httpx import Request\n"),
    "redirects": (redirect_violations, "x.Client(follow_redirects=True)\n"),
    "redirects-variable": (redirect_violations, "flag = False\nf(follow_redirects=flag)\n"),
    "retries": (transport_retry_violations, "import httpx\nhttpx.HTTPTransport(retries=3)\n"),
    "print": (print_calls, "def f():\n    print('x')\n"),
    "emulator": (emulator_or_test_imports, "from emulator.app import Store\n"),
    "tests": (emulator_or_test_imports, "import tests.support.sentinel as s\n"),
    "providers-module": (providers_submodule_imports, "from providers.client import KeyRecord\n"),
    "providers-import": (providers_submodule_imports, "import providers.key\n"),
    "providers-from": (providers_submodule_imports, "from providers import client\n"),
}


@pytest.mark.parametrize("rule", sorted(BAD_SNIPPETS))
def test_each_rule_flags_its_bad_snippet(rule):
    check, source = BAD_SNIPPETS[rule]
    assert check(ast.parse(source)) != []


def test_rules_leave_harmless_code_alone():
    source = (
        "import httpx\n"
        "t = httpx.HTTPTransport()\n"
        "r = httpx.Request('GET', 'http://x')\n"
        "c = other.Client(follow_redirects=False)\n"
        "log.print_summary()\n"
    )
    tree = ast.parse(source)
    assert client_constructions(tree) == []
    assert redirect_violations(tree) == []
    assert transport_retry_violations(tree) == []
    assert print_calls(tree) == []
    lookalikes = ast.parse("from providers import emulation\nimport emulators\n")
    assert emulator_or_test_imports(lookalikes) == []
    front_door = ast.parse("from providers import ApiKey, redact\nimport providers\n")
    assert providers_submodule_imports(front_door) == []


# --- the tree obeys them ------------------------------------------------------------------------


def test_the_scan_sees_the_project():
    files = project_files()
    assert CLIENT_MODULE in files
    assert "tests/test_policy.py" in files
    assert not any(f.startswith(".venv/") for f in files)


def test_only_the_client_module_builds_an_httpx_client():
    offenders = {
        f: lines
        for f in project_files()
        if f != CLIENT_MODULE and not is_test(f) and (lines := client_constructions(parse(f)))
    }
    assert offenders == {}
    assert len(client_constructions(parse(CLIENT_MODULE))) == 1


def test_only_the_client_module_and_tests_import_httpx():
    offenders = {
        f: lines
        for f in project_files()
        if f != CLIENT_MODULE and not is_test(f) and (lines := imports_httpx(parse(f)))
    }
    assert offenders == {}


def test_redirects_are_never_followed_anywhere():
    offenders = {f: lines for f in project_files() if (lines := redirect_violations(parse(f)))}
    assert offenders == {}


def test_the_client_says_follow_redirects_false_explicitly():
    tree = parse(CLIENT_MODULE)
    ((_, call),) = [(n, c) for n, c in _called_httpx_names(tree) if n in CLIENT_CLASSES]
    keywords = {k.arg: k.value for k in call.keywords}
    assert isinstance(keywords.get("follow_redirects"), ast.Constant)
    assert keywords["follow_redirects"].value is False  # type: ignore[union-attr]
    assert "timeout" in keywords


def test_no_transport_retries_anywhere():
    offenders = {
        f: lines for f in project_files() if (lines := transport_retry_violations(parse(f)))
    }
    assert offenders == {}


def test_nothing_prints_outside_the_cli_bench_and_emulator_entry_point():
    offenders = {
        f: lines
        for f in project_files()
        if not f.startswith(PRINT_ALLOWED) and (lines := print_calls(parse(f)))
    }
    assert offenders == {}


def test_shipped_code_never_imports_the_emulator_or_the_tests():
    offenders = {
        f: lines
        for f in project_files()
        if f.startswith(SHIPPED) and (lines := emulator_or_test_imports(parse(f)))
    }
    assert offenders == {}


def test_topology_and_cli_use_only_the_front_door_of_providers():
    offenders = {
        f: lines
        for f in project_files()
        if f.startswith(("topology/", "cli/")) and (lines := providers_submodule_imports(parse(f)))
    }
    assert offenders == {}
