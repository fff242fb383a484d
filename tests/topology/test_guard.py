"""The topology guard (topology/guard.py): a corpus of ordinary mistakes, each refused with the
key, what holds it, and the documented way; and the edits that must stay allowed.

Every case deploys a config with the step model (tests/topology/step_model.py), which writes the
stack's record as topology/outputs.py does, then edits it and asks the guard.
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests.topology.step_model import Stack, World, apply
from topology import deployed as deployed_module
from topology.config import RawConfig, validate
from topology.deployed import Deployment, SecretsUnreadableError, other_deployments
from topology.guard import TopologyGuardError, deletions, guard_problems
from topology.keys_output import DeployedKey
from topology.plan import Plan

MANAGEMENT_KEY = "sk-or-v1-" + "0" * 8  # short: not key-shaped
HASH_X = "9" * 64
SHOP = {"limit": 5, "github": [{"repository": "shop"}]}
LAPTOPS = {"limit": 5}  # no consumers
FUTURE = "2030-01-01T00:00:00Z"
LATER = "2031-01-01T00:00:00Z"
WORKSPACE = "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b"


def plan_of(keys: dict[str, Any], *, protect_keys: bool = True) -> Plan:
    raw = RawConfig(
        keys=json.dumps(keys),
        protect_keys=json.dumps(protect_keys),
        management_key=MANAGEMENT_KEY,
        management_key_is_secret=True,
        github_owner="f8ai",
        adopted_secrets=json.dumps({}),
        adopted_secrets_is_secret=True,
    )
    return validate(raw, "prod", {}).plan


def deployed(keys: dict[str, Any], *, protect_keys: bool = True) -> dict[str, DeployedKey]:
    stack, world = Stack(), World(live={HASH_X})
    _, stopped = apply(stack, world, plan_of(keys, protect_keys=protect_keys), guarded=False)
    assert stopped is None, stopped
    return stack.record


def refusals(before: dict[str, Any], after: dict[str, Any], **options: Any) -> list[str]:
    previous = deployed(before, **options)
    return [p.render() for p in guard_problems(previous, plan_of(after, **options))]


# --- the corpus: each mistake, what the guard says ------------------------------------------

MISTAKES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]]] = [
    (
        "keys emptied (a misspelt setting or namespace reads as no keys)",
        {"shop": SHOP, "laptops": LAPTOPS},
        {},
        {},
        ["openrouter-keys:keys: the stack config declares no keys, but this stack manages 2:",
         "Fix: if `openrouter-keys:keys` is misspelt, moved or emptied by mistake, restore it;"
         " to retire every key of this stack on purpose, run `pulumi destroy`"],
    ),
    (
        "a key id removed while a consumer holds it",
        {"shop": SHOP, "laptops": LAPTOPS},
        {"laptops": LAPTOPS},
        {"protect_keys": False},
        ["keys.shop: removing keys.shop deletes key 'prod-shop'",
         "1 consumer (github:f8ai/shop:OPENROUTER_API_KEY) still hold",
         "first remove its `github` and `vercel` entries and set `protect: false`"],
    ),
    (
        "a protected key id removed",
        {"shop": {"limit": 5}, "laptops": LAPTOPS},
        {"laptops": LAPTOPS},
        {},
        ["keys.shop: removing keys.shop deletes key 'prod-shop'", "which is protected"],
    ),
    (
        "a rotation done in one edit",
        {"shop": {**SHOP, "rotations": ["2026-10"]}},
        {"shop": {**SHOP, "rotations": ["2026-11"]}},
        {},
        ["keys.shop.rotations: the change deletes generation '2026-10' of keys.shop",
         "rotations: ['2026-10', '2026-11']"],
    ),
    (
        "the newest generation dropped instead of the oldest",
        {"shop": {**SHOP, "rotations": ["2026-10", "2026-11"]}},
        {"shop": {**SHOP, "rotations": ["2026-10"]}},
        {},
        ["keys.shop.rotations: the change deletes generation '2026-11' of keys.shop"],
    ),
    (
        "rotations removed altogether",
        {"shop": {**SHOP, "rotations": ["2026-10", "2026-11"]}},
        {"shop": SHOP},
        {},
        ["keep `rotations`, listing the generations to keep: removing it mints a new key"],
    ),
    (
        "expiresAt changed on a key without rotations (what audit advises for an expiring key)",
        {"shop": {**SHOP, "expiresAt": FUTURE}},
        {"shop": {**SHOP, "expiresAt": LATER}},
        {},
        ["keys.shop.expiresAt: OpenRouter cannot change expiresAt in place, so the change would"
         " replace key 'prod-shop'",
         "rotations: ['<a label for the current key>', '<a label for the new key>']"],
    ),
    (
        "expiresAt added to a rotated key without a new generation",
        {"shop": {**SHOP, "rotations": ["2026-10", "2026-11"]}},
        {"shop": {**SHOP, "rotations": ["2026-10", "2026-11"], "expiresAt": FUTURE}},
        {},
        ["keys.shop.expiresAt: OpenRouter cannot change expiresAt in place",
         "rotations: ['2026-11', '<a label for the new key>']"],
    ),
    (
        "a workspace moved",
        {"laptops": LAPTOPS},
        {"laptops": {**LAPTOPS, "workspaceId": WORKSPACE}},
        {"protect_keys": False},
        ["keys.laptops.workspaceId: OpenRouter cannot change workspaceId in place"],
    ),
    (
        "another key adopted under an existing key id",
        {"laptops": LAPTOPS},
        {"laptops": {**LAPTOPS, "adopt": HASH_X}},
        {"protect_keys": False},
        ["keys.laptops.adopt: OpenRouter cannot change adopt in place",
         "declare the key to adopt under a new key id"],
    ),
    (
        "a key renamed and its old name given to a new key in the same update",
        {"old": {"name": "alpha"}},
        {"old": {"name": "beta"}, "new": {"name": "alpha"}},
        {"protect_keys": False},
        ["keys.new.name: the new key's OpenRouter name 'alpha' is still carried by keys.old"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "options", "said"),
    [case[1:] for case in MISTAKES],
    ids=[case[0] for case in MISTAKES],
)
def test_an_ordinary_mistake_is_refused_in_the_projects_words(before, after, options, said):
    found = refusals(before, after, **options)
    assert len(found) == 1, found
    for fragment in said:
        assert fragment in found[0], (fragment, found[0])
    assert "docs/runbooks.md" in found[0] or "rename or retire" in found[0]


def test_adopting_under_a_new_id_the_key_another_id_manages_is_refused():
    previous = deployed({"old": {"limit": 1}}, protect_keys=False)
    held = previous["old"].hash
    plan = plan_of({"old": {"limit": 1}, "new": {"adopt": held}}, protect_keys=False)
    (problem,) = guard_problems(previous, plan)
    assert problem.path == "keys.new.adopt"
    assert "already managed by this stack as keys.old" in problem.message


def test_adopting_another_stacks_key_is_refused_naming_that_stack():
    staging = deployed({"agents": {"limit": 1}})
    theirs = staging["agents"].hash
    plan = plan_of({"legacy": {"adopt": theirs}})
    others = [Deployment("staging", staging)]
    (problem,) = guard_problems({}, plan, others)
    assert problem.render().startswith(
        f"keys.legacy.adopt: hash '{theirs}' is already managed by stack 'staging' as"
        " keys.agents"
    )


def test_adopting_while_another_stack_cannot_be_read_is_refused_naming_it():
    plan = plan_of({"legacy": {"adopt": HASH_X}})
    blind = Deployment("staging", {}, unreadable="its `keys` output is encrypted")
    (problem,) = guard_problems({}, plan, [blind])
    assert problem.render().startswith(
        f"keys.legacy.adopt: cannot tell whether stack 'staging' manages hash '{HASH_X}': its"
        " record could not be read (its `keys` output is encrypted)"
    )
    readable = Deployment("staging", {})
    assert guard_problems({}, plan, [readable]) == []


def test_another_stack_never_deployed_is_skipped_and_an_unreadable_one_kept():
    def read(stack: str) -> dict[str, Any]:
        if stack == "new":
            raise RuntimeError('unknown stack "organization/openrouter-keys/new"')
        raise SecretsUnreadableError("its `keys` output is encrypted")

    found = other_deployments(["new", "staging"], read, sleep=lambda _: None)
    assert [(d.stack, d.unreadable) for d in found] == [
        ("staging", "its `keys` output is encrypted")
    ]


def test_a_secret_record_read_back_empty_is_unreadable_not_empty(monkeypatch):
    # The engine hands back `{}` for a secret it cannot decrypt; the program never exports an
    # empty record as a secret, so this is another passphrase, never "no keys".
    answers = {
        "secret": {"outputs": {"keys": {}}, "secretOutputNames": ["keys"]},
        "plain": {"outputs": {"keys": {}}, "secretOutputNames": []},
    }
    monkeypatch.setattr(deployed_module, "qualified_name", lambda stack: stack)
    monkeypatch.setattr(
        deployed_module, "invoke", lambda _token, args: SimpleNamespace(value=answers[args["name"]])
    )
    assert deployed_module.read_outputs("plain") == {"keys": {}}
    with pytest.raises(SecretsUnreadableError):
        deployed_module.read_outputs("secret")
    calls: list[float] = []
    with pytest.raises(SecretsUnreadableError):
        deployed_module.deployment_of("secret", sleep=calls.append)
    assert calls == []  # read once: another try cannot decrypt it


def test_a_record_of_an_earlier_version_counts_a_key_as_protected():
    previous = deployed({"laptops": LAPTOPS, "ci": {"limit": 1}}, protect_keys=False)
    legacy = {k: v.model_copy(update={"protect": None}) for k, v in previous.items()}
    (problem,) = guard_problems(legacy, plan_of({"ci": {"limit": 1}}, protect_keys=False))
    assert "deployed by an earlier version that did not record its protection" in problem.message


# --- what must stay allowed -------------------------------------------------------------------

ALLOWED = [
    ("a limit edit", {"shop": SHOP}, {"shop": {**SHOP, "limit": 9}}, {}),
    ("a new key", {"shop": SHOP}, {"shop": SHOP, "ci": {"limit": 1}}, {}),
    (
        "a generation added, carrying a new expiresAt",
        {"shop": {**SHOP, "expiresAt": FUTURE}},
        {"shop": {**SHOP, "rotations": ["2026-10", "2026-11"], "expiresAt": LATER}},
        {},
    ),
    (
        "the retiring generation dropped",
        {"shop": {**SHOP, "rotations": ["2026-10", "2026-11"]}},
        {"shop": {**SHOP, "rotations": ["2026-11"]}},
        {},
    ),
    (
        "step one of retiring a key: unprotected and unwired",
        {"shop": SHOP, "ci": {"limit": 1}},
        {"shop": {"limit": 5, "protect": False}, "ci": {"limit": 1}},
        {},
    ),
    (
        "step two: a key nothing holds and nothing protects removed",
        {"shop": {"limit": 5, "protect": False}, "ci": {"limit": 1}},
        {"ci": {"limit": 1}},
        {},
    ),
    (
        "a consumer moved to another key",
        {"shop": SHOP, "ci": {"limit": 1}},
        {"shop": {"limit": 5}, "ci": {"limit": 1, "github": [{"repository": "shop"}]}},
        {},
    ),
    ("adopt dropped after the adoption", {"laptops": {"adopt": HASH_X}}, {"laptops": {}}, {}),
]


@pytest.mark.parametrize(
    ("before", "after", "options"), [case[1:] for case in ALLOWED], ids=[c[0] for c in ALLOWED]
)
def test_a_deliberate_edit_passes(before, after, options):
    assert refusals(before, after, **options) == []


def test_a_stack_never_deployed_can_declare_anything():
    assert guard_problems({}, plan_of({"shop": SHOP})) == []


def test_deletions_lists_exactly_the_generations_the_plan_drops():
    previous = deployed({"shop": {**SHOP, "rotations": ["a", "b"]}, "ci": LAPTOPS})
    dropped = deletions(previous, plan_of({"shop": {**SHOP, "rotations": ["b"]}, "ci": LAPTOPS}))
    assert [(d.key_id, d.generation.rotation, d.is_wired) for d in dropped] == [
        ("shop", "a", False)
    ]


def test_the_error_lists_every_refusal_and_says_nothing_changed():
    previous = deployed({"shop": SHOP, "ci": SHOP | {"github": [{"repository": "ci"}]}})
    problems = guard_problems(previous, plan_of({"other": {"limit": 1}}))
    text = str(TopologyGuardError(problems))
    assert text.startswith(
        "The topology guard refuses 2 changes the stack config asks for; nothing was created,"
        " changed or deleted:"
    )
    assert "  1. keys.shop: " in text
    assert "  2. keys.ci: " in text


def test_a_refused_edit_taken_back_is_accepted_again():
    before = {"shop": SHOP}
    after = copy.deepcopy(before)
    after["shop"]["expiresAt"] = FUTURE
    assert refusals(before, after) != []
    assert refusals(before, before) == []
