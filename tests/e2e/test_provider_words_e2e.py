"""What the providers tell the person running pulumi, through the real engine (bin/pulumi) and
the emulator: a change names its fields (`[diff: ~limit]`), a refresh names no bookkeeping
(`config_path`), and an `adopt` that `up` would refuse fails the preview, before any write
(issue 20's new-user trial)."""

from __future__ import annotations

import secrets

import pytest
from e2e_harness import API_KEY_TYPE, Emulator, PulumiProject, engine_skip_reason, refused, start

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]


def test_a_change_names_its_field_and_a_refresh_names_no_bookkeeping(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = start(project, emulator)

    refresh = project.pulumi("refresh", "--yes")
    assert "config_path" not in refresh.output, refresh.output
    refreshed = [r for r in project.state()["resources"] if r["type"] == API_KEY_TYPE]
    assert refreshed
    assert all(r["inputs"].get("config_path") for r in refreshed), refreshed
    preview = project.pulumi("preview", "--diff", "--expect-no-changes")
    assert "config_path" not in preview.output, preview.output

    keys["ci"] = {**keys["ci"], "limit": 7}
    project.edit_config("keys", keys)
    preview = project.pulumi("preview")
    assert "[diff: ~limit]" in preview.output, preview.output
    up = project.pulumi("up", "--yes", "--skip-preview")
    assert "[diff: ~limit]" in up.output, up.output


def test_an_adopt_up_would_refuse_fails_the_preview_before_any_write(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    made = emulator._call(
        "POST",
        "/_emulator/areas/byok",
        {"provider": "anthropic", "name": "hand-made", "key": secrets.token_urlsafe(24)},
    )["data"]
    missing = "0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11"
    for adopt, kind in ((made["id"], "object-adopt-fixed"), (missing, "object-adopt-not-found")):
        project.edit_config("byok", {"openai": {"provider": "openai", "adopt": adopt}})
        project.pulumi(
            "config", "set", "--secret", "--path", "openrouter-keys:byok.openai.key",
            secrets.token_urlsafe(24),
        )  # fmt: skip
        for command in (("preview",), ("up", "--yes", "--skip-preview")):
            output = refused(project, emulator, *command).output
            assert "`byok.openai.adopt`: " in output, output
            assert f"[{kind}]" in output, output
