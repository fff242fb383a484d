"""`audit.compare` is pure: each finding from exactly the account state that should raise it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.audit import compare
from cli.audit_report import AuditReport, Thresholds
from cli.stack_outputs import ManagedKey

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
DEFAULTS = Thresholds()


@dataclass(frozen=True)
class Observed:
    """The fields of `providers` `KeyRecord` that the compare reads."""

    hash: str
    name: str
    label: str
    disabled: bool = False
    limit: float | None = None
    limit_remaining: float | None = None
    limit_reset: str | None = None
    usage: float = 12.0
    usage_daily: float = 1.0
    usage_weekly: float = 3.0
    usage_monthly: float = 6.0
    expires_at: datetime | str | None = None
    created_at: datetime | str | None = "2026-01-05T10:00:00Z"
    last_used_at: datetime | str | None = None
    workspace_id: str | None = None
    byok_usage: float = 0.0
    byok_usage_daily: float = 0.0
    byok_usage_weekly: float = 0.0
    byok_usage_monthly: float = 0.0


def key(n: int, **fields: object) -> Observed:
    base = Observed(hash=f"{n:064x}", name=f"key-{n}", label=f"sk-or-v1-{n:03x}...{n:03x}")
    return replace(base, **fields)  # type: ignore[arg-type]


def managed(observed: Observed, stack: str = "prod", consumers: tuple[str, ...] = ()) -> ManagedKey:
    return ManagedKey(
        stack=stack,
        key_id=observed.name,
        hash=observed.hash,
        label=observed.label,
        name=observed.name,
        generation=1,
        consumers=consumers or (f"github:acme/app:{observed.name.upper()}",),
    )


def kinds(report: AuditReport) -> list[tuple[str, str]]:
    return [(f.kind, f.context["name"]) for f in report.findings]


def test_healthy_managed_keys_give_no_findings_and_exit_zero():
    keys = [key(1), key(2, limit=50.0, limit_remaining=40.0, limit_reset="monthly")]
    report = compare([managed(k) for k in keys], keys, NOW, DEFAULTS)
    assert report.findings == ()
    assert report.exit_code == 0
    assert [row.status for row in report.rows] == ["enabled", "enabled"]


def test_key_no_stack_manages_is_unmanaged_and_fails():
    mine, theirs = key(1), key(2, name="made-by-hand")
    report = compare([managed(mine)], [mine, theirs], NOW, DEFAULTS)
    assert kinds(report) == [("unmanaged-key", "made-by-hand")]
    [finding] = report.findings
    assert finding.severity == "error"
    assert theirs.hash in finding.hint
    assert report.exit_code == 1


def test_disabled_unmanaged_key_is_still_reported_as_unmanaged_and_says_disabled():
    leftover = key(3, name="old-rotation", disabled=True, usage_monthly=0.0)
    report = compare([], [leftover], NOW, DEFAULTS)
    assert kinds(report) == [("unmanaged-key", "old-rotation")]
    assert "(disabled)" in report.findings[0].message


def test_managed_key_gone_from_account_is_missing_and_names_its_consumers():
    gone = key(4, name="deleted-in-dashboard")
    entry = managed(gone, consumers=("vercel:shop:production:OPENROUTER_API_KEY",))
    report = compare([entry], [], NOW, DEFAULTS)
    assert kinds(report) == [("managed-key-missing", "deleted-in-dashboard")]
    finding = report.findings[0]
    assert "vercel:shop:production:OPENROUTER_API_KEY still point at it" in finding.message
    assert "pulumi up --refresh --stack prod" in finding.hint
    [row] = report.rows
    assert row.status == "missing"
    assert report.exit_code == 1


def test_managed_disabled_key_fails_and_is_not_also_judged_for_usage():
    off = key(5, disabled=True, usage_monthly=0.0, limit=10.0, limit_remaining=0.0)
    report = compare([managed(off)], [off], NOW, DEFAULTS)
    assert kinds(report) == [("managed-key-disabled", "key-5")]
    assert report.disabled_count == 1
    # `up` alone leaves it disabled: an omitted `disabled` never diffs against the server.
    assert "set `disabled: false`" in report.findings[0].hint


def test_same_key_in_two_stacks_is_managed_twice():
    shared = key(6)
    report = compare([managed(shared, "dev"), managed(shared, "prod")], [shared], NOW, DEFAULTS)
    assert kinds(report) == [("key-managed-twice", "key-6")]
    assert report.findings[0].context["stacks"] == "dev, prod"


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (timedelta(days=30), []),
        (timedelta(days=14, seconds=1), []),
        (timedelta(days=14), ["key-expiring"]),
        (timedelta(hours=5), ["key-expiring"]),
        (timedelta(0), ["key-expired"]),
        (-timedelta(days=2), ["key-expired"]),
    ],
)
def test_expiry_within_the_threshold_is_expiring_and_past_it_is_expired(days_left, expected):
    soon = key(7, expires_at=(NOW + days_left).isoformat())
    report = compare([managed(soon)], [soon], NOW, DEFAULTS)
    assert [f.kind for f in report.findings] == expected


def test_expiring_days_threshold_is_honoured():
    soon = key(8, expires_at=NOW + timedelta(days=20))
    assert compare([managed(soon)], [soon], NOW, DEFAULTS).findings == ()
    wide = Thresholds(expiring_days=30)
    assert [f.kind for f in compare([managed(soon)], [soon], NOW, wide).findings] == [
        "key-expiring"
    ]


@pytest.mark.parametrize(
    ("limit", "remaining", "expected"),
    [
        (100.0, 21.0, []),  # 79 %
        (100.0, 20.0, ["key-near-limit"]),  # 80 %: at the threshold counts
        (100.0, 0.0, ["key-near-limit"]),
        (0.0, 0.0, ["key-near-limit"]),  # a zero limit can spend nothing
        (None, None, []),  # no limit, nothing to be near
    ],
)
def test_limit_used_at_or_above_threshold_is_near_limit(limit, remaining, expected):
    spender = key(9, limit=limit, limit_remaining=remaining, limit_reset="monthly")
    report = compare([managed(spender)], [spender], NOW, DEFAULTS)
    assert [f.kind for f in report.findings] == expected


def test_limit_used_falls_back_to_the_reset_period_usage_without_limit_remaining():
    weekly = key(10, limit=10.0, limit_remaining=None, limit_reset="weekly", usage_weekly=9.0)
    never = key(11, limit=10.0, limit_remaining=None, limit_reset=None, usage=2.0)
    report = compare([managed(weekly), managed(never)], [weekly, never], NOW, DEFAULTS)
    assert kinds(report) == [("key-near-limit", "key-10")]
    assert "this week" in report.findings[0].message


def test_limit_percent_threshold_is_honoured():
    half = key(12, limit=10.0, limit_remaining=5.0)
    assert compare([managed(half)], [half], NOW, DEFAULTS).findings == ()
    strict = Thresholds(limit_percent=50)
    assert [f.kind for f in compare([managed(half)], [half], NOW, strict).findings] == [
        "key-near-limit"
    ]


def unused(observed: Observed, thresholds: Thresholds = DEFAULTS) -> list[str]:
    """The messages of the `key-unused` findings for one managed key."""
    report = compare([managed(observed)], [observed], NOW, thresholds)
    return [f.message for f in report.findings if f.kind == "key-unused"]


@pytest.mark.parametrize(("days_ago", "found"), [(29, False), (30, True), (200, True)])
def test_unused_is_judged_by_the_last_use_against_the_threshold(days_ago, found):
    last = NOW - timedelta(days=days_ago)
    idle = key(15, last_used_at=last, usage_monthly=0.0 if days_ago >= 30 else 4.0)
    expected = [
        f"sk-or-v1-00f...00f (key-15) has not been used for {days_ago} days (last used"
        f" {last.strftime('%Y-%m-%dT%H:%M:%SZ')}; the threshold is 30 days)."
    ]
    assert unused(idle) == (expected if found else [])


def test_the_last_use_wins_over_this_months_usage():
    busy_last_month = key(16, last_used_at=NOW - timedelta(days=3), usage_monthly=0.0)
    quiet_for_weeks = key(17, last_used_at=NOW - timedelta(days=45), usage_monthly=2.0)
    assert unused(busy_last_month) == []
    assert len(unused(quiet_for_weeks)) == 1


def test_unused_days_threshold_is_honoured_and_api_timestamps_are_parsed():
    last_week = key(18, last_used_at=(NOW - timedelta(days=8)).isoformat(timespec="microseconds"))
    assert unused(last_week) == []
    [message] = unused(last_week, Thresholds(unused_days=7))
    assert "has not been used for 8 days" in message
    assert message.endswith("the threshold is 7 days).")


def test_a_never_used_key_counts_from_its_creation():
    fresh = key(19, usage=0.0, usage_monthly=0.0, created_at=NOW - timedelta(days=2))
    forgotten = key(20, usage=0.0, usage_monthly=0.0, created_at=NOW - timedelta(days=40))
    assert unused(fresh) == []
    assert unused(forgotten) == [
        "sk-or-v1-014...014 (key-20) has never been used since it was made 40 days ago (the"
        " threshold is 30 days)."
    ]


def test_without_a_last_use_a_used_key_falls_back_to_this_months_usage():
    active = key(21, usage=12.0, usage_monthly=6.0)
    dormant = key(22, usage=12.0, usage_monthly=0.0)
    assert unused(active) == []
    assert unused(dormant) == [
        "sk-or-v1-016...016 (key-22) has no recorded last use and no usage this month."
    ]


def test_unused_is_a_warning_that_does_not_fail_by_default():
    idle = key(13, usage_monthly=0.0)
    report = compare([managed(idle)], [idle], NOW, DEFAULTS)
    assert kinds(report) == [("key-unused", "key-13")]
    assert report.findings[0].severity == "warning"
    assert "check the secret it holds with `python -m cli doctor`" in report.findings[0].hint
    assert report.exit_code == 0


def test_fail_on_unused_makes_an_unused_key_fail():
    idle = key(14, last_used_at=NOW - timedelta(days=90))
    report = compare([managed(idle)], [idle], NOW, Thresholds(fail_on_unused=True))
    assert report.findings[0].severity == "error"
    assert report.findings[0].context["last_used_at"] == (NOW - timedelta(days=90)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert report.exit_code == 1


def test_rows_list_managed_keys_by_stack_then_unmanaged_then_findings_by_urgency():
    a, b, c = key(1, name="zeta"), key(2, name="alpha"), key(3, name="hand", usage_monthly=0.0)
    gone = key(4, name="gone")
    entries = [managed(a, "prod"), managed(b, "dev"), managed(gone, "dev")]
    report = compare(entries, [c, a, b], NOW, DEFAULTS)
    assert [row.name for row in report.rows] == ["alpha", "gone", "zeta", "hand"]
    assert [f.kind for f in report.findings] == [
        "managed-key-missing",
        "unmanaged-key",
        "key-unused",
    ]
    assert report.stacks == ("prod", "dev")


def test_timestamps_in_the_api_formats_are_compared_as_instants():
    offset = key(15, expires_at="2026-11-20T11:30:00.000000+02:00")  # 09:30 UTC, 2 days on
    naive = key(16, expires_at="2026-11-19T09:30:00")  # taken as UTC
    report = compare([managed(offset), managed(naive)], [offset, naive], NOW, DEFAULTS)
    assert sorted(f.message.split(" expires in ")[1][:6] for f in report.findings) == [
        "1 day ",
        "2 days",
    ]


usage = st.floats(min_value=0, max_value=1000, allow_nan=False)
observed_keys = st.builds(
    Observed,
    hash=st.sampled_from([f"{n:064x}" for n in range(8)]),
    name=st.text(min_size=1, max_size=12),
    label=st.just("sk-or-v1-abc...def"),
    disabled=st.booleans(),
    limit=st.none() | usage,
    limit_remaining=st.none() | usage,
    limit_reset=st.sampled_from([None, "daily", "weekly", "monthly"]),
    usage=usage,
    usage_daily=usage,
    usage_weekly=usage,
    usage_monthly=usage,
    expires_at=st.none() | st.datetimes(timezones=st.just(UTC)),
)


@settings(max_examples=60, deadline=None)
@given(
    observed=st.lists(observed_keys, max_size=8, unique_by=lambda k: k.hash),
    managed_hashes=st.sets(st.sampled_from([f"{n:064x}" for n in range(8)])),
)
def test_every_key_gets_one_row_and_managed_iff_some_stack_claims_it(observed, managed_hashes):
    entries = [
        ManagedKey("prod", f"id{i}", h, "sk-or-v1-abc...def", f"n{i}", 1, ())
        for i, h in enumerate(sorted(managed_hashes))
    ]
    report = compare(entries, observed, NOW, DEFAULTS)
    assert compare(entries, observed, NOW, DEFAULTS) == report  # pure
    rows = {row.hash: row for row in report.rows}
    assert len(rows) == len(report.rows) == len({k.hash for k in observed} | managed_hashes)
    unmanaged = {f.context["hash"] for f in report.findings if f.kind == "unmanaged-key"}
    assert unmanaged == {k.hash for k in observed} - managed_hashes
    missing = {f.context["hash"] for f in report.findings if f.kind == "managed-key-missing"}
    assert missing == managed_hashes - {k.hash for k in observed}
    assert report.exit_code == (1 if any(f.severity == "error" for f in report.findings) else 0)


def test_a_retiring_generation_is_managed_and_its_idle_hint_says_retire_it():
    current, older = key(20, name="shop-2"), key(21, name="shop-1", usage_monthly=0.0)
    entries = [
        managed(current),
        replace(managed(older), key_id="shop-2", consumers=(), rotation="1", retiring=True),
    ]
    report = compare(entries, [current, older], NOW, DEFAULTS)
    assert kinds(report) == [("key-unused", "shop-1")]
    assert "dropping it from `rotations` in stacks/Pulumi.prod.yaml" in report.findings[0].hint


def test_a_key_near_its_limit_is_worded_as_a_guardrail_or_budget_near_its_cap():
    """One wording for the three near-limit findings (`NearLimit`): who has spent what share of
    which cap, the amounts, the threshold; then the fix and what happens at the cap."""
    spender = key(13, limit=10.0, limit_remaining=1.5, limit_reset="monthly")
    [finding] = compare([managed(spender)], [spender], NOW, DEFAULTS).findings
    assert finding.message == (
        f"{spender.label} (key-13) has spent 85% of its limit this month ($8.50 of $10.00),"
        " at or above 80%."
    )
    assert finding.hint.endswith(
        ", or find out what is spending it; requests fail once the limit is reached."
    )
    assert finding.context["percent"] == "85.0"
