"""`governance.judge` is pure: each finding from exactly the account state that should raise it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_compare import NOW, Observed, key, managed

from cli.audit import compare
from cli.audit_report import AuditReport, Thresholds
from cli.governance import (
    SCOPED_KINDS,
    AccountGovernance,
    GuardrailFacts,
    WorkspaceFacts,
    judge,
)
from cli.stack_outputs import ManagedGovernance, ManagedKey
from topology.governance_output import DeployedGovernance

AGENTS = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
AGENTS_DEFAULT = "0b7e4f1c-2d3a-5b6c-8d9e-1f2a3b4c5d6e"
CAP = "6d1c9a2e-3b4f-4c5d-8e9f-0a1b2c3d4e5f"
STRAY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
ALL_SCOPED = frozenset(kind.section for kind in SCOPED_KINDS)


def workspace(**fields: object) -> WorkspaceFacts:
    base = WorkspaceFacts(
        id=AGENTS, name="Agents", slug="agents", default_guardrail_id=AGENTS_DEFAULT
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def account(**fields: object) -> AccountGovernance:
    base = AccountGovernance(
        workspaces=(workspace(),), guardrails_read=True, budgets_read=True
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def stack(guardrails: dict[str, object] | None = None, **workspaces: object) -> ManagedGovernance:
    return ManagedGovernance(
        "prod",
        DeployedGovernance.model_validate(
            {"guardrails": guardrails or {}, "workspaces": workspaces}
        ),
    )


def in_agents(n: int, **fields: object) -> Observed:
    return key(n, workspace_id=AGENTS, last_used_at=NOW, **fields)


def run(
    keys: list[Observed],
    governance: AccountGovernance,
    stacks: tuple[ManagedGovernance, ...] = (),
    owned: list[ManagedKey] | None = None,
    thresholds: Thresholds | None = None,
) -> AuditReport:
    entries = [managed(k) for k in keys] if owned is None else owned
    report = compare(entries, keys, NOW, thresholds or Thresholds())
    return judge(report, governance, stacks)


def findings(report: AuditReport, kind: str) -> list[str]:
    return [f.message for f in report.findings if f.kind == kind]


# --- key-without-guardrail ---------------------------------------------------------------------


def test_managed_keys_with_no_guardrail_and_no_default_are_one_warning_per_workspace():
    keys = [in_agents(1), in_agents(2)]
    report = run(keys, account())
    [finding] = [f for f in report.findings if f.kind == "key-without-guardrail"]
    assert finding.severity == "warning"
    assert finding.message == (
        "2 managed keys in workspace Agents (agents) hold no guardrail, and the workspace's "
        "default guardrail is not configured: prod/key-1, prod/key-2 run with no restriction "
        "but their own limit."
    )
    assert "`openrouter-keys:keys.<id>.guardrail`" in finding.hint
    assert "an entry under `workspaces` with `adopt: agents` and a `defaultGuardrail`" in (
        finding.hint
    )
    assert finding.context["hashes"] == f"{keys[0].hash}, {keys[1].hash}"
    assert report.exit_code == 0


def test_a_key_holding_a_guardrail_or_a_configured_default_is_covered():
    keys = [in_agents(1), in_agents(2)]
    assigned = account(assignments={keys[0].hash: CAP}, guardrails=(GuardrailFacts(CAP, "cap"),))
    assert findings(run(keys, assigned), "key-without-guardrail") == [
        "1 managed key in workspace Agents (agents) holds no guardrail, and the workspace's "
        "default guardrail is not configured: prod/key-2 runs with no restriction but its own "
        "limit."
    ]
    configured = account(guardrails=(GuardrailFacts(AGENTS_DEFAULT, "Workspace Default"),))
    assert findings(run(keys, configured), "key-without-guardrail") == []


def test_unmanaged_disabled_and_other_workspace_keys_are_not_named_again():
    mine = in_agents(1)
    theirs = in_agents(2, name="by-hand")
    off = in_agents(3, disabled=True)
    elsewhere = key(4, last_used_at=NOW, workspace_id="another")
    report = run([mine, theirs, off, elsewhere], account(), owned=[managed(mine), managed(off),
                                                                  managed(elsewhere)])
    [message] = findings(report, "key-without-guardrail")
    assert "prod/key-1 runs" in message
    assert "by-hand" not in message
    assert findings(report, "unmanaged-key")  # theirs, reported once, as before


def test_a_workspace_the_stack_manages_names_its_default_guardrail_setting():
    keys = [in_agents(1)]
    stacks = (stack(agents={"id": AGENTS, "slug": "agents"}),)
    [finding] = [f for f in run(keys, account(), stacks).findings if f.kind.startswith("key-w")]
    assert "`openrouter-keys:workspaces.agents.defaultGuardrail`" in finding.hint
    assert "in stacks/Pulumi.prod.yaml" in finding.hint
    assert "`pulumi up --refresh --stack prod`" in finding.hint


def test_a_key_whose_stack_declares_a_guardrail_it_lost_is_told_the_update_restores_it():
    lost = in_agents(1)
    entry = replace(managed(lost), guardrail="cap")
    [finding] = [
        f for f in run([lost], account(), owned=[entry]).findings
        if f.kind == "key-without-guardrail"
    ]
    assert finding.hint.endswith(
        "prod/key-1 declares a guardrail in the stack file but holds none: the update assigns "
        "it again."
    )


def test_many_keys_are_named_up_to_five_with_the_rest_counted():
    keys = [in_agents(n) for n in range(1, 9)]
    [message] = findings(run(keys, account()), "key-without-guardrail")
    assert "prod/key-1, prod/key-2, prod/key-3, prod/key-4, prod/key-5 and 3 more run" in message


# --- unmanaged-guardrail -----------------------------------------------------------------------


def test_a_guardrail_no_stack_manages_is_a_warning_with_the_adopt_fix():
    keys = [in_agents(1)]
    governance = account(
        guardrails=(
            GuardrailFacts(CAP, "cap", AGENTS),
            GuardrailFacts(STRAY, "stray", AGENTS),
            GuardrailFacts(AGENTS_DEFAULT, "Workspace Default", AGENTS),
        ),
        assignments={keys[0].hash: STRAY},
    )
    report = run(keys, governance, (stack({"cap": {"id": CAP, "name": "cap"}}),))
    [finding] = [f for f in report.findings if f.kind == "unmanaged-guardrail"]
    assert finding.severity == "warning"
    assert finding.message == (
        f"guardrail stray ({STRAY}) in workspace Agents (agents) is in the account but no stack "
        "manages it; 1 key holds it."
    )
    assert f"`adopt: {STRAY}`" in finding.hint
    assert "`openrouter-keys:guardrails.<id>.adopt`" in finding.hint
    assert finding.context["guardrail_id"] == STRAY


def test_a_default_guardrail_a_stack_configures_counts_as_managed():
    governance = account(guardrails=(GuardrailFacts(STRAY, "configured by a stack"),))
    stacks = (stack(agents={"id": AGENTS, "slug": "agents", "defaultGuardrail": STRAY}),)
    assert findings(run([], governance, stacks), "unmanaged-guardrail") == []


# --- guardrail-near-limit ----------------------------------------------------------------------


def capped(**fields: object) -> GuardrailFacts:
    base = GuardrailFacts(CAP, "ci-cheap", AGENTS, limit_usd=20.0, reset_interval="monthly")
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("guardrail", "spend", "expected"),
    [
        (capped(), {"usage_monthly": 15.9}, None),
        (capped(), {"usage_monthly": 16.0}, "80% of the cap of guardrail ci-cheap this month "
                                             "($16.00 of $20.00, counted for this key alone)"),
        (capped(reset_interval="daily", limit_usd=2.0), {"usage_daily": 1.9, "usage_monthly": 1},
         "95% of the cap of guardrail ci-cheap this day ($1.90 of $2.00"),
        (capped(reset_interval=None, limit_usd=10.0), {"usage": 9.0, "usage_monthly": 0.0},
         "90% of the cap of guardrail ci-cheap ($9.00 of $10.00"),
        (capped(), {"usage_monthly": 10.0, "byok_usage_monthly": 9.0}, None),
        (capped(include_byok=True), {"usage_monthly": 10.0, "byok_usage_monthly": 9.0},
         "95% of the cap of guardrail ci-cheap this month ($19.00 of $20.00, counted for this key "
         "alone, BYOK included)"),
    ],
)
def test_a_guardrail_cap_counts_the_keys_own_spend_in_the_guardrails_window(
    guardrail: GuardrailFacts, spend: dict[str, float], expected: str | None
):
    spender = in_agents(1, **spend)
    governance = account(guardrails=(guardrail,), assignments={spender.hash: CAP})
    messages = findings(run([spender], governance), "guardrail-near-limit")
    if expected is None:
        assert messages == []
    else:
        [message] = messages
        assert expected in message
        assert message.startswith(f"{spender.label} (key-1) has spent ")


def test_each_key_of_a_shared_guardrail_is_judged_alone_and_fails_like_a_key_limit():
    big, small = in_agents(1, usage_monthly=17.0), in_agents(2, usage_monthly=5.0)
    governance = account(
        guardrails=(capped(),), assignments={big.hash: CAP, small.hash: CAP}
    )
    stacks = (stack({"ci-cheap": {"id": CAP, "name": "ci-cheap"}}),)
    report = run([big, small], governance, stacks)
    [finding] = [f for f in report.findings if f.kind == "guardrail-near-limit"]
    assert finding.severity == "error"
    assert finding.context["hash"] == big.hash
    assert finding.context["guardrail_id"] == CAP
    assert finding.hint.startswith(
        "raise `limitUsd` of `openrouter-keys:guardrails.ci-cheap` in stacks/Pulumi.prod.yaml and "
        "run `pulumi up --refresh --stack prod`, or find out what is spending it"
    )
    assert report.exit_code == 1
    assert {row.hash: row.guardrail_id for row in report.rows} == {big.hash: CAP, small.hash: CAP}


def test_the_threshold_is_the_one_of_key_limits():
    spender = in_agents(1, usage_monthly=17.0)
    governance = account(guardrails=(capped(),), assignments={spender.hash: CAP})
    strict = run([spender], governance, thresholds=Thresholds(limit_percent=90.0))
    assert findings(strict, "guardrail-near-limit") == []


def test_a_key_without_its_own_guardrail_is_held_to_its_workspaces_default_cap():
    spender = in_agents(1, usage_monthly=19.0)
    default = capped(id=AGENTS_DEFAULT, name="Workspace Default")
    stacks = (stack(agents={"id": AGENTS, "slug": "agents", "defaultGuardrail": AGENTS_DEFAULT}),)
    report = run([spender], account(guardrails=(default,)), stacks)
    [finding] = [f for f in report.findings if f.kind == "guardrail-near-limit"]
    assert "95% of the cap of the default guardrail of workspace Agents (agents) this month" in (
        finding.message
    )
    assert "`openrouter-keys:workspaces.agents.defaultGuardrail`" in finding.hint


def test_disabled_and_expired_keys_are_not_judged_against_a_cap():
    off = in_agents(1, usage_monthly=19.0, disabled=True)
    gone = in_agents(2, usage_monthly=19.0, expires_at="2026-11-01T00:00:00Z")
    governance = account(guardrails=(capped(),), assignments={off.hash: CAP, gone.hash: CAP})
    assert findings(run([off, gone], governance), "guardrail-near-limit") == []


# --- workspace-budget-near-limit ---------------------------------------------------------------


def test_a_workspace_budget_sums_every_key_of_the_workspace_disabled_ones_included():
    keys = [
        in_agents(1, usage_weekly=30.0),
        in_agents(2, usage_weekly=40.0, disabled=True),
        in_agents(3, name="by-hand", usage_weekly=10.0),
        key(4, usage_weekly=500.0, workspace_id="another"),
    ]
    governance = account(workspaces=(workspace(budgets={"weekly": 100.0, "monthly": 1000.0}),))
    report = run(keys, governance)
    [finding] = [f for f in report.findings if f.kind == "workspace-budget-near-limit"]
    assert finding.severity == "error"
    assert finding.message == (
        "workspace Agents (agents) has spent 80% of its weekly budget this week ($80.00 of "
        "$100.00, summed over its 3 keys), at or above 80%."
    )
    assert finding.context["interval"] == "weekly"
    assert "raise it in the dashboard" in finding.hint


def test_lifetime_budgets_count_all_usage_and_byok_when_the_workspace_includes_it():
    keys = [in_agents(1, usage=50.0, byok_usage=40.0)]
    without = account(workspaces=(workspace(budgets={"lifetime": 100.0}),))
    assert findings(run(keys, without), "workspace-budget-near-limit") == []
    counted = account(workspaces=(workspace(budgets={"lifetime": 100.0}, include_byok=True),))
    [message] = findings(run(keys, counted), "workspace-budget-near-limit")
    assert (
        "90% of its lifetime budget ($90.00 of $100.00, summed over its 1 key, BYOK included)"
        in message
    )


def test_a_managed_workspace_names_its_budget_setting():
    keys = [in_agents(1, usage_daily=9.0)]
    governance = account(workspaces=(workspace(budgets={"daily": 10.0}),))
    stacks = (stack(agents={"id": AGENTS, "slug": "agents"}),)
    [finding] = [
        f for f in run(keys, governance, stacks).findings
        if f.kind == "workspace-budget-near-limit"
    ]
    assert finding.hint.startswith(
        "raise `budgets.daily` of `openrouter-keys:workspaces.agents` in stacks/Pulumi.prod.yaml"
    )


# --- what could not be read --------------------------------------------------------------------


def test_what_could_not_be_read_is_said_once_and_its_checks_are_skipped():
    keys = [in_agents(1, usage_weekly=99.0)]
    governance = AccountGovernance(
        workspaces=(workspace(budgets={"weekly": 100.0}),),
        guardrails_read=True,
        budgets_read=False,
        scoped_read=ALL_SCOPED,
        unreadable=('GET /workspaces/x/budgets answered HTTP 403 "Enterprise only"',),
    )
    report = run(keys, governance)
    [finding] = [f for f in report.findings if f.kind == "governance-unreadable"]
    assert finding.severity == "warning"
    assert finding.message == (
        "guardrails, workspaces, budgets, BYOK credentials or observability destinations could "
        "not be read (GET /workspaces/x/budgets answered "
        'HTTP 403 "Enterprise only"), so `workspace-budget-near-limit` was not checked; the keys '
        "were audited as usual."
    )
    assert findings(report, "workspace-budget-near-limit") == []
    assert findings(report, "key-without-guardrail")  # the guardrails were read


def test_an_account_without_governance_is_judged_on_its_keys_alone():
    keys = [in_agents(1)]
    before = compare([managed(k) for k in keys], keys, NOW, Thresholds())
    unread = AccountGovernance(unreadable=('GET /workspaces answered HTTP 404 "Not Found"',))
    after = judge(before, unread, ())
    assert [f.kind for f in after.findings] == [*(f.kind for f in before.findings),
                                               "governance-unreadable"]
    assert "`key-without-guardrail`, `unmanaged-guardrail`, `guardrail-near-limit`, " in (
        after.findings[-1].message
    )
    assert after.rows == before.rows
