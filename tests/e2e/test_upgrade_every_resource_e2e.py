"""A stack holding every resource type of the last release upgrades with no write (issue 20).

The last release deploys a stack with at least one resource of each type it registers; the
current program then takes over the same backend and stack, and must plan every resource `same`,
read every stored resource back (state holds each provider pickled by module and class path, so a
moved path fails here), make no POST, PATCH, PUT or DELETE, and leave no change behind.

A new resource type is one more entry of `EVERY_RESOURCE` (the stack-file settings that make one)
once a release has it; until then it is listed in `NOT_YET_RELEASED`.
`test_every_resource_type_of_the_providers_is_covered` (no engine needed) keeps the two lists
honest against the resource classes the providers package defines.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from e2e_harness import PROJECT, STACK, Emulator, PulumiProject, engine_skip_reason
from pulumi.dynamic import Resource
from test_upgrade_e2e import current_program, previous_program

import providers

SKIP_REASON = engine_skip_reason()

LAST_RELEASE = "c7503a8"
"""The last commit of the last release (2026-12-07, the end of issue 19)."""
DYNAMIC = "pulumi-python:dynamic/openrouter:"

Config = dict[str, Any]


@dataclass(frozen=True)
class Covered:
    """One resource type and the stack-file settings (`openrouter-keys:<setting>`) that make it."""

    type: str
    """The type token's last part, e.g. `ApiKey`."""
    config: Config


EVERY_RESOURCE: tuple[Covered, ...] = (
    Covered(
        "ApiKey",
        {
            "keys": {
                "api": {
                    "limit": 5,
                    "limitReset": "daily",
                    "rotations": ["2026-11-01", "2026-12-01"],
                },
                "production": {"limit": 25, "protect": True},
            }
        },
    ),
    Covered(
        "Workspace",
        {
            "workspaces": {"agents": {"name": "Agents", "description": "upgraded"}},
            "keys": {"api": {"workspace": "agents"}, "web": {"workspace": "agents"}},
        },
    ),
    Covered(
        "WorkspaceBudgets",
        {"workspaces": {"agents": {"budgets": {"monthly": 50, "weekly": 20}}}},
    ),
    Covered(
        "DefaultGuardrail",
        {"workspaces": {"agents": {"defaultGuardrail": {"enforceZdr": {"other": True}}}}},
    ),
    Covered(
        "Guardrail",
        {
            "guardrails": {
                "cheap": {
                    "limitUsd": 20,
                    "resetInterval": "monthly",
                    "allowedModels": ["openai/gpt-4o-mini"],
                    "allowedProviders": ["openai", "anthropic"],
                    "workspace": "agents",
                }
            }
        },
    ),
    # Both generations of the rotated key hold the guardrail: an assignment each.
    Covered(
        "GuardrailAssignment",
        {"keys": {"api": {"guardrail": "cheap"}, "web": {"guardrail": "cheap"}}},
    ),
)
NOT_YET_RELEASED: Mapping[str, str] = {
    "ByokCredential": "new in issue 20; c7503a8 cannot deploy it",
    "ObservabilityDestination": "new in issue 20; c7503a8 cannot deploy it",
}
"""Resource types the providers define that no release deployed yet: type -> why not covered."""


def merged(into: Config, extra: Mapping[str, Any]) -> Config:
    """`extra` laid over `into`, mappings merged key by key (a copy)."""
    result = copy.deepcopy(into)
    for name, value in extra.items():
        if isinstance(value, Mapping) and isinstance(result.get(name), Mapping):
            result[name] = merged(result[name], value)
        else:
            result[name] = copy.deepcopy(value)
    return result


def stack_config() -> Config:
    config: Config = {}
    for covered in EVERY_RESOURCE:
        config = merged(config, covered.config)
    return config


