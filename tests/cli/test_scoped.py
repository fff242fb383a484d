"""`scoped.judge` is pure: each BYOK / observability finding from exactly the state raising it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from test_compare import NOW, Observed, key, managed

from cli import render, scoped
from cli.audit import compare
from cli.audit_report import AuditReport, Thresholds
from cli.governance import SCOPED_KINDS, AccountGovernance, ScopedFacts, WorkspaceFacts
from cli.governance import judge as judge_governance
from cli.stack_outputs import ManagedGovernance, ManagedKey
from topology.governance_output import DeployedGovernance

AGENTS = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
CREDENTIAL = "5c0a7e1d-2b3c-4d5e-8f9a-0b1c2d3e4f5a"
DESTINATION = "7e6d5c4b-3a2f-4e1d-9c8b-7a6f5e4d3c2b"
ALL_SCOPED = frozenset(kind.section for kind in SCOPED_KINDS)
GONE = f"{0xDEAD:064x}"
ROOT = Path(__file__).resolve().parents[2]


def credential(**fields: object) -> ScopedFacts:
    base = ScopedFacts(
        section="byok",
        noun="BYOK credential",
        id=CREDENTIAL,
        name="OpenAI production",
        what="openai",
        workspace_id=AGENTS,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def destination(**fields: object) -> ScopedFacts:
    base = ScopedFacts(
        section="observability",
        noun="observability destination",
        id=DESTINATION,
        name="Langfuse",
        what="langfuse",
        workspace_id=AGENTS,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def account(*objects: ScopedFacts, read: frozenset[str] = ALL_SCOPED) -> AccountGovernance:
    agents = WorkspaceFacts(id=AGENTS, name="Agents", slug="agents")
    return AccountGovernance(workspaces=(agents,), scoped=objects, scoped_read=read)


def stack(**sections: dict[str, object]) -> ManagedGovernance:
    return ManagedGovernance("prod", DeployedGovernance.model_validate(sections))


MANAGED_CREDENTIAL = stack(
    byok={"openai-prod": {"id": CREDENTIAL, "name": "OpenAI production", "keys": ["key-1"]}}
)


def run(
    keys: list[Observed],
    governance: AccountGovernance,
    stacks: tuple[ManagedGovernance, ...] = (),
    owned: list[ManagedKey] | None = None,
) -> AuditReport:
    entries = [managed(k) for k in keys] if owned is None else owned
    report = compare(entries, keys, NOW, Thresholds())
    return scoped.judge(judge_governance(report, governance, stacks), governance, stacks)


def only(report: AuditReport, kind: str) -> list[str]:
    return [f.message for f in report.findings if f.kind == kind]


# --- unmanaged-byok-credential, unmanaged-observability-destination ----------------------------


def test_a_credential_no_stack_records_is_a_warning_naming_it_and_how_to_adopt_it():
    report = run([key(1, last_used_at=NOW)], account(credential()))
    [finding] = report.findings
    assert finding.kind == "unmanaged-byok-credential"
    assert finding.severity == "warning"
    assert finding.message == (
        f"BYOK credential OpenAI production (openai, {CREDENTIAL}) in workspace Agents (agents) "
        "is in the account but no stack manages it; every key of the account may use it."
    )
    assert f"`adopt: {CREDENTIAL}` under `openrouter-keys:byok`" in finding.hint
    assert "https://openrouter.ai/settings" in finding.hint
    assert report.exit_code == 0


def test_a_destination_no_stack_records_is_its_own_kind_and_counts_its_keys():
    one = key(1, last_used_at=NOW)
    report = run([one], account(destination(key_hashes=(one.hash,))))
    assert only(report, "unmanaged-observability-destination") == [
        f"observability destination Langfuse (langfuse, {DESTINATION}) in workspace Agents "
        "(agents) is in the account but no stack manages it; it is restricted to 1 key."
    ]
    assert "`openrouter-keys:observability`" in report.findings[0].hint


def test_an_object_a_stack_records_is_not_unmanaged_and_shows_its_entry():
    report = run([key(1, last_used_at=NOW)], account(credential()), (MANAGED_CREDENTIAL,))
    assert report.findings == ()
    [row] = report.scoped
    assert scoped.entries_text(row) == "prod/byok.openai-prod"
    # The same id under another kind's section manages nothing here.
    other = stack(observability={"x": {"id": CREDENTIAL, "name": "x"}})
    assert only(run([key(1, last_used_at=NOW)], account(credential()), (other,)),
                "unmanaged-byok-credential")


def test_a_kind_that_could_not_be_read_is_not_judged_and_the_warning_says_so():
    unread = replace(
        account(credential(), destination(key_hashes=(GONE,)), read=frozenset({"byok"})),
        unreadable=('GET /observability/destinations answered HTTP 403 "Forbidden"',),
    )
    report = run([key(1, last_used_at=NOW)], unread)
    assert [f.kind for f in report.findings] == [
        "unmanaged-byok-credential",
        "governance-unreadable",
    ]
    assert [row.facts.section for row in report.scoped] == ["byok"]
    assert report.findings[-1].context["not_checked"].endswith(
        "unmanaged-observability-destination, scoped-to-deleted-key"
    )


# --- scoped-to-deleted-key ---------------------------------------------------------------------


def test_a_managed_credential_restricted_only_to_deleted_keys_fails_naming_its_setting():
    report = run(
        [key(1, last_used_at=NOW)],
        account(credential(key_hashes=(GONE,))),
        (MANAGED_CREDENTIAL,),
    )
    [finding] = report.findings
    assert finding.kind == "scoped-to-deleted-key"
    assert finding.severity == "error"
    assert finding.message == (
        f"BYOK credential OpenAI production (openai, {CREDENTIAL}) in workspace Agents (agents) "
        f"is restricted to 1 key that no longer exists ({GONE[:12]}...); OpenRouter uses it for "
        "no key."
    )
    assert finding.hint == (
        "run `pulumi up --refresh --stack prod`: it restricts it again to the live generations "
        "of the keys listed in `openrouter-keys:byok.openai-prod.keys` (stacks/Pulumi.prod.yaml)."
    )
    assert finding.context["deleted_hashes"] == GONE
    assert report.exit_code == 1


def test_some_deleted_keys_are_a_warning_that_the_rest_still_use_it():
    live = [key(1, last_used_at=NOW), key(2, last_used_at=NOW)]
    facts = destination(key_hashes=(live[0].hash, GONE, live[1].hash))
    report = run(live, account(facts), (stack(observability={"lf": {"id": DESTINATION,
                                                                     "name": "Langfuse"}}),))
    [finding] = report.findings
    assert (finding.kind, finding.severity) == ("scoped-to-deleted-key", "warning")
    assert finding.message.endswith(
        f"is restricted to 1 key that no longer exists ({GONE[:12]}...); it serves only the "
        "other 2 keys."
    )
    [row] = report.scoped
    assert row.keys == (
        "sk-or-v1-001...001 (prod/key-1)",
        f"deleted {GONE[:12]}...",
        "sk-or-v1-002...002 (prod/key-2)",
    )


def test_a_deleted_key_a_stack_still_records_is_named_by_its_stack_and_id():
    present, missing = key(1, last_used_at=NOW), key(2)
    owned = [managed(present), managed(missing)]
    facts = credential(key_hashes=(missing.hash,))
    report = run([present], account(facts), (MANAGED_CREDENTIAL,), owned=owned)
    [message] = only(report, "scoped-to-deleted-key")
    assert f"({missing.hash[:12]}... (prod/key-2))" in message
    assert only(report, "managed-key-missing")  # and the key itself, as before


def test_an_unmanaged_object_restricted_to_deleted_keys_is_told_to_fix_it_in_the_dashboard():
    report = run([key(1, last_used_at=NOW)], account(credential(key_hashes=(GONE, "f" * 64))))
    [finding] = [f for f in report.findings if f.kind == "scoped-to-deleted-key"]
    assert "is restricted to 2 keys that no longer exist" in finding.message
    assert finding.hint.startswith(
        "remove the deleted keys from its restriction in the dashboard "
        "(https://openrouter.ai/settings), or adopt it into a stack"
    )
    assert only(report, "unmanaged-byok-credential")


def test_an_unrestricted_object_serves_every_key_and_names_no_deleted_one():
    report = run([key(1, last_used_at=NOW)], account(credential()), (MANAGED_CREDENTIAL,))
    [row] = report.scoped
    assert (row.keys, row.deleted) == ((), ())
    assert only(report, "scoped-to-deleted-key") == []


# --- what is read, and shown -------------------------------------------------------------------


def test_the_facts_keep_names_ids_and_hashes_and_never_the_masked_secrets():
    record = {
        "id": CREDENTIAL,
        "name": "OpenAI production",
        "provider": "openai",
        "label": "sk-...AbCd",
        "workspace_id": None,
        "allowed_api_key_hashes": [GONE],
        "config": {"secretKey": "********"},
    }
    [byok, observability] = SCOPED_KINDS
    facts = ScopedFacts.of(byok, "BYOK credential", record)
    assert facts == credential(workspace_id=None, key_hashes=(GONE,))
    assert "AbCd" not in repr(facts)
    as_destination = ScopedFacts.of(observability, "observability destination", record)
    assert (as_destination.what, as_destination.key_hashes) == ("", None)


def test_the_report_lists_each_object_in_markdown_and_json():
    one = key(1, last_used_at=NOW)
    objects = (
        credential(key_hashes=(one.hash, GONE), workspace_id=None),
        destination(name="", workspace_id="elsewhere"),
    )
    report = run([one], account(*objects), (MANAGED_CREDENTIAL,))
    markdown = render.audit_markdown(report)
    assert (
        f"| BYOK credential | OpenAI production | `{CREDENTIAL}` | openai | global | "
        f"prod/byok.openai-prod | sk-or-v1-001...001 (prod/key-1), deleted {GONE[:12]}... |"
    ) in markdown
    assert (
        f"| observability destination | — | `{DESTINATION}` | langfuse | elsewhere | "
        "— (unmanaged) | every key |"
    ) in markdown
    document = render.audit_json(report)
    assert document["byok"] == [
        {
            "id": CREDENTIAL,
            "name": "OpenAI production",
            "provider": "openai",
            "workspace_id": None,
            "managed_by": [{"stack": "prod", "entry": "byok.openai-prod"}],
            "key_hashes": [one.hash, GONE],
            "deleted_key_hashes": [GONE],
        }
    ]
    [shown] = document["observability"]  # type: ignore[misc]
    assert (shown["type"], shown["managed_by"], shown["key_hashes"]) == ("langfuse", [], None)


def test_without_scoped_objects_the_report_has_no_such_table():
    report = run([key(1, last_used_at=NOW)], account())
    assert "BYOK credentials and observability destinations" not in render.audit_markdown(report)
    document = render.audit_json(report)
    assert (document["byok"], document["observability"]) == ([], [])


# --- one kind per section of the stack file ----------------------------------------------------


def test_every_scoped_kind_of_the_stack_file_is_audited_through_its_providers_api():
    from topology.scoped import KINDS  # noqa: PLC0415 - it loads the Pulumi SDK

    sections = [kind.section for kind in SCOPED_KINDS]
    assert sections == [kind.setting for kind in KINDS]
    assert [kind.api().noun for kind in SCOPED_KINDS] == [kind.what for kind in KINDS]
    for kind in SCOPED_KINDS:
        fields = kind.api().record.model_fields
        assert {kind.what, kind.hashes} <= set(fields), kind.section


def test_the_cli_loads_the_pulumi_sdk_only_when_the_audit_reads_scoped_objects():
    code = (
        "import sys, cli.__main__;"
        " print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
