"""Validation: every bad config gives its path, the bad value, the allowed values and the fix.

Messages are asserted word for word: they are the user interface of a stack file. Most tests call
the pure `validate()`; the last ones run the real program to prove that an invalid config
registers nothing and that every problem is reported in one error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.base.fields import CONFIG_PATH
from providers.key_inputs import check_inputs
from tests.support.sentinel import assert_absent, make_sentinel, masked
from tests.topology.harness import namespaced, run_program
from topology.config import RawConfig, Secret, validate
from topology.rules import KEY_TYPES, TopologyConfigError

HASH_A = "a" * 64
HASH_B = "b" * 64


@pytest.fixture
def management_key() -> str:
    return make_sentinel()


def raw_config(
    management_key: str | None,
    keys: Any = None,
    targets: Any = None,
    adopted: Any = None,
    **fields: Any,
) -> RawConfig:
    values: dict[str, Any] = {
        "keys": None if keys is None else json.dumps(keys),
        "management_key_targets": None if targets is None else json.dumps(targets),
        "adopted_secrets": None if adopted is None else json.dumps(adopted),
        "adopted_secrets_is_secret": adopted is not None,
        "management_key": management_key,
        "management_key_is_secret": management_key is not None,
        "github_owner": "f8ai",
        "vercel_team": "f8ai",
    }
    values.update(fields)
    return RawConfig(**values)


def problems(raw: RawConfig, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(TopologyConfigError) as caught:
        validate(raw, "dev", environ or {})
    return [problem.render() for problem in caught.value.problems]


def only_problem(raw: RawConfig) -> str:
    found = problems(raw)
    assert len(found) == 1, found
    return found[0]


# --- single values -----------------------------------------------------------------------------


def test_unknown_vercel_target_names_its_path_the_value_and_the_allowed_targets(management_key):
    keys = {
        "production": {
            "vercel": [
                {"project": "agent-chat"},
                {"project": "web", "targets": ["prod", "preview"]},
            ]
        }
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.production.vercel[1].targets[0]: 'prod' is not allowed; allowed: production,"
        " preview, development. Fix: write one of the allowed targets (Vercel custom environments"
        " are not supported), or remove `targets` for production and preview."
    )


def test_misspelt_setting_is_refused_with_the_allowed_names_and_a_suggestion(management_key):
    assert only_problem(raw_config(management_key, {"ci": {"limt": 5}})) == (
        "keys.ci.limt: unknown setting `limt`; allowed: limit, limitReset, includeByokInLimit,"
        " expiresAt, disabled, name, workspaceId, workspace, guardrail, adopt, protect, rotations,"
        " github, vercel."
        " Fix: remove `limt`, or correct it to `limit`."
    )


def test_key_ids_indented_one_level_too_deep_are_one_problem_whose_fix_is_the_indent(
    management_key,
):
    # `ci:` and `preview:` written one level deeper than `production:` land inside it.
    keys = {
        "production": {
            "limit": 25,
            "ci": {"limit": 5, "limitReset": "daily"},
            "preview": {"name": "preview-deployments", "limit": 10},
        }
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.production: `ci` and `preview` sit inside keys.production but hold key settings"
        " of their own: key ids indented one level too deep; allowed: every key id directly"
        " under `keys`, in line with the others. Fix: indent `ci` and `preview` (and"
        " everything under them) one level less, in line with `production`, directly under"
        " `openrouter-keys:keys`."
    )


def test_one_nested_key_id_with_nothing_under_it_is_read_as_too_deep_too(management_key):
    found = problems(raw_config(management_key, {"production": {"ci": None, "limit": -1}}))
    assert found[0].startswith(
        "keys.production: `ci` sits inside keys.production but holds key settings of its own:"
        " a key id indented one level too deep;"
    )
    # The host's own settings are still checked.
    assert found[1].startswith("keys.production.limit: -1 is not allowed;")
    assert len(found) == 2


def test_an_empty_misspelt_setting_is_still_a_misspelt_setting(management_key):
    assert only_problem(raw_config(management_key, {"ci": {"protct": None}})).endswith(
        "Fix: remove `protct`, or correct it to `protect`."
    )


def test_guardrail_and_workspace_ids_indented_too_deep_are_named_so(management_key):
    guardrails = {"ci-cheap": {"description": "cheap", "strict": {"allowedModels": ["a/b"]}}}
    workspaces = {"agents": {"name": "Agents", "batch": {"budgets": {"monthly": 5}}}}
    found = problems(
        raw_config(
            management_key,
            {"ci": {}},
            guardrails=json.dumps(guardrails),
            workspaces=json.dumps(workspaces),
        )
    )
    assert found == [
        "guardrails.ci-cheap: `strict` sits inside guardrails.ci-cheap but holds guardrail"
        " settings of its own: a guardrail id indented one level too deep; allowed: every"
        " guardrail id directly under `guardrails`, in line with the others. Fix: indent"
        " `strict` (and everything under it) one level less, in line with `ci-cheap`, directly"
        " under `openrouter-keys:guardrails`.",
        "workspaces.agents: `batch` sits inside workspaces.agents but holds workspace settings"
        " of its own: a workspace id indented one level too deep; allowed: every workspace id"
        " directly under `workspaces`, in line with the others. Fix: indent `batch` (and"
        " everything under it) one level less, in line with `agents`, directly under"
        " `openrouter-keys:workspaces`.",
    ]


def test_unknown_setting_inside_a_github_entry_lists_the_entry_settings(management_key):
    keys = {"ci": {"github": [{"repository": "agents", "name": "X"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.github[0].name: unknown setting `name`; allowed: repository, organization,"
        " environment, secret, dependabot, visibility, repositories. Fix: remove `name`."
    )


def test_limit_reset_outside_the_three_periods_is_refused(management_key):
    assert only_problem(raw_config(management_key, {"ci": {"limitReset": "hourly"}})) == (
        "keys.ci.limitReset: 'hourly' is not allowed; allowed: daily, weekly, monthly. Fix:"
        " write one of the allowed words, or remove `limitReset` for a limit that never resets."
    )


@pytest.mark.parametrize(("limit", "shown"), [(-5, "-5"), ("250", "'250'"), (True, "True")])
def test_limit_must_be_a_non_negative_number(management_key, limit, shown):
    assert only_problem(raw_config(management_key, {"ci": {"limit": limit}})) == (
        f"keys.ci.limit: {shown} is not allowed; allowed: a number of US dollars >= 0, e.g. 250."
        " Fix: write the limit as a number >= 0, e.g. 250, or remove `limit` for no spending"
        " limit."
    )


def test_flags_written_as_text_are_refused(management_key):
    assert only_problem(raw_config(management_key, {"ci": {"disabled": "false"}})) == (
        "keys.ci.disabled: 'false' is not allowed; allowed: true or false. Fix: write true or"
        " false, without quotes."
    )


def test_expiry_must_be_an_rfc3339_utc_timestamp(management_key):
    keys = {"ci": {"expiresAt": "2027-06-30T00:00:00+02:00"}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.expiresAt: '2027-06-30T00:00:00+02:00' is not allowed; allowed: an RFC 3339 UTC"
        " timestamp with seconds, e.g. '2027-06-30T00:00:00Z'. Fix: write the instant in UTC"
        " ending in Z, in quotes, or remove `expiresAt` for a key that never expires."
    )


def test_a_key_pasted_into_adopt_is_refused_without_being_quoted(management_key):
    pasted = make_sentinel()
    found = only_problem(raw_config(management_key, {"legacy": {"adopt": pasted}}))
    assert found == (
        f"keys.legacy.adopt: '{masked(pasted)}' is not allowed; allowed: the hash of an existing"
        " key, 64 lowercase hex characters. Fix: copy the key's hash from the OpenRouter key list"
        " (the hash, never the key itself)."
    )
    assert_absent(pasted, found)


def test_workspace_id_must_be_a_uuid(management_key):
    assert only_problem(raw_config(management_key, {"ci": {"workspaceId": "team-a"}})) == (
        "keys.ci.workspaceId: 'team-a' is not allowed; allowed: a workspace UUID, e.g."
        " '3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b'. Fix: copy the workspace id from OpenRouter, or"
        " remove `workspaceId` for the default workspace."
    )


def test_a_github_entry_that_is_not_a_map_is_refused(management_key):
    assert only_problem(raw_config(management_key, {"ci": {"github": ["agents"]}})) == (
        "keys.ci.github[0]: 'agents' is not allowed; allowed: a GitHub entry, a map such as"
        " {repository: owner/name}. Fix: write the entry as a map with `repository` or"
        " `organization`."
    )


def test_keys_must_be_a_map(management_key):
    assert only_problem(raw_config(management_key, ["ci"])) == (
        "keys: is a list, not a map of key id to key spec; allowed: a map such as"
        " {production: {limit: 250}}. Fix: write `keys:` as a map under `openrouter-keys:keys` in"
        " the stack file (docs/config.md)."
    )


def test_a_key_with_nothing_under_it_takes_every_default(management_key):
    topology = validate(raw_config(management_key, {"ci": None}), "dev", {})
    (plan,) = topology.plan.keys
    assert plan.generations[0].name == "dev-ci"
    assert plan.generations[0].protect is True
    assert plan.sinks == ()


def test_key_ids_must_be_usable_as_resource_names(management_key):
    assert only_problem(raw_config(management_key, {"prod key": {}})) == (
        "keys.prod key: key id 'prod key' is not allowed; allowed: 1 to 63 letters, digits, '-'"
        " and '_', starting with a letter or digit (the id names the key's resources). Fix:"
        " rename the key id, e.g. 'prod-key'."
    )


def test_protect_keys_must_be_a_boolean(management_key):
    assert only_problem(raw_config(management_key, protect_keys="yes")) == (
        "protectKeys: 'yes' is not allowed; allowed: true, false. Fix: run `pulumi config set"
        " protectKeys true` (or false)."
    )


def test_api_base_url_must_be_a_url(management_key):
    assert only_problem(raw_config(management_key, api_base_url="localhost:8787")) == (
        "apiBaseUrl: 'localhost:8787' cannot carry the management key: it is not an http(s) URL"
        " with a host; allowed: an https base URL, or plain http to loopback only. Fix: use an"
        " https URL such as https://openrouter.ai/api/v1, or the emulator's"
        " http://127.0.0.1:8787/api/v1: run `pulumi config set apiBaseUrl <url>`, or `pulumi"
        " config rm apiBaseUrl` for the real API."
    )


@pytest.mark.parametrize("url", ["http://proxy.example/api/v1", "http://10.1.2.3:8787/api/v1"])
def test_a_plain_http_api_base_url_in_the_stack_is_refused_naming_the_setting(management_key, url):
    # Regression (issue 10): the program accepted it and the provider sent the management key
    # in clear text on its first request.
    found = only_problem(raw_config(management_key, api_base_url=url))
    assert found.startswith(f"apiBaseUrl: {url!r} cannot carry the management key: plain http to")
    assert "Fix: use an https URL" in found


def test_a_plain_http_api_base_url_in_the_environment_is_refused_naming_the_variable(
    management_key,
):
    found = problems(raw_config(management_key), {"OPENROUTER_API_BASE_URL": "http://proxy.example"})
    assert len(found) == 1
    assert found[0].startswith("OPENROUTER_API_BASE_URL: 'http://proxy.example' cannot carry")
    assert "unset it for the real API" in found[0]


def test_the_stack_api_base_url_wins_over_the_environment(management_key):
    environ = {"OPENROUTER_API_BASE_URL": "http://proxy.example"}
    raw = raw_config(management_key, api_base_url="https://gw.example/v1")
    assert validate(raw, "dev", environ).plan.stack == "dev"  # no problem raised


# --- GitHub entries ----------------------------------------------------------------------------


def test_repository_list_without_selected_visibility_is_refused(management_key):
    keys = {
        "ci": {
            "github": [
                {"organization": "f8ai", "visibility": "private", "repositories": ["agents"]}
            ]
        }
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.github[0].repositories: a repository list needs visibility: selected"
        " (visibility is 'private'); allowed: `repositories` only with visibility: selected. Fix:"
        " set visibility: selected, or remove `repositories`."
    )


def test_selected_visibility_needs_repositories(management_key):
    keys = {"ci": {"github": [{"organization": "f8ai", "visibility": "selected"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.github[0].repositories: visibility: selected needs the repositories that may"
        " read the secret; allowed: a non-empty list of repositories of 'f8ai'. Fix: add"
        " repositories: [name, ...], or choose visibility: all or private."
    )


def test_selected_repositories_must_belong_to_the_organization(management_key):
    keys = {
        "ci": {
            "github": [
                {
                    "organization": "f8ai",
                    "visibility": "selected",
                    "repositories": ["agents", "other/web", "f8ai/agents"],
                }
            ]
        }
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.ci.github[0].repositories[1]: 'other/web' is not a repository of organization"
        " 'f8ai'; allowed: 'name' or 'f8ai/name'. Fix: list only repositories of f8ai, or publish"
        " a separate secret for the other owner.",
        "keys.ci.github[0].repositories[2]: 'f8ai/agents' is listed twice (first at"
        " repositories[0]); allowed: each repository once. Fix: remove the repeated entry.",
    ]


def test_organization_secret_needs_an_explicit_visibility(management_key):
    keys = {"ci": {"github": [{"organization": "f8ai"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.github[0].visibility: the organization secret of 'f8ai' has no visibility;"
        " allowed: all, private, selected. Fix: add visibility: private (the organization's"
        " private repositories), all (every repository) or selected (with repositories: [...])."
    )


def test_unknown_visibility_is_refused(management_key):
    keys = {"ci": {"github": [{"organization": "f8ai", "visibility": "internal"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.github[0].visibility: 'internal' is not allowed; allowed: all, private,"
        " selected. Fix: write one of the allowed words."
    )


def test_an_entry_must_name_exactly_one_target(management_key):
    keys = {
        "ci": {
            "github": [
                {"secret": "X"},
                {"repository": "agents", "organization": "f8ai", "visibility": "all"},
            ]
        }
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.ci.github[0]: the entry names neither `repository` nor `organization`; allowed:"
        " exactly one of them. Fix: add repository: owner/name (a repository or environment"
        " secret) or organization: <org> (an organization secret).",
        "keys.ci.github[1]: the entry names both repository 'agents' and organization 'f8ai';"
        " allowed: exactly one of them. Fix: split it into two entries, one per secret.",
    ]


def test_bare_repository_name_needs_github_owner(management_key):
    keys = {"ci": {"github": [{"repository": "agents"}]}}
    assert only_problem(raw_config(management_key, keys, github_owner=None)) == (
        "keys.ci.github[0].repository: 'agents' names no owner and github:owner is not set;"
        " allowed: 'owner/name', or 'name' with github:owner set. Fix: write it as"
        " '<owner>/agents', or run `pulumi config set github:owner <owner>`."
    )


def test_owner_slash_name_needs_no_github_owner(management_key):
    keys = {"ci": {"github": [{"repository": "f8ai/agents"}]}}
    topology = validate(raw_config(management_key, keys, github_owner=None), "dev", {})
    (sink,) = topology.plan.keys[0].sinks
    assert (sink.owner, sink.repository) == ("f8ai", "agents")
    assert topology.plan.owners == ("f8ai",)


def test_repository_with_two_slashes_is_refused(management_key):
    keys = {"ci": {"github": [{"repository": "f8ai/agents/main"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.ci.github[0].repository: 'f8ai/agents/main' is not a repository; allowed:"
        " 'owner/name', or 'name' when github:owner is set. Fix: write the repository as"
        " owner/name, e.g. 'f8ai/agents'."
    )


def test_invalid_github_secret_names_are_refused(management_key):
    keys = {
        "ci": {
            "github": [
                {"repository": "agents", "secret": "openrouter-key"},
                {"repository": "web", "secret": "github_openrouter"},
            ]
        }
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.ci.github[0].secret: 'openrouter-key' is not a valid GitHub secret name; allowed:"
        " letters, digits and '_', not starting with a digit. Fix: use a name such as"
        " 'OPENROUTER_KEY'.",
        "keys.ci.github[1].secret: 'github_openrouter' starts with GITHUB_, which GitHub"
        " reserves; allowed: any other name of letters, digits and '_'. Fix: choose another name,"
        " e.g. 'OPENROUTER_API_KEY'.",
    ]


def test_environment_and_visibility_belong_to_their_own_scopes(management_key):
    keys = {
        "ci": {
            "github": [
                {"organization": "f8ai", "visibility": "all", "environment": "production"},
                {"repository": "agents", "visibility": "all"},
                {"repository": "agents", "environment": "production", "dependabot": True},
            ]
        }
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.ci.github[0].environment: environments belong to repositories, not to organization"
        " 'f8ai'; allowed: `environment` with `repository` only. Fix: replace `organization` with"
        " repository: owner/name, or remove `environment`.",
        "keys.ci.github[1].visibility: `visibility` applies to organization secrets, not to"
        " repository 'agents'; allowed: `visibility` with `organization` only. Fix: remove"
        " `visibility`, or publish an organization secret with organization: <org>.",
        "keys.ci.github[2].dependabot: Dependabot has no environment secrets (environment"
        " 'production'); allowed: dependabot: true with a repository or an organization. Fix:"
        " remove `environment`, or remove `dependabot`.",
    ]


def test_the_same_secret_twice_for_one_repository_is_refused_across_keys(management_key):
    keys = {
        "ci": {"github": [{"repository": "agents"}]},
        "batch": {"github": [{"repository": "F8AI/Agents", "secret": "openrouter_api_key"}]},
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.batch.github[0]: the Actions secret OPENROUTER_API_KEY of repository F8AI/Agents is"
        " already declared at keys.ci.github[0] (GitHub stores secret names upper-cased, so the"
        " spelling does not tell them apart); allowed: one declaration per secret and scope. Fix:"
        " remove one of the two entries, or give one of them another `secret` name."
    )


def test_the_same_secret_in_other_scopes_is_allowed(management_key):
    keys = {
        "ci": {
            "github": [
                {"repository": "agents"},
                {"repository": "agents", "environment": "production"},
                {"repository": "agents", "dependabot": True},
                {"organization": "f8ai", "visibility": "all"},
                {"organization": "f8ai", "visibility": "all", "dependabot": True},
            ]
        }
    }
    topology = validate(raw_config(management_key, keys), "dev", {})
    assert len(topology.plan.keys[0].sinks) == 5


def test_a_management_key_target_cannot_reuse_a_regular_key_secret(management_key):
    keys = {"ci": {"github": [{"repository": "infra", "environment": "prod"}]}}
    targets = {
        "github": [{"repository": "infra", "environment": "PROD", "secret": "OPENROUTER_API_KEY"}]
    }
    assert only_problem(raw_config(management_key, keys, targets)) == (
        "managementKeyTargets.github[0]: the Actions secret OPENROUTER_API_KEY of environment"
        " PROD in f8ai/infra is already declared at keys.ci.github[0]; allowed: one declaration"
        " per secret and scope. Fix: remove one of the two entries, or give one of them another"
        " `secret` name."
    )


# --- Vercel entries ----------------------------------------------------------------------------


def test_the_same_variable_twice_for_one_project_and_target_is_refused(management_key):
    keys = {
        "production": {"vercel": [{"project": "agent-chat", "targets": ["production"]}]},
        "preview": {"vercel": [{"project": "agent-chat", "targets": ["preview", "production"]}]},
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.preview.vercel[0]: variable OPENROUTER_API_KEY for target production of project"
        " agent-chat is already declared at keys.production.vercel[0]; allowed: one value per"
        " project, variable and target. Fix: remove the target from one of the two entries, or"
        " use another `variable` name."
    )


def test_a_shared_variable_clashes_with_a_project_variable_on_a_linked_project(management_key):
    keys = {
        "production": {"vercel": [{"projects": ["agent-1", "agent-2"], "targets": ["production"]}]},
        "chat": {"vercel": [{"project": "agent-2"}]},
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.chat.vercel[0]: variable OPENROUTER_API_KEY for target production of project"
        " agent-2 is already declared at keys.production.vercel[0]; allowed: one value per"
        " project, variable and target. Fix: remove the target from one of the two entries, or"
        " use another `variable` name."
    )


def test_one_shared_variable_per_name_and_target(management_key):
    keys = {
        "a": {"vercel": [{"projects": ["agent-1"], "targets": ["production"]}]},
        "b": {"vercel": [{"projects": ["agent-2"], "targets": ["production"]}]},
    }
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.b.vercel[0]: shared variable OPENROUTER_API_KEY for target production is already"
        " declared at keys.a.vercel[0]; allowed: one shared variable per name and target. Fix:"
        " merge the two `projects` lists into one entry, or use project: entries."
    )


def test_one_variable_with_disjoint_targets_from_two_keys_is_allowed(management_key):
    keys = {
        "production": {"vercel": [{"project": "agent-chat", "targets": ["production"]}]},
        "preview": {
            "vercel": [
                {
                    "project": "agent-chat",
                    "targets": ["preview", "development"],
                    "developmentReadableByTeam": True,
                }
            ]
        },
    }
    topology = validate(raw_config(management_key, keys), "dev", {})
    slots = [s.resource_name for t in topology.plan.keys for s in t.sinks]
    assert slots == [
        "agent-chat/OPENROUTER_API_KEY/production",
        "agent-chat/OPENROUTER_API_KEY/preview",
        "agent-chat/OPENROUTER_API_KEY/development",
    ]


def test_git_branch_needs_the_preview_target_and_a_project(management_key):
    keys = {
        "a": {
            "vercel": [
                {"project": "web", "targets": ["production"], "gitBranch": "main"},
                {"projects": ["agent-1"], "gitBranch": "main"},
            ]
        }
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.a.vercel[0].gitBranch: a git branch scopes preview deployments, but the targets are"
        " production; allowed: `gitBranch` only when the targets include preview. Fix: add"
        " preview to `targets`, or remove `gitBranch`.",
        "keys.a.vercel[1].gitBranch: shared variables (`projects:`) have no git branch; allowed:"
        " `gitBranch` with `project:` only. Fix: declare the variable per project with project:,"
        " or remove `gitBranch`.",
    ]


def test_a_vercel_entry_names_exactly_one_of_project_and_projects(management_key):
    keys = {"a": {"vercel": [{"variable": "X"}, {"project": "web", "projects": ["web"]}]}}
    assert problems(raw_config(management_key, keys)) == [
        "keys.a.vercel[0]: the entry names neither `project` nor `projects`; allowed: exactly one"
        " of them. Fix: add project: <name or prj_ id>, or projects: [<name or prj_ id>, ...].",
        "keys.a.vercel[1]: the entry names both project 'web' and projects; allowed: exactly one"
        " of them. Fix: use project: for one project's variable, or projects: [...] for one"
        " shared variable linked to many.",
    ]


def test_repeated_and_empty_vercel_lists_are_refused(management_key):
    keys = {
        "a": {
            "vercel": [
                {"projects": [], "targets": []},
                {"project": "web", "targets": ["preview", "preview"], "variable": "1KEY"},
            ]
        }
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.a.vercel[0].projects: the list is empty; allowed: one or more project names or prj_"
        " ids. Fix: list the projects, or use project: for one.",
        "keys.a.vercel[0].targets: the list is empty; allowed: production, preview, development."
        " Fix: list at least one target, or omit `targets` for production and preview.",
        "keys.a.vercel[1].variable: '1KEY' is not a valid environment variable name; allowed:"
        " letters, digits and '_', not starting with a digit. Fix: use a name such as '_1KEY'.",
        "keys.a.vercel[1].targets[1]: target 'preview' is listed twice (first at targets[0]);"
        " allowed: each target once. Fix: remove the repeated entry.",
    ]


# --- the two key types -------------------------------------------------------------------------


def test_the_management_key_never_goes_to_vercel(management_key):
    targets = {"github": [{"repository": "infra"}], "vercel": [{"project": "agent-chat"}]}
    assert only_problem(raw_config(management_key, {}, targets)) == (
        f"managementKeyTargets.vercel: the management key never goes to Vercel. {KEY_TYPES} A"
        " Vercel deployment calls models, so it needs a regular key; allowed:"
        " managementKeyTargets.github only. Fix: remove `vercel` here, and declare the variable"
        " under a regular key (keys.<id>.vercel)."
    )
    assert KEY_TYPES == (
        "A management key creates, lists, updates and deletes other keys and cannot call models."
        " A regular key calls models and cannot manage keys."
    )


def test_the_management_key_given_as_an_adopted_secret_is_refused(management_key):
    keys = {"legacy": {"adopt": HASH_A, "github": [{"repository": "legacy"}]}}
    found = only_problem(raw_config(management_key, keys, adopted={"legacy": management_key}))
    assert found == (
        f"adoptedSecrets.legacy: the secret given for the adopted key legacy is the management"
        f" key. {KEY_TYPES} The management key never goes to a key's consumers; allowed: the"
        " adopted regular key's own secret. Fix: run `pulumi config set --secret --path"
        " 'adoptedSecrets.legacy' <the regular key's secret>`."
    )
    assert_absent(management_key, found)


def test_the_management_key_from_the_environment_is_compared_too():
    shared = make_sentinel()
    keys = {"legacy": {"adopt": HASH_A}}
    raw = raw_config(None, keys, adopted={"legacy": f"  {shared} "})
    found = problems(raw, {"OPENROUTER_PROVISIONING_KEY": shared})
    assert [f.split(":")[0] for f in found] == ["adoptedSecrets.legacy"]


# --- adoption, disabled keys, rotations --------------------------------------------------------


def test_consumers_of_an_adopted_key_need_its_secret(management_key):
    keys = {"legacy": {"adopt": HASH_A, "github": [{"repository": "legacy"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.legacy: key legacy adopts an existing key and declares 1 consumer, but its secret"
        " is not in `adoptedSecrets`: OpenRouter shows a key's secret only when it is created, so"
        " Pulumi cannot hand it to the consumers; allowed: consumers for an adopted key only with"
        " its secret. Fix: run `pulumi config set --secret --path 'adoptedSecrets.legacy' <the"
        " key's secret>`, or remove the consumers of legacy."
    )


def test_an_adopted_key_without_consumers_needs_no_secret(management_key):
    topology = validate(raw_config(management_key, {"legacy": {"adopt": HASH_A}}), "dev", {})
    (key,) = topology.plan.keys[0].generations
    assert (key.adopt, key.takes_adopted_secret) == (HASH_A, False)


def test_once_a_minted_generation_is_wired_the_adopted_secret_is_optional(management_key):
    keys = {
        "legacy": {
            "adopt": HASH_A,
            "rotations": ["adopted", "2026-01-05"],
            "github": [{"repository": "legacy"}],
        }
    }
    topology = validate(raw_config(management_key, keys), "dev", {})
    first, newest = topology.plan.keys[0].generations
    assert (first.adopt, first.wired, newest.adopt, newest.wired) == (HASH_A, False, None, True)


def test_a_single_rotation_of_an_adopted_key_says_adopt_may_be_stale(management_key):
    keys = {
        "legacy": {"adopt": HASH_A, "rotations": ["2026-01-05"], "github": [{"repository": "x"}]}
    }
    assert only_problem(raw_config(management_key, keys)).endswith(
        "or remove the consumers of legacy. If the adopted generation was already retired,"
        " remove `adopt` instead."
    )


def test_an_adopted_secret_for_no_adopted_key_is_refused(management_key):
    secret = make_sentinel()
    found = only_problem(raw_config(management_key, {"ci": {}}, adopted={"ci": secret}))
    assert found == (
        "adoptedSecrets.ci: there is no adopted key ci (no keys.ci with `adopt`); allowed: secrets"
        " of keys that declare `adopt`. Fix: remove it with `pulumi config rm --path"
        " 'adoptedSecrets.ci'`, or add adopt: <hash> to keys.ci."
    )
    assert_absent(secret, found)


def test_adopted_secrets_in_plain_text_are_refused_without_quoting_them(management_key):
    secret = make_sentinel()
    keys = {"legacy": {"adopt": HASH_A}}
    raw = raw_config(
        management_key, keys, adopted={"legacy": secret}, adopted_secrets_is_secret=False
    )
    found = only_problem(raw)
    assert found == (
        "adoptedSecrets: is stored in plain text in the stack file; allowed: encrypted (secure:)"
        " values only. Fix: delete it from the stack file, rotate the keys it held (they are"
        " exposed wherever the file went), and run `pulumi config set --secret --path"
        " 'adoptedSecrets.<id>' <the key's secret>`."
    )
    assert_absent(secret, found)


def test_the_same_key_adopted_twice_is_refused(management_key):
    keys = {"a": {"adopt": HASH_A}, "b": {"adopt": HASH_A}, "c": {"adopt": HASH_B}}
    assert only_problem(raw_config(management_key, keys)) == (
        f"keys.b.adopt: hash '{HASH_A}' is already adopted by keys.a; allowed: one key id per"
        " OpenRouter key (removing either would delete the key under the other). Fix: remove one"
        " of the two `adopt` entries."
    )


def test_a_disabled_key_with_consumers_is_refused(management_key):
    keys = {"old": {"disabled": True, "vercel": [{"project": "a"}, {"project": "b"}]}}
    assert only_problem(raw_config(management_key, keys)) == (
        "keys.old.disabled: key old is disabled but declares 2 consumers; a disabled key is"
        " refused on every call, so they would break; allowed: consumers only for enabled keys."
        " Fix: remove its `github` and `vercel` entries, or set disabled: false."
    )


def test_duplicate_and_malformed_rotations_are_refused(management_key):
    keys = {"p": {"rotations": ["2025-10-28", "next week", "2025-10-28"]}, "q": {"rotations": []}}
    assert problems(raw_config(management_key, keys)) == [
        "keys.p.rotations[1]: generation 'next week' is not allowed; allowed: 1 to 32 letters,"
        " digits, '.', '-' and '_', starting with a letter or digit (it becomes part of the key's"
        " name). Fix: label the generation with its date, e.g. '2025-11-28'.",
        "keys.p.rotations[2]: generation '2025-10-28' is listed twice (first at rotations[0]);"
        " allowed: each generation once, since each is its own key. Fix: remove the repeated"
        " entry.",
        "keys.q.rotations: the list is empty; allowed: one or more generation labels, oldest"
        " first. Fix: list the live generations, e.g. rotations: ['2025-11-28'], or remove"
        " `rotations`.",
    ]


def test_numbered_generations_are_labels(management_key):
    topology = validate(raw_config(management_key, {"p": {"rotations": [1, 2]}}), "dev", {})
    assert [k.resource_name for k in topology.plan.keys[0].generations] == ["p@1", "p@2"]


# --- the management key ------------------------------------------------------------------------


def test_a_missing_management_key_is_an_error_naming_the_command():
    assert only_problem(raw_config(None, {"ci": {}})) == (
        "managementKey: no management key: it is not in the stack config, and neither"
        " OPENROUTER_MANAGEMENT_KEY nor OPENROUTER_PROVISIONING_KEY is set; allowed: a management"
        " key (https://openrouter.ai/settings/management-keys). Fix: run `pulumi config set"
        " --secret managementKey` with a management key, or export OPENROUTER_MANAGEMENT_KEY in"
        " the environment that runs pulumi."
    )


@pytest.mark.parametrize("variable", ["OPENROUTER_MANAGEMENT_KEY", "OPENROUTER_PROVISIONING_KEY"])
def test_the_management_key_may_come_from_the_environment(variable):
    value = make_sentinel()
    topology = validate(raw_config(None, {"ci": {}}), "dev", {variable: value})
    assert topology.management_key_source == variable
    assert isinstance(topology.management_key, Secret)
    assert topology.management_key.reveal() == value


def test_stack_config_wins_over_the_environment(management_key):
    other = make_sentinel()
    topology = validate(
        raw_config(management_key, {}), "dev", {"OPENROUTER_MANAGEMENT_KEY": other}
    )
    assert topology.management_key_source == "config"
    assert topology.management_key is not None
    assert topology.management_key.reveal() == management_key


def test_a_management_key_in_plain_text_is_refused(management_key):
    raw = raw_config(management_key, {}, management_key_is_secret=False)
    found = only_problem(raw)
    assert found == (
        "managementKey: the management key is stored in plain text in the stack file; allowed: an"
        " encrypted (secure:) value. Fix: delete the line, rotate the key (it is exposed wherever"
        " the file went), and run `pulumi config set --secret managementKey`."
    )
    assert_absent(management_key, found)


def test_secrets_never_show_in_reprs(management_key):
    secret = make_sentinel()
    raw = raw_config(management_key, {"legacy": {"adopt": HASH_A}}, adopted={"legacy": secret})
    topology = validate(raw, "dev", {})
    assert_absent(management_key, repr(raw), repr(topology), str(topology.management_key))
    assert_absent(secret, repr(raw), repr(topology))
    assert repr(topology.adopted_secrets["legacy"]) == f"Secret({masked(secret)})"


# --- all together, before anything is registered -----------------------------------------------


def test_every_problem_is_reported_together_in_config_order(management_key):
    keys = {
        "ci": {"limit": -1, "vercel": [{"project": "web", "targets": ["staging"]}]},
        "batch": {"github": [{"organization": "f8ai", "repositories": ["a"]}]},
        "old": {"disabled": True, "github": [{"repository": "x"}]},
    }
    raw = raw_config(None, keys, {"vercel": []}, protect_keys="maybe")
    with pytest.raises(TopologyConfigError) as caught:
        validate(raw, "dev", {})
    paths = [problem.path for problem in caught.value.problems]
    assert paths == [
        "keys.ci.limit",
        "keys.ci.vercel[0].targets[0]",
        "protectKeys",
        "keys.batch.github[0].visibility",
        "managementKeyTargets.vercel",
        "keys.old.disabled",
        "managementKey",
    ]
    text = str(caught.value)
    assert text.startswith(
        "The stack config has 7 problems; nothing was created, changed or deleted:\n  1. "
        "keys.ci.limit: -1 is not allowed;"
    )
    assert "\n  7. managementKey: no management key" in text


def test_an_invalid_config_registers_nothing(management_key):
    keys = {"ci": {"limit": 5, "github": [{"repository": "agents", "secret": "GITHUB_X"}]}}
    config = namespaced(
        {"keys": json.dumps(keys), "managementKey": management_key, "github:owner": "f8ai"}
    )
    run = run_program(config, ["openrouter-keys:managementKey"])
    assert isinstance(run.error, TopologyConfigError)
    assert [p.path for p in run.error.problems] == ["keys.ci.github[0].secret"]
    assert run.registrations == []
    assert run.invocations == []
    assert_absent(management_key, str(run.error))


def test_the_error_is_a_clean_pulumi_run_error():
    assert issubclass(TopologyConfigError, pulumi.RunError)


def test_two_keys_with_one_openrouter_name_are_refused(management_key):
    # An explicit name equal to another key's default (`<stack>-<id>`), and a generation name
    # (`<name>-<generation>`) equal to a plain name: each would let an interrupted create's
    # cleanup (by name, ADR 0002) delete the other key.
    keys = {
        "ci": {},
        "bots": {"name": "dev-ci"},
        "web": {"name": "web-2025-11"},
        "app": {"name": "web", "rotations": ["2025-10", "2025-11"]},
    }
    assert problems(raw_config(management_key, keys)) == [
        "keys.bots.name: OpenRouter name 'dev-ci' is already the name of keys.ci in this stack;"
        " an interrupted create is cleaned up by name, so one key could delete the other's;"
        " allowed: a name used by one key (or generation) only. Fix: give keys.bots a `name` of"
        " its own.",
        "keys.app.name: OpenRouter name 'web-2025-11' is already the name of keys.web in this"
        " stack; an interrupted create is cleaned up by name, so one key could delete the"
        " other's; allowed: a name used by one key (or generation) only. Fix: give keys.app a"
        " `name` of its own.",
    ]


_labels = st.sampled_from(["a", "b", "web", "dev-a", "web-1", "1", "2"])


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "web", "c"]),
        st.fixed_dictionaries(
            {},
            optional={
                "name": _labels,
                "rotations": st.lists(st.sampled_from(["1", "2", "a"]), min_size=1, max_size=3,
                                      unique=True),
            },
        ),
        max_size=4,
    )
)
def test_every_validated_stack_gives_each_key_its_own_openrouter_name(keys):
    raw = raw_config(make_sentinel(), keys)
    refused: tuple = ()
    try:
        topology = validate(raw, "dev", {})
    except TopologyConfigError as error:
        refused = error.problems
    if refused:  # only a name clash can make this config invalid
        assert {p.path.rsplit(".", 1)[-1] for p in refused} == {"name"}, refused
        return
    names = [key.name for plan in topology.plan.keys for key in plan.generations]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize(
    ("setting", "name", "value"),
    [
        ("limit", "limit", -5),
        ("limit", "limit", "250"),
        ("limit", "limit", True),
        ("limitReset", "limit_reset", "hourly"),
        ("includeByokInLimit", "include_byok_in_limit", "true"),
        ("disabled", "disabled", 0),
        ("workspaceId", "workspace_id", "ws-1"),
        ("adopt", "adopt", "A" * 64),
    ],
)
def test_a_key_setting_is_refused_in_the_same_words_by_the_stack_check_and_the_provider(
    management_key, setting, name, value
):
    """One rule, one message: a program using `ApiKey` directly gets, from the provider's
    `check`, what a stack file gets from the config check."""
    stack = only_problem(raw_config(management_key, {"ci": {setting: value}}))
    news = {"name": "ci", CONFIG_PATH: "keys.ci", name: value}
    (failure,) = check_inputs({}, news, datetime.now(UTC))

    assert failure.reason == stack.replace(f"keys.ci.{setting}:", f"`keys.ci.{setting}`:", 1)
