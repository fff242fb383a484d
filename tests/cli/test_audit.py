"""`python -m cli audit`, in process against a realistic account in the emulator."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_harness import FILLER_KEYS, Account, Run, RunCli, management_client

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from providers.http.client import PAGE_SIZE
from tests.support.sentinel import assert_absent

EXPECTED_FINDINGS = [
    ("error", "managed-key-missing", "prod-gone"),
    ("error", "managed-key-disabled", "prod-old"),
    ("error", "key-expiring", "prod-batch"),
    ("error", "key-near-limit", "dev-worker"),
    ("error", "unmanaged-key", "hand-made"),
    ("error", "unmanaged-key", "left-over"),
    ("warning", "key-without-guardrail", "default"),
    ("warning", "key-unused", "left-over"),
    ("warning", "key-unused", "prod-cron"),
]


@pytest.fixture
def audit_env(account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", account.management_key)
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", account.emulator.api_base_url)
    return account


def audit(run_cli: RunCli, account: Account, *extra: str) -> Run:
    return run_cli("audit", *account.outputs_args(), *extra)


def only_reads(emulator: Emulator) -> list[tuple[str, str]]:
    requests = [(r.method, r.path) for r in emulator.requests()]
    assert {method for method, _ in requests} == {"GET"}, requests
    return requests


def test_audit_of_the_account_reports_every_finding_and_fails(audit_env: Account, run_cli: RunCli):
    run = audit(run_cli, audit_env)

    assert run.code == 1
    assert run.err == ""
    findings = run.out.split("### Findings (9)\n\n")[1].splitlines()
    pairs = [line for line in findings if line.startswith("- **")]
    assert len(pairs) == len(EXPECTED_FINDINGS)
    for line, (severity, kind, name) in zip(pairs, EXPECTED_FINDINGS, strict=True):
        assert line.startswith(f"- **{severity}** `{kind}`: "), line
        assert f"({name})" in line or f"/{name.split('-', 1)[-1]})" in line, line
    assert "**6 findings fail the audit, 3 warnings.** 112 keys in the account (1 disabled)" in (
        run.out
    )


def test_the_where_each_key_lives_table_has_one_masked_row_per_key(
    audit_env: Account, run_cli: RunCli
):
    run = audit(run_cli, audit_env)

    table = run.out.split("### Where each key lives\n\n")[1].split("\n\n")[0].splitlines()
    header, rule, *rows = table
    assert header == (
        "| Key | Name | Stack / id | Consumers | Status | Limit used | This month | Last used "
        "| Expires |"
    )
    assert rule == "|---|---|---|---|---|---|---|---|---|"
    assert len(rows) == 9 + FILLER_KEYS  # every key in the account, plus the missing one
    by_name = {row.split(" | ")[1]: row for row in rows}
    label = audit_env.label
    assert by_name["dev-worker"] == (
        f"| `{label('dev-worker')}` | dev-worker | dev/worker (gen 1) | "
        "github:acme/dev-worker:OPENROUTER_API_KEY | enabled | $9.00 of $10.00 (90%) | $9.00 | "
        f"{audit_env.last_used_day('dev-worker')} | — |"
    )
    assert by_name["hand-made"].startswith(
        f"| `{label('hand-made')}` | hand-made | — (unmanaged) |"
    )
    assert " | missing | " in by_name["prod-gone"]
    assert " | disabled | " in by_name["prod-old"]
    assert by_name["prod-web"].startswith(f"| `{label('prod-web')}` | prod-web | prod/web (gen 1)")


def test_audit_makes_only_get_requests_and_lists_past_the_first_page(
    audit_env: Account, run_cli: RunCli
):
    audit(run_cli, audit_env)

    requests = only_reads(audit_env.emulator)
    default = DEFAULT_WORKSPACE_ID
    [workspace] = audit_env.emulator.workspaces()
    assert requests == [
        ("GET", "/api/v1/key"),
        ("GET", "/api/v1/workspaces"),
        ("GET", "/api/v1/byok"),
        ("GET", "/api/v1/observability/destinations"),
        ("GET", "/api/v1/keys"),
        ("GET", "/api/v1/keys"),
        ("GET", f"/api/v1/keys/{audit_env.hashes['prod-gone']}"),
        ("GET", "/api/v1/guardrails/assignments/keys"),
        ("GET", "/api/v1/guardrails"),
        # Keys without a guardrail of their own, and the listing did not show the default one.
        ("GET", f"/api/v1/guardrails/{workspace['default_guardrail_id']}"),
        ("GET", f"/api/v1/workspaces/{default}/budgets"),
    ]
    queries = [r.query for r in audit_env.emulator.requests() if r.path == "/api/v1/keys"]
    assert all("include_disabled=true" in q for q in queries)
    assert all(f"workspace_id={default}" in q for q in queries)
    assert any(f"offset={PAGE_SIZE}" in q for q in queries)


def test_no_key_secret_reaches_stdout_stderr_or_the_summary(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    text = audit(run_cli, audit_env)
    as_json = audit(run_cli, audit_env, "--json")

    for secret in audit_env.secrets:
        assert_absent(secret, text.out, text.err, as_json.out, as_json.err, summary)


def test_json_is_one_document_with_every_key_and_finding(audit_env: Account, run_cli: RunCli):
    run = audit(run_cli, audit_env, "--json")

    assert run.code == 1
    document = run.json()
    assert isinstance(document, dict)
    assert document["command"] == "audit"
    assert document["stacks"] == ["dev", "prod"]
    assert document["summary"] == {
        "keys": 8 + FILLER_KEYS,
        "disabled": 1,
        "managed": 7 + FILLER_KEYS,
        "missing": 1,
        "errors": 6,
        "warnings": 3,
    }
    names = {row["hash"]: row["name"] for row in document["keys"]}
    about = [
        names.get(f["context"].get("hash"), f["context"].get("workspace"))
        for f in document["findings"]
    ]
    assert [
        (f["severity"], f["kind"], name)
        for f, name in zip(document["findings"], about, strict=True)
    ] == EXPECTED_FINDINGS
    [bare] = [f for f in document["findings"] if f["kind"] == "key-without-guardrail"]
    assert len(bare["context"]["hashes"].split(", ")) == 7 + FILLER_KEYS - 2  # disabled, gone
    assert {row["workspace_id"] for row in document["keys"] if row["status"] != "missing"} == {
        DEFAULT_WORKSPACE_ID
    }
    assert {row["guardrail_id"] for row in document["keys"]} == {None}
    assert document["thresholds"] == {
        "expiring_days": 14,
        "limit_percent": 80.0,
        "fail_on_unused": False,
        "unused_days": 30,
    }
    assert document["exit_code"] == 1


def test_markdown_is_appended_to_the_github_step_summary(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    summary = tmp_path / "summary.md"
    summary.write_text("## An earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    run = audit(run_cli, audit_env, "--json")

    written = summary.read_text()
    assert written.startswith("## An earlier step\n## OpenRouter key audit\n")
    assert "### Where each key lives" in written
    assert "`managed-key-missing`" in written
    assert run.json()  # stdout stays the one JSON document


def test_unwritable_summary_is_a_warning_and_keeps_the_exit_status(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a directory: cannot append

    run = audit(run_cli, audit_env)

    assert run.code == 1
    assert run.err.startswith("warning: could not append the report to $GITHUB_STEP_SUMMARY")
    assert run.err.rstrip().endswith("[summary-not-written]")


def test_thresholds_move_what_counts_as_expiring_near_limit_and_unused(
    audit_env: Account, run_cli: RunCli
):
    run = audit(
        run_cli,
        audit_env,
        "--json",
        "--expiring-days",
        "3",
        "--limit-percent",
        "95",
        "--fail-on-unused",
    )
    findings = {(f["severity"], f["kind"]) for f in run.json()["findings"]}  # type: ignore[index]
    assert ("error", "key-expiring") not in findings
    assert ("error", "key-near-limit") not in findings
    assert ("error", "key-unused") in findings


def test_unused_days_moves_what_counts_as_unused_by_the_last_use(
    audit_env: Account, run_cli: RunCli
):
    def unused(*extra: str) -> list[str]:
        run = audit(run_cli, audit_env, "--json", *extra)
        document = run.json()
        assert isinstance(document, dict)
        names = {row["hash"]: row["name"] for row in document["keys"]}
        findings = document["findings"]
        return [names[f["context"]["hash"]] for f in findings if f["kind"] == "key-unused"]

    assert unused() == ["left-over", "prod-cron"]
    assert unused("--unused-days", "60") == ["left-over"]
    assert unused("--unused-days", "5") == ["hand-made", "left-over", "prod-cron"]


def test_a_key_never_used_is_unused_once_it_is_older_than_the_threshold(
    emulator: Emulator, management_key: str, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    now = datetime.now(UTC)
    spare = emulator.seed_key("spare", created_at=now - timedelta(days=40))
    emulator.seed_key("fresh", created_at=now - timedelta(hours=3))
    outputs = tmp_path / "prod.json"
    outputs.write_text(json.dumps({"keys": {}}))
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)

    run = run_cli("audit", "--outputs", str(outputs))

    unused = [line for line in run.out.splitlines() if "`key-unused`" in line]
    assert len(unused) == 1
    assert f"{emulator.key(spare.hash)['label']} (spare) has never been used since it was made" in (
        unused[0]
    )
    assert " | never | " in run.out


def test_an_account_matching_its_stacks_passes(
    emulator: Emulator,
    management_key: str,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    seeded = {name: emulator.seed_key(name, usage=2.0) for name in ("api", "web")}
    keys = {
        name: {
            "hash": key.hash,
            "label": emulator.key(key.hash)["label"],  # type: ignore[index]
            "name": name,
            "generation": 0,
            "consumers": [],
        }
        for name, key in seeded.items()
    }
    [workspace] = emulator.workspaces()
    with management_client(emulator, management_key) as client:  # the stack's default guardrail
        default_guardrail = f"/guardrails/{workspace['default_guardrail_id']}"
        client.send_json("PATCH", default_guardrail, {"allowed_providers": ["openai"]})
    governance = {
        "workspaces": {
            "main": {
                "id": workspace["id"],
                "slug": "default",
                "defaultGuardrail": workspace["default_guardrail_id"],
            }
        }
    }
    outputs = tmp_path / "staging.json"
    outputs.write_text(json.dumps({"keys": keys, "governance": governance}))
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)
    emulator.clear_requests()

    run = run_cli("audit", "--outputs", str(outputs), "--stdin", stdin=management_key)

    assert run.code == 0
    assert (
        "**No findings.** 2 keys in the account (0 disabled); 2 managed by 1 stack (staging)"
        in (run.out)
    )
    # The listing shows the configured default guardrail: no GET of it.
    assert f"/api/v1{default_guardrail}" not in [r.path for r in emulator.requests()]


def test_provisioning_key_variable_is_the_fallback(
    audit_env: Account, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_KEY")
    monkeypatch.setenv("OPENROUTER_PROVISIONING_KEY", audit_env.management_key)
    assert audit(run_cli, audit_env).code == 1


def test_regular_key_instead_of_the_management_key_is_an_error_after_one_get(
    audit_env: Account, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    regular = audit_env.emulator.seed_key("mistake")
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", regular.secret)
    audit_env.emulator.clear_requests()

    run = audit(run_cli, audit_env)

    assert run.code == 2
    assert run.out == ""
    [line] = run.err.splitlines()
    assert "is a regular key; audit needs the management key" in line
    assert line.endswith("[management-key-not-management]")
    assert only_reads(audit_env.emulator) == [("GET", "/api/v1/key")]
    assert_absent(regular.secret, run.out, run.err)


def test_rejected_management_key_is_an_error(
    audit_env: Account, run_cli: RunCli, sentinel: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", "sk-or-mgmt-" + sentinel[9:])
    run = audit(run_cli, audit_env)
    assert run.code == 2
    assert run.err.rstrip().endswith("[management-key-invalid]")


def test_missing_management_key_names_both_variables(
    audit_env: Account, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_KEY")
    run = audit(run_cli, audit_env)
    assert run.code == 2
    assert run.err.startswith(
        "error: no key: OPENROUTER_MANAGEMENT_KEY or OPENROUTER_PROVISIONING_KEY is not set."
    )


def test_a_list_that_fails_part_way_is_never_judged(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    audit_env.emulator.inject(
        Fault(path="/api/v1/keys", method="GET", latency=0.001),  # page 1 goes through
        Fault(path="/api/v1/keys", method="GET", status=500, retry_after=0, times=10),
    )

    run = audit(run_cli, audit_env)

    assert run.code == 2
    assert run.out == ""
    assert not summary.exists()
    [line] = run.err.splitlines()
    assert "failed part way (HTTP 500" in line
    assert line.endswith("[key-list-incomplete]")
    assert sum(1 for _, path in only_reads(audit_env.emulator) if path == "/api/v1/keys") >= 2


def test_unreachable_api_is_an_error(
    audit_env: Account, run_cli: RunCli, closed_port_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", closed_port_url)
    run = audit(run_cli, audit_env)
    assert run.code == 2
    assert run.err.rstrip().endswith("[api-unreachable]")
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the document is empty."),
        ("[]", "the document is an array, not an object of stack outputs."),
        ('{"inventory": "x"}', "output `keys` is missing (outputs present: inventory)"),
        (
            '{"keys": {"web": {"hash": 7, "generation": 1}}}',
            "keys.web.hash is a number, not a non-empty string.",
        ),
    ],
)
def test_bad_outputs_file_fails_before_any_request(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, content: str, message: str
):
    bad = tmp_path / "broken" / "staging.json"
    bad.parent.mkdir()
    bad.write_text(content)

    run = audit(run_cli, audit_env, "--outputs", str(bad))

    assert run.code == 2
    assert run.out == ""
    [line] = run.err.splitlines()
    assert line.startswith(f"error: {bad}: {message}")
    assert line.endswith("[outputs-invalid]")
    assert audit_env.emulator.requests() == []


def test_missing_outputs_file(audit_env: Account, run_cli: RunCli, tmp_path: Path):
    run = audit(run_cli, audit_env, "--outputs", str(tmp_path / "nope.json"))
    assert run.code == 2
    assert run.err.rstrip().endswith("[outputs-file-missing]")


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["audit"], "audit needs at least one stack"),
        (["audit", "--stack", "dev", "--stack", "dev"], "stack 'dev' is given twice"),
        (["audit", "--stack", "dev", "--expiring-days", "-1"], "is negative"),
        (["audit", "--stack", "dev", "--limit-percent", "150"], "is not between 0"),
        (["audit", "--stack", "dev", "--unused-days", "0"], "is zero; give 1 or more days"),
        (["audit", "--stack", "dev", "--unused-days", "a week"], "is not a whole number"),
        (["audit", "--stack", "dev", "--stdin", "--from-env", "X"], "not allowed with"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_two(
    emulator: Emulator, run_cli: RunCli, argv: list[str], problem: str
):
    run = run_cli(*argv)
    assert run.code == 2
    [line] = run.err.splitlines()
    assert problem in line
    assert line.endswith("[usage]")
    assert emulator.requests() == []


def test_stack_without_pulumi_on_path_says_how_to_fix_it(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    run = run_cli("audit", "--stack", "prod")
    assert run.code == 2
    [line] = run.err.splitlines()
    assert line.startswith(
        "error: `--stack prod` needs the pulumi CLI, and `pulumi` is not on PATH."
    )
    assert "`--outputs prod.json`" in line
    assert line.endswith("[pulumi-not-found]")
    assert audit_env.emulator.requests() == []


def fake_pulumi(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text("#!/bin/sh\n" + script)
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IXUSR)


def test_stack_outputs_are_read_with_pulumi_which_never_sees_the_management_key(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    seen = tmp_path / "pulumi-saw"
    fake_pulumi(
        tmp_path / "bin",
        f'echo "$@" >> "{seen}.argv"\nenv >> "{seen}.env"\n'
        f'case "$*" in *"--stack dev"*) cat "{audit_env.outputs["dev"]}";; '
        f'*"--stack prod"*) cat "{audit_env.outputs["prod"]}";; *) exit 3;; esac\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    run = run_cli("audit", "--stack", "dev", "--stack", "prod", "--json")

    assert run.code == 1
    assert run.json()["stacks"] == ["dev", "prod"]  # type: ignore[index]
    assert Path(f"{seen}.argv").read_text().splitlines() == [
        "stack output --json --show-secrets --non-interactive --stack dev",
        "stack output --json --show-secrets --non-interactive --stack prod",
        # Which API each stack uses (tests/cli/test_stack_api.py): none set here.
        "config --json --non-interactive --stack dev",
        "config --json --non-interactive --stack prod",
    ]
    assert "OPENROUTER_MANAGEMENT_KEY" not in Path(f"{seen}.env").read_text()
    assert_absent(audit_env.management_key, Path(f"{seen}.env"))


def test_failing_pulumi_is_reported_with_its_first_error_line(
    audit_env: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    fake_pulumi(
        tmp_path / "bin",
        'echo "error: no stack named \'qa\' found" >&2\necho "more detail" >&2\nexit 255\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    run = run_cli("audit", "--stack", "qa")

    assert run.code == 2
    [line] = run.err.splitlines()
    assert line.startswith(
        "error: `pulumi stack output --json --show-secrets --stack qa` failed: exit status 255: "
        "error: no stack named 'qa' found."
    )
    assert line.endswith("[stack-output-failed]")
