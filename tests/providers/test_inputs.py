"""The input table, check and diff of `ApiKey`: pure functions, so examples and properties."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown
from pydantic import ValidationError

from providers import key_inputs
from providers.base.fields import CONFIG_PATH
from providers.http.formats import LIMIT_RESETS
from providers.http.wire import parse_key
from providers.key import ApiKeyArgs
from providers.key_inputs import (
    CREATE_FIELDS,
    DECLARED,
    INPUTS,
    PATCH_FIELDS,
    REPLACE_FIELDS,
    KeyInputs,
    OnChange,
    check_inputs,
    declared_inputs,
    diff_inputs,
    patch_changes,
)
from providers.key_outputs import key_outputs
from providers.key_settings import KeySettings, setting_rows
from topology.model import KeySpec

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
FUTURE = "2027-06-30T00:00:00Z"
WORKSPACE = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
OTHER_WORKSPACE = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
HASH_A = "a" * 64
HASH_B = "b" * 64
PROVIDER_BLOB = "c2VyaWFsaXplZCBwcm92aWRlcg=="


def outputs_for(news: dict[str, Any], **server: Any) -> dict[str, Any]:
    """Old outputs as a create would leave them: the server's view plus `declared`."""
    outs: dict[str, Any] = {
        "hash": HASH_A,
        "key": None,
        "label": "sk-or-v1-0e6...1c9",
        "name": news.get("name"),
        "limit": news.get("limit"),
        "limit_reset": news.get("limit_reset"),
        "include_byok_in_limit": news.get("include_byok_in_limit", False),
        "disabled": news.get("disabled", False),
        "expires_at": news.get("expires_at"),
        "workspace_id": news.get("workspace_id", WORKSPACE),
        "adopt": news.get("adopt"),
        "created_at": "2026-11-30T10:00:00Z",
        "__provider": PROVIDER_BLOB,
        DECLARED: declared_inputs(news),
    }
    outs.update(server)
    return outs


# --- the table ---------------------------------------------------------------------------------


def test_table_puts_each_input_in_place_or_replace_as_the_api_allows():
    in_place = {spec.name for spec in INPUTS if spec.on_change is OnChange.UPDATE}
    assert in_place == {
        "name", "limit", "limit_reset", "include_byok_in_limit", "disabled", "adopt_secret"
    }
    assert set(REPLACE_FIELDS) == {"expires_at", "workspace_id", "adopt"}
    assert set(PATCH_FIELDS) == {
        "name", "limit", "limit_reset", "include_byok_in_limit", "disabled"
    }


def test_table_covers_every_input_the_resource_sends():
    # `config_path` is bookkeeping for messages: never sent, never diffed.
    sent = set(ApiKeyArgs(name="ci").inputs())
    assert {spec.name for spec in INPUTS} | {CONFIG_PATH} == sent


def test_a_key_setting_is_one_row_every_layer_derives_from():
    # The settings' rows are the table's rows, and the config model, the plan, the request and
    # the outputs take them from there (issue 10: one field table).
    names = [name for name, _, _ in setting_rows()]
    assert names == list(KeySettings.model_fields)
    assert [spec.name for spec in INPUTS][1 : 1 + len(names)] == names
    assert set(names) <= set(KeySpec.model_fields)
    record = parse_key(
        {"data": {"hash": "a" * 64, "name": "x", "disabled": False, "limit": None,
                  "created_at": "2026-01-01T00:00:00Z"}}
    )
    assert set(names) <= set(key_outputs(record, key=None, declared=[], adopt=None))
    assert set(CREATE_FIELDS) == {"name", *names, "workspace_id"} - {"disabled"}


def test_every_input_is_validated_by_one_model_whose_rows_are_the_table():
    # Issue 20: one validation path; the hand-written rule of each kind is gone.
    assert [spec.name for spec in INPUTS] == [
        "name", *KeySettings.model_fields, "workspace_id", "adopt", "adopt_secret"
    ]
    rows = {name: row for name, _, row in setting_rows(KeyInputs)}
    assert all(spec.row is rows[spec.name] for spec in INPUTS)
    assert not hasattr(key_inputs, "_RULES")


