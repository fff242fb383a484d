"""The inventory: rows with name, masked value, status, type and consumers; a Mermaid diagram; a
compact `inventory` output; and `python -m topology inventory` (docs/adr/0007).

The deployed side comes from the real program under mocks (its `keys` and `inventory` outputs as
`pulumi stack output --json --show-secrets` would print them), the planned side from the same
config.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.sentinel import assert_absent, make_sentinel, masked
from tests.topology.harness import namespaced, run_program
from topology.__main__ import main
from topology.config import RawConfig, validate
from topology.inventory import (
    ACTIVE,
    ADOPTED,
    DIAGRAM_LIMIT,
    DISABLED,
    EXPIRED,
    EXPIRING,
    NEW,
    REMOVED,
    RETIRING,
    UNKNOWN,
    GenerationFacts,
    deployed_from_outputs,
    inventory_rows,
    render_diagram,
    render_markdown,
    status_of,
)
from topology.plan import READABLE

NOW = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
MANAGEMENT_KEY = "openrouter-keys:managementKey"


def keys_config() -> dict[str, Any]:
    return {
        "production": {
            "name": "Formul8-Production",
            "rotations": ["2027-04-01", "2027-05-01"],
            "github": [{"repository": "agents"}],
            "vercel": [{"project": f"agent-{n:02d}"} for n in range(1, 16)],
        },
        "batch": {"expiresAt": "2027-06-10T00:00:00Z", "github": [{"repository": "pipelines"}]},
        "old": {"disabled": True},
        "laptops": {
            "limit": 5,
            "vercel": [{"project": "web", "targets": ["development"],
                        "developmentReadableByTeam": True}],
        },
    }


TARGETS = {"github": [{"repository": "automation"}]}


def deploy(keys: dict[str, Any], management_key: str) -> dict[str, Any]:
    """The stack outputs after `pulumi up`, as `pulumi stack output --json --show-secrets` prints
    them."""
    config = {
        **namespaced(
            {
                "keys": json.dumps(keys),
                "managementKeyTargets": json.dumps(TARGETS),
                "managementKey": management_key,
                "protectKeys": "false",
            }
        ),
        "github:owner": "f8ai",
    }
    run = run_program(config, [MANAGEMENT_KEY], stack="prod")
    assert run.error is None, run.error
    return json.loads(json.dumps(run.outputs))


def plan_of(keys: dict[str, Any]) -> Any:
    raw = RawConfig(
        keys=json.dumps(keys),
        management_key_targets=json.dumps(TARGETS),
        management_key="sk-or-v1-" + "0" * 8,
        management_key_is_secret=True,
        github_owner="f8ai",
        vercel_team="f8ai",
    )
    return validate(raw, "prod", {}).plan


def rows_of(keys: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    rows = inventory_rows(plan_of(keys), deployed_from_outputs(outputs), NOW)
    return {row.key: row for row in rows}


@pytest.fixture(scope="module")
def deployed() -> tuple[dict[str, Any], str]:
    management_key = make_sentinel()
    return deploy(keys_config(), management_key), management_key


def test_rows_carry_name_masked_value_status_type_and_consumers(deployed):
    outputs, management_key = deployed
    rows = rows_of(keys_config(), outputs)
    wired = rows["production @ 2027-05-01"]
    entry = outputs["keys"]["production"]
    assert (wired.name, wired.masked, wired.status, wired.type) == (
        "Formul8-Production-2027-05-01", entry["label"], ACTIVE, "regular"
    )
    assert len(wired.consumers) == 16
    assert rows["production @ 2027-04-01"].consumers == (RETIRING,)
    assert rows["production @ 2027-04-01"].masked == entry["retiring"][0]["label"]
    assert rows["batch"].status == EXPIRING  # 9 days left
    assert rows["old"].status == DISABLED
    assert any(READABLE in consumer for consumer in rows["laptops"].consumers)
    management = rows["managementKey"]
    assert (management.masked, management.status, management.type) == (
        masked(management_key), ACTIVE, "management"
    )
    assert management.consumers == (
        "stack config (managementKey)", "github:f8ai/automation:OPENROUTER_MANAGEMENT_KEY"
    )
    assert_absent(management_key, [rows])


def test_the_inventory_output_is_compact_and_holds_no_secret(deployed):
    outputs, management_key = deployed
    assert outputs["inventory"] == {
        "disabled": ["old"],
        "expiresAt": {"batch": "2027-06-10T00:00:00Z"},
        "managementKey": {
            "label": masked(management_key), "source": "stack config (managementKey)"
        },
    }
    assert_absent(management_key, outputs)


def test_at_100_keys_the_inventory_output_does_not_grow_with_the_keys():
    keys = {f"key-{n:03d}": {"limit": 5, "github": [{"repository": f"repo-{n:03d}"}]}
            for n in range(100)}
    outputs = deploy(keys, make_sentinel())
    printed = json.dumps(outputs["inventory"])
    assert len(printed) < 200, printed
    keys["key-042"]["limit"] = 6
    assert json.dumps(deploy(keys, make_sentinel())["inventory"])[:40] == printed[:40]


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (None, UNKNOWN),
        (GenerationFacts(), ACTIVE),
        (GenerationFacts(disabled=True, expires_at="2027-06-02T00:00:00Z"), DISABLED),
        (GenerationFacts(expires_at="2027-05-31T23:59:59Z"), EXPIRED),
        (GenerationFacts(expires_at="2027-06-15T00:00:00Z"), EXPIRING),
        (GenerationFacts(expires_at="2027-06-15T00:00:01Z"), ACTIVE),
        (GenerationFacts(expires_at="2027-06-01T00:00:00+00:00"), EXPIRED),
    ],
)
def test_status_as_last_seen(facts, status):
    assert status_of(facts, NOW) == status


def test_a_pull_request_shows_new_adopted_and_removed_generations(deployed):
    outputs, _ = deployed
    proposed = keys_config()
    proposed["production"]["rotations"] = ["2027-05-01", "2027-06-01"]
    del proposed["old"]
    proposed["legacy"] = {"adopt": "c0ffee00" * 8}
    rows = rows_of(proposed, outputs)
    assert rows["production @ 2027-06-01"].status == NEW
    assert rows["legacy"].status == ADOPTED
    assert rows["production @ 2027-04-01"].status == REMOVED
    assert rows["old"].status == REMOVED
    assert rows["production @ 2027-05-01"].consumers == (RETIRING,)


def test_a_stack_deployed_before_the_compact_output_shows_unknown_statuses(deployed):
    outputs, _ = deployed
    older = {**outputs, "inventory": "| key | masked value | type | consumers |\n"}
    rows = inventory_rows(plan_of(keys_config()), deployed_from_outputs(older), NOW)
    assert {row.status for row in rows} == {UNKNOWN}


def test_the_diagram_shows_the_management_key_generations_and_readable_variables(deployed):
    outputs, management_key = deployed
    text = render_markdown(plan_of(keys_config()), deployed_from_outputs(outputs), NOW)
    diagram = text.split("```mermaid\n", 1)[1]
    assert diagram.startswith("flowchart LR\n")
    label = f"management key<br/>{masked(management_key)}<br/>stack config (managementKey)"
    assert f'n1["{label}"]' in diagram
    assert "OPENROUTER_MANAGEMENT_KEY" in diagram
    assert 'subgraph k0["production"]' in diagram
    assert "Formul8-Production-2027-04-01" in diagram
    assert "active · retiring" in diagram
    assert diagram.count(" -. mints .-> k") == 4
    readable = [line for line in diagram.splitlines() if "⚠ Vercel variable" in line]
    assert len(readable) == 1
    node = readable[0].split("[", 1)[0].strip()
    assert f"  class {node} readable" in diagram
    assert f"**1 Vercel variable(s) {READABLE}**" in text
    assert_absent(management_key, text)


def test_labels_cannot_break_the_diagram():
    keys = {"a": {"github": [{"repository": "agents", "environment": 'say "hi" <b>'}]}}
    plan = plan_of(keys)
    diagram = render_diagram(plan, inventory_rows(plan, deployed_from_outputs({}), NOW))
    assert "env say #quot;hi#quot; #lt;b#gt;" in diagram
    assert '"hi"' not in diagram


def test_a_diagram_too_large_for_github_counts_consumers_instead():
    keys = {f"k{n}": {"github": [{"repository": f"repo-{n}-{i}"} for i in range(12)]}
            for n in range(60)}
    text = render_markdown(plan_of(keys), deployed_from_outputs({}), NOW)
    diagram = text.split("```mermaid\n", 1)[1]
    assert len(diagram) < DIAGRAM_LIMIT
    assert "12 consumers (see the table)" in diagram
    assert text.count("github:f8ai/repo-") == 60 * 12  # the table still lists every one


# --- python -m topology inventory --------------------------------------------------------------


def write_stack(tmp_path: Path, keys: dict[str, Any]) -> Path:
    document = {"config": {"github:owner": "f8ai", "openrouter-keys:keys": keys,
                           "openrouter-keys:managementKeyTargets": TARGETS,
                           "openrouter-keys:managementKey": {"secure": "v1:abc"}}}
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_command_renders_from_the_stack_file_and_the_outputs(tmp_path, capsys, deployed):
    outputs, management_key = deployed
    stack_file = write_stack(tmp_path, keys_config())
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(outputs), encoding="utf-8")
    assert main(["inventory", "--stack", "prod", "--stack-file", str(stack_file),
                 "--outputs", str(outputs_file)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("### Key inventory: stack `prod`")
    assert (
        "| key | OpenRouter name | masked value | status | type | governed by | consumers |" in text
    )
    assert "| regular | no guardrail of its own, default workspace |" in text
    assert outputs["keys"]["production"]["label"] in text
    assert "```mermaid\nflowchart LR\n" in text
    assert_absent(management_key, text)


def test_the_command_refuses_a_stack_file_with_problems(tmp_path, capsys):
    stack_file = write_stack(tmp_path, {"a": {"vercel": [{"project": "web",
                                                          "targets": ["development"]}]}})
    assert main(["inventory", "--stack", "prod", "--stack-file", str(stack_file)]) == 1
    captured = capsys.readouterr()
    assert "Not rendered: the stack file has 1 config problem(s)" in captured.out
    assert captured.err.startswith("keys.a.vercel[0].targets[0]: target development")


def test_the_command_says_what_it_cannot_read(tmp_path, capsys):
    stack_file = write_stack(tmp_path, {"a": {}})
    bad = tmp_path / "outputs.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert main(["inventory", "--stack", "prod", "--stack-file", str(stack_file),
                 "--outputs", str(bad)]) == 2
    assert "not a JSON object" in capsys.readouterr().err
    assert main(["inventory", "--stack", "nope", "--stack-file", str(tmp_path / "x.yaml")]) == 2


def test_outputs_read_without_show_secrets_are_refused_not_rendered_as_new(tmp_path, capsys):
    # Without --show-secrets `keys` reads "[secret]": rendered, every key would look unminted.
    stack_file = write_stack(tmp_path, {"a": {}})
    hidden = tmp_path / "outputs.json"
    hidden.write_text(json.dumps({"keys": "[secret]", "inventory": {}}), encoding="utf-8")
    assert main(["inventory", "--stack", "prod", "--stack-file", str(stack_file),
                 "--outputs", str(hidden)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--show-secrets" in captured.err


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_example_stacks_render(stack, capsys):
    assert main(["inventory", "--stack", stack]) == 0
    assert "```mermaid" in capsys.readouterr().out


def test_a_row_names_the_guardrail_and_the_workspace_as_the_stack_file_does(tmp_path, capsys):
    keys = {
        "agent": {"guardrail": "cheap", "workspace": "agents"},
        "legacy": {"workspaceId": "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"},
    }
    stack_file = str(write_stack(tmp_path, keys))
    assert main(["inventory", "--stack", "prod", "--stack-file", stack_file]) == 0
    text = capsys.readouterr().out
    assert "| guardrail cheap, workspace agents |" in text
    assert "| no guardrail of its own, workspace 3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b |" in text


def test_the_command_shows_the_sandboxs_credential_and_destination_with_their_edges(capsys):
    """What a pull request comment shows: the stack file's BYOK credentials and destinations,
    their secrets encrypted in the file, each joined to the keys it is restricted to."""
    assert main(["inventory", "--stack", "sandbox"]) == 0
    text = capsys.readouterr().out
    row = "| byok.openai-sandbox | BYOK credential | sandbox-openai-sandbox | default | ci |"
    assert row in text
    assert "| observability.langfuse-sandbox | observability destination |" in text
    assert "k0 -. may call through .-> n" in text  # ci is the sandbox's first key
    assert "secure" not in text
