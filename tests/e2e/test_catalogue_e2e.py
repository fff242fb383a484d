"""Issue 19, case 5, through the real engine (bin/pulumi) and the emulator: a typo in a guardrail's
model or provider list is refused before any write, with the setting as written and the nearest
listed name, by `pulumi preview` and by `pulumi up --skip-preview`; the lists are asked for once
per run and only by a stack that declares one."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_harness import STACK, Emulator, PulumiProject, engine_skip_reason

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

GOOD: dict[str, Any] = {
    "ci": {"allowedModels": ["openai/gpt-4o-mini"]},
    "vendors": {"allowedProviders": ["openai", "anthropic"]},
}
KEYS = {"ci": {"limit": 1, "guardrail": "ci", "protect": False}}
CATALOGUE = {("GET", "/api/v1/models"), ("GET", "/api/v1/providers")}


def new_stack(project: PulumiProject, emulator: Emulator, **config: Any) -> None:
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    for setting, value in config.items():
        project.edit_config(setting, value)


def catalogue_asks(emulator: Emulator) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"]) for r in emulator.requests()
        if (r["method"], r["path"]) in CATALOGUE
    ]


def test_typos_in_a_deployed_stack_are_refused_before_any_write_with_the_nearest_name(
    project: PulumiProject, emulator: Emulator
) -> None:
    new_stack(project, emulator, guardrails=GOOD, keys=KEYS)
    project.pulumi("up", "--yes")
    before = sorted(emulator.guardrails(), key=lambda g: g["name"])

    project.edit_config(
        "guardrails",
        {"ci": {"allowedModels": ["gpt4o mini"]}, "vendors": {"allowedProviders": ["opnai"]}},
    )
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        emulator.clear_requests()
        result = project.pulumi(*command, check=False)

        assert result.returncode != 0, result.output
        assert emulator.writes() == [], result.output
        assert (
            "guardrails.ci.allowedModels[0]: 'gpt4o mini' is not in OpenRouter's model list"
            " (GET /models, 14 models)"
        ) in result.output
        assert "Fix: correct it to `openai/gpt-4o-mini`" in result.output
        assert (
            "guardrails.vendors.allowedProviders[0]: 'opnai' is not in OpenRouter's provider list"
        ) in result.output
        assert "Fix: correct it to `openai`" in result.output
        assert "Traceback" not in result.output
        assert sorted(catalogue_asks(emulator)) == sorted(CATALOGUE)  # each list once
    assert sorted(emulator.guardrails(), key=lambda g: g["name"]) == before


def test_a_new_stack_naming_a_model_that_does_not_exist_creates_nothing(
    project: PulumiProject, emulator: Emulator
) -> None:
    guardrails = {"ci": {"allowedModels": ["openai/gpt-9-ultra"]}}
    new_stack(project, emulator, guardrails=guardrails, keys=KEYS)
    emulator.clear_requests()

    result = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert result.returncode != 0
    assert emulator.writes() == []
    assert "guardrails.ci.allowedModels[0]: 'openai/gpt-9-ultra' is not in" in result.output
    assert "correct it" not in result.output
    assert emulator.list_keys() == []
    assert emulator.guardrails() == []


def test_an_unreadable_list_refuses_and_a_stack_without_lists_never_asks(
    project: PulumiProject, emulator: Emulator
) -> None:
    new_stack(project, emulator, guardrails={"ci": {"limitUsd": 1, "resetInterval": "daily"}},
              keys=KEYS)
    emulator.clear_requests()
    project.pulumi("up", "--yes")
    assert catalogue_asks(emulator) == []

    project.edit_config("guardrails", GOOD)
    emulator.inject({"path": "/api/v1/models", "status": 404, "times": 10})
    emulator.clear_requests()
    result = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert result.returncode != 0
    assert emulator.writes() == []
    assert (
        "guardrails.ci.allowedModels: cannot be checked: OpenRouter's model list (GET /models)"
        " could not be read"
    ) in result.output
