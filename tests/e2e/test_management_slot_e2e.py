"""Issue 19, case 2, through the real engine (bin/pulumi) and the emulator: the management key
and the API base URL are checked on every run, with or without changes, and a refresh never
reads with settings the stack file no longer holds.

From a good deployed sandbox, each refused command exits non-zero in the project's words, sends
no write to OpenRouter, and leaves the state exactly as it was (`pulumi stack export`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from e2e_harness import (
    API_KEY_TYPE,
    Emulator,
    PulumiProject,
    engine_skip_reason,
    refused,
    start,
)

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

EVERY_RUN = [
    ("preview",),
    ("preview", "--refresh"),
    ("up", "--yes"),
    ("up", "--yes", "--skip-preview"),
]
SLOT_REFUSAL = "managementKey: OpenRouter, asked before anything is registered (GET /key"


def state_digest(project: PulumiProject) -> str:
    """The stack's state, secrets decrypted, as a digest (the test never prints a key): every
    resource with its inputs and outputs, the default provider's config included; the order
    (a failed update re-lists the stack first) and the checkpoint's time do not count."""
    deployment = json.loads(project.export_state(show_secrets=True))["deployment"]
    deployment.get("manifest", {}).pop("time", None)
    deployment["resources"] = sorted(deployment.get("resources", []), key=lambda r: r["urn"])
    return hashlib.sha256(json.dumps(deployment, sort_keys=True).encode()).hexdigest()


def own_regular_key(project: PulumiProject, name: str) -> str:
    """The secret of one of the stack's own keys, as its state holds it."""
    deployment = json.loads(project.export_state(show_secrets=True))["deployment"]
    for resource in deployment["resources"]:
        if resource["type"] == API_KEY_TYPE and resource["urn"].endswith(f"::{name}"):
            return str(plain(resource["outputs"]["key"]))
    raise AssertionError(f"no key {name} in state")


def plain(value: Any) -> Any:
    """A `--show-secrets` export keeps the secret envelope, with `plaintext` as JSON text."""
    if isinstance(value, dict) and "plaintext" in value:
        return json.loads(value["plaintext"])
    return value


def test_a_regular_key_in_the_slot_fails_every_run_and_is_never_stored(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    before = state_digest(project)
    regular = own_regular_key(project, "ci")
    project.pulumi("config", "set", "--secret", "managementKey", regular)

    for command in EVERY_RUN:
        result = refused(project, emulator, *command)
        assert SLOT_REFUSAL in result.output, result.output
        assert "is a regular key, not a management key" in result.output
        assert "[management-key-not-management]" in result.output
        assert regular not in result.output
        assert state_digest(project) == before, command

    if recorded_management_key(project) == regular:  # never compared in an assert: no print
        pytest.fail("the default provider's config in state holds the regular key")


def recorded_management_key(project: PulumiProject) -> str:
    """The management key the default provider's config in state holds (what a refresh or a
    destroy would use)."""
    deployment = json.loads(project.export_state(show_secrets=True))["deployment"]
    for resource in deployment["resources"]:
        if resource["type"] == "pulumi:providers:pulumi-python":
            return str(plain(resource["inputs"]["openrouter-keys:managementKey"]))
    raise AssertionError("no default provider in state")


def test_a_rejected_key_fails_a_run_that_changes_nothing(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    before = state_digest(project)
    project.pulumi("config", "set", "--secret", "managementKey", "sk-or-v1-" + "0" * 64)
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        result = refused(project, emulator, *command)
        assert SLOT_REFUSAL in result.output, result.output
        assert "[management-key-invalid]" in result.output
    assert state_digest(project) == before


def test_a_changed_api_base_url_is_checked_and_a_refresh_never_reads_the_old_one(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    before = state_digest(project)
    port = emulator.url.rsplit(":", 1)[1]

    closed = "http://127.0.0.1:9/api/v1"  # discard port: nothing listens
    project.pulumi("config", "set", "apiBaseUrl", closed)
    result = refused(project, emulator, "preview")
    assert "apiBaseUrl: OpenRouter, asked before anything is registered" in result.output
    assert "[api-unavailable]" in result.output
    result = refused(project, emulator, "preview", "--refresh")
    assert "[refresh-stale-settings]" in result.output, result.output
    assert f"`apiBaseUrl` was {emulator.api_base_url} at the last `pulumi up`" in result.output
    assert emulator.requests() == []  # not one request to the URL the stack file replaced
    assert state_digest(project) == before

    # The same emulator under another name: a URL that works, but not the one recorded.
    moved = f"http://localhost:{port}/api/v1"
    project.pulumi("config", "set", "apiBaseUrl", moved)
    assert "[refresh-stale-settings]" in refused(project, emulator, "refresh", "--yes").output
    ran = project.pulumi("preview", "--refresh", "--run-program")
    assert "[refresh-stale-settings]" not in ran.output
    project.pulumi("up", "--yes")  # checks the new URL, and records it
    assert "[refresh-stale-settings]" not in project.pulumi("preview", "--refresh").output


def test_the_slot_costs_one_get_key_per_program_run(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)

    def calls(*args: str) -> list[tuple[str, str]]:
        emulator.clear_requests()
        project.pulumi(*args)
        return [(r["method"], r["path"]) for r in emulator.requests()]

    key = ("GET", "/api/v1/key")
    # The sandbox's guardrails list models and providers, so each run of the program also reads
    # the catalogue once (ADR 0012); nothing else is asked when nothing changes.
    catalogue = {("GET", "/api/v1/models"), ("GET", "/api/v1/providers")}
    commands = ((("preview",), 1), (("up", "--yes"), 2), (("up", "--yes", "--skip-preview"), 1))
    for args, runs in commands:
        made = calls(*args)
        assert made.count(key) == runs, (args, made)  # `up` runs the program twice
        others = [call for call in made if call != key]
        assert set(others) <= catalogue, (args, made)
        assert all(others.count(call) == runs for call in set(others)), (args, made)
