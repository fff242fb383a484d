"""Usage-aware retirement (topology/retirement.py, docs/adr/0011-usage-aware-retirement.md): a
generation OpenRouter says is still used is not deleted, unless a reviewed line says so."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.sentinel import assert_absent, make_sentinel
from tests.topology.harness import CREATED_AT, namespaced, run_program
from topology import openrouter as openrouter_module
from topology.config import RawConfig, StackConfig, TopologyConfigError, validate
from topology.guard import TopologyGuardError, deletions
from topology.keys_output import (
    DeployedGeneration,
    DeployedKey,
    keys_output,
    parse_keys_output,
)
from topology.openrouter import seen_of
from topology.plan import Plan
from topology.preflight import guard
from topology.retirement import (
    DEFAULT_QUIET_PERIOD,
    RetirementPolicy,
    Seen,
    parse_quiet_period,
    parse_retire_in_use,
    retirement_problems,
    stale_overrides,
    to_ask,
)

OLD, NEW = "2026-11-01", "2026-12-01"
HASH_OLD, HASH_NEW = "a" * 64, "b" * 64
NOW = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
TAKEOVER = NOW - timedelta(days=3)
MANAGEMENT_KEY = "sk-or-v1-" + "0" * 8  # short: not key-shaped
DAY = timedelta(days=1)
MANAGEMENT = "openrouter-keys:managementKey"


def raw(keys: dict[str, Any], **more: Any) -> RawConfig:
    return RawConfig(
        keys=json.dumps(keys),
        protect_keys="false",
        management_key=MANAGEMENT_KEY,
        management_key_is_secret=True,
        **more,
    )


def plan_of(keys: dict[str, Any]) -> Plan:
    return validate(raw(keys), "prod", {}).plan


def record(*, created: str | None = TAKEOVER.isoformat(), consumers: Sequence[str] = ()) -> (
    dict[str, DeployedKey]
):
    """`api` rotated: OLD retiring, NEW wired and made at TAKEOVER (when it took over)."""
    return {
        "api": DeployedKey(
            hash=HASH_NEW,
            label="sk-or-v1-bbb...bbb",
            name="prod-api",
            rotation=NEW,
            created=created,
            generation=2,
            consumers=tuple(consumers),
            protect=False,
            retiring=(
                DeployedGeneration(
                    hash=HASH_OLD, label="sk-or-v1-aaa...aaa", name="prod-api", rotation=OLD
                ),
            ),
        )
    }


RETIRED = {"api": {"rotations": [NEW]}}
"""The runbook's last step: `rotations: [NEW]`."""


def judged(
    seen: Seen,
    *,
    keys: dict[str, Any] | None = None,
    policy: RetirementPolicy | None = None,
    previous: dict[str, DeployedKey] | None = None,
    successor: Seen | None = None,
) -> list[str]:
    plan = plan_of(RETIRED if keys is None else keys)
    found = deletions(previous or record(), plan)
    answers = {HASH_OLD: seen, **({HASH_NEW: successor} if successor else {})}
    problems = retirement_problems(found, plan, answers, policy or RetirementPolicy(), NOW)
    return [p.render() for p in problems]


def used(ago: timedelta, **more: Any) -> Seen:
    return Seen(last_used_at=NOW - ago, created_at=NOW - 30 * DAY, usage=1.0, **more)


# --- the rule ---------------------------------------------------------------------------------


def test_a_generation_used_after_its_successor_took_over_is_not_deleted():
    [refusal] = judged(used(timedelta(minutes=3)))
    assert refusal.startswith(
        f"keys.api.rotations: the change deletes generation '{OLD}' of keys.api, key 'prod-api'"
        f" (hash {'a' * 12}...): OpenRouter says it was last used at 2026-12-07T15:57:00Z"
        f" (3 minutes ago), after its successor '{NEW}' took over its consumers"
        " (2026-12-04T16:00:00Z): something still holds it (a Vercel deployment built before the"
        " rotation, a workflow in flight or a .env);"
    )
    assert f"add `api@{OLD}` to `openrouter-keys:retireInUse` in the stack file" in refusal
    assert "docs/runbooks.md#rotate-a-key" in refusal


