"""The engine build's pins agree with the Python SDK pin (no CLI needed: these always run)."""

from __future__ import annotations

import re
from pathlib import Path

import e2e_harness
import pytest
from e2e_harness import REPO, engine_skip_reason

WRAPPER_GO_MOD = REPO / "tools" / "pulumi-engine" / "go.mod"


def required_version(go_mod: str, module: str) -> tuple[int, ...]:
    match = re.search(rf"^\s*{re.escape(module)} v(\d+)\.(\d+)\.(\d+)", go_mod, re.MULTILINE)
    assert match, f"{module} is not required in {WRAPPER_GO_MOD}"
    return tuple(int(part) for part in match.groups())


def sdk_pin(requirements: Path) -> tuple[int, ...]:
    match = re.search(r"^pulumi==(\d+)\.(\d+)\.(\d+)$", requirements.read_text(), re.MULTILINE)
    assert match, "requirements.txt must pin pulumi==X.Y.Z"
    return tuple(int(part) for part in match.groups())


def test_engine_is_the_cli_and_sdk_of_one_release_not_older_than_the_python_sdk() -> None:
    go_mod = WRAPPER_GO_MOD.read_text()
    cli = required_version(go_mod, "github.com/pulumi/pulumi/pkg/v3")
    sdk = required_version(go_mod, "github.com/pulumi/pulumi/sdk/v3")

    assert cli == sdk, "pkg/v3 and sdk/v3 must come from the same release (the relative replace)"
    # An older engine with a newer SDK is the unsupported pairing (docs/engine.md).
    assert cli >= sdk_pin(REPO / "requirements.txt")


def test_engine_repeats_the_clipboard_replace_of_pulumis_own_go_mod() -> None:
    go_mod = WRAPPER_GO_MOD.read_text()

    assert re.search(
        r"^replace github\.com/atotto/clipboard => github\.com/tgummerer/clipboard v\S+$",
        go_mod,
        re.MULTILINE,
    )


def test_skip_reason_is_the_one_the_build_script_recorded_when_no_cli_is_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = tmp_path / "ENGINE-UNAVAILABLE.txt"
    recorded.write_text("The Pulumi engine could not be built by scripts/build-engine.sh: no Go\n")
    monkeypatch.setattr(e2e_harness, "ENGINE_UNAVAILABLE", recorded)
    monkeypatch.setattr(e2e_harness, "BIN", tmp_path)
    monkeypatch.setattr(e2e_harness, "cli_on_path", lambda: None)

    reason = engine_skip_reason()

    assert reason is not None
    assert reason.startswith(recorded.read_text().strip())
    assert "no `pulumi` CLI is on PATH" in reason


def test_skip_reason_names_the_missing_binaries_and_the_command_that_builds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(e2e_harness, "ENGINE_UNAVAILABLE", tmp_path / "absent.txt")
    monkeypatch.setattr(e2e_harness, "BIN", tmp_path)
    monkeypatch.setattr(e2e_harness, "cli_on_path", lambda: None)

    reason = engine_skip_reason()

    assert reason is not None
    assert "bin/pulumi" in reason
    assert "scripts/build-engine.sh" in reason


def test_a_release_cli_on_path_is_used_when_bin_is_not_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = tmp_path / "release" / "pulumi"
    monkeypatch.setattr(e2e_harness, "BIN", tmp_path / "not-built")
    monkeypatch.setattr(e2e_harness, "cli_on_path", lambda: release)

    assert e2e_harness.find_engine() == release
