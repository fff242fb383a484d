"""Stack outputs are checked field by field; a bad one names the file, the JSON path and the fix."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from cli import wording
from cli.diagnostics import CliError
from cli.stack_outputs import (
    ManagedKey,
    StackSource,
    load_managed,
    parse_stack_governance,
    parse_stack_outputs,
    read_outputs_file,
    stack_source,
)

HASH = "e" * 64


def good_entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "hash": HASH,
        "label": "sk-or-v1-eee...eee",
        "name": "shop-prod",
        "generation": 2,
        "consumers": ["github:acme/shop:OPENROUTER_API_KEY"],
    }
    entry.update(overrides)
    return entry


def error_of(document: object) -> CliError:
    with pytest.raises(CliError) as caught:
        parse_stack_outputs(document, "prod.json", "prod")
    return caught.value


def test_keys_output_becomes_managed_keys_of_that_stack():
    document = {"keys": {"shop": good_entry()}, "inventory": "| key | ... |"}
    assert parse_stack_outputs(document, "prod.json", "prod") == [
        ManagedKey(
            stack="prod",
            key_id="shop",
            hash=HASH,
            label="sk-or-v1-eee...eee",
            name="shop-prod",
            generation=2,
            consumers=("github:acme/shop:OPENROUTER_API_KEY",),
        )
    ]


def test_a_stack_with_no_keys_yet_manages_nothing():
    assert parse_stack_outputs({"keys": {}}, "dev.json", "dev") == []


def test_extra_fields_in_an_entry_are_tolerated_for_newer_stacks():
    document = {"keys": {"shop": good_entry(workspace_id="w-1")}}
    assert parse_stack_outputs(document, "prod.json", "prod")[0].hash == HASH


@pytest.mark.parametrize(
    ("document", "path", "problem"),
    [
        ([], "the document", "is an array, not an object of stack outputs"),
        ({"inventory": "x"}, "output `keys`", "is missing (outputs present: inventory)"),
        ({"keys": "[secret]"}, "output `keys`", "is hidden ([secret])"),
        ({"keys": ["a"]}, "output `keys`", "is an array, not an object"),
        ({"keys": {"shop": "x"}}, "keys.shop", "is a string, not an object"),
        ({"keys": {"shop": good_entry(hash=None)}}, "keys.shop.hash", "is null, not a non-empty"),
        ({"keys": {"shop": good_entry(hash="")}}, "keys.shop.hash", "is empty, not a non-empty"),
        ({"keys": {"shop": good_entry(label=3)}}, "keys.shop.label", "is a number, not a string"),
        ({"keys": {"shop": good_entry(generation="2")}}, "keys.shop.generation", "is a string"),
        ({"keys": {"shop": good_entry(generation=True)}}, "keys.shop.generation", "is a boolean"),
        ({"keys": {"shop": good_entry(consumers="a")}}, "keys.shop.consumers", "is a string"),
        ({"keys": {"shop": good_entry(consumers=[1])}}, "keys.shop.consumers[0]", "is a number"),
    ],
)
def test_malformed_outputs_name_the_source_path_and_problem(document, path, problem):
    diagnostic = error_of(document).diagnostic
    assert diagnostic.kind == "outputs-invalid"
    assert diagnostic.message.startswith(f"prod.json: {path} {problem}")
    assert diagnostic.context == {"source": "prod.json", "path": path}
    assert "pulumi stack output --json --show-secrets --stack STACK" in diagnostic.hint


def test_missing_field_is_called_missing():
    entry = good_entry()
    del entry["name"]
    message = error_of({"keys": {"shop": entry}}).diagnostic.message
    assert message == "prod.json: keys.shop.name is missing, not a string."


def test_a_bad_value_is_never_quoted_back():
    sentinel_like = "sk-or-v1-" + "ab" * 32
    diagnostic = error_of({"keys": {"shop": good_entry(hash=[sentinel_like])}}).diagnostic
    assert sentinel_like not in str(diagnostic.as_json())


def test_outputs_file_that_does_not_exist(tmp_path: Path):
    with pytest.raises(CliError) as caught:
        read_outputs_file(tmp_path / "prod.json")
    assert caught.value.diagnostic.kind == "outputs-file-missing"
    hint = caught.value.diagnostic.hint
    assert "pulumi stack output --json --show-secrets --stack STACK > FILE" in hint


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("  \n", "is empty"),
        ('{"keys": {', "is not JSON (Expecting property name enclosed in double quotes at line 1"),
        ("warning: update available\n{}", "is not JSON (Expecting value at line 1, column 1)"),
    ],
)
def test_outputs_file_that_is_not_json(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "prod.json"
    path.write_text(text)
    with pytest.raises(CliError) as caught:
        read_outputs_file(path)
    assert caught.value.diagnostic.message.startswith(f"{path}: the document {problem}")


def test_outputs_path_that_is_a_directory_is_unreadable(tmp_path: Path):
    with pytest.raises(CliError) as caught:
        read_outputs_file(tmp_path)
    assert caught.value.diagnostic.kind == "outputs-file-unreadable"


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("out/prod.json", StackSource("prod", Path("out/prod.json"))),
        ("staging=out/x.json", StackSource("staging", Path("out/x.json"))),
        ("out/a=b/dev.json", StackSource("dev", Path("out/a=b/dev.json"))),
    ],
)
def test_outputs_argument_names_the_stack_after_the_file_or_an_explicit_name(argument, expected):
    assert stack_source(argument, from_file=True) == expected


def test_stack_argument_reads_pulumi():
    source = stack_source("prod", from_file=False)
    assert source == StackSource("prod")
    assert source.description == "`pulumi stack output --json --show-secrets --stack prod`"


def test_retiring_generations_are_managed_keys_wired_to_nothing():
    older = {"hash": "d" * 64, "label": "sk-or-v1-ddd...ddd", "name": "shop-1", "rotation": "1"}
    document = {"keys": {"shop": good_entry(rotation="2", retiring=[older])}}

    wired, retiring = parse_stack_outputs(document, "prod.json", "prod")

    assert (wired.hash, wired.rotation, wired.retiring) == (HASH, "2", False)
    assert (retiring.hash, retiring.name, retiring.rotation) == ("d" * 64, "shop-1", "1")
    assert retiring.retiring
    assert retiring.consumers == ()
    assert wording.owner_text(retiring) == "prod/shop@1 (retiring)"


@pytest.mark.parametrize(
    ("retiring", "path", "problem"),
    [
        ("x", "keys.shop.retiring", "is a string, not an array"),
        ([3], "keys.shop.retiring[0]", "is a number, not an object"),
        ([{"label": "", "name": "n"}], "keys.shop.retiring[0].hash", "is missing"),
        (
            [{"hash": "d", "label": "", "name": "n", "rotation": 1}],
            "keys.shop.retiring[0].rotation",
            "is a number, not a string or null",
        ),
    ],
)
def test_malformed_retiring_generations_name_their_path(retiring, path, problem):
    diagnostic = error_of({"keys": {"shop": good_entry(retiring=retiring)}}).diagnostic
    assert diagnostic.message.startswith(f"prod.json: {path} {problem}")


def test_output_name_and_entry_shape_match_the_topology_that_writes_them():
    """topology/outputs.py writes the entries; the audit must read exactly what it writes."""
    topology_outputs = importlib.import_module("topology.outputs")  # heavy: only here

    def generation(name: str, rotation: str, position: int, wired: bool) -> SimpleNamespace:
        plan = SimpleNamespace(
            resource_name=name,
            generation=rotation,
            position=position,
            wired=wired,
            protect=wired,
            guardrail="ci-cheap" if wired else None,
            workspace=None,
        )
        return SimpleNamespace(plan=plan)

    observed = {
        "shop@1": {"hash": "1" * 64, "label": "sk-or-v1-111...111", "name": "shop-1"},
        "shop@2": {"hash": "2" * 64, "label": "sk-or-v1-222...222", "name": "shop-2"},
    }
    entry = topology_outputs.key_entry(
        [generation("shop@1", "1", 1, False), generation("shop@2", "2", 2, True)],
        ["github:acme/shop:OPENROUTER_API_KEY"],
        observed,
    )
    keys = topology_outputs.keys_output({"shop": entry})
    assert keys["shop"]["guardrail"] == "ci-cheap"
    assert "guardrail" not in keys["shop"]["retiring"][0]  # left out when none
    assert "workspace" not in keys["shop"]
    document = json.loads(json.dumps({topology_outputs.KEYS_OUTPUT: keys}))

    wired, older = parse_stack_outputs(document, "prod.json", "prod")

    assert (wired.hash, wired.generation, wired.rotation, wired.retiring) == (
        "2" * 64,
        2,
        "2",
        False,
    )
    assert wired.consumers == ("github:acme/shop:OPENROUTER_API_KEY",)
    assert (older.hash, older.name, older.rotation, older.retiring) == (
        "1" * 64,
        "shop-1",
        "1",
        True,
    )


GUARDRAIL_ID = "6d1c9a2e-3b4f-4c5d-8e9f-0a1b2c3d4e5f"
WORKSPACE_ID = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
DEFAULT_GUARDRAIL_ID = "0b7e4f1c-2d3a-5b6c-8d9e-1f2a3b4c5d6e"


def test_each_generation_names_its_guardrail_and_workspace_as_the_stack_file_does():
    older = {"hash": "d" * 64, "label": "sk-or-v1-ddd...ddd", "name": "shop-1", "rotation": "1",
             "guardrail": "old-cap", "workspace": "agents"}
    document = {
        "keys": {
            "shop": good_entry(rotation="2", guardrail="ci-cheap", workspace="agents",
                               retiring=[older]),
            "plain": good_entry(hash="c" * 64),
        }
    }

    wired, retiring, plain = parse_stack_outputs(document, "prod.json", "prod")

    assert (wired.guardrail, wired.workspace) == ("ci-cheap", "agents")
    assert (retiring.guardrail, retiring.workspace) == ("old-cap", "agents")
    assert (plain.guardrail, plain.workspace) == (None, None)


def test_the_governance_output_says_which_guardrails_the_stack_manages():
    document = {
        "keys": {},
        "governance": {
            "guardrails": {"ci-cheap": {"id": GUARDRAIL_ID, "name": "ci-cheap", "workspace": None}},
            "workspaces": {
                "agents": {"id": WORKSPACE_ID, "slug": "agents",
                           "defaultGuardrail": DEFAULT_GUARDRAIL_ID},
            },
        },
    }

    managed = parse_stack_governance(document, "prod.json", "prod")

    assert managed.stack == "prod"
    assert managed.deployed.guardrail_ids() == {GUARDRAIL_ID, DEFAULT_GUARDRAIL_ID}
    assert managed.deployed.workspaces["agents"].id == WORKSPACE_ID


def test_a_stack_without_a_governance_output_manages_no_guardrail():
    managed = parse_stack_governance({"keys": {}}, "dev.json", "dev")
    assert managed.deployed.guardrail_ids() == set()
    assert managed.deployed.workspaces == {}


@pytest.mark.parametrize(
    ("governance", "path", "problem"),
    [
        ("[secret]", "output `governance`", "is a secret"),
        ([], "output `governance`", "is an array, not an object"),
        ({"guardrails": {"x": {"name": "x"}}}, "governance.guardrails.x.id", "is an object"),
        ({"workspaces": {"w": {"id": 5, "slug": "w"}}}, "governance.workspaces.w.id", "is a"),
    ],
)
def test_a_malformed_governance_output_names_the_source_and_path(governance, path, problem):
    with pytest.raises(CliError) as caught:
        parse_stack_governance({"keys": {}, "governance": governance}, "prod.json", "prod")
    diagnostic = caught.value.diagnostic
    assert diagnostic.kind == "outputs-invalid"
    assert diagnostic.message.startswith(f"prod.json: {path} {problem}")


def test_load_managed_reads_keys_and_governance_of_every_stack(tmp_path: Path):
    prod = tmp_path / "prod.json"
    prod.write_text(json.dumps({"keys": {"shop": good_entry()}, "governance": {
        "guardrails": {"cap": {"id": GUARDRAIL_ID, "name": "cap"}}}}))
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps({"keys": {}}))

    outputs = load_managed(
        [stack_source(str(prod), from_file=True), stack_source(str(dev), from_file=True)], {}
    )

    assert [k.hash for k in outputs.keys] == [HASH]
    assert [(g.stack, g.deployed.guardrail_ids()) for g in outputs.governance] == [
        ("prod", {GUARDRAIL_ID}),
        ("dev", set()),
    ]


def test_a_keys_output_read_without_show_secrets_says_how_to_read_it():
    with pytest.raises(CliError) as caught:
        parse_stack_outputs({"keys": "[secret]"}, "prod.json", "prod")
    message = caught.value.diagnostic.message
    assert "is hidden ([secret])" in message
    assert "--show-secrets" in message
