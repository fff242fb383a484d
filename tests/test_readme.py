"""README.md stays true to the code: settings, example stack, CLI, paths and no secret.

Every list is derived from the code (the pydantic models, what topology/config.py and the provider
read, Pulumi.yaml, the CLI's argparse), so a new setting or flag without a README line fails here.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
import yaml

import emulator
from cli import __main__ as cli_entry
from providers.http import credentials as provider_key
from providers.http.redaction import contains_key
from tests.support.sentinel import make_sentinel
from tests.topology.harness import ROOT, config_from
from tests.topology.test_config_docs import raw_from
from topology.config import validate
from topology.model import SETTING_NAMES

README = ROOT / "README.md"
load = importlib.import_module("topology.config")  # the package re-exports a function `load`
GENERATED = ("bin", ".venv", ".pulumi")
"""Made by scripts/setup.sh or the sandbox, not committed (.gitignore)."""


def readme() -> str:
    return README.read_text(encoding="utf-8")


# --- settings the code reads -------------------------------------------------------------------


def _config_reads_in_load() -> set[str]:
    """`<config>.get("name")` in read_raw_config, namespaced like the stack file writes them."""
    function = ast.parse(inspect.getsource(load.read_raw_config)).body[0]
    namespaces: dict[str, str] = {}
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            if ast.unparse(call.func) == "pulumi.Config" and isinstance(call.args[0], ast.Name):
                namespace = getattr(load, call.args[0].id)
                namespaces[ast.unparse(node.targets[0])] = namespace
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in namespaces
            and isinstance(node.args[0], ast.Constant)  # others come from KINDS: Pulumi.yaml
        ):
            namespace = namespaces[node.func.value.id]
            name = node.args[0].value
            names.add(name if namespace == load.NAMESPACE else f"{namespace}:{name}")
    return names


def _provider_settings() -> set[str]:
    """The provider's stack-config keys (without the namespace) and environment variables."""
    names = set()
    for attribute, value in vars(provider_key).items():
        if attribute.startswith("CONFIG_") and isinstance(value, str) and ":" in value:
            names.add(value.split(":", 1)[1])
        if attribute.startswith("ENV_") and isinstance(value, str):
            names.add(value)
    return names


def settings_read_by_code() -> set[str]:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    return (
        {name for names in SETTING_NAMES.values() for name in names}
        | _config_reads_in_load()
        | set(project["config"])
        | _provider_settings()
    )


def test_the_setting_list_is_found_in_the_code():
    found = settings_read_by_code()
    # The derivation itself still works: the three sources each contribute.
    assert {"limitReset", "gitBranch", "managementKey", "github:owner"} <= found
    assert "OPENROUTER_MANAGEMENT_KEY" in found


@pytest.mark.parametrize("name", sorted(settings_read_by_code()))
def test_every_setting_the_code_reads_is_in_the_readme(name):
    assert f"`{name}`" in readme(), f"README.md does not document `{name}`"


def test_the_management_key_decision_is_documented():
    text = readme()
    assert "not declared" in text
    assert "stack config wins" in text
    order = [text.index(v) for v in ("OPENROUTER_MANAGEMENT_KEY", "OPENROUTER_PROVISIONING_KEY")]
    assert order == sorted(order)
    assert provider_key.DEFAULT_BASE_URL in text


# --- the example stack -------------------------------------------------------------------------


def example_stacks() -> list[dict]:
    blocks = re.findall(r"```yaml\n(.*?)```", readme(), flags=re.DOTALL)
    documents = [yaml.safe_load(block) for block in blocks]
    return [d for d in documents if isinstance(d, dict) and "config" in d]


def test_the_example_stack_validates_with_the_programs_loader():
    stacks = example_stacks()
    assert stacks, "README.md lost its example stack"
    for document in stacks:
        loaded = config_from(document)
        topology = validate(raw_from(loaded.config, make_sentinel()), "prod", {})
        assert topology.plan.keys


# --- the CLI -----------------------------------------------------------------------------------


def cli_words() -> list[str]:
    parser = cli_entry.build_parser()
    [subparsers] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    words = []
    for command, sub in subparsers.choices.items():
        words.append(f"python -m cli {command}")
        words += [o for a in sub._actions for o in a.option_strings if o not in {"-h", "--help"}]
    return words


@pytest.mark.parametrize("word", sorted(set(cli_words())))
def test_every_cli_command_and_flag_is_in_the_readme(word):
    assert word in readme()


# --- paths -------------------------------------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_SPAN = re.compile(r"`([^`\s]+)`")
_PATHLIKE = re.compile(r"^\.?[\w.-]+(/[\w.-]*)*$")


def _names_a_file(span: str) -> bool:
    """`docs/x.md`, `scripts/test`: a top-level entry or a file name; not `owner/name`."""
    first, last = span.split("/", 1)[0], span.rstrip("/").rsplit("/", 1)[-1]
    return (ROOT / first).exists() or first in GENERATED or "." in last.lstrip(".")


def mentioned_paths(text: str) -> set[str]:
    found = {target.split("#", 1)[0] for target in _LINK.findall(text)}
    found |= {
        span for span in _SPAN.findall(text)
        if "/" in span and _PATHLIKE.match(span) and _names_a_file(span)
    }
    for line in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        found |= set(re.findall(r"(?<![\w/])((?:scripts|\.ci|docs|stacks)/[\w./-]+)", line))
    return {path.rstrip("/") for path in found if path and "://" not in path and "<" not in path}


def test_path_extraction_finds_links_spans_and_commands():
    sample = "[a](docs/x.md#y) `scripts/y.sh` ```console\n$ bash .ci/run\n```"
    assert mentioned_paths(sample) == {"docs/x.md", "scripts/y.sh", ".ci/run"}


def test_every_path_the_readme_mentions_exists():
    missing = []
    for path in sorted(mentioned_paths(readme())):
        if path.split("/", 1)[0] in GENERATED:
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    assert not missing, f"README.md mentions paths that do not exist: {missing}"


# --- no secret ---------------------------------------------------------------------------------


def key_shaped(text: str) -> list[str]:
    """Lines holding something key-shaped that is not a mask (the sandbox key is public)."""
    allowed = text.replace(emulator.SANDBOX_MANAGEMENT_KEY, "")
    return [line for line in allowed.splitlines() if contains_key(line)]


def test_the_secret_check_catches_a_real_looking_key():
    assert key_shaped(f"export OPENROUTER_API_KEY={make_sentinel()}")
    assert not key_shaped("label sk-or-v1-abc...xyz and " + emulator.SANDBOX_MANAGEMENT_KEY)


@pytest.mark.parametrize("doc", ["README.md", "docs/troubleshooting.md"])
def test_no_key_shaped_secret_in_the_docs(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    found = key_shaped(text)
    assert not found, f"{doc} holds key-shaped text; mask it like sk-or-v1-abc...xyz: {found}"


def test_readme_links_the_troubleshooting_page():
    assert "](docs/troubleshooting.md)" in readme()
    assert Path(ROOT / "docs" / "troubleshooting.md").exists()