def test_a_use_after_the_takeover_is_refused_however_long_ago():
    # Used two days ago, one day after the successor took over: past the quiet period, yet
    # something held the old key after the consumers moved, and may call again.
    [refusal] = judged(used(2 * DAY))
    assert "after its successor '2026-12-01' took over its consumers" in refusal


def test_a_use_before_the_takeover_within_the_quiet_period_is_refused():
    previous = record(created=(NOW - timedelta(hours=1)).isoformat())
    [refusal] = judged(used(timedelta(hours=5)), previous=previous)
    assert "(5 hours ago), within the quiet period (openrouter-keys:retireQuietPeriod: 1d)" in (
        refusal
    )
    assert judged(used(timedelta(hours=5)), previous=previous,
                  policy=RetirementPolicy(timedelta(hours=4))) == []


def test_a_generation_unused_since_before_the_takeover_and_the_quiet_period_retires():
    assert judged(used(4 * DAY)) == []


def test_a_generation_never_used_or_already_gone_retires():
    assert judged(Seen(created_at=NOW - 30 * DAY)) == []
    assert judged(Seen(gone=True)) == []


def test_when_openrouter_cannot_say_the_deletion_is_refused():
    [refusal] = judged(Seen(error="GET /keys/... answered 503 [api-unavailable]"))
    assert "OpenRouter could not say when it was last used (GET /keys/... answered 503" in refusal
    [no_time] = judged(Seen(usage=3.5))
    assert "reports usage on it but no time of last use" in no_time
    [not_asked] = retirement_problems(
        deletions(record(), plan_of(RETIRED)), plan_of(RETIRED), {}, RetirementPolicy(), NOW
    )
    assert "could not say when it was last used (it was not asked)" in not_asked.message


def test_a_record_without_the_successors_creation_asks_openrouter_for_it():
    previous = record(created=None)
    plan = plan_of(RETIRED)
    assert to_ask(deletions(previous, plan), plan, RetirementPolicy()) == [HASH_OLD, HASH_NEW]
    successor = Seen(created_at=TAKEOVER)
    [refusal] = judged(used(DAY), previous=previous, successor=successor)
    assert "took over its consumers (2026-12-04T16:00:00Z)" in refusal
    assert judged(used(4 * DAY), previous=previous, successor=successor) == []
    [unknown] = judged(used(4 * DAY), previous=previous, successor=Seen(error="timed out"))
    assert f"could not say when its successor '{NEW}' was made" in unknown
    assert to_ask(deletions(record(), plan), plan, RetirementPolicy()) == [HASH_OLD]


def test_the_reviewed_line_deletes_a_generation_in_use_without_asking():
    policy = RetirementPolicy(in_use=frozenset({f"api@{OLD}"}))
    plan = plan_of(RETIRED)
    assert judged(used(timedelta(minutes=3)), policy=policy) == []
    assert judged(Seen(error="unreachable"), policy=policy) == []
    assert to_ask(deletions(record(), plan), plan, policy) == []
    # The key id alone names the generation of a kept key id only if it has no rotations.
    assert len(judged(used(timedelta(minutes=3)),
                      policy=RetirementPolicy(in_use=frozenset({"api"})))) == 1


def test_a_removed_key_id_is_named_by_its_path_and_its_id_retires_every_generation():
    keys = {"other": {}}
    other = DeployedKey(hash="c" * 64, label="sk-or-v1-ccc...ccc", name="prod-other", generation=1)
    previous = {**record(), "other": other}
    refusals = judged(used(timedelta(minutes=3)), keys=keys, previous=previous)
    assert refusals[0].startswith(f"keys.api: the change deletes generation '{OLD}' of keys.api")
    assert "add `api` to `openrouter-keys:retireInUse`" in refusals[0]
    assert "docs/runbooks.md#retire-a-key" in refusals[0]
    # The wired generation of a removed key id has no successor: the quiet period alone.
    assert "keys.api: the change deletes generation '2026-12-01'" in refusals[1]
    everything = RetirementPolicy(in_use=frozenset({"api"}))
    assert judged(used(timedelta(minutes=3)), keys=keys, previous=previous,
                  policy=everything) == []


