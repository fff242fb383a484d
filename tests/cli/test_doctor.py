"""`python -m cli doctor`, in process against the emulator: what the key is, by exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_harness import RunCli, capped_guardrail, management_client, stamp

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from emulator.app import window_end
from tests.support.sentinel import assert_absent


@pytest.fixture
def api(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, named the way a user names an API: $OPENROUTER_API_BASE_URL."""
    monkeypatch.setenv("OPENROUTER_API_BASE_URL", emulator.api_base_url)
    return emulator


def only_get_key(emulator: Emulator) -> None:
    assert [(r.method, r.path) for r in emulator.requests()] == [("GET", "/api/v1/key")]


def test_regular_key_with_expect_regular_exits_zero_and_shows_limits(
    api: Emulator, run_cli: RunCli, sentinel: str, monkeypatch: pytest.MonkeyPatch
):
    expires = datetime.now(UTC) + timedelta(days=40, hours=1)
    api.seed_key(
        "shop",
        limit=50.0,
        limit_reset="monthly",
        usage=12.5,
        expires_at=stamp(expires),
        secret=sentinel,
    )
    monkeypatch.setenv("OPENROUTER_API_KEY", sentinel)

    before = window_end("monthly", datetime.now(UTC))
    run = run_cli("doctor", "--expect", "regular")
    after = window_end("monthly", datetime.now(UTC))

    assert run.code == 0
    label = f"sk-or-v1-{sentinel[9:12]}...{sentinel[-3:]}"
    lines = run.out.splitlines()
    resets = {
        f"  budgets:  1. key limit: $12.50 of $50.00 used this month, $37.50 left, resets"
        f" {stamp(moment)}"
        for moment in (before, after)
    }
    assert lines[3] in resets  # the month may roll over during the run
    assert lines[:3] + lines[4:] == [
        f"{label} (from $OPENROUTER_API_KEY): regular key: calls models; cannot manage keys",
        "  limit:    $50.00, $37.50 remaining, resets monthly",
        "  usage:    $12.50 in all, $12.50 today, $12.50 this week, $12.50 this month",
        "  blocks:   key limit, $37.50 left",
        f"  expires:  {stamp(expires)} (in 40 days)",
        f"  api:      {api.api_base_url}",
        "  expected: regular key (matches)",
    ]
    assert run.err == ""
    assert_absent(sentinel, run.out, run.err)
    only_get_key(api)


def test_management_key_with_expect_management_exits_zero(
    api: Emulator, management_key: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)

    run = run_cli("doctor", "--from-env", "OPENROUTER_MANAGEMENT_KEY", "--expect", "management")

    assert run.code == 0
    assert "): management key: lists, creates, updates and deletes keys" in run.out
    assert "limit:" not in run.out
    assert_absent(management_key, run.out, run.err)
    only_get_key(api)


