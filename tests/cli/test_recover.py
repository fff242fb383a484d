"""`python -m cli recover`: after a `pulumi up` killed with its provider, find the keys its
pending creates minted, and with --yes delete exactly those (issue 9, case 5)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from cli.recover import API_KEY_TYPE, Interrupted, interrupted_creates
from providers import CONFIG_API_BASE_URL
from tests.support.sentinel import assert_absent


def export_of(pending: list[str], managed: list[str]) -> dict[str, object]:
    return {
        "version": 3,
        "deployment": {
            "resources": [
                {"urn": f"urn:x::{h}", "type": API_KEY_TYPE, "id": h, "inputs": {}} for h in managed
            ],
            "pending_operations": [
                {"type": "creating", "resource": {"type": API_KEY_TYPE, "inputs": {"name": n}}}
                for n in pending
            ]
            + [{"type": "updating", "resource": {"type": API_KEY_TYPE, "inputs": {"name": "x"}}}],
        },
    }


def fake_pulumi(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    document: object,
    config: object = None,
) -> Path:
    """A `pulumi` on PATH that prints `document` for `stack export` and `config` (the shape of
    `pulumi config --json`, none by default) for `config`; returns where it logs its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(document))
    configured = tmp_path / "config.json"
    configured.write_text(json.dumps(config or {}))
    seen = tmp_path / "argv"
    script = bin_dir / "pulumi"
    script.write_text(
        f'#!/bin/sh\necho "$@" >> "{seen}"\n'
        f'if [ "$1" = config ]; then cat "{configured}"; else cat "{exported}"; fi\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return seen


def test_the_state_names_pending_creates_and_managed_hashes():
    found = interrupted_creates(export_of(["prod-ci"], ["a" * 64]), "prod")
    assert found == Interrupted(("prod-ci",), frozenset({"a" * 64}))


@pytest.fixture
def world(emulator, management_key, monkeypatch):
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)
    managed = emulator.seed_key(name="prod-ci")  # the state holds this one
    leftover = emulator.seed_key(name="prod-ci")  # minted, never recorded
    used = emulator.seed_key(name="prod-web", usage=1.5)  # someone holds it: never touched
    other = emulator.seed_key(name="prod-web-hand-made")
    return managed, leftover, used, other


def test_a_dry_run_lists_only_never_used_keys_of_pending_creates(  # noqa: PLR0917 - fixtures
    world, run_cli, tmp_path, monkeypatch, emulator, management_key
):
    managed, leftover, used, other = world
    seen = fake_pulumi(tmp_path, monkeypatch, export_of(["prod-ci", "prod-web"], [managed.hash]))

    run = run_cli("recover", "--stack", "prod")

    assert run.code == 1
    assert leftover.hash in run.out
    assert all(h not in run.out for h in (managed.hash, used.hash, other.hash))
    assert "run again with --yes" in run.out
    assert "pulumi refresh --clear-pending-creates --yes --stack prod" in run.out
    assert seen.read_text().splitlines() == [
        "stack export --non-interactive --stack prod",
        "config --json --non-interactive --stack prod",
    ]
    assert len(emulator.keys()) == 4  # nothing deleted
    assert_absent(management_key, run.out, run.err)


def test_yes_deletes_exactly_the_leftovers(world, run_cli, tmp_path, monkeypatch, emulator):
    managed, leftover, used, other = world
    fake_pulumi(tmp_path, monkeypatch, export_of(["prod-ci", "prod-web"], [managed.hash]))

    run = run_cli("recover", "--stack", "prod", "--yes", "--json")

    assert run.code == 0
    assert [k["hash"] for k in run.json()["leftovers"]] == [leftover.hash]  # type: ignore[index]
    remaining = {k["hash"] for k in emulator.keys()}  # noqa: SIM118 - the emulator's method
    assert remaining == {managed.hash, used.hash, other.hash}


def test_a_state_without_pending_creates_asks_openrouter_nothing(
    world, run_cli, tmp_path, monkeypatch, emulator
):
    fake_pulumi(tmp_path, monkeypatch, export_of([], []))
    emulator.clear_requests()
    run = run_cli("recover", "--stack", "prod", "--yes")
    assert run.code == 0
    assert "no interrupted key creates: nothing to recover" in run.out
    assert emulator.requests() == []


def test_it_asks_the_api_the_stack_itself_uses(world, run_cli, tmp_path, monkeypatch, emulator):
    # A sandbox stack: its `apiBaseUrl` is the emulator, and nothing else points there.
    managed, leftover, _, _ = world
    monkeypatch.delenv("OPENROUTER_API_BASE_URL")
    stack_api = {CONFIG_API_BASE_URL: {"value": emulator.api_base_url, "secret": False}}
    fake_pulumi(tmp_path, monkeypatch, export_of(["prod-ci"], [managed.hash]), stack_api)

    run = run_cli("recover", "--stack", "prod", "--json")

    assert run.code == 1, run.err
    assert [k["hash"] for k in run.json()["leftovers"]] == [leftover.hash]  # type: ignore[index]


def test_a_secret_api_root_is_refused_rather_than_replaced_by_another(
    world, run_cli, tmp_path, monkeypatch, emulator
):
    managed, _, _, _ = world
    stack_api = {CONFIG_API_BASE_URL: {"secret": True}}
    fake_pulumi(tmp_path, monkeypatch, export_of(["prod-ci"], [managed.hash]), stack_api)
    emulator.clear_requests()

    run = run_cli("recover", "--stack", "prod")

    assert run.code == 2
    assert "[stack-setting-secret]" in run.err
    assert "--api-base-url" in run.err
    assert emulator.requests() == []


def test_the_flag_wins_and_the_stack_config_is_not_read(
    world, run_cli, tmp_path, monkeypatch, emulator
):
    managed, leftover, _, _ = world
    elsewhere = {CONFIG_API_BASE_URL: {"value": "https://api.invalid/api/v1", "secret": False}}
    seen = fake_pulumi(tmp_path, monkeypatch, export_of(["prod-ci"], [managed.hash]), elsewhere)

    run = run_cli("recover", "--stack", "prod", "--api-base-url", emulator.api_base_url, "--json")

    assert [k["hash"] for k in run.json()["leftovers"]] == [leftover.hash]  # type: ignore[index]
    assert all(not line.startswith("config") for line in seen.read_text().splitlines())


def test_pending_creates_that_left_no_key_ask_for_no_second_run(
    world, run_cli, tmp_path, monkeypatch
):
    # The CLI alone was killed: its provider deleted every key it minted for the dead engine.
    managed, _, _, _ = world
    fake_pulumi(tmp_path, monkeypatch, export_of(["prod-api"], [managed.hash]))

    run = run_cli("recover", "--stack", "prod")

    assert run.code == 0
    assert "1 interrupted key create(s) in state; 0 leftover key(s) found" in run.out
    assert "run again with --yes" not in run.out
    assert "pulumi refresh --clear-pending-creates --yes --stack prod" in run.out