def test_a_stale_override_line_is_reported():
    plan = plan_of(RETIRED)
    found = deletions(record(), plan)
    in_use = {f"api@{OLD}", "api@2026-10-01", "legacy"}
    warnings = stale_overrides(found, plan, in_use)
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "openrouter-keys:retireInUse lists 'api@2026-10-01', which this update does not delete;"
    )
    assert "left in, it would let a later key of that name be deleted while in use" in warnings[1]
    assert stale_overrides([], plan, {f"api@{OLD}"}) != []


@given(
    used_hours=st.one_of(st.none(), st.integers(min_value=0, max_value=24 * 60)),
    takeover_hours=st.integers(min_value=0, max_value=24 * 60),
    quiet_hours=st.integers(min_value=0, max_value=24 * 14),
    overridden=st.booleans(),
)
def test_refused_exactly_when_used_after_the_takeover_or_within_the_quiet_period(
    used_hours: int | None, takeover_hours: int, quiet_hours: int, overridden: bool
) -> None:
    takeover = NOW - timedelta(hours=takeover_hours)
    last_used = None if used_hours is None else NOW - timedelta(hours=used_hours)
    policy = RetirementPolicy(
        timedelta(hours=quiet_hours), frozenset({f"api@{OLD}"} if overridden else ())
    )
    seen = Seen(last_used_at=last_used, usage=0.0 if last_used is None else 1.0)
    refused = judged(seen, policy=policy, previous=record(created=takeover.isoformat())) != []
    in_use = last_used is not None and (
        last_used >= takeover or NOW - last_used < policy.quiet_period
    )
    assert refused == (in_use and not overridden)


# --- the settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "period"),
    [(None, DEFAULT_QUIET_PERIOD), ("1d", DAY), ("36h", timedelta(hours=36)),
     ("90m", timedelta(minutes=90)), ("0", timedelta(0)), (" 7d ", 7 * DAY)],
)
def test_the_quiet_period_is_minutes_hours_or_days(written: str | None, period: timedelta):
    assert parse_quiet_period(written) == (period, [])


@pytest.mark.parametrize("written", ["1 week", "-1d", "1.5d", "24", "d"])
def test_another_quiet_period_is_refused_with_the_form(written: str):
    _, [problem] = parse_quiet_period(written)
    assert problem.path == "retireQuietPeriod"
    assert "allowed: a whole number of minutes, hours or days (1d, 36h, 90m, or 0 for none)" in (
        problem.message
    )


def test_retire_in_use_is_a_list_of_names_and_anything_else_is_refused_before_any_write():
    assert parse_retire_in_use(["api@2026-11-01", "legacy"]) == (
        frozenset({"api@2026-11-01", "legacy"}), []
    )
    for bad in ("api@2026-11-01", [""], [{"api": 1}]):
        _, [problem] = parse_retire_in_use(bad)
        assert problem.path == "retireInUse"
        assert "allowed: a list of generations to delete even if OpenRouter says" in (
            problem.message
        )
    with pytest.raises(TopologyConfigError) as caught:
        validate(raw({"api": {}}, retire_quiet_period="soon"), "prod", {})
    assert "retireQuietPeriod: 'soon' is not allowed" in str(caught.value)
    config = validate(
        raw({"api": {}}, retire_quiet_period="2d", retire_in_use='["api"]'), "prod", {}
    )
    assert config.retirement == RetirementPolicy(2 * DAY, frozenset({"api"}))


# --- the record -------------------------------------------------------------------------------


def test_the_record_keeps_when_each_generation_was_made_and_an_older_record_still_reads():
    written = keys_output(record())
    assert written["api"]["created"] == TAKEOVER.isoformat()
    assert "created" not in written["api"]["retiring"][0]  # unknown: left out
    assert parse_keys_output(written) == record()
    older = json.loads(json.dumps(written))
    del older["api"]["created"]
    assert parse_keys_output(older)["api"].created is None


# --- as the program runs it -------------------------------------------------------------------


def stack(keys: dict[str, Any], **more: Any) -> StackConfig:
    return validate(raw(keys, **more), "prod", {})


def outputs() -> dict[str, Any]:
    return {"keys": keys_output(record())}


