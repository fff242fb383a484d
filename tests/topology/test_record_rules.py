"""Config rules that need the stack's record (topology/rules.py `record_problems`, issue 19):
rotation labels are strictly increasing dates, and consumers never go to a key that a spec
without `disabled` leaves disabled."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from tests.support.sentinel import make_sentinel
from tests.topology.harness import namespaced, run_program
from tests.topology.test_guard import SHOP, deployed, plan_of
from topology.rules import TopologyConfigError, generation_date, record_problems

TODAY = date(2026, 12, 7)
MANAGEMENT = "openrouter-keys:managementKey"


def problems(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    previous = deployed(before) if before is not None else {}
    return [p.render() for p in record_problems(previous, plan_of(after), TODAY)]


def rotated(*labels: str) -> dict[str, Any]:
    return {"shop": {**SHOP, "rotations": list(labels)}}


@pytest.mark.parametrize(
    ("label", "day"),
    [
        ("2026-12-07", date(2026, 12, 7)),
        ("2026-02-30", None),  # no such day
        ("2026-12", None),
        ("20261207", None),  # ISO's basic form: not the runbook's
        ("next", None),
    ],
)
def test_a_generation_label_is_a_calendar_date_in_the_runbooks_form(label, day):
    assert generation_date(label) == day


def test_a_new_rotation_with_a_later_date_last_is_allowed():
    assert problems(rotated("2026-11-01"), rotated("2026-11-01", "2026-12-07")) == []
    assert problems(None, rotated("2026-11-01", "2026-12-07")) == []


def test_a_later_date_listed_first_is_refused_naming_both_labels():
    # The case: the new generation would be created unwired, the consumers stay put.
    [refusal] = problems(rotated("2026-11-01"), rotated("2026-12-07", "2026-11-01"))
    assert refusal.startswith(
        "keys.shop.rotations[1]: new generation '2026-12-07' is listed before '2026-11-01',"
        " which this stack already deployed;"
    )
    assert refusal.endswith("Fix: move '2026-12-07' to the end of `rotations`.")


def test_new_dates_out_of_order_are_refused_with_todays_date_as_the_example():
    [refusal] = problems(None, rotated("2026-12-01", "2026-11-01"))
    assert refusal == (
        "keys.shop.rotations[1]: new generation '2026-11-01' is not later than '2026-12-01'"
        " listed before it; allowed: dates strictly increasing, oldest first, since the last"
        " generation listed is the one the consumers get. Fix: list the generations oldest"
        " first, the new one last with a date after '2026-12-01', e.g. '2026-12-07'."
    )


def test_the_example_date_is_later_than_the_one_it_must_follow():
    """Trying the runbook found `a date after '2026-12-07', e.g. '2026-12-07'` when the label to
    follow was today's: the example is the next day then, and today when that is later."""
    [refusal] = problems(None, rotated("2026-12-07", "2026-12-06"))
    assert refusal.endswith("with a date after '2026-12-07', e.g. '2026-12-08'.")
    [later] = problems(None, rotated("2027-01-31", "2027-01-02"))
    assert later.endswith("with a date after '2027-01-31', e.g. '2027-02-01'.")


def test_a_new_label_that_is_not_a_date_is_refused():
    [refusal] = problems(rotated("2026-11-01"), rotated("2026-11-01", "v2"))
    assert refusal == (
        "keys.shop.rotations[1]: new generation 'v2' is not a date; allowed: a date YYYY-MM-DD,"
        " later than every generation listed before it (labels already deployed stay as they"
        " are). Fix: label the new generation with the day of the rotation, e.g. '2026-12-07'."
    )


def test_labels_an_earlier_version_deployed_are_kept_and_a_dated_one_follows_them():
    # `rotations: [1, 2]` was documented before: such a stack must still update and rotate.
    before = {"shop": {**SHOP, "rotations": [1, 2]}}
    assert problems(before, {"shop": {**SHOP, "rotations": [1, 2], "limit": 9}}) == []
    assert problems(before, {"shop": {**SHOP, "rotations": [2, "2026-12-07"]}}) == []
    [refusal] = problems(before, {"shop": {**SHOP, "rotations": [2, 3]}})
    assert refusal.startswith("keys.shop.rotations[1]: new generation '3' is not a date;")


def test_a_new_date_must_follow_the_latest_deployed_date_even_past_an_old_label():
    before = {"shop": {**SHOP, "rotations": ["2026-12-01", "legacy"]}}
    [refusal] = problems(before, {"shop": {**SHOP, "rotations": ["2026-12-01", "legacy",
                                                                  "2026-11-15"]}})
    assert "new generation '2026-11-15' is not later than '2026-12-01'" in refusal


def test_a_key_that_gets_rotations_labels_its_generations_with_dates():
    assert problems({"shop": SHOP}, rotated("2026-11-01", "2026-12-07")) == []
    [refusal] = problems({"shop": SHOP}, rotated("a", "2026-12-07"))
    assert refusal.startswith("keys.shop.rotations[0]: new generation 'a' is not a date;")


# --- consumers of a key the record saw disabled ---------------------------------------------


def disabled_problems(after: dict[str, Any]) -> list[str]:
    """The record of `shop` as an `up` leaves it once its key is disabled (by `disabled: true`,
    or in the dashboard and then refreshed): `disabled` is what the provider last saw."""
    previous = deployed({"shop": {"limit": 5}})
    previous["shop"] = previous["shop"].model_copy(update={"disabled": True})
    return [p.render() for p in record_problems(previous, plan_of(after), TODAY)]


def test_removing_disabled_while_adding_consumers_is_refused():
    [refusal] = disabled_problems({"shop": SHOP})
    assert refusal.startswith(
        "keys.shop.disabled: key 'prod-shop' is disabled, and a spec without `disabled` leaves"
        " it so, yet the change gives it 1 consumer (github:f8ai/shop:OPENROUTER_API_KEY),"
    )
    assert refusal.endswith(
        "Fix: set `disabled: false` on keys.shop to enable it in the same edit, or give the"
        " consumers another key."
    )


def test_consumers_of_a_key_enabled_in_the_same_edit_or_of_a_new_generation_are_allowed():
    assert disabled_problems({"shop": {**SHOP, "disabled": False}}) == []
    assert disabled_problems({"shop": {"limit": 5}}) == []  # stays disabled, holds nothing
    # The leak runbook: rotate away from the disabled key; the new generation gets them.
    assert disabled_problems({"shop": {**SHOP, "rotations": ["2026-11-01", "2026-12-07"]}}) == []


# --- as the program runs it ---------------------------------------------------------------


def config_of(keys: dict[str, Any], management_key: str) -> dict[str, Any]:
    return namespaced(
        {"keys": json.dumps(keys), "managementKey": management_key, "github:owner": "f8ai"}
    )


def test_the_program_refuses_before_registering_anything():
    management_key = make_sentinel()
    first = run_program(config_of(rotated("2026-11-01"), management_key), [MANAGEMENT],
                        stack="prod")
    assert first.error is None, first.error

    run = run_program(
        config_of(rotated("2026-12-07", "2026-11-01"), management_key),
        [MANAGEMENT],
        stack="prod",
        stack_outputs={"prod": first.outputs},
    )

    assert isinstance(run.error, TopologyConfigError)
    assert [p.path for p in run.error.problems] == ["keys.shop.rotations[1]"]
    assert str(run.error).startswith("The stack config has 1 problem; nothing was created")
    assert run.registrations == []
