"""Ownership across stacks (topology/ownership.py): an `adopt` of a workspace or guardrail another
stack manages, or a new one taking another stack's slug or name, is refused naming that stack;
only what no stack manages is left to the provider's `workspace-slug-taken` /
`guardrail-name-taken`, which offer `adopt:`. Keys follow the same rule
(tests/topology/test_guard.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.sentinel import make_sentinel
from topology.config import RawConfig, StackConfig, validate
from topology.deployed import Deployment
from topology.governance_output import GOVERNANCE_OUTPUT, DeployedGovernance
from topology.guard import TopologyGuardError
from topology.keys_output import KEYS_OUTPUT
from topology.ownership import (
    GUARDRAIL,
    WORKSPACE,
    Answer,
    Question,
    needs_other_stacks,
    new_claims,
    ownership_problems,
    questions,
)
from topology.plan import Plan
from topology.preflight import guard

THEIR_WORKSPACE = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"
THEIR_GUARDRAIL = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
THEIR_DEFAULT = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
THEIR_OTHER_GUARDRAIL = "6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0"
ELSEWHERE = "7a8b9c0d-1e2f-4a3b-c4d5-e6f7a8b9c0d1"

STAGING_GOVERNANCE = {
    "workspaces": {
        "research": {"id": THEIR_WORKSPACE, "slug": "research", "defaultGuardrail": THEIR_DEFAULT}
    },
    "guardrails": {
        "cheap": {"id": THEIR_GUARDRAIL, "name": "cheap-models", "workspace": "research"},
        "global": {"id": THEIR_OTHER_GUARDRAIL, "name": "global-cap"},
    },
}


def staging(**unreadable: str) -> Deployment:
    if unreadable:
        return Deployment("staging", {}, unreadable=unreadable["why"])
    return Deployment("staging", {}, DeployedGovernance.model_validate(STAGING_GOVERNANCE))


def plan_of(guardrails: Any = None, workspaces: Any = None) -> Plan:
    return config_of(guardrails, workspaces).plan


def config_of(guardrails: Any = None, workspaces: Any = None) -> StackConfig:
    raw = RawConfig(
        keys=json.dumps({}),
        guardrails=None if guardrails is None else json.dumps(guardrails),
        workspaces=None if workspaces is None else json.dumps(workspaces),
        management_key=make_sentinel(),
        management_key_is_secret=True,
    )
    return validate(raw, "prod", {})


NOTHING = Deployment("prod", {})


def rendered(plan: Plan, *others: Deployment, **said: Answer) -> list[str]:
    """The refusals, OpenRouter answering each question by `said[ref]` (a UUID keyword as
    `_<hex>`), or not knowing it."""
    asked = questions(NOTHING, plan, list(others))
    answers = {q: said.get(q.ref, said.get("_" + q.ref.replace("-", ""), Answer())) for q in asked}
    return [p.render() for p in ownership_problems(NOTHING, plan, others, answers)]


def asked(plan: Plan, *others: Deployment) -> list[tuple[str, str]]:
    return [(q.kind.section, q.ref) for q in questions(NOTHING, plan, list(others))]


THEIRS = Answer(THEIR_WORKSPACE)


# --- adopt: another stack's object --------------------------------------------------------------


@pytest.mark.parametrize("ref", [THEIR_WORKSPACE, THEIR_WORKSPACE.upper(), "research"])
def test_adopting_another_stacks_workspace_by_id_or_slug_is_refused_naming_it(ref):
    plan = plan_of(workspaces={"lab": {"adopt": ref}})
    # An id is unique across accounts; a slug is asked: another account may have it too.
    assert asked(plan, staging()) == ([] if ref != "research" else [("workspaces", "research")])
    (said,) = rendered(plan, staging(), research=THEIRS)
    assert said.startswith(f"workspaces.lab.adopt: workspace '{ref}'")
    assert "is already managed by stack 'staging' as workspaces.research;" in said
    assert "two stacks on one workspace overwrite each other's" in said
    assert "Fix: remove `adopt` from workspaces.lab;" in said
    assert "leave it to stack 'staging' and name it by its id" in said


def test_a_slug_is_resolved_by_openrouter_and_compared_by_id():
    # Their workspace's slug was changed in the dashboard: only OpenRouter knows it now.
    plan = plan_of(workspaces={"lab": {"adopt": "renamed"}})
    assert asked(plan, staging()) == [("workspaces", "renamed")]
    (said,) = rendered(plan, staging(), renamed=THEIRS)
    assert said.startswith(
        f"workspaces.lab.adopt: workspace 'renamed' (id {THEIR_WORKSPACE}) is already managed by"
        " stack 'staging' as workspaces.research;"
    )
    assert rendered(plan, staging(), renamed=Answer(ELSEWHERE)) == []
    assert rendered(plan, staging(), renamed=Answer()) == []  # no such workspace


def test_a_slug_their_record_carries_is_free_in_another_account():
    # A stack of the project on another account (or on the emulator) has its own `research`.
    plan = plan_of(workspaces={"lab": {"adopt": "research"}})
    assert rendered(plan, staging(), research=Answer(ELSEWHERE)) == []


def test_a_slug_openrouter_cannot_resolve_is_refused_fail_closed():
    plan = plan_of(workspaces={"lab": {"adopt": "renamed"}})
    (said,) = rendered(plan, staging(), renamed=Answer(failure="connection refused"))
    assert said.startswith(
        "workspaces.lab.adopt: cannot tell whether another stack manages 'renamed': OpenRouter"
        " could not say which object that is (connection refused)"
    )


def test_no_request_when_no_stack_manages_a_workspace():
    plan = plan_of(workspaces={"lab": {"adopt": "renamed"}})
    assert asked(plan, Deployment("dev", {})) == []


@pytest.mark.parametrize(
    ("ref", "path"),
    [
        (THEIR_GUARDRAIL, "guardrails.cheap"),
        (THEIR_DEFAULT, "workspaces.research.defaultGuardrail"),
    ],
)
def test_adopting_another_stacks_guardrail_or_default_guardrail_is_refused(ref, path):
    (said,) = rendered(plan_of(guardrails={"mine": {"adopt": ref}}), staging())
    assert said.startswith(
        f"guardrails.mine.adopt: guardrail '{ref}' is already managed by stack 'staging' as"
        f" {path}; two stacks on one guardrail overwrite each other's policy"
    )
    assert "change that guardrail's policy in stack 'staging''s stack file" in said


def test_adopting_while_another_stack_cannot_be_read_is_refused_for_every_kind():
    plan = plan_of(
        guardrails={"mine": {"adopt": ELSEWHERE}}, workspaces={"lab": {"adopt": THEIR_WORKSPACE}}
    )
    blind = staging(why="its `keys` output is encrypted")
    said = rendered(plan, blind)
    assert [s.split(":")[0] for s in said] == ["workspaces.lab.adopt", "guardrails.mine.adopt"]
    assert said[0].startswith(
        f"workspaces.lab.adopt: cannot tell whether stack 'staging' manages workspace"
        f" '{THEIR_WORKSPACE}': its record could not be read (its `keys` output is encrypted)"
    )


def test_adopting_under_a_new_id_what_this_stack_manages_is_refused():
    previous = Deployment("prod", {}, DeployedGovernance.model_validate(STAGING_GOVERNANCE))
    plan = plan_of(
        workspaces={"research": {}, "lab": {"adopt": THEIR_WORKSPACE}},
        guardrails={"cheap": {"workspace": "research", "name": "cheap-models"}},
    )
    assert questions(previous, plan, []) == []
    (problem,) = ownership_problems(previous, plan)
    assert problem.render().startswith(
        f"workspaces.lab.adopt: workspace '{THEIR_WORKSPACE}' is already managed by this stack"
        " as workspaces.research;"
    )


def test_an_adoption_already_recorded_is_no_new_claim():
    recorded = {"workspaces": {"lab": {"id": THEIR_WORKSPACE, "slug": "research"}}}
    previous = Deployment("prod", {}, DeployedGovernance.model_validate(recorded))
    plan = plan_of(workspaces={"lab": {"adopt": THEIR_WORKSPACE, "slug": "research"}})
    assert new_claims(previous, plan) == []
    assert not needs_other_stacks(previous, plan)


def test_a_free_object_may_be_adopted():
    plan = plan_of(
        guardrails={"mine": {"adopt": ELSEWHERE}}, workspaces={"lab": {"adopt": "free-slug"}}
    )
    assert rendered(plan, staging(), **{"free-slug": Answer(ELSEWHERE)}) == []


# --- a new workspace or guardrail taking another stack's slug or name ----------------------------


def test_a_new_workspace_with_another_stacks_slug_is_refused_naming_it_without_adopt():
    for spec in ({"research": {}}, {"lab": {"slug": "research"}}):
        plan = plan_of(workspaces=spec)
        assert asked(plan, staging()) == [("workspaces", "research")]
        (said,) = rendered(plan, staging(), research=THEIRS)
        assert f"slug 'research' is the slug of workspace {THEIR_WORKSPACE}, which stack" in said
        assert "'staging' manages as workspaces.research;" in said
        assert "adopt:" not in said.partition("Fix:")[2]
        # Another account's workspace of that slug, or none: the provider's check judges.
        assert rendered(plan, staging(), research=Answer(ELSEWHERE)) == []
        assert rendered(plan, staging(), research=Answer()) == []
    assert asked(plan_of(workspaces={"lab": {}}), staging()) == []
    assert rendered(plan_of(workspaces={"lab": {}}), staging()) == []


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "cheap-models", "workspace": THEIR_WORKSPACE},
        {"name": "global-cap"},  # both in the default workspace
    ],
)
def test_a_new_guardrail_with_another_stacks_name_in_its_workspace_is_refused(spec):
    plan = plan_of(guardrails={"mine": spec})
    ((kind, ref),) = asked(plan, staging())
    assert kind == "guardrails"
    assert ref in {THEIR_GUARDRAIL, THEIR_OTHER_GUARDRAIL}
    (said,) = rendered(plan, staging(), **{"_" + ref.replace("-", ""): Answer(spec["name"])})
    assert said.startswith(
        f"guardrails.mine: name '{spec['name']}' is the name of guardrail {ref} in the same"
        " workspace, which stack 'staging' manages as guardrails."
    )
    assert "adopt:" not in said.partition("Fix:")[2]
    # Not in this account, or renamed since: no twin.
    assert rendered(plan, staging()) == []
    assert rendered(plan, staging(), **{"_" + ref.replace("-", ""): Answer("renamed")}) == []


def test_a_guardrail_name_is_free_in_another_or_a_new_workspace():
    elsewhere = {"mine": {"name": "cheap-models", "workspace": ELSEWHERE}}
    assert asked(plan_of(guardrails=elsewhere), staging()) == []
    new = plan_of(
        guardrails={"mine": {"name": "cheap-models", "workspace": "lab"}}, workspaces={"lab": {}}
    )
    assert asked(new, staging()) == []


def test_objects_this_stack_already_manages_are_not_checked_again():
    recorded = {
        "workspaces": {"research": {"id": ELSEWHERE, "slug": "research"}},
        "guardrails": {"g": {"id": THEIR_GUARDRAIL, "name": "global-cap"}},
    }
    previous = Deployment("prod", {}, DeployedGovernance.model_validate(recorded))
    plan = plan_of(workspaces={"research": {}}, guardrails={"g": {"name": "global-cap"}})
    assert not needs_other_stacks(previous, plan)


# --- the program: what it reads and asks --------------------------------------------------------


def test_the_program_reads_other_stacks_and_asks_openrouter_only_when_needed(tmp_path: Path):
    for stack in ("prod", "staging"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    records = {"prod": {}, "staging": {KEYS_OUTPUT: {}, GOVERNANCE_OUTPUT: STAGING_GOVERNANCE}}
    read: list[str] = []
    calls: list[list[tuple[str, str]]] = []
    account = {
        (WORKSPACE.section, "research"): THEIR_WORKSPACE,
        (WORKSPACE.section, "renamed"): THEIR_WORKSPACE,
        (GUARDRAIL.section, THEIR_OTHER_GUARDRAIL): "global-cap",
    }

    def reader(stack: str) -> dict[str, Any]:
        read.append(stack)
        return records[stack]

    def openrouter(_: StackConfig, questions: Sequence[Question]) -> dict[Question, Answer]:
        calls.append([(q.kind.section, q.ref) for q in questions])
        return {
            q: Answer(failure="connection refused")
            if q.ref == "down"
            else Answer(account.get((q.kind.section, q.ref)))
            for q in questions
        }

    def run(**config: Any) -> list[str]:
        read.clear()
        calls.clear()
        try:
            guard(config_of(**config), reader, tmp_path, ask_owner=openrouter)
        except TopologyGuardError as error:
            return [p.render() for p in error.problems]
        return []

    assert run() == []
    assert (read, calls) == (["prod"], [])  # nothing new: no other stack read, nothing asked
    (said,) = run(workspaces={"lab": {"adopt": "renamed"}})
    assert (read, calls) == (["prod", "staging"], [[("workspaces", "renamed")]])
    assert "is already managed by stack 'staging' as workspaces.research" in said
    (said,) = run(workspaces={"lab": {"adopt": "down"}})
    assert "OpenRouter could not say which object that is (connection refused)" in said
    slug, name = run(workspaces={"research": {}}, guardrails={"g": {"name": "global-cap"}})
    assert calls == [[("workspaces", "research"), ("guardrails", THEIR_OTHER_GUARDRAIL)]]
    assert slug.startswith("workspaces.research: slug 'research' is the slug of workspace")
    assert name.startswith("guardrails.g: name 'global-cap' is the name of guardrail")
    assert run(workspaces={"lab": {}}, guardrails={"g": {"name": "mine"}}) == []
    assert (read, calls) == (["prod", "staging"], [])
