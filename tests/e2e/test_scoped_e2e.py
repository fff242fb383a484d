"""BYOK credentials and observability destinations declared in the stack file, through the real
engine (bin/pulumi) and the emulator: each restricted to every live generation of the keys it
names across a rotation, a new secret a PATCH of the same object, no secret in state or output
in plain text, a preview without changes after every step, and a destroy that leaves nothing."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from e2e_harness import PROJECT, STACK, Emulator, PulumiProject, engine_skip_reason

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

BYOK = "/api/v1/byok"
DESTINATIONS = "/api/v1/observability/destinations"


def provider_secret() -> str:
    """A stand-in for a provider's key, made at run time."""
    return f"test-provider-key-{secrets.token_hex(12)}"


def up(project: PulumiProject) -> None:
    project.pulumi("up", "--yes")
    project.pulumi("preview", "--expect-no-changes")


def set_secret(project: PulumiProject, path: str, value: str) -> None:
    project.pulumi("config", "set", "--secret", "--path", f"{PROJECT}:{path}", value)


def edit(project: PulumiProject, setting: str, **changes: Any) -> None:
    """Change entries of a section in place, keeping the encrypted values already there."""
    document = project.read_stack_config()
    section = document["config"][f"{PROJECT}:{setting}"]
    for entry_id, settings in changes.items():
        section[entry_id] = {**section.get(entry_id, {}), **settings}
    project.write_stack_config(document)


def key_hashes(project: PulumiProject, key_id: str) -> list[str]:
    """The hash of every live generation: the wired one and the retiring ones."""
    entry = project.stack_outputs()["keys"][key_id]
    return sorted([entry["hash"], *(g["hash"] for g in entry.get("retiring", []))])


def test_a_credential_and_a_destination_follow_their_keys_and_keep_their_secrets(
    project: PulumiProject, emulator: Emulator
) -> None:
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    project.edit_config("protectKeys", False)
    project.edit_config("keys", {"api": {"rotations": ["2026-11-01"]}, "ci": {}})
    project.edit_config(
        "byok", {"openai-prod": {"provider": "openai", "keys": ["api"], "fallback": True}}
    )
    project.edit_config(
        "observability",
        {"lf": {"type": "langfuse", "config": {"publicKey": "pk-lf-test"}, "privacyMode": True}},
    )
    first_key, langfuse_secret = provider_secret(), provider_secret()
    set_secret(project, "byok.openai-prod.key", first_key)
    set_secret(project, "observability.lf.config.secretKey", langfuse_secret)
    up(project)

    [credential] = emulator.area("byok")
    [destination] = emulator.area("observability")
    assert credential["allowed_api_key_hashes"] == key_hashes(project, "api")
    assert credential["is_fallback"] is True
    assert destination["privacy_mode"] is True
    assert destination["api_key_hashes"] is None  # no `keys`: every key of the account
    governance = project.stack_outputs()["governance"]
    assert governance["byok"]["openai-prod"]["id"] == credential["id"]
    assert governance["observability"]["lf"]["id"] == destination["id"]
    for text in (project.export_state(), project.stack_file.read_text(encoding="utf-8")):
        assert first_key not in text
        assert langfuse_secret not in text

    # A rotation: the new generation is created, then the credential allows both.
    edit(project, "keys", api={"rotations": ["2026-11-01", "2026-12-01"]})
    emulator.clear_requests()
    up(project)
    both = key_hashes(project, "api")
    assert len(both) == 2
    [credential] = emulator.area("byok")
    assert credential["allowed_api_key_hashes"] == both
    writes = emulator.writes()
    assert ("PATCH", f"{BYOK}/{credential['id']}") in writes
    assert not [w for w in writes if w[1].startswith((BYOK, DESTINATIONS)) and w[0] != "PATCH"]

    # A new provider key: one PATCH of the same credential, never a replacement.
    label = credential["label"]
    set_secret(project, "byok.openai-prod.key", provider_secret())
    emulator.clear_requests()
    up(project)
    assert emulator.writes() == [("PATCH", f"{BYOK}/{credential['id']}")]
    [rotated] = emulator.area("byok")
    assert rotated["id"] == credential["id"]
    assert rotated["label"] != label

    # The old generation retires: the credential narrows before the old key is deleted.
    [old] = set(both) - {project.stack_outputs()["keys"]["api"]["hash"]}
    edit(project, "keys", api={"rotations": ["2026-12-01"]})
    emulator.clear_requests()
    up(project)
    [narrowed] = emulator.area("byok")
    assert old not in narrowed["allowed_api_key_hashes"]
    assert narrowed["allowed_api_key_hashes"] == key_hashes(project, "api")
    writes = emulator.writes()
    deleted = [
        i for i, w in enumerate(writes) if w[0] == "DELETE" and w[1].startswith("/api/v1/keys")
    ]
    patched = writes.index(("PATCH", f"{BYOK}/{credential['id']}"))
    assert deleted
    assert patched < deleted[0]

    project.pulumi("destroy", "--yes")
    assert emulator.area("byok") == []
    assert emulator.area("observability") == []


def test_new_destinations_past_the_cap_with_those_openrouter_lists_are_refused_before_any_write(
    project: PulumiProject, emulator: Emulator
) -> None:
    """Four `langfuse` destinations no stack manages, and a stack file adding two: each is
    within the cap alone, so the provider's check passes both; the program counts them together
    and refuses, in the preview and in an `up --skip-preview`, before anything is written."""
    for index in range(4):
        emulator.seed(
            "observability",
            name=f"outside-{index}",
            type="langfuse",
            config={"publicKey": "pk-lf-outside", "secretKey": provider_secret()},
        )
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    project.edit_config("protectKeys", False)
    project.edit_config("keys", {"api": {}})
    project.edit_config(
        "observability",
        {
            name: {"type": "langfuse", "config": {"publicKey": "pk-lf-test"}}
            for name in ("lf-a", "lf-b")
        },
    )
    for name in ("lf-a", "lf-b"):
        set_secret(project, f"observability.{name}.config.secretKey", provider_secret())
    emulator.clear_requests()
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        refused = project.pulumi(*command, check=False)
        assert refused.returncode != 0
        assert "observability.lf-b: would be one of 6 `langfuse` destinations in the default" in (
            refused.output
        )
        assert "OpenRouter lists 4 there (outside-" in refused.output
        assert emulator.writes() == []
    assert len(emulator.area("observability")) == 4

    # One of them fits: the same `up` goes through.
    project.edit_config(
        "observability", {"lf-a": {"type": "langfuse", "config": {"publicKey": "pk-lf-test"}}}
    )
    set_secret(project, "observability.lf-a.config.secretKey", provider_secret())
    up(project)
    assert len(emulator.area("observability")) == 5
    project.pulumi("destroy", "--yes")
    assert len(emulator.area("observability")) == 4
