"""Rendering: one line per diagnostic, tables that hostile names cannot break, redaction last."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from cli import render
from cli.audit import compare
from cli.audit_report import Thresholds
from cli.diagnostics import Diagnostic
from cli.doctor import DoctorReport, KeyFacts, verdict
from cli.stack_outputs import ManagedKey
from providers.http.client import BudgetLayer

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


class Record:
    """A key as the account lists it (the fields the compare reads)."""

    def __init__(self, n: int, name: str, **fields: object) -> None:
        self.hash = f"{n:064x}"
        self.name = name
        self.label = f"sk-or-v1-{n:03x}...{n:03x}"
        self.disabled = False
        self.limit: float | None = None
        self.limit_remaining: float | None = None
        self.limit_reset: str | None = None
        self.usage = 10.0
        self.usage_daily = 1.0
        self.usage_weekly = 2.0
        self.usage_monthly = 5.0
        self.expires_at: datetime | None = None
        self.created_at = NOW - timedelta(days=90)
        self.last_used_at: datetime | None = None
        self.workspace_id: str | None = None
        self.byok_usage = self.byok_usage_daily = 0.0
        self.byok_usage_weekly = self.byok_usage_monthly = 0.0
        for field, value in fields.items():
            setattr(self, field, value)


def streams(*, json_mode: bool = False) -> tuple[render.Output, io.StringIO, io.StringIO]:
    stdout, stderr = io.StringIO(), io.StringIO()
    return render.Output(stdout, stderr, json_mode=json_mode), stdout, stderr


def test_diagnostic_is_one_line_with_fix_and_kind():
    diagnostic = Diagnostic(kind="x-y", message="two\nlines.", hint="do  this.")
    assert render.diagnostic_line(diagnostic) == "error: two lines. Fix: do this. [x-y]"


def test_json_mode_diagnostic_is_one_json_object_per_line_on_stderr():
    out, stdout, stderr = streams(json_mode=True)
    out.diagnostic(Diagnostic(kind="x-y", message="m.", hint="h.", context={"file": "f"}))
    assert stdout.getvalue() == ""
    [line] = stderr.getvalue().splitlines()
    assert json.loads(line) == {
        "diagnostic": {
            "kind": "x-y",
            "severity": "error",
            "message": "m.",
            "context": {"file": "f"},
            "hint": "h.",
        }
    }


def test_a_key_that_slipped_into_a_name_is_redacted_on_the_way_out(sentinel):
    out, stdout, stderr = streams()
    out.result(f"name: {sentinel}\n")
    out.diagnostic(Diagnostic(kind="k", message=f"saw {sentinel}.", hint="h."))
    assert sentinel not in stdout.getvalue()
    assert sentinel not in stderr.getvalue()
    assert "name: " in stdout.getvalue()


def test_hostile_key_names_cannot_break_the_markdown_table():
    hostile = Record(1, "evil | name\n| injected | row |`code`")
    report = compare([], [hostile, Record(2, "plain")], NOW, Thresholds())
    markdown = render.audit_markdown(report)
    table = [line for line in markdown.splitlines() if line.startswith("| `sk-or")]
    assert len(table) == 2
    for row in table:
        # 9 columns: 10 pipes that are not escaped.
        assert row.replace("\\|", "").count("|") == 10
    assert "injected" in table[0] or "injected" in table[1]


def test_markdown_report_has_summary_table_and_findings_in_order():
    gone = ManagedKey("prod", "shop", "f" * 64, "sk-or-v1-fff...fff", "shop", 3, ("gh:a/b:K",))
    near = Record(3, "api", limit=10.0, limit_remaining=1.0, limit_reset="daily")
    near_managed = ManagedKey("dev", "api", near.hash, near.label, "api", 1, ("vercel:p:dev:K",))
    report = compare([gone, near_managed], [near], NOW, Thresholds())
    markdown = render.audit_markdown(report)
    assert markdown.startswith("## OpenRouter key audit\n")
    assert "**2 findings fail the audit.** 1 key in the account (0 disabled)" in markdown
    assert (
        "| `sk-or-v1-003...003` | api | dev/api (gen 1) | vercel:p:dev:K | enabled | "
        "$9.00 of $10.00 daily (90%) | $5.00 | — |"
    ) in markdown
    assert (
        "| `sk-or-v1-fff...fff` | shop | prod/shop (gen 3) | gh:a/b:K | missing | — | — | — |"
        in (markdown)
    )
    findings = markdown.split("### Findings (2)")[1]
    assert findings.index("managed-key-missing") < findings.index("key-near-limit")
    assert "Fix: run `pulumi up --refresh --stack prod`" in findings


def test_report_without_findings_says_so():
    report = compare([], [], NOW, Thresholds())
    markdown = render.audit_markdown(report)
    assert "**No findings.**" in markdown
    assert "### Findings (0)\n\nNone." in markdown


def test_audit_json_is_one_document_with_rows_and_findings():
    idle = Record(4, "idle", usage_monthly=0.0, expires_at=NOW + timedelta(days=3))
    report = compare([], [idle], NOW, Thresholds())
    document = json.loads(json.dumps(render.audit_json(report)))
    assert document["command"] == "audit"
    assert document["summary"] == {
        "keys": 1,
        "disabled": 0,
        "managed": 0,
        "missing": 0,
        "errors": 2,
        "warnings": 1,
    }
    assert [f["kind"] for f in document["findings"]] == [
        "key-expiring",
        "unmanaged-key",
        "key-unused",
    ]
    [row] = document["keys"]
    assert row["expires_at"] == "2026-11-21T09:30:00Z"
    assert row["last_used_at"] is None
    assert row["managed_by"] == []
    assert document["thresholds"]["unused_days"] == 30
    assert document["exit_code"] == 1


def test_the_table_shows_the_day_of_the_last_use_never_or_unknown():
    used = Record(5, "used", last_used_at=NOW - timedelta(days=2, hours=3))
    never = Record(6, "never", usage=0.0, usage_monthly=0.0, created_at=NOW)
    unknown = Record(7, "unknown")
    report = compare([], [used, never, unknown], NOW, Thresholds())
    markdown = render.audit_markdown(report)
    cells = {
        line.split(" | ")[1]: line.split(" | ")[7]
        for line in markdown.splitlines()
        if line.startswith("| `sk-or")
    }
    assert cells == {"used": "2026-11-16", "never": "never", "unknown": "—"}
    assert "unused means not used for 30 days." in markdown
    rows = {row["name"]: row for row in render.audit_json(report)["keys"]}  # type: ignore[union-attr]
    assert rows["used"]["last_used_at"] == "2026-11-16T06:30:00Z"


GUARDRAIL = "6d1c9a2e-3b4f-4c5d-8e9f-0a1b2c3d4e5f"
KEY_LIMIT = BudgetLayer(
    scope="key_limit", limit_usd=50.0, spend_usd=37.7, remaining_usd=12.3,
    reset_interval="monthly", resets_at="2026-12-01T00:00:00Z",
)
WORKSPACE_BUDGET = BudgetLayer(
    scope="workspace", limit_usd=200.0, spend_usd=195.0, remaining_usd=5.0,
    reset_interval="weekly", resets_at="2026-11-23T00:00:00+00:00", budget_id="b-1",
)


def regular_report(**facts: object) -> DoctorReport:
    fields: dict[str, object] = {
        "is_management_key": False,
        "limit": 50.0,
        "limit_remaining": 12.3,
        "limit_reset": "monthly",
        "usage": 137.7,
        "usage_daily": 1.2,
        "usage_weekly": 5.0,
        "usage_monthly": 37.7,
        "expires_at": NOW + timedelta(days=64),
        "budgets": (WORKSPACE_BUDGET, KEY_LIMIT),
        "blocking": WORKSPACE_BUDGET,
    }
    fields.update(facts)
    return verdict(
        label="sk-or-v1-2f4...9c1",
        source="$OPENROUTER_API_KEY",
        api_base_url="https://openrouter.ai/api/v1",
        expected="regular",
        facts=KeyFacts(**fields),  # type: ignore[arg-type]
        rejection=None,
        now=NOW,
    )


def test_doctor_text_for_a_regular_key_shows_limit_usage_budgets_and_expiry():
    report = regular_report()
    assert render.doctor_text(report) == (
        "sk-or-v1-2f4...9c1 (from $OPENROUTER_API_KEY): regular key: calls models; "
        "cannot manage keys\n"
        "  limit:    $50.00, $12.30 remaining, resets monthly\n"
        "  usage:    $137.70 in all, $1.20 today, $5.00 this week, $37.70 this month\n"
        "  budgets:  1. workspace weekly budget: $195.00 of $200.00 used this week, $5.00 left,"
        " resets 2026-11-23T00:00:00Z\n"
        "            2. key limit: $37.70 of $50.00 used this month, $12.30 left, resets"
        " 2026-12-01T00:00:00Z\n"
        "  blocks:   workspace weekly budget, $5.00 left\n"
        "  expires:  2027-01-21T09:30:00Z (in 64 days)\n"
        "  api:      https://openrouter.ai/api/v1\n"
        "  expected: regular key (matches)\n"
    )
    assert report.exit_code == 0
    assert report.findings == ()


def test_doctor_names_a_spent_guardrail_and_when_it_lets_requests_through_again():
    spent = BudgetLayer(
        scope="api_key", limit_usd=10.0, spend_usd=10.5, remaining_usd=-0.5,
        reset_interval=None, resets_at=None, guardrail_id=GUARDRAIL,
    )
    text = render.doctor_text(regular_report(budgets=(spent, KEY_LIMIT), blocking=spent))
    assert (
        f"  budgets:  1. key guardrail {GUARDRAIL}: $10.50 of $10.00 used in all, spent,"
        " never resets\n"
    ) in text
    assert (
        f"  blocks:   key guardrail {GUARDRAIL} is spent: requests are refused (403) until its"
        " limit is raised\n"
    ) in text


def test_doctor_says_when_nothing_caps_a_key_and_when_the_api_did_not_say():
    none = render.doctor_text(regular_report(budgets=(), blocking=None))
    unknown = render.doctor_text(regular_report(budgets=None, blocking=None))
    assert "  budgets:  none: no guardrail, workspace budget or limit caps this key\n" in none
    assert "  budgets:  not reported by the API\n" in unknown
    assert "blocks:" not in none + unknown


def test_an_unknown_scope_is_shown_as_the_api_spells_it():
    later = BudgetLayer(scope="organization", limit_usd=9.0, spend_usd=1.0, remaining_usd=8.0)
    assert render.budget_text(later) == (
        "organization: $1.00 of $9.00 used in all, $8.00 left, never resets"
    )


def test_doctor_json_carries_the_layers_and_the_one_that_blocks():
    document = json.loads(json.dumps(render.doctor_json(regular_report())))
    assert [layer["scope"] for layer in document["budgets"]] == ["workspace", "key_limit"]
    assert document["effective_budget"] == {
        "scope": "workspace",
        "limit_usd": 200.0,
        "spend_usd": 195.0,
        "remaining_usd": 5.0,
        "reset_interval": "weekly",
        "resets_at": "2026-11-23T00:00:00Z",
        "include_byok": False,
        "guardrail_id": None,
        "budget_id": "b-1",
    }
    unknown = render.doctor_json(regular_report(budgets=None, blocking=None))
    assert (unknown["budgets"], unknown["effective_budget"]) == (None, None)


def test_doctor_rejected_key_without_expect_exits_one_with_key_invalid():
    report = verdict(
        label="sk-or-v1-2f4...9c1",
        source="standard input",
        api_base_url="https://openrouter.ai/api/v1",
        expected=None,
        facts=None,
        rejection="HTTP 401: User not found",
        now=NOW,
    )
    assert report.key_type == "invalid"
    assert report.exit_code == 1
    assert [f.kind for f in report.findings] == ["key-invalid"]
    assert "  api said: HTTP 401: User not found\n" in render.doctor_text(report)