def test_management_key_where_a_regular_one_is_expected_exits_one_and_says_why(
    api: Emulator, management_key: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENROUTER_API_KEY", management_key)

    run = run_cli("doctor", "--expect", "regular")

    assert run.code == 1
    assert "  expected: regular key (does NOT match)" in run.out
    [line] = run.err.splitlines()
    assert line.startswith("error: expected a regular key, but sk-or-mgmt-")
    assert "is a management key." in line
    assert line.endswith("[key-type-mismatch]")
    assert_absent(management_key, run.out, run.err)


def test_regular_key_where_the_management_key_belongs_exits_one(
    api: Emulator, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    seeded = api.seed_key("ci")
    monkeypatch.setenv("CI_SECRET", seeded.secret)

    run = run_cli("doctor", "--from-env", "CI_SECRET", "--expect", "management")

    assert run.code == 1
    assert "(from $CI_SECRET): regular key" in run.out
    assert "[key-type-mismatch]" in run.err
    assert "https://openrouter.ai/settings/management-keys" in run.err
    assert_absent(seeded.secret, run.out, run.err)


@pytest.mark.parametrize("state", ["disabled", "deleted", "expired", "never existed"])
def test_disabled_deleted_expired_or_unknown_key_is_invalid_and_exits_one(
    api: Emulator, run_cli: RunCli, sentinel: str, state: str, monkeypatch: pytest.MonkeyPatch
):
    if state == "disabled":
        api.seed_key("old", disabled=True, secret=sentinel)
    elif state == "deleted":
        api.delete_key(api.seed_key("old", secret=sentinel).hash)
    elif state == "expired":
        seeded = api.seed_key("old", secret=sentinel)
        past = stamp(datetime.now(UTC) - timedelta(days=1))
        api.update_key(seeded.hash, expires_at=past)
    monkeypatch.setenv("OPENROUTER_API_KEY", sentinel)

    plain = run_cli("doctor")
    expecting = run_cli("doctor", "--expect", "regular")

    assert plain.code == 1
    assert "invalid: the API rejected it (wrong, disabled, expired or deleted)" in plain.out
    assert '  api said: HTTP 401 "User not found."' in plain.out
    [line] = plain.err.splitlines()
    assert line.endswith("[key-invalid]")
    assert expecting.code == 1
    assert {line.rsplit(" ", 1)[1] for line in expecting.err.splitlines()} == {
        "[key-invalid]",
        "[key-type-mismatch]",
    }
    assert_absent(sentinel, plain.out, plain.err, expecting.out, expecting.err)


def test_key_from_standard_input(api: Emulator, run_cli: RunCli, sentinel: str):
    api.seed_key("piped", secret=sentinel)

    run = run_cli("doctor", "--stdin", "--expect", "regular", stdin=sentinel + "\n")

    assert run.code == 0
    assert "(from standard input): regular key" in run.out
    assert_absent(sentinel, run.out, run.err)


def test_json_is_one_document_with_the_verdict(
    api: Emulator, run_cli: RunCli, sentinel: str, monkeypatch: pytest.MonkeyPatch
):
    api.seed_key("shop", limit=5.0, usage=1.0, secret=sentinel)
    monkeypatch.setenv("OPENROUTER_API_KEY", sentinel)

    run = run_cli("doctor", "--json", "--expect", "management")

    assert run.code == 1
    document = run.json()
    assert isinstance(document, dict)
    assert {k: document[k] for k in ("command", "type", "expected", "matches", "exit_code")} == {
        "command": "doctor",
        "type": "regular",
        "expected": "management",
        "matches": False,
        "exit_code": 1,
    }
    assert document["limit_remaining"] == 4.0
    [layer] = document["budgets"]
    assert (layer["scope"], layer["limit_usd"], layer["spend_usd"], layer["remaining_usd"]) == (
        "key_limit", 5.0, 1.0, 4.0
    )
    assert (layer["reset_interval"], layer["resets_at"]) == (None, None)
    assert document["effective_budget"] == layer
    assert document["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert [f["kind"] for f in document["findings"]] == ["key-type-mismatch"]
    assert run.err == ""  # under --json the verdict is in the document, not on stderr
    assert_absent(sentinel, run.out, run.err)


def test_a_spent_limit_is_named_as_what_blocks_the_key(
    api: Emulator, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    seeded = api.seed_key("spent", limit=2.0, usage=2.5)
    monkeypatch.setenv("OPENROUTER_API_KEY", seeded.secret)

    run = run_cli("doctor", "--expect", "regular")

    assert run.code == 0  # the key is the expected type; the budget is information
    assert "  budgets:  1. key limit: $2.50 of $2.00 used in all, spent, never resets\n" in run.out
    assert (
        "  blocks:   key limit is spent: requests are refused (403) until its limit is raised\n"
    ) in run.out


def test_a_management_key_shows_no_budgets(
    api: Emulator, management_key: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENROUTER_API_KEY", management_key)

    document = run_cli("doctor", "--json").json()

    assert isinstance(document, dict)
    assert (document["budgets"], document["effective_budget"]) == ([], None)
    assert "budgets:" not in run_cli("doctor").out


def test_missing_variable_is_an_error_before_any_request(api: Emulator, run_cli: RunCli):
    run = run_cli("doctor", "--expect", "regular")

    assert run.code == 2
    assert run.out == ""
    assert run.err == (
        "error: no key: OPENROUTER_API_KEY is not set. Fix: export OPENROUTER_API_KEY (from your "
        "secret store), name another variable with `--from-env VAR`, or pipe the key in with "
        "`python -m cli doctor --stdin`. [key-env-missing]\n"
    )
    assert api.requests() == []


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("", "key-env-empty"),
        ("ghp_notanopenrouterkey", "key-malformed"),
        ("OPENROUTER_API_KEY=sk-or-v1-abc", "key-malformed"),
        ("sk-or-v1-abc def", "key-malformed"),
    ],
)
def test_a_value_that_cannot_be_a_key_is_never_sent(
    api: Emulator, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, value: str, kind: str
):
    monkeypatch.setenv("OPENROUTER_API_KEY", value)

    run = run_cli("doctor")

    assert run.code == 2
    assert run.err.rstrip().endswith(f"[{kind}]")
    assert api.requests() == []


def test_empty_standard_input_is_an_error(api: Emulator, run_cli: RunCli):
    run = run_cli("doctor", "--stdin", stdin="\n")
    assert run.code == 2
    assert run.err.rstrip().endswith("[key-stdin-empty]")


def test_key_on_the_command_line_is_refused(run_cli: RunCli, sentinel: str):
    run = run_cli("doctor", sentinel)
    assert run.code == 2
    assert run.err.rstrip().endswith("[usage]")
    assert_absent(sentinel, run.out, run.err)


def test_unreachable_api_exits_two_with_one_line(
    run_cli: RunCli, sentinel: str, closed_port_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENROUTER_API_KEY", sentinel)

    run = run_cli("doctor", "--api-base-url", closed_port_url, "--expect", "regular")

    assert run.code == 2
    assert run.out == ""
    [line] = run.err.splitlines()
    assert line.startswith(f"error: cannot reach the OpenRouter API at {closed_port_url}: ")
    assert line.endswith("[api-unreachable]")
    assert "Traceback" not in run.err
    assert_absent(sentinel, run.out, run.err)


def test_server_error_is_an_error_not_a_verdict(
    api: Emulator, run_cli: RunCli, sentinel: str, monkeypatch: pytest.MonkeyPatch
):
    api.seed_key("shop", secret=sentinel)
    api.inject(Fault(path="/api/v1/key", status=503, retry_after=0, times=10))
    monkeypatch.setenv("OPENROUTER_API_KEY", sentinel)

    run = run_cli("doctor", "--expect", "regular")

    assert run.code == 2
    assert "failed while describing the key (GET /key): HTTP 503" in run.err
    assert run.err.rstrip().endswith("[api-error]")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("openrouter.ai/api/v1", "is not an http(s) URL"),
        ("http://openrouter.ai/api/v1", "plain http is only for loopback"),
    ],
)
def test_bad_api_base_url_is_refused_before_the_key_travels(
    run_cli: RunCli, sentinel: str, monkeypatch: pytest.MonkeyPatch, url: str, problem: str
):
    monkeypatch.setenv("OPENROUTER_API_KEY", sentinel)
    run = run_cli("doctor", "--api-base-url", url)
    assert run.code == 2
    assert problem in run.err
    assert run.err.rstrip().endswith("[api-base-url-invalid]")


def test_python_dash_m_cli_runs_as_a_module_and_fails_cleanly(tmp_path):
    """The one subprocess test: the real entry point, exit status and no traceback."""
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "doctor", "--expect", "regular"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: no key: OPENROUTER_API_KEY is not set.")
    assert "Traceback" not in done.stderr


def test_guardrail_and_workspace_layers_are_named_so_a_person_can_find_them(
    api: Emulator, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
):
    management_key = api.add_management_key()
    agents = api.add_workspace("Agents", "agents")
    own = api.seed_key("own", usage=3.0, workspace_id=agents["id"])
    bare = api.seed_key("bare", usage=1.0, workspace_id=agents["id"])
    default_guardrail = agents["default_guardrail_id"]
    with management_client(api, management_key) as client:
        cap = capped_guardrail(client, "cap", agents["id"], (10.0, "weekly"), own.hash)
        daily = {"limit_usd": 2.0, "reset_interval": "daily"}
        client.send_json("PATCH", f"/guardrails/{default_guardrail}", daily)
        client.send_json("PUT", f"/workspaces/{agents['id']}/budgets/monthly", {"limit_usd": 50})
        client.send_json("PUT", f"/workspaces/{agents['id']}/budgets/lifetime", {"limit_usd": 80})

    def budget_lines(secret: str) -> list[str]:
        monkeypatch.setenv("OPENROUTER_API_KEY", secret)
        lines = run_cli("doctor").out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("  budgets:"))
        end = next(i for i, line in enumerate(lines) if line.startswith("  expires:"))
        return [line.split(", resets")[0].split(", never")[0] for line in lines[start:end]]

    assert budget_lines(own.secret) == [
        f"  budgets:  1. key guardrail {cap}: $3.00 of $10.00 used this week, $7.00 left",
        "            2. workspace lifetime budget: $4.00 of $80.00 used in all, $76.00 left",
        "            3. workspace monthly budget: $4.00 of $50.00 used this month, $46.00 left",
        f"  blocks:   key guardrail {cap}, $7.00 left",
    ]
    assert budget_lines(bare.secret)[0] == (
        f"  budgets:  1. workspace default guardrail {default_guardrail}: $1.00 of $2.00 used "
        "today, $1.00 left"
    )