def resource_types() -> set[str]:
    """The type token of every dynamic resource class the providers package defines."""
    found = set()
    for module_info in pkgutil.walk_packages(providers.__path__, f"{providers.__name__}."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Resource)
                and cls.__module__ == module.__name__
                # A base that names no type token of its own (PickleSafeResource, ObjectResource).
                and cls._resource_type_name != "dynamic:Resource"
            ):
                found.add(f"pulumi-python:{cls._resource_type_name}".removeprefix(DYNAMIC))
    return found


def test_every_resource_type_of_the_providers_is_covered() -> None:
    covered = [c.type for c in EVERY_RESOURCE]
    assert len(covered) == len(set(covered)), covered
    assert not set(covered) & set(NOT_YET_RELEASED), "a type is covered or not yet released"
    assert set(covered) | set(NOT_YET_RELEASED) == resource_types(), (
        "add the new resource type to EVERY_RESOURCE (the stack-file settings that make one) or,"
        " while no release has it, to NOT_YET_RELEASED"
    )


def plan(project: PulumiProject) -> dict[str, str]:
    """URN -> the op `pulumi preview --json` plans for it."""
    preview = json.loads(project.pulumi("preview", "--json", "--show-sames").stdout)
    return {step["urn"]: step["op"] for step in preview.get("steps", [])}


def dynamic_resources(project: PulumiProject) -> dict[str, str]:
    """URN -> type (its token's last part) of every OpenRouter resource in state."""
    return {
        r["urn"]: r["type"].removeprefix(DYNAMIC)
        for r in project.state()["resources"]
        if r["type"].startswith(DYNAMIC)
    }


def openrouter_objects(emulator: Emulator) -> dict[str, set[str]]:
    """What OpenRouter holds, by kind: ids, hashes and assignments."""
    return {
        "keys": {key["hash"] for key in emulator.list_keys()},
        "workspaces": {w["id"] for w in emulator.workspaces()},
        "guardrails": {g["id"] for g in emulator.guardrails()},
        "assignments": {f"{k}>{g}" for k, g in emulator.assignments().items()},
    }


@pytest.mark.e2e
@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
def test_a_stack_of_every_resource_of_the_last_release_upgrades_with_no_write(
    project: PulumiProject, emulator: Emulator
) -> None:
    previous_program(project.root, LAST_RELEASE)
    project.pulumi("stack", "init", STACK)
    document = project.read_stack_config()
    config = document["config"]
    for name in [name for name in config if name.startswith(f"{PROJECT}:")]:
        if name != f"{PROJECT}:managementKey":
            del config[name]  # the sandbox file may declare what the last release lacks
    config[f"{PROJECT}:apiBaseUrl"] = emulator.api_base_url
    config[f"{PROJECT}:protectKeys"] = False
    for setting, value in stack_config().items():
        config[f"{PROJECT}:{setting}"] = value
    project.write_stack_config(document)
    project.pulumi("up", "--yes")
    deployed = dynamic_resources(project)
    assert set(deployed.values()) == {c.type for c in EVERY_RESOURCE}, deployed
    assert list(deployed.values()).count("GuardrailAssignment") == 3, deployed
    before = openrouter_objects(emulator)
    assert len(before["keys"]) == 4  # api's two generations, production, web

    current_program(project.root)
    planned = plan(project)
    assert set(deployed) <= set(planned), json.dumps(planned, indent=1)
    assert {urn: op for urn, op in planned.items() if op != "same"} == {}

    # Each stored provider is unpickled by its module and class path: a path that moved
    # without an alias fails to read, here as on a user's `pulumi refresh` or `destroy`.
    emulator.clear_requests()
    project.pulumi("refresh", "--yes", "--skip-preview")
    assert emulator.writes() == []

    emulator.clear_requests()
    project.pulumi("up", "--yes")
    assert emulator.writes() == []
    assert openrouter_objects(emulator) == before
    assert dynamic_resources(project) == deployed
    assert project.protected()["production"] is True

    project.pulumi("preview", "--expect-no-changes")
    assert {urn: op for urn, op in plan(project).items() if op != "same"} == {}
