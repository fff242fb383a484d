"""BYOK credentials and observability destinations in the stack file (topology/scoped.py): every
problem at once with the setting as written, no secret ever quoted, the plan, the `governance`
output that records them, ownership across stacks and the inventory's edges from keys."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.sentinel import make_sentinel
from tests.topology.harness import API_KEY_TYPE, fake_uuid, namespaced, run_program
from topology.config import RawConfig, TopologyConfigError, scoped_as_written, validate
from topology.deployed import Deployment
from topology.governance_output import (
    GOVERNANCE_OUTPUT,
    DeployedGovernance,
    governance_output,
    parse_governance_output,
)
from topology.inventory import (
    deployed_from_outputs,
    inventory_rows,
    render_diagram,
    render_scoped,
)
from topology.ownership import ownership_problems
from topology.preflight import destination_caps
from topology.scoped import MAX_KEY_HASHES

MANAGEMENT = "openrouter-keys:managementKey"
DYNAMIC = "pulumi-python:dynamic/openrouter:"
A_UUID = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
KEYS = {"api": {"rotations": ["2026-11-01", "2026-12-01"]}, "ci": {}, "web": {}}


def secret_value() -> str:
    """A stand-in for a provider's key, made at run time (never a realistic literal)."""
    return f"provider-secret-{make_sentinel()[-12:]}"


def byok(**extra: Any) -> dict[str, Any]:
    return {"provider": "openai", "key": secret_value(), **extra}


def langfuse(**extra: Any) -> dict[str, Any]:
    config = {"publicKey": "pk-lf-public", "secretKey": secret_value()}
    return {"type": "langfuse", "config": config, **extra}


def raw(
    byok_: Any = None,
    observability: Any = None,
    *,
    keys: Any = None,
    encrypted: bool = True,
    workspaces: Any = None,
) -> RawConfig:
    sections = {"byok": byok_, "observability": observability}
    return RawConfig(
        keys=json.dumps(KEYS if keys is None else keys),
        workspaces=None if workspaces is None else json.dumps(workspaces),
        management_key=make_sentinel(),
        management_key_is_secret=True,
        scoped={k: None if v is None else json.dumps(v) for k, v in sections.items()},
        scoped_secret=frozenset(k for k, v in sections.items() if v is not None and encrypted),
    )


def problems(config: RawConfig) -> list[str]:
    with pytest.raises(TopologyConfigError) as caught:
        validate(config, "dev", {})
    return [problem.render() for problem in caught.value.problems]


def test_a_credential_and_a_destination_are_planned_with_their_keys_and_workspace():
    config = validate(
        raw(
            {"openai-prod": byok(keys=["api", "ci"], workspace="agents", allowedModels=["a/b"])},
            {"langfuse": langfuse(name="Langfuse production", keys=["web"])},
            workspaces={"agents": {}},
        ),
        "dev",
        {},
    )
    credential, destination = config.plan.scoped
    assert (credential.config_path, credential.name, credential.workspace) == (
        "byok.openai-prod",
        "dev-openai-prod",
        "agents",
    )
    assert credential.spec.keys == ["api", "ci"]
    assert (destination.config_path, destination.name) == (
        "observability.langfuse",
        "Langfuse production",
    )


def test_a_secret_in_plain_text_is_refused_and_never_quoted():
    entry = byok()
    found = problems(raw({"openai-prod": entry}, {"lf": langfuse()}, encrypted=False))
    text = "\n".join(found)
    assert entry["key"] not in text
    assert any(
        p.startswith("byok.openai-prod.key: is stored in plain text")
        and "--secret --path 'openrouter-keys:byok.openai-prod.key'" in p
        for p in found
    )
    assert any(p.startswith("observability.lf.config.secretKey: is stored in plain") for p in found)
    # The public key is no secret: not refused.
    assert not any("config.publicKey" in p for p in found)


