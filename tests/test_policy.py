"""Guardrails no behaviour test can catch, checked over the source tree with `ast`.

- only `providers/http/client.py` builds an `httpx.Client` / `httpx.AsyncClient`, and no project
  code but the HTTP layer (it and `providers/http/http_errors.py`, which maps httpx's failures)
  imports httpx. Tests are exempt from both: the emulator's own tests speak raw HTTP
  to it on purpose, to check bytes our client would never send;
- `follow_redirects` is never switched on, and the one client says `False` explicitly;
- no transport retries (`retries=` on an `HTTPTransport`);
- nothing outside `cli/`, `emulator/__main__.py` and `bench/` calls `print`;
- what ships (`providers/`, `topology/`, `cli/`, `__main__.py`) never imports `emulator` or
  `tests`: the emulator's only contract with the code it stands in front of is HTTP (ADR 0005);
- `topology/` and `cli/` import `providers` only through its front door (`from providers import
  ...`, pinned in tests/test_public_surface.py), never a module of it;
- no text file of the repository (code, docs, workflows, scripts, config) cites a path of a
  developer's machine (under /work, /home, /Users, /root, a Windows user folder) or the notes
  folder beside the checkout, which exist on no user's machine; every citation of the project's
  own reference (docs/reference) names a file and sections that exist, and none names a section
  without its file.

Each rule is a pure function over one parsed module (or one file's text), proven on a bad snippet
first, then run over every Python file (or every text file) of the project.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import providers

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "venv", ".git", "bin", "node_modules", "__pycache__", "build", "dist"}
CLIENT_MODULE = "providers/http/client.py"
HTTP_LAYER = (CLIENT_MODULE, "providers/http/http_errors.py")
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
    "providers-module": (
        providers_submodule_imports,
        "from providers.http.client import KeyRecord\n",
    ),
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


def test_only_the_http_layer_and_tests_import_httpx():
    offenders = {
        f: lines
        for f in project_files()
        if f not in HTTP_LAYER and not is_test(f) and (lines := imports_httpx(parse(f)))
    }
    assert offenders == {}
    assert all(imports_httpx(parse(f)) for f in HTTP_LAYER)


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


# --- citations: the project's own reference, never a path of this machine ------------------------

REFERENCE_DIR = "docs/reference"
NOT_PROSE = {"go.sum"}
"""Checksums, not text anyone cites from."""
MACHINE_PATH = re.compile(
    # Written with a bracketed letter so that this file does not match its own rule.
    r"(?<![\w./~-])(?:/w[o]rk/|/h[o]me/[^/\s]+/|/U[s]ers/[^/\s]+/|/r[o]ot/)"
    r"|[A-Za-z]:\\U[s]ers\\"
    r"|\.\./sh[a]red\b"
)
CITATION = re.compile(
    r"(?<![\w./-])(?:docs/)?reference/(?P<file>[\w-]+\.md)"
    r"(?P<sections>(?:[\s,;-]*(?:and\s+)?§\s?\d+(?:\.\d+)*(?:\s*\([^()\n]*\))?)*)"
)
SECTION = re.compile(r"§\s?(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
FILELESS_CITATION = re.compile(r"\breference (?:§|notes\b)")


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def machine_paths(text: str) -> list[int]:
    """Lines citing a path that exists only on a developer's machine (a /tmp example is fine)."""
    return [line_of(text, m.start()) for m in MACHINE_PATH.finditer(text)]


def section_numbers(reference: str) -> set[str]:
    """The numbers of a reference file's sections, from its headings (`### 4.2 ...`)."""
    return set(HEADING.findall(reference))


def broken_citations(text: str, references: Mapping[str, set[str]]) -> list[str]:
    """`reference/<file>.md §N` citations whose file or section does not exist."""
    broken = []
    for match in CITATION.finditer(text):
        where = f"line {line_of(text, match.start())}"
        sections = references.get(match["file"])
        if sections is None:
            broken.append(f"{where}: no {REFERENCE_DIR}/{match['file']}")
            continue
        broken.extend(
            f"{where}: no §{number} in {match['file']}"
            for number in SECTION.findall(match["sections"])
            if number not in sections
        )
    return broken


def fileless_citations(text: str) -> list[int]:
    """Citations of "the reference" that do not say which file."""
    return [line_of(text, m.start()) for m in FILELESS_CITATION.finditer(text)]


