"""The SDK is a test dependency: nothing that ships imports it
(docs/adr/0006-client-stays-on-httpx.md).

The project talks to OpenRouter through `providers/http/client.py` alone (tests/test_policy.py holds
the httpx rules); the SDK is here only to check the emulator against the published spec.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("providers", "topology", "cli")
SDK_PACKAGE = "openrouter"


def sdk_imports(source: str) -> list[int]:
    """Lines that import the SDK package, however spelled."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] == SDK_PACKAGE for name in names):
            lines.append(node.lineno)
    return lines


def shipped_files() -> list[Path]:
    files = [ROOT / "__main__.py"]
    for folder in SHIPPED:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_the_check_sees_every_way_of_importing_it():
    assert sdk_imports("import openrouter\nfrom openrouter.errors import X\n") == [1, 2]
    assert sdk_imports("import openrouter_keys\nfrom providers import openrouter\n") == []


def test_shipped_code_never_imports_the_sdk():
    files = shipped_files()
    assert ROOT / "providers" / "http" / "client.py" in files
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in files
        if (lines := sdk_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
