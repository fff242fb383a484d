"""Issue 19's smaller defects through the real engine (bin/pulumi) and the emulator: removing
`disabled: true` leaves the key off, rotation labels out of date order and a workspace UUID the
account does not have are refused before any write, in the project's words."""

from __future__ import annotations

import pytest
from e2e_harness import Emulator, PulumiProject, engine_skip_reason, refused, start

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

FIRST, SECOND = "2026-11-01", "2026-12-01"
MISSING_WORKSPACE = "0badc0de-0000-4000-8000-000000000000"


def disabled(emulator: Emulator, name: str) -> bool:
    return bool(next(k for k in emulator.list_keys() if k["name"] == name)["disabled"])


def test_removing_disabled_leaves_the_key_off_and_disabled_false_enables_it(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = start(project, emulator, preview={"disabled": True})
    name = keys["preview"]["name"]
    assert disabled(emulator, name)

    del keys["preview"]["disabled"]
    project.edit_config("keys", keys)
    emulator.clear_requests()
    project.pulumi("preview", "--diff", "--expect-no-changes")  # before: `- disabled: true`
    project.pulumi("up", "--yes")
    assert emulator.writes() == []
    assert disabled(emulator, name)  # before: the removal PATCHed `disabled: false`
    outputs = project.stack_outputs()
    assert "preview" in outputs["inventory"]["disabled"]  # the inventory agrees
    assert outputs["keys"]["preview"]["disabled"] is True

    keys["preview"]["disabled"] = False
    project.edit_config("keys", keys)
    project.pulumi("up", "--yes")
    assert not disabled(emulator, name)
    assert project.stack_outputs()["inventory"]["disabled"] == []


@pytest.mark.parametrize("command", [("preview",), ("up", "--yes", "--skip-preview")])
def test_a_later_date_listed_first_is_refused_before_any_write(
    project: PulumiProject, emulator: Emulator, command: tuple[str, ...]
) -> None:
    keys = start(project, emulator, production={"rotations": [FIRST]})
    live = {k["hash"] for k in emulator.list_keys()}

    keys["production"]["rotations"] = [SECOND, FIRST]  # the new one first, by mistake
    project.edit_config("keys", keys)
    result = refused(project, emulator, *command)

    assert (
        f"keys.production.rotations[1]: new generation '{SECOND}' is listed before '{FIRST}',"
        " which this stack already deployed;"
    ) in result.output
    assert f"Fix: move '{SECOND}' to the end of `rotations`." in result.output
    assert {k["hash"] for k in emulator.list_keys()} == live

    keys["production"]["rotations"] = [FIRST, "next"]
    project.edit_config("keys", keys)
    result = refused(project, emulator, *command)
    assert "keys.production.rotations[1]: new generation 'next' is not a date;" in result.output

    keys["production"]["rotations"] = [FIRST, SECOND]  # as the runbook says: accepted
    project.edit_config("keys", keys)
    project.pulumi("preview")


def test_a_guardrail_or_key_in_a_workspace_that_does_not_exist_is_refused_naming_it(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    guardrails = dict(project.project_config()["openrouter-keys:guardrails"])
    project.edit_config("guardrails", {**guardrails, "lost": {"workspace": MISSING_WORKSPACE}})
    for command in (("preview",), ("up", "--yes")):
        result = refused(project, emulator, *command)
        assert (
            f"`guardrails.lost.workspace`: OpenRouter has no workspace {MISSING_WORKSPACE}"
        ) in result.output
        assert "[workspace-not-found]" in result.output
        assert "[api-unavailable]" not in result.output  # before: "check the network"

    project.edit_config("guardrails", guardrails)
    keys = project.keys_config()
    keys["stray"] = {"workspace": MISSING_WORKSPACE}
    project.edit_config("keys", keys)
    result = refused(project, emulator, "preview")
    assert (
        f"`keys.stray.workspaceId` or `keys.stray.workspace`: OpenRouter has no workspace"
        f" {MISSING_WORKSPACE}"
    ) in result.output
