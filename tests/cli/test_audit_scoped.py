"""`python -m cli audit` over an account with BYOK credentials and observability destinations.

The account (the emulator) holds what a team would make, some of it by hand; the stack outputs
are what the program writes for the part it manages (`keys` and `governance.byok`,
`governance.observability`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Run, RunCli

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from tests.support.sentinel import assert_absent, assert_present

SCOPED_FINDINGS = {
    "scoped-to-deleted-key",
    "unmanaged-byok-credential",
    "unmanaged-observability-destination",
}


@dataclass
class Scoped:
    emulator: Emulator
    outputs: Path
    hashes: dict[str, str]
    ids: dict[str, str]
    secrets: list[str]


@pytest.fixture
def scoped(
    emulator: Emulator, management_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Scoped:
    """Stack prod manages keys api and ci, the credential openai-prod (restricted to api and to
    old, since deleted) and the destination hooks (restricted to ci). Made by hand: the
    credential anthropic (in workspace agents, every key) and the destination stray-langfuse
    (restricted to temp, since deleted)."""
    recently = datetime.now(UTC) - timedelta(days=1)
    agents = emulator.add_workspace("Agents", "agents")
    hashes = {
        name: emulator.seed_key(name, last_used_at=recently, **settings).hash  # type: ignore[arg-type]
        for name, settings in {
            "api": {},
            "ci": {"workspace_id": agents["id"]},
            "old": {},
            "temp": {},
        }.items()
    }
    provider_secrets = [f"provider-secret-{secrets.token_hex(16)}" for _ in range(4)]
    openai, anthropic, langfuse, webhook = provider_secrets
    ids = {
        "openai-prod": emulator.seed_object(
            "byok", provider="openai", key=openai, name="OpenAI production",
            allowed_api_key_hashes=[hashes["api"], hashes["old"]],
        )["id"],
        "anthropic": emulator.seed_object(
            "byok", provider="anthropic", key=anthropic, name="Anthropic by hand",
            workspace_id=agents["id"],
        )["id"],
        "stray-langfuse": emulator.seed_object(
            "observability", type="langfuse", name="stray-langfuse",
            config={"publicKey": "pk-lf-public", "secretKey": langfuse},
            api_key_hashes=[hashes["temp"]],
        )["id"],
        "hooks": emulator.seed_object(
            "observability", type="webhook", name="hooks", workspace_id=agents["id"],
            config={"url": "https://hooks.example.com/openrouter",
                    "headers": {"Authorization": webhook}},
            api_key_hashes=[hashes["ci"]],
        )["id"],
    }
    emulator.delete_key(hashes["old"])
    emulator.delete_key(hashes["temp"])

    def entry(name: str) -> dict[str, Any]:
        label = emulator.key(hashes[name])["label"]  # type: ignore[index]
        return {"hash": hashes[name], "label": label, "name": name, "generation": 1,
                "consumers": []}

    document = {
        "keys": {"api": entry("api"), "ci": entry("ci")},
        "governance": {
            "workspaces": {"agents": {"id": agents["id"], "slug": "agents"}},
            "byok": {"openai-prod": {"id": ids["openai-prod"], "name": "OpenAI production",
                                     "keys": ["api"]}},
            "observability": {"hooks": {"id": ids["hooks"], "name": "hooks",
                                        "workspace": "agents", "keys": ["ci"]}},
        },
    }
    outputs = tmp_path / "prod.json"
    outputs.write_text(json.dumps(document))
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)
    emulator.clear_requests()
    return Scoped(emulator, outputs, hashes, {**ids, "agents": agents["id"]},
                  [management_key, *provider_secrets])


def audit(run_cli: RunCli, scoped: Scoped, *extra: str) -> Run:
    return run_cli("audit", "--outputs", str(scoped.outputs), *extra)


def test_the_audit_finds_unmanaged_objects_and_restrictions_to_deleted_keys(
    scoped: Scoped, run_cli: RunCli
):
    run = audit(run_cli, scoped, "--json")

    assert run.code == 1
    document = run.json()
    assert isinstance(document, dict)
    found = [
        (f["severity"], f["kind"], f["context"]["name"])
        for f in document["findings"]
        if f["kind"] in SCOPED_FINDINGS
    ]
    assert found == [
        ("warning", "scoped-to-deleted-key", "OpenAI production"),
        ("error", "scoped-to-deleted-key", "stray-langfuse"),
        ("warning", "unmanaged-byok-credential", "Anthropic by hand"),
        ("warning", "unmanaged-observability-destination", "stray-langfuse"),
    ]
    managed, stray, anthropic, _ = (
        f for f in document["findings"] if f["kind"] in SCOPED_FINDINGS
    )
    old, temp = scoped.hashes["old"], scoped.hashes["temp"]
    assert f"is restricted to 1 key that no longer exists ({old[:12]}...)" in managed["message"]
    assert "it serves only the other 1 key." in managed["message"]
    assert "`openrouter-keys:byok.openai-prod.keys`" in managed["hint"]
    assert "`pulumi up --refresh --stack prod`" in managed["hint"]
    assert stray["context"]["deleted_hashes"] == temp
    assert "OpenRouter uses it for no key." in stray["message"]
    assert anthropic["message"] == (
        f"BYOK credential Anthropic by hand (anthropic, {scoped.ids['anthropic']}) in workspace "
        "Agents (agents) is in the account but no stack manages it; every key of the account "
        "may use it."
    )
    assert f"`adopt: {scoped.ids['anthropic']}`" in anthropic["hint"]
    assert {o["name"]: o["deleted_key_hashes"] for o in document["byok"]} == {
        "OpenAI production": [old],
        "Anthropic by hand": [],
    }
    hooks = next(o for o in document["observability"] if o["name"] == "hooks")
    assert hooks["managed_by"] == [{"stack": "prod", "entry": "observability.hooks"}]
    assert hooks["key_hashes"] == [scoped.hashes["ci"]]


def test_the_markdown_report_lists_them_and_never_a_secret(scoped: Scoped, run_cli: RunCli):
    run = audit(run_cli, scoped)

    rows = run.out.split("### BYOK credentials and observability destinations\n\n")[1]
    assert (
        f"| observability destination | hooks | `{scoped.ids['hooks']}` | webhook | "
        "Agents (agents) | prod/observability.hooks | "
    ) in rows
    anthropic = f"| `{scoped.ids['anthropic']}` | anthropic | Agents (agents) | — (unmanaged) |"
    assert f"{anthropic} every key |" in rows
    for secret in scoped.secrets:
        assert_absent(secret, run.out, run.err)
    # The API answers the webhook's header in full: the audit reads it and prints it nowhere.
    [hooks] = [o for o in scoped.emulator.objects("observability") if o["name"] == "hooks"]
    assert_present(scoped.secrets[-1], hooks)
    for record in scoped.emulator.objects("byok"):
        assert record["label"] not in run.out  # not even the masked one


def test_reads_each_kind_per_workspace_then_looks_up_keys_found_in_no_listing(
    scoped: Scoped, run_cli: RunCli
):
    audit(run_cli, scoped)

    paths = [r.path for r in scoped.emulator.requests()]
    for collection in ("/api/v1/byok", "/api/v1/observability/destinations"):
        queries = [r.query for r in scoped.emulator.requests() if r.path == collection]
        assert [q.split("&")[0] for q in queries] == [
            f"workspace_id={scoped.ids['agents']}",
            f"workspace_id={DEFAULT_WORKSPACE_ID}",
        ]
    # The deleted keys were looked up by hash before being called deleted; nothing was written.
    assert f"/api/v1/keys/{scoped.hashes['old']}" in paths
    assert f"/api/v1/keys/{scoped.hashes['temp']}" in paths
    assert {r.method for r in scoped.emulator.requests()} == {"GET"}


def test_a_key_in_a_workspace_the_run_did_not_list_is_not_called_deleted(
    scoped: Scoped, run_cli: RunCli
):
    # Without workspaces, only the default workspace's keys are listed; hooks' key lives in
    # agents (and is managed), openai-prod's api in the default workspace.
    scoped.emulator.inject(Fault(path="/api/v1/workspaces", method="GET", status=404))
    elsewhere = scoped.emulator.seed_key("elsewhere", workspace_id=scoped.ids["agents"]).hash
    scoped.emulator.seed_object(
        "byok", provider="mistral", key=f"provider-secret-{secrets.token_hex(8)}",
        name="by hand, default workspace", allowed_api_key_hashes=[elsewhere],
    )

    run = audit(run_cli, scoped, "--json")

    document = run.json()
    assert isinstance(document, dict)
    deleted = {
        f["context"]["name"]: f["context"]["deleted_hashes"]
        for f in document["findings"]
        if f["kind"] == "scoped-to-deleted-key"
    }
    assert deleted == {
        "OpenAI production": scoped.hashes["old"],
        "stray-langfuse": scoped.hashes["temp"],
    }
    assert f"/api/v1/keys/{elsewhere}" in [r.path for r in scoped.emulator.requests()]
    assert "elsewhere" in {row["name"] for row in document["keys"]}
    # Only the default workspace was listed: agents' credential and destination are not seen.
    assert {o["name"] for o in document["byok"]} == {"OpenAI production",
                                                     "by hand, default workspace"}


def test_a_kind_the_account_may_not_read_is_a_warning_and_the_other_is_still_judged(
    scoped: Scoped, run_cli: RunCli
):
    scoped.emulator.inject(Fault(path="/api/v1/byok", method="GET", status=403))

    run = audit(run_cli, scoped, "--json")

    assert run.code == 1  # stray-langfuse still fails it
    document = run.json()
    assert isinstance(document, dict)
    kinds = [f["kind"] for f in document["findings"]]
    assert "unmanaged-byok-credential" not in kinds
    assert "unmanaged-observability-destination" in kinds
    [warning] = [f for f in document["findings"] if f["kind"] == "governance-unreadable"]
    assert 'GET /byok?workspace_id=' in warning["message"]
    assert warning["context"]["not_checked"] == "unmanaged-byok-credential, scoped-to-deleted-key"
    assert document["byok"] == []


def test_without_workspaces_the_default_one_and_each_one_given_are_listed(
    scoped: Scoped, run_cli: RunCli
):
    scoped.emulator.inject(Fault(path="/api/v1/workspaces", method="GET", status=404))

    run = audit(run_cli, scoped, "--json", "--workspace", scoped.ids["agents"])

    document = run.json()
    assert isinstance(document, dict)
    for collection in ("/api/v1/byok", "/api/v1/observability/destinations"):
        queries = [r.query for r in scoped.emulator.requests() if r.path == collection]
        assert [q.split("&")[0] for q in queries] == [
            "offset=0",  # no workspace_id: the default workspace
            f"workspace_id={scoped.ids['agents']}",
        ]
    assert {o["name"] for o in document["byok"]} == {"OpenAI production", "Anthropic by hand"}
