"""The guardrail policy and workspace budget models: their rules, their request bodies, and the
order budget changes are sent in (a property over every pair of valid budget sets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from providers.governance_api import BUDGET_INTERVALS
from providers.guardrail_settings import GuardrailPolicy, regex_problem
from providers.workspace_settings import BudgetLimits, budget_steps, ordering_problem


@st.composite
def valid_budgets(draw: st.DrawFn) -> dict[str, float]:
    """Any subset of intervals with strictly decreasing limits, broadest first."""
    chosen = [i for i in BUDGET_INTERVALS if draw(st.booleans())]
    values = sorted(
        draw(st.sets(st.integers(1, 10_000), min_size=len(chosen), max_size=len(chosen))),
        reverse=True,
    )
    return dict(zip(chosen, map(float, values), strict=True))


@given(valid_budgets(), valid_budgets())
def test_every_budget_request_leaves_a_set_openrouter_accepts(current, desired):
    state = dict(current)
    for interval, limit in budget_steps(current, desired):
        if limit is None:
            state.pop(interval)
        else:
            state[interval] = limit
        assert ordering_problem(state) is None, (current, desired, state)
    assert state == desired


@given(valid_budgets())
def test_no_change_sends_nothing(budgets):
    assert budget_steps(budgets, dict(budgets)) == []


def test_budgets_must_decrease_strictly_and_be_positive():
    with pytest.raises(ValidationError, match="weekly budget \\(150\\) must be less than"):
        BudgetLimits(monthly=100, weekly=150)
    with pytest.raises(ValidationError, match="greater than 0"):
        BudgetLimits(daily=0)
    assert BudgetLimits(lifetime=1000, daily=5).limits() == {"lifetime": 1000, "daily": 5}


def test_a_policy_body_carries_every_field_so_a_patch_clears_what_was_removed():
    empty = GuardrailPolicy().body()
    full = GuardrailPolicy.model_validate(
        {
            "limitUsd": 20,
            "resetInterval": "monthly",
            "allowedModels": ["a/b"],
            "ignoredModels": [],
            "enforceZdr": {"openai": True},
            "allowTraining": {"paidModelTraining": False},
            "contentFilters": [{"builtin": "email", "action": "redact"}],
        }
    ).body()
    assert set(empty) == set(full)
    assert empty["allowed_models"] is None
    assert empty["include_byok_in_budgets"] is False  # never null: OpenRouter refuses it
    assert full["ignored_models"] is None  # an empty ignore list is no list
    assert full["enforce_zdr_openai"] is True
    assert full["enforce_zdr_google"] is None
    assert full["enable_paid_model_training"] is False
    assert full["content_filter_builtins"] == [{"slug": "email", "action": "redact"}]


@pytest.mark.parametrize(
    ("policy", "says"),
    [
        ({"limitUsd": 5}, "go together"),
        ({"resetInterval": "daily"}, "go together"),
        ({"allowedModels": []}, "at least 1 item"),
        ({"allowedDataRegions": []}, "at least 1 item"),
        (
            {"contentFilters": [{"builtin": "email", "action": "flag"}] * 2},
            "listed more than once",
        ),
        (
            {"contentFilters": [{"builtin": "email", "action": "flag", "scanScope": "user_only"}]},
            "only to the regex-prompt-injection",
        ),
        ({"contentFilters": [{"action": "flag"}]}, "either `builtin` or `pattern`"),
        ({"limitUsd": "20", "resetInterval": "daily"}, "valid number"),
        ({"allowedModel": ["a"]}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_policy_is_refused_with_the_reason(policy, says):
    with pytest.raises(ValidationError, match=says):
        GuardrailPolicy.model_validate(policy)


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("a(?=b)", "lookahead"),
        ("(?<!a)b", "lookahead and lookbehind"),
        (r"(a)\1", "backreferences"),
        ("(a+)+", "nested quantifiers"),
        ("(?i)acme", "inline flags"),
        ("[a-", "not a valid regular expression"),
    ],
)
def test_regex_features_openrouter_refuses_are_named(pattern, says):
    problem = regex_problem(pattern)
    assert problem is not None
    assert says in problem


@pytest.mark.parametrize("pattern", ["ACME-[0-9]{6}", r"\bsecret\b", "(ab)+c", "a{2,3}"])
def test_ordinary_patterns_pass(pattern):
    assert regex_problem(pattern) is None
