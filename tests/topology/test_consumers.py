"""Consumers as GitHub and Vercel really behave (docs/adr/0007).

- A corpus of bad consumer entries: every rule of the two services a stack file can break is
  refused by validation, before anything is registered, with its path and fix.
- Vercel's sensitive rule: no registered variable is sensitive with a development target, and a
  development variable exists only when its entry says developmentReadableByTeam (hypothesis).
- The seed's scenario and the migration of stacks that already have development variables.
- The registered inputs are the SDKs' current ones: nothing deprecated or conflicting.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.sentinel import make_sentinel
from tests.topology.harness import ROOT, ProgramRun, namespaced, run_program, stack_file_config
from tests.topology.step_model import Stack, World, apply, converged
from tests.topology.test_program import PROJECTS, scenario_config
from topology.config import RawConfig, parse_keys, validate
from topology.consumers import RULE_SOURCES
from topology.model import VERCEL_RESERVED
from topology.plan import READABLE, SinkKind
from topology.rules import Facts, TopologyConfigError, all_problems
from topology.vercel_rules import git_branch_issue

PROJECT_VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
SHARED_VARIABLE = "vercel:index/sharedEnvironmentVariable:SharedEnvironmentVariable"
ACTIONS_SECRET = "github:index/actionsSecret:ActionsSecret"
MANAGEMENT_KEY = "openrouter-keys:managementKey"


def raw(keys: Any, targets: Any = None) -> RawConfig:
    return RawConfig(
        keys=json.dumps(keys),
        management_key_targets=None if targets is None else json.dumps(targets),
        management_key="sk-or-v1-" + "0" * 8,  # short: not key-shaped
        management_key_is_secret=True,
        github_owner="f8ai",
        vercel_team="f8ai",
    )


def rendered(keys: Any, targets: Any = None) -> list[str]:
    with pytest.raises(TopologyConfigError) as caught:
        validate(raw(keys, targets), "prod", {})
    return [problem.render() for problem in caught.value.problems]


def github(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"production": {"github": list(entries)}}


def vercel(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"production": {"vercel": list(entries)}}


# --- the corpus of bad entries -----------------------------------------------------------------

LONG_ENVIRONMENT = "e" * 256
CORPUS: list[tuple[str, dict[str, Any], dict[str, Any] | None, str, str]] = [
    # (rule, keys, managementKeyTargets, path, a phrase of the message)
    ("secret name: a dash", github({"repository": "agents", "secret": "OPENROUTER-KEY"}), None,
     "keys.production.github[0].secret", "is not a valid GitHub secret name"),
    ("secret name: a digit first", github({"repository": "agents", "secret": "1KEY"}), None,
     "keys.production.github[0].secret", "not starting with a digit"),
    ("secret name: a space", github({"repository": "agents", "secret": "MY KEY"}), None,
     "keys.production.github[0].secret", "is not a valid GitHub secret name"),
    ("secret name: GITHUB_ prefix, any case",
     github({"repository": "agents", "secret": "github_key"}), None,
     "keys.production.github[0].secret", "starts with GITHUB_, which GitHub reserves"),
    ("environment: empty", github({"repository": "agents", "environment": " "}), None,
     "keys.production.github[0].environment", "is not an environment"),
    ("environment: longer than 255",
     github({"repository": "agents", "environment": LONG_ENVIRONMENT}), None,
     "keys.production.github[0].environment", "has 256 characters; allowed: at most 255"),
    ("environment on an organization", github({"organization": "f8ai", "visibility": "all",
     "environment": "production"}), None, "keys.production.github[0].environment",
     "environments belong to repositories"),
    ("organization: no visibility", github({"organization": "f8ai"}), None,
     "keys.production.github[0].visibility", "has no visibility"),
    ("organization: repositories without selected", github({"organization": "f8ai",
     "visibility": "private", "repositories": ["agents"]}), None,
     "keys.production.github[0].repositories", "needs visibility: selected"),
    ("organization: selected without repositories", github({"organization": "f8ai",
     "visibility": "selected"}), None, "keys.production.github[0].repositories",
     "needs the repositories that may read the secret"),
    ("organization: a repository of another owner", github({"organization": "f8ai",
     "visibility": "selected", "repositories": ["partner/agents"]}), None,
     "keys.production.github[0].repositories[0]", "is not a repository of organization"),
    ("organization: a repository twice, case-insensitively", github({"organization": "f8ai",
     "visibility": "selected", "repositories": ["agents", "Agents"]}), None,
     "keys.production.github[0].repositories[1]", "is listed twice"),
    ("visibility on a repository secret", github({"repository": "agents", "visibility": "all"}),
     None, "keys.production.github[0].visibility", "applies to organization secrets"),
    ("Dependabot has no environments", github({"repository": "agents", "environment": "ci",
     "dependabot": True}), None, "keys.production.github[0].dependabot",
     "Dependabot has no environment secrets"),
    ("the same secret twice in one scope", github({"repository": "agents"},
     {"repository": "f8ai/Agents", "secret": "openrouter_api_key"}), None,
     "keys.production.github[1]", "GitHub stores secret names upper-cased"),
    ("a repository secret hides an organization secret of another key",
     {"a": {"github": [{"organization": "f8ai", "visibility": "selected",
                        "repositories": ["agents", "web"]}]},
      "b": {"github": [{"repository": "web"}]}}, None,
     "keys.a.github[0].repositories[1]", "which GitHub prefers to the organization secret"),
    ("the management key to Dependabot", {}, {"github": [{"repository": "infra",
     "dependabot": True}]}, "managementKeyTargets.github[0].dependabot",
     "the management key never goes to Dependabot"),
    ("the management key to every repository", {}, {"github": [{"organization": "f8ai",
     "visibility": "all"}]}, "managementKeyTargets.github[0].visibility",
     "would hand the management key to every repository"),
    ("the management key to every private repository", {}, {"github": [{"organization": "f8ai",
     "visibility": "private"}]}, "managementKeyTargets.github[0].visibility",
     "to every private repository"),
    ("the management key to Vercel", {}, {"vercel": [{"project": "web"}]},
     "managementKeyTargets.vercel", "the management key never goes to Vercel"),
    ("Vercel name: a dash", vercel({"project": "web", "variable": "OPENROUTER-KEY"}), None,
     "keys.production.vercel[0].variable", "is not a valid environment variable name"),
    ("Vercel name: reserved", vercel({"project": "web", "variable": "AWS_LAMBDA_FUNCTION_NAME"}),
     None, "keys.production.vercel[0].variable", "is reserved by Vercel's function runtime"),
    ("Vercel name: reserved, other case", vercel({"project": "web", "variable": "tz"}), None,
     "keys.production.vercel[0].variable", "is reserved by Vercel's function runtime"),
    ("targets: empty", vercel({"project": "web", "targets": []}), None,
     "keys.production.vercel[0].targets", "the list is empty"),
    ("targets: twice", vercel({"project": "web", "targets": ["production", "production"]}), None,
     "keys.production.vercel[0].targets[1]", "is listed twice"),
    ("targets: a custom environment", vercel({"project": "web", "targets": ["staging"]}), None,
     "keys.production.vercel[0].targets[0]", "allowed: production, preview, development"),
    ("targets: a custom environment id", vercel({"project": "web", "targets": ["env_abc123"]}),
     None, "keys.production.vercel[0].targets[0]", "allowed: production, preview, development"),
    ("development without saying it is readable", vercel({"project": "web",
     "targets": ["production", "development"]}), None, "keys.production.vercel[0].targets[1]",
     "would hold the key in a readable variable"),
    ("development on a shared variable", vercel({"projects": ["web"], "targets": ["development"]}),
     None, "keys.production.vercel[0].targets[0]", "the linked projects' environment variables"),
    ("readable without development", vercel({"project": "web",
     "developmentReadableByTeam": True}), None,
     "keys.production.vercel[0].developmentReadableByTeam",
     "has no effect: the targets are production, preview"),
    ("gitBranch without preview", vercel({"project": "web", "targets": ["production"],
     "gitBranch": "main"}), None, "keys.production.vercel[0].gitBranch",
     "a git branch scopes preview deployments"),
    ("gitBranch on a shared variable", vercel({"projects": ["web"], "gitBranch": "main"}), None,
     "keys.production.vercel[0].gitBranch", "shared variables (`projects:`) have no git branch"),
    ("gitBranch: empty", vercel({"project": "web", "gitBranch": ""}), None,
     "keys.production.vercel[0].gitBranch", "is not a branch"),
    ("gitBranch: a space", vercel({"project": "web", "gitBranch": "my branch"}), None,
     "keys.production.vercel[0].gitBranch", "is not a git branch name"),
    ("gitBranch: '..'", vercel({"project": "web", "gitBranch": "release..1"}), None,
     "keys.production.vercel[0].gitBranch", "'..' is not allowed"),
    ("gitBranch: '.lock'", vercel({"project": "web", "gitBranch": "topic.lock"}), None,
     "keys.production.vercel[0].gitBranch", "end with '.lock'"),
    ("projects: empty", vercel({"projects": []}), None, "keys.production.vercel[0].projects",
     "the list is empty"),
    ("projects: twice", vercel({"projects": ["web", "web"]}), None,
     "keys.production.vercel[0].projects[1]", "is listed twice"),
    ("project and projects", vercel({"project": "web", "projects": ["web"]}), None,
     "keys.production.vercel[0]", "names both project"),
    ("one project variable twice", {"a": {"vercel": [{"project": "web"}]},
     "b": {"vercel": [{"project": "web", "targets": ["preview"]}]}}, None, "keys.b.vercel[0]",
     "variable OPENROUTER_API_KEY for target preview of project web is already declared"),
    ("a shared variable over a project variable", {"a": {"vercel": [{"projects": ["web", "api"]}]},
     "b": {"vercel": [{"project": "api"}]}}, None, "keys.b.vercel[0]",
     "of project api is already declared at keys.a.vercel[0]"),
    ("two shared variables, one name and target", {"a": {"vercel": [{"projects": ["web"]}]},
     "b": {"vercel": [{"projects": ["api"], "targets": ["production"]}]}}, None,
     "keys.b.vercel[0]", "shared variable OPENROUTER_API_KEY for target production"),
]


@pytest.mark.parametrize(
    ("keys", "targets", "path", "phrase"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_every_bad_consumer_entry_is_refused_with_its_path_and_fix(keys, targets, path, phrase):
    problems = rendered(keys, targets)
    matching = [p for p in problems if p.startswith(f"{path}: ") and phrase in p]
    assert matching, problems
    message, _, fix = matching[0].partition(" Fix: ")
    assert "; allowed: " in message
    assert fix.endswith(".")
    assert len(fix) > 10


def test_an_invalid_consumer_registers_nothing():
    keys = vercel({"project": "web", "targets": ["production", "development"]})
    config = namespaced({"keys": json.dumps(keys), "managementKey": make_sentinel()})
    run = run_program({**config, "github:owner": "f8ai"}, [MANAGEMENT_KEY], stack="prod")
    assert isinstance(run.error, TopologyConfigError)
    assert run.registrations == []


def test_the_development_refusal_names_the_fix_word_for_word():
    (problem,) = rendered(vercel({"project": "web", "targets": ["development"]}))
    assert problem == (
        "keys.production.vercel[0].targets[0]: target development would hold the key in a"
        " readable variable: Vercel makes variables sensitive (write-only) in production and"
        " preview only, so every team member who can see the project's environment variables"
        " could read the key, and `vercel env pull` copies it to laptops; allowed: development"
        " only with developmentReadableByTeam: true. Fix: give local development its own"
        " low-limit key (another entry under `keys` with targets: [development] and"
        " developmentReadableByTeam: true), or remove development from `targets`."
    )


def test_a_shared_variable_needs_vercel_team_when_it_is_known_to_be_unset():
    keys, _, _ = parse_keys(raw(vercel({"projects": ["web", "api"]})).keys)
    unset = all_problems(keys, None, Facts(stack="prod", vercel_team_set=False))
    assert [p.render() for p in unset] == [
        "keys.production.vercel[0].projects: a shared variable belongs to a Vercel team, and"
        " vercel:team is not set; allowed: `projects` with vercel:team set. Fix: run `pulumi"
        " config set vercel:team <team slug or id>`, or declare one project: entry per project."
    ]
    assert all_problems(keys, None, Facts(stack="prod", vercel_team_set=True)) == []
    assert all_problems(keys, None, Facts(stack="prod")) == []  # not known: not judged


def test_a_repository_secret_of_the_same_key_as_the_organization_secret_is_not_a_shadow():
    keys = {"a": {"github": [{"organization": "f8ai", "visibility": "selected",
                              "repositories": ["web"]}, {"repository": "web"}]}}
    assert validate(raw(keys), "prod", {}).plan.keys


def test_an_environment_secret_does_not_hide_an_organization_secret():
    keys = {
        "a": {"github": [{"organization": "f8ai", "visibility": "selected",
                          "repositories": ["web"]}]},
        "b": {"github": [{"repository": "web", "environment": "production"}]},
    }
    assert validate(raw(keys), "prod", {}).plan.keys


def test_reserved_names_are_vercels_list():
    assert "TZ" in VERCEL_RESERVED
    assert "AWS_REGION" not in VERCEL_RESERVED  # allowed by Vercel's function runtimes
    assert validate(raw(vercel({"project": "web", "variable": "AWS_REGION"})), "prod", {})


@pytest.mark.parametrize(
    "branch",
    ["main", "release/1.2", "feature/JIRA-12_x", "v1.2.3", "dependabot/npm_and_yarn/a-1.0"],
)
def test_branch_names_git_accepts_pass(branch):
    assert git_branch_issue(branch) is None


@pytest.mark.parametrize(
    "branch",
    ["-x", "a b", "a..b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "/a", "a/", "a//b",
     "a.", ".a", "a/.b", "a.lock", "@", "a@{1}", "tab\tx"],
)
def test_branch_names_git_refuses_fail(branch):
    assert git_branch_issue(branch) is not None


# --- Vercel's sensitive rule, over generated entries -------------------------------------------

vercel_entries = st.fixed_dictionaries(
    {
        "project": st.sampled_from(["web", "prj_chat"]),
    },
    optional={
        "targets": st.lists(
            st.sampled_from(["production", "preview", "development"]), min_size=1, max_size=3,
            unique=True,
        ),
        "developmentReadableByTeam": st.booleans(),
        "gitBranch": st.sampled_from(["main", "feature/x"]),
    },
)


@settings(max_examples=150, deadline=None)
@given(entry=vercel_entries, shared=st.booleans())
def test_no_planned_variable_is_sensitive_in_development_or_readable_elsewhere(entry, shared):
    if shared:
        entry = {k: v for k, v in entry.items() if k not in ("project", "gitBranch")}
        entry["projects"] = ["web", "api"]
    try:
        plan = validate(raw(vercel(entry)), "prod", {}).plan
    except TopologyConfigError as error:
        paths = [problem.path for problem in error.problems]
        development = "development" in entry.get("targets", [])
        readable = entry.get("developmentReadableByTeam", False)
        assert (development != readable) or "gitBranch" in "".join(paths), paths
        return
    sinks = [sink for t in plan.keys for sink in t.sinks]
    assert sinks
    for sink in sinks:
        if sink.target == "development":
            assert not sink.sensitive
            assert entry["developmentReadableByTeam"] is True
            assert READABLE in sink.consumer
        else:
            assert sink.sensitive


# --- the seed's scenario -----------------------------------------------------------------------


def seed_run(vercel_entries_: list[dict[str, Any]]) -> tuple[ProgramRun, str]:
    management_key = make_sentinel()
    config = {**scenario_config(vercel_entries_, management_key), "vercel:team": "f8ai"}
    run = run_program(config, [MANAGEMENT_KEY], "prod")
    assert run.error is None, run.error
    return run, management_key


def test_the_seed_registers_what_github_and_vercel_accept():
    """One production key to a repository secret and 15 projects on production and preview (the
    default targets), the management key to one automation repository (infra)."""
    run, management_key = seed_run([{"project": project} for project in PROJECTS])
    variables = run.of_type(PROJECT_VARIABLE)
    assert sorted(v.name for v in variables) == sorted(
        f"{project}/OPENROUTER_API_KEY/{target}"
        for project in PROJECTS
        for target in ("production", "preview")
    )
    for variable in variables:
        assert variable.inputs["sensitive"] is True
        assert variable.inputs["targets"] in (["production"], ["preview"])
        assert "value" in variable.secret_inputs
        assert variable.delete_before_replace
    secrets = {s.name: s for s in run.of_type(ACTIONS_SECRET)}
    assert set(secrets) == {
        "f8ai/agents/OPENROUTER_API_KEY", "f8ai/infra/OPENROUTER_MANAGEMENT_KEY"
    }
    published = secrets["f8ai/infra/OPENROUTER_MANAGEMENT_KEY"]
    assert published.inputs["value"]["value"] == management_key
    lookups = {i.args["name"] for i in run.invocations if i.token.startswith("vercel:")}
    assert lookups == set(PROJECTS)  # one lookup per project


def test_a_readable_development_variable_is_registered_as_the_adr_says_and_warned(caplog):
    entry = {
        "project": "web",
        "targets": ["production", "preview", "development"],
        "developmentReadableByTeam": True,
    }
    with caplog.at_level(logging.WARNING):
        run, _ = seed_run([entry])
    variables = {v.name: v for v in run.of_type(PROJECT_VARIABLE)}
    development = variables["web/OPENROUTER_API_KEY/development"]
    assert development.inputs["sensitive"] is False
    assert development.inputs["targets"] == ["development"]
    assert variables["web/OPENROUTER_API_KEY/production"].inputs["sensitive"] is True
    assert variables["web/OPENROUTER_API_KEY/preview"].inputs["sensitive"] is True
    warnings = [r.getMessage() for r in caplog.records if READABLE in r.getMessage()]
    assert warnings == [
        "ProjectEnvironmentVariable web/OPENROUTER_API_KEY/development: the development value of"
        " OPENROUTER_API_KEY on web is READABLE by the team (developmentReadableByTeam: true):"
        " every team member who can see the environment variables can read key production."
    ]
    (consumer,) = [c for c in run.outputs["keys"]["production"]["consumers"] if "vercel" in c]
    assert consumer == (
        "vercel:web:OPENROUTER_API_KEY (production, preview, development: READABLE by the team)"
    )


def test_a_readable_shared_development_variable_is_not_sensitive_and_the_others_are():
    run, _ = seed_run(
        [{"projects": PROJECTS, "targets": ["preview", "development"],
          "developmentReadableByTeam": True}]
    )
    shared = {s.name: s for s in run.of_type(SHARED_VARIABLE)}
    assert shared["OPENROUTER_API_KEY/development"].inputs["sensitive"] is False
    assert shared["OPENROUTER_API_KEY/preview"].inputs["sensitive"] is True


def test_the_dev_stack_registers_no_sensitive_development_variable():
    loaded = stack_file_config("dev")
    config = {**loaded.config, MANAGEMENT_KEY: make_sentinel()}
    run = run_program(config, [*loaded.secret_keys, MANAGEMENT_KEY], stack="dev")
    assert run.error is None, run.error
    variables = run.of_type(PROJECT_VARIABLE)
    development = [v for v in variables if v.inputs["targets"] == ["development"]]
    assert len(development) == 2
    assert {v.inputs["sensitive"] for v in development} == {False}


# --- the inputs the SDKs document --------------------------------------------------------------

DEPRECATED_OR_CONFLICTING = {
    "plaintextValue", "encryptedValue", "valueEncrypted", "keyId", "destroyOnDrift",
    "selectedRepositoryIds", "valueWo", "valueWoVersion",
}


def test_no_sink_is_registered_with_a_deprecated_or_conflicting_input():
    """pulumi_github 6.15.0: `value` conflicts with the other three value inputs, which are
    deprecated or need `key_id`; `selected_repository_ids` on an organization secret is
    deprecated (and replaces the secret); `destroy_on_drift` is ignored. pulumiverse_vercel
    5.21.1: exactly one of `value` and `value_wo`."""
    runs = [seed_run([{"project": "web", "targets": ["development"],
                       "developmentReadableByTeam": True}])[0]]
    for stack in ("staging", "dev"):
        loaded = stack_file_config(stack)
        config = {**loaded.config, MANAGEMENT_KEY: make_sentinel()}
        runs.append(run_program(config, [*loaded.secret_keys, MANAGEMENT_KEY], stack=stack))
    for run in runs:
        assert run.error is None, run.error
        for sink in run.sinks:
            # The allow-list resource takes the ids by design; the secret itself never does.
            allowed = {"selectedRepositoryIds"} if sink.type.endswith("Repositories") else set()
            found = DEPRECATED_OR_CONFLICTING & set(sink.inputs) - allowed
            assert not found, (sink.urn, found)
            if sink.type.startswith("vercel:"):
                assert {"value", "sensitive", "targets"} <= set(sink.inputs), sink.urn


# --- migration: stacks that already have development variables ---------------------------------


def test_project_variables_keep_their_names_and_inputs_so_upgrading_touches_no_production_slot():
    """The old default (all three targets, every variable sensitive) registered
    `project/VARIABLE/target` with exactly these inputs; production and preview are registered
    the same way now, so the engine sees no change on them (no update, no replace)."""
    run, _ = seed_run([{"project": "web"}])
    for target in ("production", "preview"):
        variable = run.named(PROJECT_VARIABLE, f"web/OPENROUTER_API_KEY/{target}")
        assert set(variable.inputs) == {"projectId", "key", "value", "sensitive", "targets"}
        assert (variable.inputs["sensitive"], variable.inputs["targets"]) == (True, [target])


def migration_plans() -> tuple[Any, Any, Any]:
    """The old default's three slots, then the new default, then development made readable."""
    three = {"project": "web", "targets": ["production", "preview", "development"],
             "developmentReadableByTeam": True}
    old = validate(raw({"production": {"vercel": [three]}}), "prod", {}).plan
    new = validate(raw({"production": {"vercel": [{"project": "web"}]}}), "prod", {}).plan
    dev = {"project": "web", "targets": ["development"], "developmentReadableByTeam": True}
    split = validate(
        raw({"production": {"vercel": [{"project": "web"}]}, "dev-key": {"vercel": [dev]}}),
        "prod",
        {},
    ).plan
    return old, new, split


