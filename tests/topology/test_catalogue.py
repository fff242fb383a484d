"""Model and provider names in guardrails, checked against OpenRouter's lists (issue 19, case 5):
the pure matching and suggestion, the program's check before anything is registered (under
mocks), and the two requests it makes, against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import Fault, run_emulator
from emulator import catalogue as served
from tests.support.sentinel import assert_absent, make_sentinel
from tests.topology.harness import GUARDRAIL_TYPE, emulator_catalogues, namespaced, run_program
from topology.catalogue import (
    MODELS,
    PROVIDERS,
    Catalogue,
    DeclaredList,
    catalogue_problems,
    declared_lists,
    kinds_needed,
    squash,
    suggestion,
)
from topology.config import RawConfig, TopologyConfigError, validate
from topology.openrouter import read_catalogues
from topology.preflight import check_catalogue

MANAGEMENT = "openrouter-keys:managementKey"
CATALOGUES = emulator_catalogues()
MODEL_LIST: Catalogue = CATALOGUES[MODELS]
PROVIDER_LIST: Catalogue = CATALOGUES[PROVIDERS]


def problems_for(kind: Any, *names: str) -> list[str]:
    lists = [DeclaredList("guardrails.ci.x", kind, names)]
    return [p.render() for p in catalogue_problems(lists, CATALOGUES)]


# --- matching and suggestion --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("gpt4o mini", "openai/gpt-4o-mini"),
        ("GPT-4o", "openai/gpt-4o"),
        ("openai/gpt4o", "openai/gpt-4o"),
        ("claude 3.5 haiku", "anthropic/claude-3.5-haiku"),
    ],
)
def test_a_misspelt_model_is_refused_with_the_listed_name_it_means(written, meant):
    [problem] = problems_for(MODELS, written)
    assert problem.startswith(f"guardrails.ci.x[0]: {written!r} is not in OpenRouter's model list")
    assert f"Fix: correct it to `{meant}`" in problem


@pytest.mark.parametrize(("written", "meant"), [("opnai", "openai"), ("OpenAI", "openai")])
def test_a_misspelt_provider_or_its_display_name_is_refused_with_its_slug(written, meant):
    [problem] = problems_for(PROVIDERS, written)
    assert "OpenRouter's provider list (GET /providers" in problem
    assert "allowed: a provider's slug from that list" in problem
    assert f"correct it to `{meant}`" in problem


def test_a_model_that_does_not_exist_is_refused_with_no_far_fetched_suggestion():
    [problem] = problems_for(MODELS, "openai/gpt-9-ultra")
    assert "'openai/gpt-9-ultra' is not in OpenRouter's model list (GET /models" in problem
    assert "correct it" not in problem
    assert "https://openrouter.ai/models" in problem


@pytest.mark.parametrize("suffix", ["nitro", "online", "free"])
def test_a_suffix_the_list_does_not_hold_is_refused_naming_the_model_to_write(suffix):
    [problem] = problems_for(MODELS, f"openai/gpt-4o:{suffix}")
    assert f"it lists no `:{suffix}` variant of `openai/gpt-4o`" in problem
    assert problem.endswith("Fix: write `openai/gpt-4o`.")


def test_ids_canonical_slugs_and_listed_variants_are_accepted():
    every_form = [m.id for m in served.MODELS] + [m.canonical_slug for m in served.MODELS]
    assert "meta-llama/llama-3.3-70b-instruct:free" in every_form
    assert problems_for(MODELS, *every_form) == []
    assert problems_for(PROVIDERS, *(p.slug for p in served.PROVIDERS)) == []


def test_each_bad_name_is_its_own_problem_at_its_index():
    found = problems_for(MODELS, "openai/gpt-4o-mini", "nope/one", "openai/gpt-4o", "x")
    assert [p.split(":")[0] for p in found] == ["guardrails.ci.x[1]", "guardrails.ci.x[3]"]


_listed = st.sampled_from(MODEL_LIST.listed)


@given(_listed)
def test_a_listed_model_is_never_refused(name):
    assert problems_for(MODELS, name) == []


@given(_listed, st.sampled_from([str.upper, str.title]), st.sampled_from(["-", ".", "/"]))
def test_a_listed_name_with_other_case_or_punctuation_leads_back_to_it(name, case, mark):
    mangled = case(name.replace(mark, " "))
    assert mangled not in MODEL_LIST.accepted
    assert suggestion(mangled, MODEL_LIST) == name


@given(st.text(max_size=40))
def test_a_suggestion_is_always_a_listed_name_and_never_the_name_itself(name):
    near = suggestion(name, MODEL_LIST)
    assert near is None or near in MODEL_LIST.listed
    assert (problems_for(MODELS, name) == []) == (name in MODEL_LIST.accepted)


def test_the_squashed_forms_of_the_emulators_catalogue_are_distinct():
    # Otherwise a suggestion could lead a name to a model it does not mean.
    assert len({squash(name) for name in MODEL_LIST.listed}) == len(MODEL_LIST.listed)


# --- which settings are checked -------------------------------------------------------------------


def raw(guardrails: Any = None, workspaces: Any = None) -> RawConfig:
    return RawConfig(
        keys="{}",
        guardrails=None if guardrails is None else json.dumps(guardrails),
        workspaces=None if workspaces is None else json.dumps(workspaces),
        management_key=make_sentinel(),
        management_key_is_secret=True,
    )


def test_every_list_of_guardrails_and_default_guardrails_is_found_by_its_path():
    config = validate(
        raw(
            {"ci": {"allowedModels": ["a/b"], "ignoredProviders": ["c"], "description": "x"}},
            {"agents": {"defaultGuardrail": {"ignoredModels": ["d/e"], "allowedProviders": ["f"]}}},
        ),
        "dev",
        {},
    )
    lists = declared_lists(config.plan)
    assert [(item.path, item.names) for item in lists] == [
        ("guardrails.ci.allowedModels", ("a/b",)),
        ("guardrails.ci.ignoredProviders", ("c",)),
        ("workspaces.agents.defaultGuardrail.ignoredModels", ("d/e",)),
        ("workspaces.agents.defaultGuardrail.allowedProviders", ("f",)),
    ]
    assert kinds_needed(lists) == {MODELS, PROVIDERS}


def test_a_list_that_could_not_be_read_refuses_every_setting_that_needs_it():
    lists = [
        DeclaredList("guardrails.a.allowedModels", MODELS, ("openai/gpt-4o",)),
        DeclaredList("guardrails.b.ignoredModels", MODELS, ("openai/gpt-4o",)),
        DeclaredList("guardrails.b.allowedProviders", PROVIDERS, ("openai",)),
    ]
    found = catalogue_problems(lists, {MODELS: "GET /models: 503", PROVIDERS: PROVIDER_LIST})
    assert [p.path for p in found] == ["guardrails.a.allowedModels", "guardrails.b.ignoredModels"]
    assert found[0].message.startswith(
        "cannot be checked: OpenRouter's model list (GET /models) could not be read"
        " (GET /models: 503)"
    )


# --- the program: before anything is registered ---------------------------------------------


def program_run(guardrails: Any, workspaces: Any = None) -> Any:
    values: dict[str, Any] = {
        "keys": json.dumps({"ci": {"guardrail": "ci"}} if "ci" in guardrails else {}),
        "guardrails": json.dumps(guardrails),
        "managementKey": make_sentinel(),
    }
    if workspaces is not None:
        values["workspaces"] = json.dumps(workspaces)
    return run_program(namespaced(values), [MANAGEMENT], stack="dev")


def test_a_typo_in_an_allowlist_registers_nothing_and_names_the_setting():
    run = program_run(
        {"ci": {"allowedModels": ["gpt4o mini"]}, "p": {"allowedProviders": ["opnai"]}}
    )

    assert isinstance(run.error, TopologyConfigError)
    assert [p.path for p in run.error.problems] == [
        "guardrails.ci.allowedModels[0]",
        "guardrails.p.allowedProviders[0]",
    ]
    assert "correct it to `openai/gpt-4o-mini`" in str(run.error)
    assert "correct it to `openai`" in str(run.error)
    assert run.registrations == []
    assert run.catalogue_asks == [frozenset({MODELS, PROVIDERS})]  # each list once


def test_a_default_guardrail_is_checked_as_a_guardrail_is():
    run = program_run({}, {"agents": {"defaultGuardrail": {"ignoredModels": ["openai/gpt-9"]}}})
    assert isinstance(run.error, TopologyConfigError)
    [problem] = run.error.problems
    assert problem.path == "workspaces.agents.defaultGuardrail.ignoredModels[0]"


def test_only_the_lists_the_plan_needs_are_asked_for():
    run = program_run({"ci": {"allowedModels": ["openai/gpt-4o-mini"], "limitUsd": 1,
                              "resetInterval": "daily"}})
    assert run.error is None, run.error
    assert run.catalogue_asks == [frozenset({MODELS})]
    assert run.of_type(GUARDRAIL_TYPE)


def test_a_stack_without_lists_asks_for_none():
    run = program_run({"ci": {"limitUsd": 1, "resetInterval": "daily"}})
    assert run.error is None, run.error
    assert run.catalogue_asks == []


# --- the requests, against the emulator -----------------------------------------------------------


def config_for(api_base_url: str, guardrails: Any) -> Any:
    return validate(raw(guardrails), "dev", {"OPENROUTER_API_BASE_URL": api_base_url})


def test_the_check_asks_each_list_once_with_every_output_kind():
    guardrails = {
        "a": {"allowedModels": ["openai/text-embedding-3-small"], "allowedProviders": ["groq"]},
        "b": {"ignoredModels": ["google/gemini-2.5-flash-image"], "ignoredProviders": ["azure"]},
    }
    with run_emulator() as emulator:
        config = config_for(emulator.api_base_url, guardrails)
        check_catalogue(config, read_catalogues)  # image and embedding models are accepted
        asked = [(r.method, r.path, r.query) for r in emulator.requests()]
    assert asked == [
        ("GET", "/api/v1/models", "output_modalities=all"),
        ("GET", "/api/v1/providers", ""),
    ]


def test_an_unreadable_list_fails_closed_and_says_so():
    with run_emulator() as emulator:
        emulator.inject(Fault(path="/api/v1/models", status=404, times=5))
        config = config_for(emulator.api_base_url, {"a": {"allowedModels": ["openai/gpt-4o"]}})
        with pytest.raises(TopologyConfigError) as refused:
            check_catalogue(config, read_catalogues)
    [problem] = refused.value.problems
    assert problem.path == "guardrails.a.allowedModels"
    assert "could not be read" in problem.message
    assert_absent(config.management_key.reveal(), str(refused.value))  # type: ignore[union-attr]