@pytest.mark.parametrize(
    ("setting", "prop", "value"),
    [
        ("workspaceId", "workspace_id", WORKSPACE + "\n"),
        ("adopt", "adopt", HASH_A + "\n"),
        ("workspaceId", "workspace_id", WORKSPACE),
        ("adopt", "adopt", HASH_A),
    ],
)
def test_the_provider_refuses_exactly_what_the_stack_file_refuses(setting, prop, value):
    # A trailing newline passed the provider's own pattern (`$` matches before it) while the
    # stack file refused it: two rules for one input.
    try:
        KeySpec.model_validate({setting: value})
        stack_refuses = False
    except ValidationError:
        stack_refuses = True
    provider_refuses = [f.property for f in check_inputs({}, {"name": "ci", prop: value}, NOW)]
    assert provider_refuses == ([prop] if stack_refuses else [])


# --- check -------------------------------------------------------------------------------------


def test_valid_inputs_pass_check():
    news = {
        "name": "ci-deploy",
        "limit": 25,
        "limit_reset": "monthly",
        "include_byok_in_limit": True,
        "expires_at": FUTURE,
        "disabled": False,
        "workspace_id": WORKSPACE,
        "adopt": HASH_A,
        "adopt_secret": "not-a-real-secret",
    }
    assert check_inputs({}, news, NOW) == []


def test_every_bad_input_is_reported_at_once():
    news = {
        "name": "",
        "limit": -1,
        "limit_reset": "hourly",
        "include_byok_in_limit": "yes",
        "expires_at": "2027-06-30",
        "disabled": 1,
        "workspace_id": "default",
        "adopt": "ABC",
    }
    failures = check_inputs({}, news, NOW)
    assert [f.property for f in failures] == [
        "name",
        "limit",
        "limit_reset",
        "include_byok_in_limit",
        "expires_at",
        "disabled",
        "workspace_id",
        "adopt",
    ]


@pytest.mark.parametrize(
    ("prop", "value", "quoted", "allowed"),
    [
        ("limit", -5, "-5", ">= 0"),
        ("limit", "ten", "'ten'", "number of US dollars"),
        ("limit", True, "True", "number of US dollars"),
        ("limit", float("nan"), "nan", "number of US dollars"),
        ("limit_reset", "hourly", "'hourly'", "daily, weekly, monthly"),
        ("include_byok_in_limit", "true", "'true'", "true or false"),
        ("disabled", 0, "0", "true or false"),
        ("expires_at", "2027-06-30T00:00Z", "'2027-06-30T00:00Z'", "with seconds"),
        ("expires_at", "2027-06-30T02:00:00+02:00", "+02:00", "only UTC"),
        ("expires_at", "tomorrow", "'tomorrow'", "RFC 3339"),
        ("expires_at", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "future UTC timestamp"),
        ("workspace_id", "ws-1", "'ws-1'", "workspace UUID"),
        ("adopt", "A" * 64, "AAAA", "64 lowercase hex"),
        ("adopt", "a" * 63, "aaaa", "64 lowercase hex"),
    ],
)
def test_bad_value_is_named_with_what_is_allowed(prop, value, quoted, allowed):
    news = {"name": "ci", prop: value}
    failures = check_inputs({}, news, NOW)
    assert len(failures) == 1
    failure = failures[0]
    assert failure.property == prop
    assert f"`{prop}`" in failure.reason
    assert quoted in failure.reason
    assert allowed in failure.reason


def test_missing_name_says_it_is_required():
    failures = check_inputs({}, {"limit": 5}, NOW)
    assert [(f.property, "required" in f.reason) for f in failures] == [("name", True)]


def test_blank_name_is_rejected():
    assert [f.property for f in check_inputs({}, {"name": "   "}, NOW)] == ["name"]


def test_unknown_values_are_not_checked_during_preview():
    news = {name: Unknown() for name in ("name", "limit", "limit_reset", "expires_at", "adopt")}
    assert check_inputs({}, news, NOW) == []


def test_past_expiry_fails_for_a_new_key():
    failures = check_inputs({}, {"name": "ci", "expires_at": "2026-11-01T00:00:00Z"}, NOW)
    assert [f.property for f in failures] == ["expires_at"]


def test_unchanged_past_expiry_of_an_existing_key_passes():
    olds = {"name": "ci", "expires_at": "2026-11-01T00:00:00.000+00:00"}
    news = {"name": "ci", "expires_at": "2026-11-01T00:00:00Z"}
    assert check_inputs(olds, news, NOW) == []


def test_changed_past_expiry_of_an_existing_key_fails():
    olds = {"name": "ci", "expires_at": "2026-11-01T00:00:00Z"}
    news = {"name": "ci", "expires_at": "2026-11-02T00:00:00Z"}
    assert [f.property for f in check_inputs(olds, news, NOW)] == ["expires_at"]


