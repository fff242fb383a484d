"""`doctor --stack` and `audit --stack` ask the API the stack itself uses, as `recover` does
(issue 19): its `apiBaseUrl` before $OPENROUTER_API_BASE_URL, so a sandbox stack's key goes to
its emulator and nowhere else."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cli_harness import Account, RunCli

from emulator import Emulator
from providers import CONFIG_API_BASE_URL


def fake_pulumi(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    api_of: dict[str, str],
    outputs: dict[str, Path] | None = None,
) -> Path:
    """A `pulumi` on PATH: `config --json --stack S` shows S's `apiBaseUrl` (from `api_of`),
    `stack output ... --stack S` prints `outputs[S]`; returns where it logs its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "argv"
    cases = []
    for stack, url in api_of.items():
        config = tmp_path / f"{stack}.config.json"
        config.write_text(json.dumps({CONFIG_API_BASE_URL: {"value": url, "secret": False}}))
        cases.append(f'"config --json --non-interactive --stack {stack}") cat "{config}";;')
    for stack, path in (outputs or {}).items():
        cases.append(f'*"stack output"*"--stack {stack}") cat "{path}";;')
    script = bin_dir / "pulumi"
    script.write_text(
        f'#!/bin/sh\necho "$@" >> "{seen}"\ncase "$*" in\n'
        + "\n".join(cases)
        + "\n*) exit 3;;\nesac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return seen


def test_doctor_asks_the_api_of_the_stack_it_names(  # noqa: PLR0917 - fixtures
    emulator: Emulator,
    management_key: str,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
):
    # The environment names another API: the stack's own setting comes first, as in the provider.
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", closed_port_url)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    seen = fake_pulumi(tmp_path, monkeypatch, {"sandbox": emulator.api_base_url})
    emulator.clear_requests()

    run = run_cli(
        "doctor", "--from-env", "OPENROUTER_MANAGEMENT_KEY", "--expect", "management",
        "--stack", "sandbox", "--json",
    )

    assert run.code == 0, run.err
    assert run.json()["api_base_url"] == emulator.api_base_url  # type: ignore[index]
    assert [(r.method, r.path) for r in emulator.requests()] == [("GET", "/api/v1/key")]
    assert seen.read_text().splitlines() == ["config --json --non-interactive --stack sandbox"]


def test_doctor_without_a_stack_reads_no_stack_config(
    emulator: Emulator,
    management_key: str,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    seen = fake_pulumi(tmp_path, monkeypatch, {})

    run = run_cli("doctor", "--from-env", "OPENROUTER_MANAGEMENT_KEY", "--expect", "management")

    assert run.code == 0, run.err
    assert not seen.exists()


def test_audit_asks_the_api_of_the_stacks_it_joins(
    account: Account,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
):
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", account.management_key)
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", closed_port_url)
    url = account.emulator.api_base_url
    fake_pulumi(tmp_path, monkeypatch, {"dev": url, "prod": url}, account.outputs)

    run = run_cli("audit", "--stack", "dev", "--stack", "prod", "--json")

    assert run.code == 1, run.err  # the account's findings: it was audited, in the emulator
    assert run.json()["stacks"] == ["dev", "prod"]  # type: ignore[index]
    assert {r.path for r in account.emulator.requests()} >= {"/api/v1/keys"}


def test_audit_of_stacks_on_two_apis_is_refused_before_any_request(
    account: Account,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
):
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", account.management_key)
    monkeypatch.delenv("OPENROUTER_API_BASE_URL", raising=False)
    api_of = {"dev": account.emulator.api_base_url, "prod": closed_port_url}
    fake_pulumi(tmp_path, monkeypatch, api_of, account.outputs)
    account.emulator.clear_requests()

    run = run_cli("audit", "--stack", "dev", "--stack", "prod")

    assert run.code == 2
    [line] = run.err.splitlines()
    assert "the stacks given do not use the same API" in line
    assert f"dev -> {account.emulator.api_base_url}" in line
    assert line.endswith("[stacks-on-different-apis]")
    assert account.emulator.requests() == []


def test_the_flag_wins_over_the_stacks_api(
    account: Account,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
):
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", account.management_key)
    api_of = {"dev": closed_port_url, "prod": closed_port_url}
    seen = fake_pulumi(tmp_path, monkeypatch, api_of, account.outputs)

    run = run_cli(
        "audit", "--stack", "dev", "--stack", "prod", "--api-base-url",
        account.emulator.api_base_url, "--json",
    )

    assert run.code == 1, run.err
    assert all(not line.startswith("config") for line in seen.read_text().splitlines())