def test_dropping_development_is_one_update_that_deletes_only_the_development_slot():
    old, new, split = migration_plans()
    stack, world = Stack(), World()
    assert apply(stack, world, old)[1] is None
    production = world.slots.copy()
    steps, stopped = apply(stack, world, new)
    assert stopped is None
    touched = {(op, urn.rsplit("::", 1)[1]) for op, urn in steps if op != "same"}
    assert touched == {("delete", "web/OPENROUTER_API_KEY/development")}
    assert world.violations == []
    assert converged(stack, world, new) == []
    for slot, key_hash in production.items():
        if slot[7] != "development":
            assert world.slots[slot] == key_hash  # production and preview never lost the key
    # Moving development to its own low-limit key later: one create, one update, no window.
    steps, stopped = apply(stack, world, split)
    assert stopped is None
    assert world.violations == []
    assert converged(stack, world, split) == []


def test_every_rule_family_cites_a_public_source():
    assert all(url.startswith("https://") for url in RULE_SOURCES.values())
    assert {SinkKind.VERCEL_PROJECT.value, SinkKind.VERCEL_SHARED.value}  # both Vercel kinds exist


def test_docs_config_cites_the_source_of_every_rule_family():
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for family, url in RULE_SOURCES.items():
        assert f"| {family} |" in text, family
        assert url in text, url