def test_the_guard_asks_once_per_deleted_generation_and_refuses_before_any_write():
    asked: list[list[str]] = []

    def ask(_config: StackConfig, hashes: Sequence[str]) -> dict[str, Seen]:
        asked.append(list(hashes))
        return {HASH_OLD: used(timedelta(minutes=3))}

    with pytest.raises(TopologyGuardError) as caught:
        guard(stack(RETIRED), lambda _: outputs(), ask_usage=ask, clock=lambda: NOW)
    assert asked == [[HASH_OLD]]
    [problem] = caught.value.problems
    assert problem.path == "keys.api.rotations"
    guard(stack(RETIRED, retire_in_use=json.dumps([f"api@{OLD}"])), lambda _: outputs(),
          ask_usage=ask, clock=lambda: NOW)
    assert len(asked) == 1  # the reviewed line: nothing to ask


def test_the_guard_asks_nothing_without_a_deletion_or_once_another_rule_refused():
    def ask(_config: StackConfig, _hashes: Sequence[str]) -> dict[str, Seen]:
        raise AssertionError("asked")

    guard(stack({"api": {"rotations": [OLD, NEW]}}), lambda _: outputs(), ask_usage=ask)
    with pytest.raises(TopologyGuardError):  # every key removed at once: refused unasked
        guard(stack({}), lambda _: outputs(), ask_usage=ask)


def test_a_deletion_with_no_management_key_to_ask_with_is_refused():
    config = stack(RETIRED)
    unkeyed = StackConfig(config.plan, None, None, {})
    with pytest.raises(TopologyGuardError) as caught:
        guard(unkeyed, lambda _: outputs(), clock=lambda: NOW)
    assert "could not say when it was last used (no management key to ask it with)" in str(
        caught.value
    )
    [problem] = caught.value.problems
    assert problem.fix.startswith("fix what stopped OpenRouter from answering")
    assert "redeploy" not in problem.fix  # nothing was seen using it: waiting would not help


def test_an_unreadable_last_use_time_is_an_answer_that_refuses():
    class Record:
        last_used_at = "yesterday"
        created_at = "2026-11-01T00:00:00Z"
        usage = 0.0
        byok_usage = 0.0

    seen = seen_of(Record())  # type: ignore[arg-type]
    assert seen.error == "its last_used_at 'yesterday' is not a time"


def test_the_program_records_when_each_generation_was_made_and_refuses_a_used_one(monkeypatch):
    management_key = make_sentinel()

    def config(rotations: list[str], **more: str) -> dict[str, str]:
        values = {"keys": json.dumps({"api": {"rotations": rotations}}),
                  "managementKey": management_key, **more}
        return namespaced(values)

    first = run_program(config([OLD]), [MANAGEMENT], stack="prod")
    both = run_program(config([OLD, NEW]), [MANAGEMENT], stack="prod",
                       stack_outputs={"prod": first.outputs})
    assert both.error is None, both.error
    rotated = parse_keys_output(both.outputs["keys"])["api"]
    assert [g.created for g in rotated.generations] == [CREATED_AT, CREATED_AT]

    monkeypatch.setattr(openrouter_module, "management_key_refusal", lambda _: None)
    asked: list[Sequence[str]] = []

    def last_uses(_config: StackConfig, hashes: Sequence[str]) -> dict[str, Seen]:
        asked.append(hashes)
        return dict.fromkeys(hashes, Seen(last_used_at=datetime.now(UTC)))

    monkeypatch.setattr(openrouter_module, "last_uses", last_uses)
    run = run_program(config([NEW]), [MANAGEMENT], stack="prod",
                      stack_outputs={"prod": both.outputs})
    assert isinstance(run.error, TopologyGuardError)
    assert asked == [[rotated.retiring[0].hash]]
    assert run.registrations == []
    assert "after its successor '2026-12-01' took over its consumers" in str(run.error)
    assert_absent(management_key, str(run.error))

    done = run_program(config([NEW], retireInUse=json.dumps([f"api@{OLD}"])), [MANAGEMENT],
                       stack="prod", stack_outputs={"prod": both.outputs})
    assert done.error is None, done.error
    assert len(asked) == 1
