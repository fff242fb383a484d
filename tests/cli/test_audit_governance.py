"""`python -m cli audit` over an account with guardrails, workspaces and budgets (the emulator).

The account is set up the way a person would, through the API with the management key; the
stack outputs are what the program writes for it (`keys` and `governance`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Run, RunCli, capped_guardrail, management_client

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from providers.http.client import PAGE_SIZE


@dataclass
class Governed:
    """The account below and the stack outputs file that manages part of it."""

    emulator: Emulator
    outputs: Path
    hashes: dict[str, str]
    ids: dict[str, str]


@pytest.fixture
def governed(
    emulator: Emulator, management_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Governed:
    """Workspace `agents` (monthly budget $100; its default guardrail never configured) holds
    ci (guardrail ci-cheap, $20 a month, spent $18), bot (no guardrail) and by-hand (no stack,
    $70); the default workspace holds web ($4.50 of its default guardrail's $5 a month) and the
    guardrail `stray`, which no stack manages.
    """
    recently = datetime.now(UTC) - timedelta(days=1)
    agents = emulator.add_workspace("Agents", "agents")
    [default] = [w for w in emulator.workspaces() if w["id"] == DEFAULT_WORKSPACE_ID]
    seeds = {
        "ci": {"usage": 18.0, "workspace_id": agents["id"]},
        "bot": {"usage": 1.0, "workspace_id": agents["id"]},
        "by-hand": {"usage": 70.0, "workspace_id": agents["id"]},
        "web": {"usage": 4.5},
    }
    hashes = {
        name: emulator.seed_key(name, last_used_at=recently, **settings).hash  # type: ignore[arg-type]
        for name, settings in seeds.items()
    }
    with management_client(emulator, management_key) as client:
        cap = capped_guardrail(client, "ci-cheap", agents["id"], (20.0, "monthly"), hashes["ci"])
        stray = client.post_json("/guardrails", {"name": "stray"})["data"]["id"]
        client.send_json(
            "PATCH", f"/guardrails/{default['default_guardrail_id']}",
            {"limit_usd": 5.0, "reset_interval": "monthly"},
        )
        client.send_json("PUT", f"/workspaces/{agents['id']}/budgets/monthly", {"limit_usd": 100})

    def entry(name: str, **fields: str) -> dict[str, Any]:
        label = emulator.key(hashes[name])["label"]  # type: ignore[index]
        return {"hash": hashes[name], "label": label, "name": name, "generation": 1,
                "consumers": [], **fields}

    document = {
        "keys": {
            "ci": entry("ci", guardrail="ci-cheap", workspace="agents"),
            "bot": entry("bot", workspace="agents"),
            "web": entry("web"),
        },
        "governance": {
            "guardrails": {"ci-cheap": {"id": cap, "name": "ci-cheap", "workspace": "agents"}},
            "workspaces": {
                "agents": {"id": agents["id"], "slug": "agents"},
                "main": {"id": DEFAULT_WORKSPACE_ID, "slug": "default",
                         "defaultGuardrail": default["default_guardrail_id"]},
            },
        },
    }
    outputs = tmp_path / "prod.json"
    outputs.write_text(json.dumps(document))
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)
    emulator.clear_requests()
    ids = {
        "agents": agents["id"],
        "agents-default": agents["default_guardrail_id"],
        "default-default": default["default_guardrail_id"],
        "cap": cap,
        "stray": stray,
    }
    return Governed(emulator, outputs, hashes, ids)


def audit(run_cli: RunCli, governed: Governed, *extra: str) -> Run:
    return run_cli("audit", "--outputs", str(governed.outputs), *extra)


def about(finding: dict[str, Any], names: dict[str, str]) -> str:
    context = finding["context"]
    return names.get(context.get("hash", ""), context.get("workspace") or context.get("name"))


def test_the_audit_reports_each_governance_finding_with_its_fix(
    governed: Governed, run_cli: RunCli
):
    run = audit(run_cli, governed, "--json")

    assert run.code == 1
    document = run.json()
    assert isinstance(document, dict)
    names = {row["hash"]: row["name"] for row in document["keys"]}
    assert [(f["severity"], f["kind"], about(f, names)) for f in document["findings"]] == [
        ("error", "guardrail-near-limit", "ci"),
        ("error", "guardrail-near-limit", "web"),
        ("error", "workspace-budget-near-limit", "agents"),
        ("error", "unmanaged-key", "by-hand"),
        ("warning", "unmanaged-guardrail", "stray"),
        ("warning", "key-without-guardrail", "agents"),
    ]
    ci, web, budget, _, stray, bare = document["findings"]
    assert "90% of the cap of guardrail ci-cheap this month ($18.00 of $20.00" in ci["message"]
    assert "`openrouter-keys:guardrails.ci-cheap`" in ci["hint"]
    assert "90% of the cap of the default guardrail of workspace Default Workspace" in (
        web["message"]
    )
    assert "`openrouter-keys:workspaces.main.defaultGuardrail`" in web["hint"]
    assert "($89.00 of $100.00, summed over its 3 keys)" in budget["message"]
    assert "`budgets.monthly` of `openrouter-keys:workspaces.agents`" in budget["hint"]
    assert f"`adopt: {governed.ids['stray']}`" in stray["hint"]
    assert bare["context"]["key_ids"] == "prod/bot"
    assert "`openrouter-keys:workspaces.agents.defaultGuardrail`" in bare["hint"]
    rows = {row["name"]: row for row in document["keys"]}
    assert rows["ci"]["guardrail_id"] == governed.ids["cap"]
    assert rows["by-hand"]["workspace_id"] == governed.ids["agents"]  # every workspace is listed


def test_the_markdown_report_shows_the_governance_findings(governed: Governed, run_cli: RunCli):
    run = audit(run_cli, governed)

    assert "**4 findings fail the audit, 2 warnings.** 4 keys in the account" in run.out
    findings = run.out.split("### Findings (6)\n\n")[1]
    assert "- **warning** `key-without-guardrail`: 1 managed key in workspace Agents (agents)" in (
        findings
    )
    assert "- **error** `workspace-budget-near-limit`: workspace Agents (agents) has spent 89%" in (
        findings
    )


def test_the_reads_are_bounded_one_listing_each_and_one_per_workspace(
    governed: Governed, run_cli: RunCli
):
    audit(run_cli, governed)

    requests = [(r.method, r.path, r.query) for r in governed.emulator.requests()]
    agents, default = governed.ids["agents"], DEFAULT_WORKSPACE_ID
    page = f"offset=0&limit={PAGE_SIZE}"
    keys = "include_disabled=true&include_expired=true&offset=0&workspace_id="
    assert requests == [
        ("GET", "/api/v1/key", ""),
        ("GET", "/api/v1/workspaces", page),
        ("GET", "/api/v1/byok", f"workspace_id={agents}&{page}"),
        ("GET", "/api/v1/byok", f"workspace_id={default}&{page}"),
        ("GET", "/api/v1/observability/destinations", f"workspace_id={agents}&{page}"),
        ("GET", "/api/v1/observability/destinations", f"workspace_id={default}&{page}"),
        ("GET", "/api/v1/keys", keys + agents),
        ("GET", "/api/v1/keys", keys + default),
        ("GET", "/api/v1/guardrails/assignments/keys", page),
        ("GET", "/api/v1/guardrails", f"workspace_id={agents}&{page}"),
        ("GET", "/api/v1/guardrails", f"workspace_id={default}&{page}"),
        # agents' default guardrail is not listed and bot holds none: is it configured? (404)
        ("GET", f"/api/v1/guardrails/{governed.ids['agents-default']}", ""),
        ("GET", f"/api/v1/workspaces/{agents}/budgets", ""),
        ("GET", f"/api/v1/workspaces/{default}/budgets", ""),
    ]


def test_an_account_without_workspaces_is_audited_as_before_with_one_warning(
    governed: Governed, run_cli: RunCli
):
    governed.emulator.inject(Fault(path="/api/v1/workspaces", method="GET", status=404))

    run = audit(run_cli, governed, "--json")

    assert run.code == 0
    document = run.json()
    assert isinstance(document, dict)
    [warning] = document["findings"]
    assert warning["kind"] == "governance-unreadable"
    assert warning["severity"] == "warning"
    assert 'GET /workspaces answered HTTP 404 "' in warning["message"]
    assert warning["context"]["not_checked"] == (
        "key-without-guardrail, unmanaged-guardrail, guardrail-near-limit, "
        "workspace-budget-near-limit"
    )
    # As before: the default workspace is listed, the managed keys elsewhere found by hash;
    # and the default workspace's BYOK credentials and observability destinations.
    assert [(r.method, r.path) for r in governed.emulator.requests()] == [
        ("GET", "/api/v1/key"),
        ("GET", "/api/v1/workspaces"),
        ("GET", "/api/v1/byok"),
        ("GET", "/api/v1/observability/destinations"),
        ("GET", "/api/v1/keys"),
        ("GET", f"/api/v1/keys/{governed.hashes['ci']}"),
        ("GET", f"/api/v1/keys/{governed.hashes['bot']}"),
    ]
    assert {row["name"] for row in document["keys"]} == {"ci", "bot", "web"}


def test_budgets_the_account_may_not_read_skip_only_the_budget_check(
    governed: Governed, run_cli: RunCli
):
    budgets = f"/api/v1/workspaces/{governed.ids['agents']}/budgets"
    governed.emulator.inject(Fault(path=budgets, method="GET", status=403))

    run = audit(run_cli, governed, "--json")

    document = run.json()
    assert isinstance(document, dict)
    kinds = [f["kind"] for f in document["findings"]]
    assert "workspace-budget-near-limit" not in kinds
    assert {"guardrail-near-limit", "unmanaged-guardrail", "key-without-guardrail"} <= set(kinds)
    [warning] = [f for f in document["findings"] if f["kind"] == "governance-unreadable"]
    route = budgets.removeprefix("/api/v1")
    assert warning["message"].startswith(
        "guardrails, workspaces, budgets, BYOK credentials or observability destinations could"
        f" not be read (GET {route} answered HTTP 403"
    )
    assert "`workspace-budget-near-limit` was not checked" in warning["message"]
    asked = [r.path for r in governed.emulator.requests() if r.path.endswith("/budgets")]
    assert asked == [budgets]  # once refused, the other workspaces are not asked


def test_a_failing_governance_read_stops_the_audit_without_a_report(
    governed: Governed, run_cli: RunCli
):
    governed.emulator.inject(
        Fault(path="/api/v1/guardrails/assignments/keys", status=500, retry_after=0, times=10)
    )

    run = audit(run_cli, governed)

    assert run.code == 2
    assert run.out == ""
    [line] = run.err.splitlines()
    assert "failed while reading GET /guardrails/assignments/keys: HTTP 500" in line
    assert line.endswith("[api-error]")


def test_a_workspace_named_by_slug_is_not_listed_twice(governed: Governed, run_cli: RunCli):
    audit(run_cli, governed, "--workspace", "agents", "--workspace", governed.ids["agents"])

    listings = [r.query for r in governed.emulator.requests() if r.path == "/api/v1/keys"]
    assert [q.rsplit("workspace_id=", 1)[1] for q in listings] == [
        governed.ids["agents"],
        DEFAULT_WORKSPACE_ID,
    ]
