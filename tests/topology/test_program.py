"""The real program (`__main__.py`) under Pulumi mocks, per stack file and per scenario.

What the engine would receive is asserted on the registration requests themselves: types and
counts, inputs, `protect`, `deleteBeforeReplace`, aliases, parents and dependencies, and that every
value reaching GitHub or Vercel arrives as a secret. Stack files are loaded as Pulumi hands them to
the program, `secure:` values replaced by secrets generated at run time; the secrets a stack file
leaves to `pulumi config set --secret` are added the same way.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import Counter
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from cli.stack_outputs import parse_stack_outputs
from providers.base.sdk_pickle import undo_sdk_pickle_wrapper
from providers.key import KeyProvider
from tests.support.sentinel import assert_absent, assert_present, make_sentinel, masked
from tests.topology.harness import (
    API_KEY_TYPE,
    ASSIGNMENT_TYPE,
    BUDGETS_TYPE,
    COMPONENT_TYPE,
    DEFAULT_GUARDRAIL_TYPE,
    DYNAMIC,
    GET_PROJECT,
    GET_REPOSITORY,
    GUARDRAIL_TYPE,
    SECRET_SIG,
    WORKSPACE_TYPE,
    ProgramRun,
    namespaced,
    run_program,
    stack_document,
    stack_file_config,
)
from topology.governance_output import GOVERNANCE_OUTPUT
from topology.inventory import deployed_from_outputs
from topology.outputs import INVENTORY_OUTPUT, KEYS_OUTPUT

ACTIONS_SECRET = "github:index/actionsSecret:ActionsSecret"
ENVIRONMENT_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
ORGANIZATION_SECRET = "github:index/actionsOrganizationSecret:ActionsOrganizationSecret"
ORGANIZATION_REPOSITORIES = (
    "github:index/actionsOrganizationSecretRepositories:ActionsOrganizationSecretRepositories"
)
DEPENDABOT_SECRET = "github:index/dependabotSecret:DependabotSecret"
PROJECT_VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
SHARED_VARIABLE = "vercel:index/sharedEnvironmentVariable:SharedEnvironmentVariable"
GITHUB_PROVIDER = "pulumi:providers:github"
MANAGEMENT_KEY = "openrouter-keys:managementKey"
KEYS_SETTING = "openrouter-keys:keys"
ADOPTED_SECRETS = "openrouter-keys:adoptedSecrets"



def plugin_invocations(run):
    """Invokes of the GitHub and Vercel plugins (not the engine's own, which needs no plugin)."""
    return [i for i in run.invocations if not i.token.startswith("pulumi:pulumi:")]

def unwrap(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def counts(run: ProgramRun) -> dict[str, int]:
    return dict(Counter(r.type for r in run.registrations))


def run_stack(stack: str, extra: dict[str, Any] | None = None) -> tuple[ProgramRun, list[str]]:
    """Run a stack file, with the secrets its header says to set; returns the run and secrets."""
    loaded = stack_file_config(stack)
    config, secret_keys = dict(loaded.config), list(loaded.secret_keys)
    secrets = list(loaded.dummies)
    if MANAGEMENT_KEY not in config:
        config[MANAGEMENT_KEY] = make_sentinel()
        secret_keys.append(MANAGEMENT_KEY)
        secrets.append(config[MANAGEMENT_KEY])
    for key, value in (extra or {}).items():
        config[key] = json.dumps(value) if isinstance(value, dict) else value
        secret_keys.append(key)
    run = run_program(config, secret_keys, stack=stack)
    assert run.error is None, run.error
    return run, secrets + list(run.key_secrets.values())


def assert_sinks_follow_the_rules(run: ProgramRun) -> None:
    """Every sink: delete-before-replace, `value` a secret, a child of the stack that moved out
    of its key's former component (ADR 0010), after its key."""
    by_urn = run.by_urn()
    for sink in run.sinks:
        assert sink.delete_before_replace, sink.urn
        assert sink.parent.split("::")[2] == "pulumi:pulumi:Stack", sink.urn
        assert sink.key_id, sink.urn
        assert "plaintextValue" not in sink.inputs
        if sink.type == ORGANIZATION_REPOSITORIES:
            continue
        assert sink.secret_inputs == {"value"}, sink.urn
        if sink.type.startswith("vercel:"):
            # Vercel makes variables sensitive in production and preview only; a development
            # variable is registered only when its entry says developmentReadableByTeam.
            readable = sink.inputs["targets"] == ["development"]
            assert sink.inputs["sensitive"] is not readable, sink.urn
        if sink.key_id != "@management-key":
            keys = [by_urn[d] for d in sink.dependencies if by_urn[d].type == API_KEY_TYPE]
            assert len(keys) == 1, sink.urn
            assert keys[0].key_id == sink.key_id, sink.urn


def assert_outputs_hold_no_secret(run: ProgramRun, secrets: list[str]) -> None:
    # No output holds a key; `keys` is a secret only to stay out of `pulumi up`'s log, and
    # `governance` is exported only by a stack that declares any.
    assert set(run.output_secret) <= {KEYS_OUTPUT, INVENTORY_OUTPUT, GOVERNANCE_OUTPUT}
    assert run.output_secret[KEYS_OUTPUT] is True
    assert run.output_secret[INVENTORY_OUTPUT] is False
    assert run.output_secret.get(GOVERNANCE_OUTPUT, False) is False
    for secret in secrets:
        assert_absent(secret, run.outputs)


EXPECTED_COUNTS: dict[str, dict[str, int]] = {
    "dev": {API_KEY_TYPE: 3, ACTIONS_SECRET: 2, PROJECT_VARIABLE: 2},
    "staging": {
        API_KEY_TYPE: 2,
        ENVIRONMENT_SECRET: 1,
        ORGANIZATION_SECRET: 1,
        ORGANIZATION_REPOSITORIES: 1,
        SHARED_VARIABLE: 1,
        DEPENDABOT_SECRET: 1,
    },
    "prod": {
        API_KEY_TYPE: 4,
        ENVIRONMENT_SECRET: 2,
        SHARED_VARIABLE: 1,
        ACTIONS_SECRET: 3,
        GITHUB_PROVIDER: 1,
    },
}
EXTRA_SECRETS: dict[str, dict[str, Any]] = {
    "prod": {ADOPTED_SECRETS: {"legacy-backend": "adopted-" + make_sentinel()[9:]}},
}


@pytest.mark.parametrize("stack", sorted(EXPECTED_COUNTS))
def test_each_example_stack_registers_its_keys_and_sinks_by_the_rules(stack):
    run, secrets = run_stack(stack, EXTRA_SECRETS.get(stack))
    assert counts(run) == EXPECTED_COUNTS[stack]
    assert_sinks_follow_the_rules(run)
    assert_outputs_hold_no_secret(run, secrets)
    document = stack_document(stack)
    declared = document["config"]["openrouter-keys:keys"]
    assert set(run.outputs[KEYS_OUTPUT]) == set(declared)
    managed = parse_stack_outputs(run.outputs, f"{stack} (mocks)", stack)
    assert {m.key_id for m in managed} == set(declared)


def test_dev_protects_nothing_and_staging_protects_every_key():
    dev, _ = run_stack("dev")
    staging, _ = run_stack("staging")
    assert {r.protect for r in dev.of_type(API_KEY_TYPE)} == {False}
    assert {r.protect for r in staging.of_type(API_KEY_TYPE)} == {True}


def test_prod_rotation_wires_the_newest_generation_and_protects_only_it():
    run, _ = run_stack("prod", EXTRA_SECRETS["prod"])
    older = run.named(API_KEY_TYPE, "production@2025-10-28")
    newest = run.named(API_KEY_TYPE, "production@2025-11-28")
    assert (older.protect, newest.protect) == (False, True)
    # Both moved out of the component `production` they hung under (ADR 0010); the oldest also
    # answers to the plain key's former name, at the root and under the component.
    component = f"urn:pulumi:prod::openrouter-keys::{COMPONENT_TYPE}::production"
    assert older.alias_parents == newest.alias_parents == (component,)
    assert older.alias_names == ("production",)
    assert newest.alias_names == ()
    assert older.parent == newest.parent == next(r.parent for r in run.of_type(API_KEY_TYPE))
    assert newest.ignore_changes == ("adopt",)
    # An older generation keeps the settings it was created with (issue 9, case 3).
    assert older.ignore_changes == ("adopt", "expires_at", "workspace_id")
    # ...and is registered only once the wired generation and every sink of the key exist, so
    # it keeps its protection whatever fails before (issue 9, case 2).
    holders = {newest.urn} | {s.urn for s in run.sinks if s.key_id == "production"}
    assert holders <= set(older.dependencies)
    order = [r.urn for r in run.registrations]
    assert all(order.index(urn) < order.index(older.urn) for urn in holders)
    assert unwrap(older.inputs["name"]) == "Formul8-Production-2025-10-28"
    assert unwrap(newest.inputs["name"]) == "Formul8-Production-2025-11-28"
    for sink in run.sinks:
        if sink.key_id == "production":
            assert newest.urn in sink.dependencies
            assert older.urn not in sink.dependencies
            assert unwrap(sink.inputs["value"]) == run.key_secrets["production@2025-11-28"]
    entry = run.outputs[KEYS_OUTPUT]["production"]
    assert entry["generation"] == 2
    assert entry["rotation"] == "2025-11-28"
    assert entry["name"] == "Formul8-Production-2025-11-28"
    assert [r["rotation"] for r in entry["retiring"]] == ["2025-10-28"]
    assert {"production@2025-10-28", "production@2025-11-28"} <= set(
        deployed_from_outputs(run.outputs).generations
    )


def test_prod_adopted_key_gets_its_secret_as_a_secret_and_hands_it_to_its_consumer():
    adopted = "adopted-" + make_sentinel()[9:]
    run, _ = run_stack("prod", {ADOPTED_SECRETS: {"legacy-backend": adopted}})
    legacy = run.named(API_KEY_TYPE, "legacy-backend")
    assert unwrap(legacy.inputs["adopt"]) == "c0ffee00" * 8
    assert "adopt_secret" in legacy.secret_inputs
    assert unwrap(legacy.inputs["adopt_secret"]) == adopted
    assert legacy.ignore_changes == ()
    (consumer,) = [s for s in run.sinks if s.key_id == "legacy-backend"]
    assert unwrap(consumer.inputs["value"]) == adopted
    assert_absent(adopted, run.outputs)


def test_prod_owner_other_than_github_owner_gets_its_own_provider():
    run, _ = run_stack("prod", EXTRA_SECRETS["prod"])
    (provider,) = run.of_type(GITHUB_PROVIDER)
    assert provider.name == "github-partner-org"
    assert unwrap(provider.inputs["owner"]) == "partner-org"
    assert "token" not in provider.inputs  # no github:token: the provider reads GITHUB_TOKEN
    ingest = run.named(ACTIONS_SECRET, "partner-org/ingest/OPENROUTER_API_KEY")
    assert ingest.provider.startswith(provider.urn + "::")
    assert unwrap(ingest.inputs["repository"]) == "ingest"
    pipelines = run.named(ACTIONS_SECRET, "f8ai/pipelines/OPENROUTER_API_KEY")
    assert pipelines.provider == ""


def test_an_explicit_provider_gets_github_token_as_a_secret():
    token = make_sentinel()
    run, _ = run_stack(
        "prod", {**EXTRA_SECRETS["prod"], "github:token": token}
    )
    (provider,) = run.of_type(GITHUB_PROVIDER)
    assert "token" in provider.secret_inputs
    assert unwrap(provider.inputs["token"]) == token


def test_staging_organization_secret_lists_repository_ids_from_lookups():
    run, _ = run_stack("staging")
    (secret,) = run.of_type(ORGANIZATION_SECRET)
    (allowed,) = run.of_type(ORGANIZATION_REPOSITORIES)
    assert unwrap(secret.inputs["visibility"]) == "selected"
    assert "selectedRepositoryIds" not in secret.inputs
    assert unwrap(secret.inputs["secretName"]) == "OPENROUTER_STAGING_KEY"
    lookups = [i.args["fullName"] for i in run.invocations if i.token == GET_REPOSITORY]
    assert lookups == ["f8ai/evals", "f8ai/load-tests"]
    assert len(allowed.inputs["selectedRepositoryIds"]) == 2
    assert secret.urn in allowed.dependencies
    assert allowed.delete_before_replace


def test_staging_dependabot_and_environment_secrets_land_in_their_scopes():
    run, _ = run_stack("staging")
    (dependabot,) = run.of_type(DEPENDABOT_SECRET)
    (environment,) = run.of_type(ENVIRONMENT_SECRET)
    assert (unwrap(dependabot.inputs["repository"]), dependabot.key_id) == (
        "agents", "dependency-checks"
    )
    assert unwrap(environment.inputs["environment"]) == "staging"
    (shared,) = run.of_type(SHARED_VARIABLE)
    assert shared.inputs["targets"] == ["preview"]
    projects = [i.args["name"] for i in run.invocations if i.token == GET_PROJECT]
    assert projects == ["agent-chat", "web"]
    assert len(shared.inputs["projectIds"]) == 2


def test_the_sandbox_stack_needs_no_github_or_vercel_plugin():
    run, secrets = run_stack("sandbox")
    config = stack_document("sandbox")["config"]
    declared = config["openrouter-keys:keys"]
    governed = [k for k in declared.values() if k and k.get("guardrail")]
    assert counts(run) == {
        API_KEY_TYPE: len(declared),
        # One guardrail, one workspace with budgets and a default guardrail, and ci's guardrail.
        GUARDRAIL_TYPE: len(config["openrouter-keys:guardrails"]),
        WORKSPACE_TYPE: len(config["openrouter-keys:workspaces"]),
        BUDGETS_TYPE: 1,
        DEFAULT_GUARDRAIL_TYPE: 1,
        ASSIGNMENT_TYPE: len(governed),
        f"{DYNAMIC}ByokCredential": len(config["openrouter-keys:byok"]),
        f"{DYNAMIC}ObservabilityDestination": len(config["openrouter-keys:observability"]),
    }
    assert plugin_invocations(run) == []
    assert_outputs_hold_no_secret(run, secrets)


# --- the scenario ----------------------------------------------------------------------

PROJECTS = [f"agent-{n:02d}" for n in range(1, 16)]


def scenario_config(vercel: list[dict[str, Any]], management_key: str) -> dict[str, str]:
    keys = {
        "production": {
            "name": "Formul8-Production",
            "limit": 250,
            "limitReset": "monthly",
            "github": [{"repository": "agents"}],
            "vercel": vercel,
        }
    }
    targets = {"github": [{"repository": "infra"}]}
    return {
        **namespaced(
            {
                "keys": json.dumps(keys),
                "managementKeyTargets": json.dumps(targets),
                "managementKey": management_key,
            }
        ),
        "github:owner": "f8ai",
        "vercel:team": "f8ai",
    }


def test_one_production_key_in_a_repo_secret_and_15_vercel_projects_plus_the_management_key():
    management_key = make_sentinel()
    vercel = [{"project": project, "targets": ["production"]} for project in PROJECTS]
    run = run_program(scenario_config(vercel, management_key), [MANAGEMENT_KEY], stack="prod")
    assert run.error is None, run.error
    assert counts(run) == {
        API_KEY_TYPE: 1,
        ACTIONS_SECRET: 2,
        PROJECT_VARIABLE: 15,
    }
    assert_sinks_follow_the_rules(run)
    key = run.key_secrets["production"]
    production_sinks = [s for s in run.sinks if s.key_id == "production"]
    assert len(production_sinks) == 16
    assert {unwrap(s.inputs["value"]) for s in production_sinks} == {key}
    assert sorted(s.name for s in production_sinks if s.type == PROJECT_VARIABLE) == [
        f"{project}/OPENROUTER_API_KEY/production" for project in PROJECTS
    ]
    (published,) = [s for s in run.sinks if s.key_id == "@management-key"]
    assert published.name == "f8ai/infra/OPENROUTER_MANAGEMENT_KEY"
    assert unwrap(published.inputs["value"]) == management_key
    assert published.dependencies == ()
    assert_present(management_key, [published.inputs])
    for sink in production_sinks:
        assert_absent(management_key, [sink.inputs])
    for registration in run.of_type(API_KEY_TYPE):
        assert_absent(management_key, [registration.inputs])
    assert_outputs_hold_no_secret(run, [management_key, key])
    assert run.outputs[INVENTORY_OUTPUT]["managementKey"] == {
        "label": masked(management_key), "source": "stack config (managementKey)"
    }


def test_the_same_15_projects_as_one_shared_variable():
    management_key = make_sentinel()
    vercel = [{"projects": PROJECTS, "targets": ["production", "preview"]}]
    run = run_program(scenario_config(vercel, management_key), [MANAGEMENT_KEY], stack="prod")
    assert run.error is None, run.error
    shared = run.of_type(SHARED_VARIABLE)
    assert sorted(s.name for s in shared) == [
        "OPENROUTER_API_KEY/preview", "OPENROUTER_API_KEY/production"
    ]
    assert {len(s.inputs["projectIds"]) for s in shared} == {15}
    assert [i.args["name"] for i in plugin_invocations(run)] == PROJECTS  # one per project
    assert_sinks_follow_the_rules(run)


def test_a_project_variable_with_a_branch_applies_it_to_preview_only():
    management_key = make_sentinel()
    vercel = [{"project": "prj_chat", "gitBranch": "main"}]
    run = run_program(scenario_config(vercel, management_key), [MANAGEMENT_KEY], stack="prod")
    variables = {r.name: r for r in run.of_type(PROJECT_VARIABLE)}
    assert sorted(variables) == [
        "prj_chat/OPENROUTER_API_KEY/preview@main",
        "prj_chat/OPENROUTER_API_KEY/production",
    ]
    assert variables["prj_chat/OPENROUTER_API_KEY/preview@main"].inputs["gitBranch"] == "main"
    assert "gitBranch" not in variables["prj_chat/OPENROUTER_API_KEY/production"].inputs
    assert {r.inputs["projectId"] for r in variables.values()} == {"prj_chat"}
    assert plugin_invocations(run) == []  # a prj_ id needs no lookup


def test_a_management_key_from_the_environment_is_published_and_named_in_the_inventory(
    monkeypatch,
):
    management_key = make_sentinel()
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", management_key)
    config = scenario_config([], management_key)
    del config[MANAGEMENT_KEY]
    run = run_program(config, [], stack="prod")
    assert run.error is None, run.error
    (published,) = [s for s in run.sinks if s.key_id == "@management-key"]
    assert unwrap(published.inputs["value"]) == management_key
    source = run.outputs[INVENTORY_OUTPUT]["managementKey"]["source"]
    assert source == "environment (OPENROUTER_MANAGEMENT_KEY)"
    assert_absent(management_key, run.outputs)


def test_key_outputs_are_what_cli_audit_reads():
    management_key = make_sentinel()
    run = run_program(scenario_config([], management_key), [MANAGEMENT_KEY], stack="prod")
    (managed,) = parse_stack_outputs(run.outputs, "mocks", "prod")
    minted = hashlib.sha256(run.key_secrets["production"].encode()).hexdigest()
    assert (managed.key_id, managed.hash, managed.generation) == ("production", minted, 1)
    assert managed.name == "Formul8-Production"
    assert managed.label == masked(run.key_secrets["production"])
    assert managed.consumers == ("github:f8ai/agents:OPENROUTER_API_KEY",)




def test_the_program_leaves_the_standard_pickler_in_place():
    """pulumi 3.272 wraps pickle once per dynamic resource and never unwraps it; every resource
    of the package undoes it (providers/base/sdk_pickle.py, PickleSafeResource)."""
    serialize_provider(KeyProvider())  # leaves one wrapper behind, as the SDK does
    assert pickle._Pickler._batch_setitems.__qualname__ != "_Pickler._batch_setitems"
    run = run_program(scenario_config([], make_sentinel()), [MANAGEMENT_KEY], stack="prod")
    assert run.error is None, run.error
    assert pickle._Pickler._batch_setitems.__qualname__ == "_Pickler._batch_setitems"


def test_with_the_guard_serialising_stays_flat_and_deterministic_past_the_recursion_limit():
    first = serialize_provider(KeyProvider())
    for _ in range(1500):  # without the guard: RecursionError near 950
        assert serialize_provider(KeyProvider()) == first
        undo_sdk_pickle_wrapper()


def test_an_empty_record_is_exported_in_plain_text_and_a_full_one_as_a_secret():
    # The engine hands another stack `{}` for a secret it cannot decrypt; the guard tells that
    # from "no keys" only because an empty record is never a secret (topology/deployed.py).
    config = {KEYS_SETTING: "{}", MANAGEMENT_KEY: make_sentinel()}
    empty = run_program(config, [MANAGEMENT_KEY], stack="dev")
    assert empty.error is None, empty.error
    assert (empty.outputs[KEYS_OUTPUT], empty.output_secret[KEYS_OUTPUT]) == ({}, False)
    config[KEYS_SETTING] = json.dumps({"ci": {"limit": 1}})
    full = run_program(config, [MANAGEMENT_KEY], stack="dev")
    assert full.error is None, full.error
    assert set(full.outputs[KEYS_OUTPUT]) == {"ci"}
    assert full.output_secret[KEYS_OUTPUT] is True


def test_a_retiring_generation_is_not_given_the_expiry_planned_for_the_new_one():
    # The old generation ignores the new `expiresAt`; its output, empty at OpenRouter, reads
    # back in the program as that input, and the inventory showed it as expiring.
    keys = {"p": {"rotations": ["2026-11-01", "2026-12-01"], "expiresAt": "2099-12-01T00:00:00Z"}}
    config = {KEYS_SETTING: json.dumps(keys), MANAGEMENT_KEY: make_sentinel()}
    run = run_program(config, [MANAGEMENT_KEY], stack="dev")
    assert run.error is None, run.error
    assert run.outputs[INVENTORY_OUTPUT]["expiresAt"] == {"p@2026-12-01": "2099-12-01T00:00:00Z"}
