"""Issue 19, case 3 through the real engine (bin/pulumi) and the emulator: one stack never takes
another's workspace or guardrail (topology/ownership.py).

The sandbox stack deploys its workspace `agents` (with budgets and a default guardrail) and its
guardrail `ci-cheap`. A second stack of the project then tries, one edit at a time, what a user
following `workspace-slug-taken` / `guardrail-name-taken` would: the same slug, the same guardrail
name, `adopt:` of the workspace by id and by slug, of the guardrail and of the default guardrail.
Each is refused at `preview` and at `up --skip-preview`, naming the sandbox stack, before any
write; the sandbox stack's own preview stays unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from e2e_harness import PROJECT, STACK, Emulator, PulumiProject, Result, engine_skip_reason, refused
from test_guard_e2e import sandbox_management_key

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

OTHER = "other"


def other_stack(project: PulumiProject, emulator: Emulator) -> dict[str, str]:
    """`stack init` of a second stack of the project, against the same emulator; its env."""
    write_other(project, emulator, {})
    env = {"OPENROUTER_MANAGEMENT_KEY": sandbox_management_key()}
    project.pulumi("stack", "init", OTHER, env=env)
    project.pulumi("stack", "select", STACK)
    return env


def write_other(project: PulumiProject, emulator: Emulator, config: dict[str, Any]) -> None:
    (project.root / "stacks" / f"Pulumi.{OTHER}.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    f"{PROJECT}:apiBaseUrl": emulator.api_base_url,
                    f"{PROJECT}:keys": {},
                    **{f"{PROJECT}:{setting}": value for setting, value in config.items()},
                }
            }
        ),
        encoding="utf-8",
    )


def refused_here(
    project: PulumiProject, emulator: Emulator, env: dict[str, str], *args: str
) -> Result:
    """A command on the other stack that must be refused before any write reached OpenRouter."""
    return refused(project, emulator, *args, "--stack", OTHER, env=env)


def test_another_stacks_workspace_and_guardrail_are_never_taken(
    project: PulumiProject, emulator: Emulator
) -> None:
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    project.pulumi("up", "--yes")
    governance = project.stack_outputs()["governance"]
    workspace = governance["workspaces"]["agents"]
    guardrail = governance["guardrails"]["ci-cheap"]
    env = other_stack(project, emulator)
    before = (emulator.workspaces(), emulator.guardrails())

    owned_by = "stack 'sandbox' manages as"
    managed = "is already managed by stack 'sandbox' as"
    by_slug = ("GET", "/api/v1/workspaces/agents")
    by_id = ("GET", f"/api/v1/guardrails/{guardrail['id']}")
    # Each edit, what the refusal says, and what the program asked OpenRouter about other
    # stacks' objects: a slug or a name is confirmed by id (another account may have it too),
    # an id is never asked.
    edits: list[tuple[dict[str, Any], list[str], list[tuple[str, str]]]] = [
        # What the provider's `workspace-slug-taken` / `guardrail-name-taken` would catch, with a
        # fix (`adopt:`) that hands the object to the wrong stack: the program names the owner.
        (
            {"workspaces": {"agents": {}}},
            [
                f"workspaces.agents: slug 'agents' is the slug of workspace {workspace['id']}",
                f"{owned_by} workspaces.agents",
            ],
            [by_slug],
        ),
        (
            {"guardrails": {"ci": {"name": guardrail["name"]}}},
            [
                f"guardrails.ci: name '{guardrail['name']}' is the name of guardrail",
                f"{owned_by} guardrails.ci-cheap",
            ],
            [by_id],
        ),
        # The `adopt:` the provider's messages offered.
        (
            {"workspaces": {"lab": {"adopt": workspace["id"]}}},
            [f"workspaces.lab.adopt: workspace '{workspace['id']}' {managed} workspaces.agents"],
            [],
        ),
        (
            {"workspaces": {"lab": {"adopt": "agents"}}},
            [
                f"workspaces.lab.adopt: workspace 'agents' (id {workspace['id']}) {managed}"
                " workspaces.agents"
            ],
            [by_slug],
        ),
        (
            {"guardrails": {"mine": {"adopt": guardrail["id"]}}},
            [f"guardrails.mine.adopt: guardrail '{guardrail['id']}' {managed} guardrails.ci-cheap"],
            [],
        ),
        (
            {"guardrails": {"mine": {"adopt": workspace["defaultGuardrail"]}}},
            [f"{managed} workspaces.agents.defaultGuardrail"],
            [],
        ),
    ]
    for config, said, asked in edits:
        write_other(project, emulator, config)
        for command in (("preview",), ("up", "--yes", "--skip-preview")):
            output = refused_here(project, emulator, env, *command).output
            for fragment in said:
                assert fragment in output, (config, command, output)
            governance_reads = [
                (r["method"], r["path"])
                for r in emulator.requests()
                if r["path"].startswith(("/api/v1/workspaces", "/api/v1/guardrails"))
            ]
            assert governance_reads == asked, (config, command)
            assert "[workspace-slug-taken]" not in output
            assert "[guardrail-name-taken]" not in output

    # Nothing of the sandbox stack changed, and its own preview says so.
    assert (emulator.workspaces(), emulator.guardrails()) == before
    emulator.clear_requests()
    project.pulumi("preview", "--expect-no-changes")
    assert emulator.writes() == []