def test_adopt_secret_value_is_never_quoted():
    failures = check_inputs({}, {"name": "ci", "adopt_secret": 12345}, NOW)
    assert [f.property for f in failures] == ["adopt_secret", "adopt_secret"]
    assert all("12345" not in f.reason for f in failures)


def test_adopt_secret_without_adopt_is_rejected_in_the_stack_files_words():
    news = {"name": "ci", "adopt_secret": "s3cret-value", "config_path": "keys.ci"}
    failures = check_inputs({}, news, NOW)
    assert [f.property for f in failures] == ["adopt_secret"]
    assert failures[0].reason.startswith(
        "`adoptedSecrets.ci` is only allowed for an adopted key: set `keys.ci.adopt` to the hash"
    )


ADOPTED = {"name": "legacy", "limit": 5, "expires_at": FUTURE, "adopt": HASH_A}
PLAIN = {"name": "ci", "limit": 5, "expires_at": FUTURE, "workspace_id": WORKSPACE}


@pytest.mark.parametrize(
    ("olds", "change", "prop"),
    [
        (PLAIN, {"expires_at": "2028-01-01T00:00:00Z"}, "expires_at"),
        (PLAIN, {"expires_at": None}, "expires_at"),  # removed: a never-expiring new key
        (PLAIN, {"workspace_id": OTHER_WORKSPACE}, "workspace_id"),
        (PLAIN, {"adopt": HASH_B}, "adopt"),  # adopting another key under the same id
        (ADOPTED, {"expires_at": "2028-01-01T00:00:00Z"}, "expires_at"),
        (ADOPTED, {"adopt": HASH_B}, "adopt"),
        # Regression: dropping `adopt` in the same change let the replace mint a new key and
        # delete the adopted one at the end of the update.
        ({**ADOPTED}, {"adopt": None, "expires_at": "2028-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_a_change_that_would_replace_an_existing_key_is_refused(olds, change, prop):
    # Issue 9: the old key would be deleted at the end of the update while deployments still
    # hold it; a replace-forcing value belongs to a new generation.
    news = {k: v for k, v in {**olds, **change, "config_path": "keys.ci"}.items() if v is not None}
    failures = check_inputs(olds, news, NOW)
    assert [(f.property, f.kind) for f in failures] == [(prop, "key-replace-refused")]
    setting = {"expires_at": "expiresAt", "workspace_id": "workspaceId", "adopt": "adopt"}[prop]
    assert failures[0].reason.startswith(f"`keys.ci.{setting}`: OpenRouter cannot change it")
    assert "Nothing was changed. Fix: " in failures[0].reason


@pytest.mark.parametrize(
    "news",
    [
        {**ADOPTED, "limit": 50, "name": "renamed"},  # in place
        {k: v for k, v in ADOPTED.items() if k != "adopt"},  # bookkeeping: the same key
        ADOPTED,
    ],
    ids=["in-place", "adopt-dropped", "unchanged"],
)
def test_changes_that_keep_the_key_pass(news):
    assert check_inputs(ADOPTED, news, NOW) == []


def test_a_new_key_may_carry_any_replace_forcing_value():
    assert check_inputs({}, {**PLAIN, "adopt": HASH_B}, NOW) == []


def test_a_key_pasted_into_the_limit_is_redacted_in_the_failure(sentinel):
    failures = check_inputs({}, {"name": "ci", "limit": sentinel}, NOW)
    assert len(failures) == 1
    assert sentinel not in failures[0].reason


# --- diff --------------------------------------------------------------------------------------


def test_fresh_key_has_no_diff():
    news = {"name": "ci", "limit": 5, "expires_at": FUTURE}
    assert diff_inputs(outputs_for(news), news) == key_inputs.DiffPlan()


def test_numbers_and_timestamps_compare_by_value():
    news = {"name": "ci", "limit": 5, "expires_at": "2027-06-30T00:00:00Z"}
    olds = outputs_for(news, limit=5.0, expires_at="2027-06-30T00:00:00.000+00:00")
    assert not diff_inputs(olds, news).has_changes


def test_limit_change_updates_in_place():
    olds = outputs_for({"name": "ci", "limit": 5})
    plan = diff_inputs(olds, {"name": "ci", "limit": 10})
    assert plan == key_inputs.DiffPlan(changed=("limit",), replaces=())
    assert patch_changes(olds, {"name": "ci", "limit": 10}) == {"limit": 10}


def test_rename_updates_in_place():
    olds = outputs_for({"name": "ci"})
    assert diff_inputs(olds, {"name": "ci-2"}) == key_inputs.DiffPlan(changed=("name",))


def test_expiry_change_replaces_the_key():
    olds = outputs_for({"name": "ci", "expires_at": FUTURE})
    plan = diff_inputs(olds, {"name": "ci", "expires_at": "2027-07-01T00:00:00Z"})
    assert plan.replaces == ("expires_at",)


def test_workspace_change_replaces_the_key():
    olds = outputs_for({"name": "ci", "workspace_id": WORKSPACE})
    plan = diff_inputs(olds, {"name": "ci", "workspace_id": OTHER_WORKSPACE})
    assert plan.replaces == ("workspace_id",)


def test_workspace_uuid_case_does_not_diff():
    olds = outputs_for({"name": "ci", "workspace_id": WORKSPACE})
    assert not diff_inputs(olds, {"name": "ci", "workspace_id": WORKSPACE.upper()}).has_changes


def test_omitted_workspace_never_diffs_against_the_server_default():
    olds = outputs_for({"name": "ci"}, workspace_id=OTHER_WORKSPACE)
    assert not diff_inputs(olds, {"name": "ci"}).has_changes


def test_omitted_flag_never_diffs_against_the_server_value():
    olds = outputs_for({"name": "ci"}, include_byok_in_limit=True, disabled=True)
    assert not diff_inputs(olds, {"name": "ci"}).has_changes


def test_provider_label_and_usage_counters_of_older_state_never_diff():
    """State written before the counters left it still holds them until the key's next write."""
    news = {"name": "ci", "limit": 5}
    olds = outputs_for(
        news, usage=3.5, usage_daily=1, limit_remaining=1.5, label="other", __provider="changed"
    )
    assert not diff_inputs(olds, news).has_changes


def test_removed_limit_goes_back_to_unlimited():
    olds = outputs_for({"name": "ci", "limit": 5, "limit_reset": "daily"})
    news = {"name": "ci"}
    assert diff_inputs(olds, news) == key_inputs.DiffPlan(changed=("limit", "limit_reset"))
    assert patch_changes(olds, news) == {"limit": None, "limit_reset": None}


def test_removed_disabled_flag_leaves_the_key_disabled():
    """A spec without `disabled` leaves the key as it is (docs/config.md#disabled-keys)."""
    olds = outputs_for({"name": "ci", "disabled": True})
    assert not diff_inputs(olds, {"name": "ci"}).has_changes
    assert patch_changes(olds, {"name": "ci", "limit": 5}) == {"limit": 5}


def test_disabled_false_enables_a_disabled_key():
    olds = outputs_for({"name": "ci", "disabled": True})
    assert diff_inputs(olds, {"name": "ci", "disabled": False}).changed == ("disabled",)
    assert patch_changes(olds, {"name": "ci", "disabled": False}) == {"disabled": False}


def test_removed_expiry_replaces_with_a_key_that_never_expires():
    olds = outputs_for({"name": "ci", "expires_at": FUTURE})
    assert diff_inputs(olds, {"name": "ci"}).replaces == ("expires_at",)


def test_removed_adopt_is_bookkeeping_not_a_replace():
    olds = outputs_for({"name": "ci", "adopt": HASH_A})
    assert not diff_inputs(olds, {"name": "ci"}).has_changes


def test_new_adopt_hash_replaces():
    olds = outputs_for({"name": "ci", "adopt": HASH_A})
    assert diff_inputs(olds, {"name": "ci", "adopt": HASH_B}).replaces == ("adopt",)


def test_adopt_secret_added_later_is_an_in_place_change():
    olds = outputs_for({"name": "ci", "adopt": HASH_A})
    plan = diff_inputs(olds, {"name": "ci", "adopt": HASH_A, "adopt_secret": "s"})
    assert plan == key_inputs.DiffPlan(changed=("adopt_secret",))
    assert patch_changes(olds, {"name": "ci", "adopt": HASH_A, "adopt_secret": "s"}) == {}


def test_adopt_secret_equal_to_the_key_output_does_not_diff():
    news = {"name": "ci", "adopt": HASH_A, "adopt_secret": "s"}
    assert not diff_inputs(outputs_for(news, key="s"), news).has_changes


def test_drift_on_a_declared_input_is_a_change():
    news = {"name": "ci", "disabled": False}
    olds = outputs_for(news, disabled=True)
    assert diff_inputs(olds, news) == key_inputs.DiffPlan(changed=("disabled",))
    assert patch_changes(olds, news) == {"disabled": False}


def test_unknown_replace_field_is_a_change_but_not_a_replace():
    olds = outputs_for({"name": "ci", "expires_at": FUTURE})
    plan = diff_inputs(olds, {"name": "ci", "expires_at": Unknown()})
    assert plan == key_inputs.DiffPlan(changed=("expires_at",), replaces=())


def test_outputs_without_declared_list_do_not_diff_on_omitted_inputs():
    olds = outputs_for({"name": "ci"}, limit=5)
    del olds[DECLARED]
    assert not diff_inputs(olds, {"name": "ci"}).has_changes


# --- properties --------------------------------------------------------------------------------

future_timestamps = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))


@st.composite
def valid_inputs(draw: st.DrawFn) -> dict[str, Any]:
    news: dict[str, Any] = {"name": draw(st.text(min_size=1, max_size=20).filter(str.strip))}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "limit": st.one_of(st.integers(0, 10_000), st.floats(0, 10_000, allow_nan=False)),
        "limit_reset": st.sampled_from(LIMIT_RESETS),
        "include_byok_in_limit": st.booleans(),
        "disabled": st.booleans(),
        "expires_at": future_timestamps.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "workspace_id": st.uuids().map(str),
        "adopt": st.text("0123456789abcdef", min_size=64, max_size=64),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            news[name] = draw(strategy)
    return news


def respelled(news: dict[str, Any]) -> dict[str, Any]:
    """The same values as the server might spell them back: floats and long timestamps."""
    server = dict(news)
    if "limit" in server:
        server["limit"] = float(server["limit"])
    if "expires_at" in server:
        moment = datetime.strptime(server["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        server["expires_at"] = moment.isoformat(timespec="milliseconds")
    return server


arbitrary_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.builds(Unknown),
)
arbitrary_props = st.dictionaries(
    st.sampled_from([spec.name for spec in INPUTS] + ["key", "usage", "__provider"]),
    arbitrary_values,
)


@given(valid_inputs())
def test_valid_inputs_always_pass_check(news):
    assert check_inputs({}, news, NOW) == []


@given(valid_inputs())
def test_no_perpetual_diff_after_create(news):
    olds = outputs_for(news)
    olds.update({k: v for k, v in respelled(news).items() if k != "name"})
    assert diff_inputs(olds, news) == key_inputs.DiffPlan()
    assert patch_changes(olds, news) == {}


@given(
    arbitrary_props,
    arbitrary_props,
    st.lists(st.sampled_from([spec.name for spec in INPUTS]), max_size=4),
)
def test_diff_is_pure_and_replaces_only_on_replace_fields(olds, news, declared):
    olds = {**olds, DECLARED: declared}
    olds_before, news_before = copy.deepcopy(olds), copy.deepcopy(news)
    plan = diff_inputs(olds, news)
    assert plan == diff_inputs(olds, news)
    assert (olds.keys(), news.keys()) == (olds_before.keys(), news_before.keys())
    assert set(plan.replaces) <= REPLACE_FIELDS
    assert set(plan.replaces) <= set(plan.changed)
    assert not any(isinstance(news.get(name), Unknown) for name in plan.replaces)
    assert set(patch_changes(olds, news)) <= PATCH_FIELDS


@given(valid_inputs(), valid_inputs())
@settings(max_examples=50)
def test_patch_after_update_leaves_nothing_to_patch(first, second):
    """Applying the PATCH to the outputs converges: the next diff has no in-place change."""
    olds = outputs_for(first)
    changes = patch_changes(olds, second)
    applied = {**olds, **changes, DECLARED: declared_inputs(second)}
    if "adopt_secret" in second:
        applied["key"] = second["adopt_secret"]
    remaining = diff_inputs(applied, second)
    assert set(remaining.changed) <= REPLACE_FIELDS


def test_expiry_one_second_from_now_passes_and_now_fails():
    soon = (NOW + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    at_now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert check_inputs({}, {"name": "ci", "expires_at": soon}, NOW) == []
    assert [f.property for f in check_inputs({}, {"name": "ci", "expires_at": at_now}, NOW)] == [
        "expires_at"
    ]