def test_a_wrongly_typed_secret_is_not_quoted_either():
    leaked = secret_value()
    found = problems(raw({"openai-prod": {"provider": "openai", "key": [leaked]}}))
    assert found
    assert leaked not in "\n".join(found)
    found = problems(raw({"openai-prod": leaked}))
    assert found == [
        "byok.openai-prod: the value (not shown) is not a BYOK credential spec; allowed: a map of"
        " settings, or {} for all defaults. Fix: write the BYOK credential's settings as a map."
    ]


def test_keys_must_be_key_ids_of_the_stack_each_once():
    found = problems(raw({"openai-prod": byok(keys=["apii", "ci", "ci"])}))
    assert (
        "byok.openai-prod.keys[0]: 'apii' is not a key id of this stack; allowed: api, ci, web."
        " Fix: correct it to `api`."
    ) in found
    assert any(p.startswith("byok.openai-prod.keys[2]: 'ci' is listed twice") for p in found)


def test_an_empty_keys_list_is_refused():
    found = problems(raw({"openai-prod": byok(keys=[])}))
    assert any(p.startswith("byok.openai-prod.keys:") for p in found)


def test_more_live_generations_than_openrouter_accepts_are_refused():
    many = {f"k{i}": {"rotations": ["1", "2"]} for i in range(MAX_KEY_HASHES // 2 + 1)}
    found = problems(raw({"all": byok(keys=list(many))}, keys=many))
    assert any(
        p.startswith(f"byok.all.keys: lists keys with {MAX_KEY_HASHES + 2} live generations")
        for p in found
    )


def test_an_unknown_workspace_and_an_unknown_setting_name_the_setting_as_written():
    found = problems(raw({"openai-prod": byok(workspace="agnets")}, workspaces={"agents": {}}))
    assert found == [
        "byok.openai-prod.workspace: 'agnets' is not a workspace of this stack; allowed: agents,"
        " or a workspace UUID. Fix: correct it to `agents`."
    ]
    found = problems(raw({"openai-prod": byok(isFallback=True)}))
    assert any(
        p.startswith("byok.openai-prod.isFallback: unknown setting `isFallback`; allowed:")
        and "fallback" in p
        for p in found
    )


def test_an_unknown_provider_and_a_missing_required_config_field_are_refused():
    found = problems(
        raw({"x": byok(provider="opnai")}, {"d": {"type": "datadog", "config": {"apiKey": "v"}}})
    )
    assert any(p.startswith("byok.x.provider:") for p in found)
    assert any(p.startswith("observability.d") and "mlApp" in p for p in found)


def test_the_governance_output_records_each_kind_at_its_top_level_and_reads_back():
    value = {
        "guardrails": {},
        "byok": {"openai-prod": {"id": A_UUID, "name": "dev-openai-prod", "keys": ["api"]}},
        "observability": {"lf": {"id": A_UUID.replace("3f", "4f"), "name": "lf"}},
    }
    parsed = parse_governance_output(value)
    assert parsed.scoped["byok"]["openai-prod"].keys == ["api"]
    assert governance_output(parsed) == {
        "guardrails": {},
        "workspaces": {},
        "byok": {"openai-prod": {"id": A_UUID, "name": "dev-openai-prod", "keys": ["api"]}},
        "observability": {"lf": {"id": A_UUID.replace("3f", "4f"), "name": "lf"}},
    }


def test_adopting_a_credential_another_stack_manages_is_refused_naming_it():
    config = validate(raw({"openai": byok(adopt=A_UUID)}), "dev", {})
    theirs = DeployedGovernance.model_validate(
        {"byok": {"openai-prod": {"id": A_UUID, "name": "prod-openai-prod"}}}
    )
    found = ownership_problems(Deployment("dev", {}), config.plan, [Deployment("prod", {}, theirs)])
    assert [p.render() for p in found] == [
        f"byok.openai.adopt: BYOK credential '{A_UUID}' is already managed by stack 'prod' as"
        " byok.openai-prod; two stacks on one BYOK credential overwrite each other's settings on"
        " every update, and removing either deletes it under the other; allowed: adopting a BYOK"
        " credential no stack of this project manages. Fix: remove `adopt` from byok.openai:"
        " change that BYOK credential in stack 'prod''s stack file, or declare a BYOK credential"
        " of this stack without `adopt`."
    ]


def test_the_inventory_draws_an_edge_from_each_key_and_lists_who_may_use_it():
    config = validate(raw({"openai-prod": byok(keys=["api"])}, {"lf": langfuse()}), "dev", {})
    rows = inventory_rows(config.plan, deployed_from_outputs({}), datetime.now(UTC))
    diagram = render_diagram(config.plan, rows)
    api_group = "k0"  # `api` is the first key of the stack file
    credential = next(line for line in diagram.splitlines() if "dev-openai-prod" in line)
    node = credential.strip().partition("[")[0]
    assert f"  {api_group} -. may call through .-> {node}" in diagram.splitlines()
    destination = next(line for line in diagram.splitlines() if "dev-lf" in line)
    assert "every key of the account" in destination
    table = render_scoped(config.plan)
    assert "| byok.openai-prod | BYOK credential | dev-openai-prod | default | api |" in table
    assert "| observability.lf | observability destination | dev-lf | default |" in table
    assert "every key of the account" in table


# --- registration under mocks -------------------------------------------------------------------


def scoped_run(credential: dict[str, Any], destination: dict[str, Any]) -> Any:
    values = {
        "keys": json.dumps(KEYS),
        "workspaces": json.dumps({"agents": {}}),
        "byok": json.dumps({"openai-prod": credential}),
        "observability": json.dumps({"lf": destination}),
        "managementKey": make_sentinel(),
    }
    secret = [MANAGEMENT, "openrouter-keys:byok", "openrouter-keys:observability"]
    run = run_program(namespaced(values), secret, stack="dev")
    assert run.error is None, run.error
    return run


def test_each_is_registered_once_its_keys_exist_restricted_to_every_live_generation():
    credential, destination = byok(keys=["api", "ci"], workspace="agents"), langfuse()
    run = scoped_run(credential, destination)
    [registered] = run.of_type(f"{DYNAMIC}ByokCredential")
    [traced] = run.of_type(f"{DYNAMIC}ObservabilityDestination")
    generations = [run.named(API_KEY_TYPE, f"api@{g}") for g in ("2026-11-01", "2026-12-01")]
    ci = run.named(API_KEY_TYPE, "ci")
    hashes = sorted(
        hashlib.sha256(run.key_secrets[r.name].encode()).hexdigest() for r in [*generations, ci]
    )
    assert registered.inputs["allowed_key_hashes"] == hashes
    assert {r.urn for r in [*generations, ci]} <= set(
        registered.property_dependencies["allowed_key_hashes"]
    )
    assert registered.inputs["workspace_id"] == fake_uuid("workspace", "agents")
    assert registered.inputs["name"] == "dev-openai-prod"
    assert registered.inputs["provider"] == "openai"
    # The secrets travel as Pulumi secrets only.
    assert "key" in registered.secret_inputs
    assert "config" in traced.secret_inputs
    assert traced.inputs.get("allowed_key_hashes") is None  # no `keys`: every key
    text = json.dumps(run.outputs, default=str)
    assert credential["key"] not in text
    assert destination["config"]["secretKey"] not in text
    governance = parse_governance_output(run.outputs[GOVERNANCE_OUTPUT])
    assert governance.scoped["byok"]["openai-prod"].keys == ["api", "ci"]
    assert governance.scoped["observability"]["lf"].id == traced.name + "-id"


def test_a_second_secret_in_plain_text_is_refused_although_the_section_holds_one_encrypted(
    tmp_path: Any,
):
    """Pulumi says only that `byok` holds some secret; the stack file says which."""
    plain = secret_value()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(
        "config:\n"
        "  openrouter-keys:byok:\n"
        "    openai-prod: {provider: openai, key: {secure: v1:abc}}\n"
        f"    anthropic: {{provider: anthropic, key: {plain}}}\n",
        encoding="utf-8",
    )
    written = scoped_as_written(stack_file)
    assert written == {
        "byok": {
            "openai-prod.provider": False,
            "openai-prod.key": True,
            "anthropic.provider": False,
            "anthropic.key": False,
        }
    }
    config = raw({"openai-prod": byok(), "anthropic": byok(provider="anthropic", key=plain)})
    found = problems(replace(config, scoped_written=written))
    assert [p.partition(":")[0] for p in found] == ["byok.anthropic.key"]
    assert plain not in "\n".join(found)


def test_without_the_stack_file_the_section_must_hold_a_secret():
    assert scoped_as_written(Path("/nonexistent/Pulumi.dev.yaml")) == {}
    found = problems(raw({"openai-prod": byok()}, encrypted=False))
    assert any(p.startswith("byok.openai-prod.key: is stored in plain text") for p in found)


@pytest.mark.parametrize(
    ("entry", "setting", "said"),
    [
        ({"keys": "ci"}, "keys", "allowed: a list of key ids of this stack, at least one"),
        ({"keys": []}, "keys", "allowed: a list of key ids of this stack, at least one"),
        ({"fallback": "maybe"}, "fallback", "allowed: true or false."),
        ({"disabled": "true"}, "disabled", "allowed: true or false."),
    ],
)
def test_a_wrong_type_says_what_the_setting_takes(entry, setting, said):
    found = problems(raw({"openai-prod": byok(**entry)}))
    assert any(p.startswith(f"byok.openai-prod.{setting}:") and said in p for p in found), found


def test_a_rate_written_as_text_says_number_and_how_to_set_one():
    found = problems(raw(None, {"lf": langfuse(samplingRate="0.5")}))
    assert any(
        p.startswith(
            "observability.lf.samplingRate: the value (not shown) is not allowed;"
            " allowed: a number >= 0.0001 and <= 1."
        )
        and "--type float" in p
        for p in found
    ), found


def test_a_missing_secret_is_required_with_the_command_that_sets_it():
    found = problems(raw({"openai-prod": {"provider": "openai"}}))
    assert (
        "byok.openai-prod.key: is required; allowed: the provider's API key as text, encrypted"
        " in the stack file. Fix: run `pulumi config set --secret --path"
        " 'openrouter-keys:byok.openai-prod.key' <the key>`."
    ) in found


def test_a_bare_keys_line_is_refused_rather_than_read_as_every_key():
    found = problems(raw({"openai-prod": byok(keys=None)}))
    assert any(
        p.startswith("byok.openai-prod.keys: `keys:` is empty.")
        and "remove the `keys` line to allow every key" in p
        for p in found
    ), found


def test_more_destinations_of_a_type_than_a_workspace_takes_are_refused_before_any_write():
    six = {f"lf{i}": langfuse() for i in range(6)}
    found = problems(raw(None, six))
    assert [p for p in found if "destinations declared" in p] == [
        "observability.lf5: is one of 6 `langfuse` destinations declared for the default"
        " workspace (lf0, lf1, lf2, lf3, lf4, lf5); allowed: at most 5 of one type per workspace"
        " (OpenRouter's limit). Fix: remove 1 of them, or give some another `workspace`."
    ]
    five_and_one_elsewhere = {
        **{f"lf{i}": langfuse() for i in range(5)},
        "eu": langfuse(workspace="agents"),
    }
    validate(raw(None, five_and_one_elsewhere, workspaces={"agents": {}}), "dev", {})


def test_a_config_problem_names_the_config_key_and_the_setting_to_set():
    misspelt = langfuse()
    misspelt["config"]["secretkey"] = misspelt["config"].pop("secretKey")
    missing = langfuse()
    del missing["config"]["secretKey"]
    found = problems(raw(None, {"lf": misspelt, "lf2": missing}))
    assert any(
        p.startswith("observability.lf.config.secretkey: a langfuse destination takes no secretkey")
        and "correct it to `secretKey`" in p
        for p in found
    ), found
    assert any(
        p.startswith("observability.lf2.config.secretKey: ")
        and "--path 'openrouter-keys:observability.lf2.config.secretKey'" in p
        for p in found
    ), found


def caps(
    observability: dict[str, Any],
    listed: dict[str | None, Any],
    *,
    deployed: DeployedGovernance | None = None,
    workspaces: Any = None,
) -> tuple[list[str], list[list[str | None]]]:
    """The cap problems of a stack file against what OpenRouter lists, and the workspaces the
    program asked about."""
    config = validate(raw(None, observability, workspaces=workspaces), "dev", {})
    asked: list[list[str | None]] = []

    def read(_config: object, where: Any) -> dict[str | None, Any]:
        asked.append(list(where))
        return {w: listed.get(w, []) for w in where}

    record = Deployment("dev", {}, deployed or DeployedGovernance())
    return [p.render() for p in destination_caps(config, record, read)], asked


def test_new_destinations_are_counted_with_those_openrouter_lists_in_their_workspace():
    outside = [(f"d{i}", "langfuse") for i in range(4)] + [("w", "webhook")]
    found, asked = caps({"lf-a": langfuse(), "lf-b": langfuse()}, {None: outside})
    assert asked == [[None]]
    assert found == [
        "observability.lf-b: would be one of 6 `langfuse` destinations in the default workspace:"
        " OpenRouter lists 4 there (d0, d1, d2, d3) and this change creates lf-a, lf-b; allowed:"
        " at most 5 of one type per workspace (OpenRouter's limit). Fix: declare 1 fewer, give"
        " some another `workspace`, or delete one OpenRouter lists that no stack needs (`python"
        " -m cli audit` lists those no stack manages)."
    ]
    # Three listed and two new fit; other types and other workspaces do not count.
    assert caps({"lf-a": langfuse(), "lf-b": langfuse()}, {None: outside[1:]})[0] == []
    elsewhere = {A_UUID: [(f"d{i}", "langfuse") for i in range(5)]}
    assert caps({"lf-a": langfuse()}, elsewhere)[0] == []
    assert caps({"lf-a": langfuse(workspace=A_UUID)}, elsewhere)[0][0].startswith(
        f"observability.lf-a: would be one of 6 `langfuse` destinations in workspace {A_UUID}"
    )


def test_only_new_destinations_are_counted_and_only_their_workspaces_asked():
    full = {None: [(f"d{i}", "langfuse") for i in range(5)]}
    deployed = DeployedGovernance.model_validate(
        {"scoped": {"observability": {"lf": {"id": "d0", "name": "lf"}}}}
    )
    # Deployed already (it is one of the five listed), or adopted: no new place, no request.
    assert caps({"lf": langfuse()}, full, deployed=deployed) == ([], [])
    assert caps({"lf": langfuse(adopt=A_UUID)}, full) == ([], [])
    # In a workspace this change creates: it holds none yet, so nothing is asked.
    assert caps({"lf": langfuse(workspace="agents")}, full, workspaces={"agents": {}}) == ([], [])
    # In a workspace the stack deployed: asked by its UUID.
    ws = DeployedGovernance.model_validate(
        {"workspaces": {"agents": {"id": A_UUID, "slug": "agents"}}}
    )
    declared = {"lf": langfuse(workspace="agents")}
    _, asked = caps(declared, {}, deployed=ws, workspaces={"agents": {}})
    assert asked == [[A_UUID]]


def test_a_listing_that_cannot_be_read_refuses_the_new_destination():
    found, _ = caps({"lf": langfuse()}, {None: "GET /observability/destinations: 503."})
    assert found == [
        "observability.lf: is a new observability destination, and which destinations the"
        " default workspace holds could not be read (OpenRouter keeps at most 5 of one type):"
        " GET /observability/destinations: 503. Fix: fix the management key or the API as the"
        " message says, then run the preview again."
    ]