@functools.cache
def text_files() -> tuple[str, ...]:
    """Every file git tracks or would track, except binaries, checksums and the shared links."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()
    found = []
    for relative in sorted(set(filter(None, listed.split("\0")))):
        path = ROOT / relative
        if (
            set(Path(relative).parts) & SKIPPED_DIRS
            or path.name in NOT_PROSE
            or not path.is_file()
            or b"\0" in path.read_bytes()
        ):
            continue
        found.append(relative)
    return tuple(found)


def read_text(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


@functools.cache
def reference_sections() -> dict[str, set[str]]:
    return {
        path.name: section_numbers(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / REFERENCE_DIR).glob("*.md"))
    }


# The citations these rules replaced (issue 10), each cut in two so that this file stays clean.
REMOVED_CITATIONS = (
    "- /wo" "rk/shared/reference/pulumi-dynamic.md §1.3, §2.2, §2.3, §2.4, §3, §9 (1)",
    "- /wo" "rk/shared/reference/openrouter-api.md §1, §6.3",
    "- /wo" "rk/shared/reference/openrouter-api.md §3, §4.1, §4.2, §7 (Retry-After), §10",
    "- /wo" "rk/shared/reference/pulumi-dynamic.md §1.4, §1.5, §2.2, §5, §8, §9",
    "- /wo" "rk/shared/reference/openrouter-api.md §10, §11, §13",
)
OTHER_MACHINE_PATHS = (
    "see /ho" "me/alice/notes/api.md",
    "see `/Us" "ers/bob/src/openrouter-keys`",
    "PATH=/ro" "ot/.local/bin",
    "C:" "\\Users" "\\carol\\notes.md",
    "../sh" "ared/reference/sinks.md §6.1",
)
REMOVED_RELATIVE_CITATIONS = (
    "module globals in by value (refe" "rence/pulumi-dynamic.md §2.2, verified with 3.272.0)",
    "- The sinks (refe" "rence/sinks.md §6.1): a create-before-delete replacement",
    "- refe" "rence/sinks.md §1.1, §1.5, §2.1, §2.2, §6.1, §6.2.",
    "ADR 0001 and refe" "rence/pulumi-dynamic.md expect.",
)
REMOVED_FILELESS_CITATIONS = (
    '"""`GET /keys` returns at most 100 keys a page (refe' 'rence §4.1); a shorter page is last',
    "  from refe" "rence §13.3 (\"no retry on 429\") on purpose",
    "  forces its replacement (refe" "rence notes on the Vercel provider, `RequiresReplace`)",
    '    "RUF001",   # Docs strings quote the refe' 'rence notes, typography included.',
)
TOY_REFERENCE = {"openrouter-api.md": {"3", "4", "4.1", "4.2", "7", "13", "13.3"}}


@pytest.mark.parametrize("text", REMOVED_CITATIONS + OTHER_MACHINE_PATHS)
def test_machine_path_rule_flags_each_path_of_a_developer_machine(text):
    assert machine_paths("intro\n" + text) == [2]


def test_machine_path_rule_allows_examples_urls_and_relative_paths():
    harmless = (
        "PULUMI_BACKEND_URL=file:///tmp/pulumi-state\n"
        # Split like the paths above, so this file never spells what the rule looks for.
        "see https://example.com/wo" "rk/notes and "
        "https://github.com/org/repo/blob/main/ro" "ot/x\n"
        "tests/wo" "rk/fixture.json, docs/reference/openrouter-api.md, ./sh" "ared/x, ../docs/x\n"
        "the workflow runs in a fresh checkout; /tmp/sandbox is a throwaway\n"
    )
    assert machine_paths(harmless) == []


@pytest.mark.parametrize("text", REMOVED_RELATIVE_CITATIONS)
def test_citation_rule_flags_each_removed_citation_of_a_file_we_do_not_have(text):
    assert broken_citations(text, TOY_REFERENCE) != []


def test_citation_rule_checks_every_section_of_a_list_even_across_lines():
    text = "- docs/reference/openrouter-api.md §3, §4.1, §7 (Retry-After), §10 (retries),\n  §13.3"
    assert broken_citations(text, TOY_REFERENCE) == ["line 1: no §10 in openrouter-api.md"]
    fine = "(reference/openrouter-api.md §4.2 and §13.3); docs/reference/openrouter-api.md §4.1"
    assert broken_citations(fine, TOY_REFERENCE) == []
    elsewhere = "https://docs.github.com/en/actions/reference/security/secrets, api-reference/x.md"
    assert broken_citations(elsewhere, TOY_REFERENCE) == []


@pytest.mark.parametrize("text", REMOVED_FILELESS_CITATIONS)
def test_fileless_rule_flags_each_removed_citation_that_named_no_file(text):
    assert fileless_citations(text) == [1]


def test_fileless_rule_leaves_prose_about_the_reference_alone():
    text = "Choices where the reference is silent; docs/reference/openrouter-api.md §4.1"
    assert fileless_citations(text) == []


def test_section_numbers_come_from_headings_only():
    text = "# Title\n## 4. Endpoints\n### 4.2 create\nsee §9\n1. a list item\n### 13.3 Create\n"
    assert section_numbers(text) == {"4", "4.2", "13.3"}


def test_the_text_scan_sees_every_kind_of_file():
    files = set(text_files())
    expected = {
        "README.md", "pyproject.toml", "requirements.txt", "scripts/test", "scripts/setup.sh",
        ".github/workflows/ci.yml", "docs/reference/openrouter-api.md", "tests/test_policy.py",
    }
    assert expected <= files
    assert not any(f.endswith("go.sum") or f.startswith((".venv/", "bin/")) for f in files)


def test_each_reference_file_numbers_its_sections():
    sections = reference_sections()
    assert {"openrouter-api.md", "pulumi-dynamic-providers.md", "github-vercel-sinks.md"} <= set(
        sections
    )
    assert all(len(numbers) >= 10 for name, numbers in sections.items() if name != "README.md")


def test_no_file_cites_a_path_of_a_developer_machine():
    offenders = {f: lines for f in text_files() if (lines := machine_paths(read_text(f)))}
    assert offenders == {}


def test_every_citation_of_the_reference_names_a_file_and_sections_that_exist():
    sections = reference_sections()
    offenders = {
        f: problems for f in text_files() if (problems := broken_citations(read_text(f), sections))
    }
    assert offenders == {}


def test_no_citation_of_the_reference_leaves_out_its_file():
    offenders = {f: lines for f in text_files() if (lines := fileless_citations(read_text(f)))}
    assert offenders == {}
