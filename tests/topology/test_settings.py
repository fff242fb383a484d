"""Unknown settings are errors: nothing in the project's namespace, or in a namespace one slip
away from it, is ever silently ignored (issue 9: a misspelt `keys` planned to delete every key)."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.support.sentinel import make_sentinel
from tests.topology.harness import ROOT, namespaced, run_program
from topology.rules import TopologyConfigError
from topology.settings import PROJECT_SETTINGS, edit_distance, looks_like_ours, setting_problems


def rendered(config_keys: list[str]) -> list[str]:
    return [problem.render() for problem in setting_problems(config_keys)]


def test_every_setting_of_the_project_and_other_packages_passes():
    keys = [f"openrouter-keys:{name}" for name in PROJECT_SETTINGS]
    keys += ["github:owner", "github:token", "vercel:team", "aws:region", "pulumi:tags"]
    assert setting_problems(keys) == []


def test_a_misspelt_setting_names_itself_the_allowed_list_and_the_likely_fix():
    assert rendered(["openrouter-keys:key"]) == [
        "openrouter-keys:key: unknown setting 'key' in the `openrouter-keys` namespace; allowed:"
        " keys, guardrails, workspaces, managementKeyTargets, protectKeys, apiBaseUrl,"
        " adoptedSecrets, retireQuietPeriod, retireInUse, byok, observability, managementKey. An"
        " unknown setting is never ignored: a misspelt `keys` would plan to delete every key."
        " Fix: rename it to `openrouter-keys:keys` (docs/config.md), or remove it."
    ]


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("openrouter-key:keys", "`openrouter-keys:keys`"),
        ("openrouter_keys:keys", "`openrouter-keys:keys`"),
        ("OpenRouter-Keys:keys", "`openrouter-keys:keys`"),
        ("openrouter:keys", "`openrouter-keys:keys`"),
        ("openruoter-keys:protectKey", "`openrouter-keys:protectKeys`"),
    ],
)
def test_a_namespace_one_slip_away_is_refused_with_the_right_name(written, fix):
    (problem,) = rendered([written])
    assert problem.startswith(f"{written}: namespace ")
    assert "looks like a misspelling of `openrouter-keys`" in problem
    assert problem.endswith(f"Fix: rename it to {fix}.")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1))
def test_any_name_in_the_namespace_that_is_not_a_setting_is_refused(setting):
    found = setting_problems([f"openrouter-keys:{setting}"])
    assert (found == []) == (setting in PROJECT_SETTINGS)


@given(st.text(max_size=12), st.text(max_size=12))
def test_edit_distance_is_a_metric_on_samples(left, right):
    assert edit_distance(left, right) == edit_distance(right, left)
    assert (edit_distance(left, right) == 0) == (left == right)
    assert edit_distance(left, right) <= max(len(left), len(right))


def test_far_namespaces_are_other_packages():
    for namespace in ("github", "vercel", "aws", "openai", "keys", "router"):
        assert not looks_like_ours(namespace)


def test_pulumi_yaml_declares_exactly_the_settings_but_the_management_key():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert set(project["config"]) == set(PROJECT_SETTINGS) - {"managementKey"}


def test_a_stack_with_a_misspelt_keys_setting_registers_nothing():
    # Regression (issue 9, case 1): `openrouter-keys:key:` was ignored, the program saw no keys,
    # and `pulumi up --skip-preview` deleted every unprotected key.
    management_key = make_sentinel()
    config = namespaced({"key": json.dumps({"ci": {"limit": 5}}), "managementKey": management_key})
    run = run_program(config, ["openrouter-keys:managementKey"])
    assert isinstance(run.error, TopologyConfigError)
    assert [p.path for p in run.error.problems] == ["openrouter-keys:key"]
    assert run.registrations == []


def test_a_path_set_without_path_says_to_set_it_again_with_path():
    [problem] = setting_problems(["openrouter-keys:byok.mistral.key"])
    assert problem.path == "openrouter-keys:byok.mistral.key"
    assert "not a value inside `byok`" in problem.message
    assert problem.fix == (
        "run `pulumi config rm 'openrouter-keys:byok.mistral.key'`, then set it again with"
        " `--path`: `pulumi config set --path 'openrouter-keys:byok.mistral.key' <value>` (add"
        " `--secret` for a secret)."
    )
