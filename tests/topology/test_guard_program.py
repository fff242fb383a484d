"""The guard as the program runs it: before anything is registered, from the stack's own record
(read through the engine's `readStackOutputs`, mocked here), after one request to OpenRouter on
every run: is the management key in the slot one, and does the API answer (issue 19)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from providers import ProviderError
from providers.base.session import reset_process_memory
from tests.support.sentinel import assert_absent, make_sentinel
from tests.topology.harness import namespaced, run_program
from topology.config import RawConfig, validate
from topology.deployed import READ_STACK_OUTPUTS, Deployment
from topology.guard import TopologyGuardError
from topology.preflight import guard, verify_management_slot
from topology.rules import TopologyConfigError

MANAGEMENT = "openrouter-keys:managementKey"
URL = "https://openrouter.example/api/v1"
load_module = importlib.import_module("topology.config")
openrouter_module = importlib.import_module("topology.openrouter")


def config_of(keys: dict[str, Any], management_key: str, **more: Any) -> dict[str, Any]:
    values = {"keys": json.dumps(keys), "managementKey": management_key, "github:owner": "f8ai"}
    values.update(more)
    return namespaced(values)


def deploy(keys: dict[str, Any], management_key: str) -> dict[str, Any]:
    run = run_program(config_of(keys, management_key), [MANAGEMENT], stack="prod")
    assert run.error is None, run.error
    return run.outputs


def test_removing_a_held_key_registers_nothing_and_says_why(monkeypatch):
    management_key = make_sentinel()
    keys = {"shop": {"github": [{"repository": "shop"}]}, "ci": {"limit": 1}}
    recorded = deploy(keys, management_key)
    asked: list[str] = []
    monkeypatch.setattr(openrouter_module, "management_key_refusal", lambda t: asked.append("x"))

    run = run_program(
        config_of({"ci": {"limit": 1}}, management_key),
        [MANAGEMENT],
        stack="prod",
        stack_outputs={"prod": recorded},
    )

    assert isinstance(run.error, TopologyGuardError)
    assert [p.path for p in run.error.problems] == ["keys.shop"]
    assert run.registrations == []
    assert [i.token for i in run.invocations] == [READ_STACK_OUTPUTS]
    assert asked == ["x"]  # the management slot, once, as on every run
    assert_absent(management_key, str(run.error))


REFUSED = ProviderError(
    "management-key-not-management",
    "The key in the management-key slot (stack config openrouter-keys:managementKey,"
    " sk-or-v1-abc...xyz) is a regular key, not a management key.",
)
EDITS = {
    "nothing changes": {"ci": {"limit": 1}, "old": {"limit": 1, "protect": False}},
    "a setting changes": {"ci": {"limit": 2}, "old": {"limit": 1, "protect": False}},
    "a key is deleted": {"ci": {"limit": 1}},
}


@pytest.mark.parametrize("keys", EDITS.values(), ids=EDITS.keys())
def test_every_run_asks_openrouter_once_and_a_refusal_registers_nothing(monkeypatch, keys):
    # Before issue 19 only a deletion asked: a regular key in the slot passed a run that
    # changed nothing, and `up` recorded it.
    management_key = make_sentinel()
    recorded = deploy({"ci": {"limit": 1}, "old": {"limit": 1, "protect": False}}, management_key)
    asked: list[str] = []

    def refuse(config: Any) -> ProviderError:
        asked.append(config.management_key.fingerprint)
        return REFUSED

    monkeypatch.setattr(openrouter_module, "management_key_refusal", refuse)
    run = run_program(
        config_of(keys, management_key),
        [MANAGEMENT],
        stack="prod",
        stack_outputs={"prod": recorded},
    )

    assert isinstance(run.error, TopologyConfigError)
    (problem,) = run.error.problems
    assert problem.path == "managementKey"
    assert "asked before anything is registered (GET /key" in problem.message
    assert problem.message.endswith("[management-key-not-management]")
    assert "nothing was registered" in problem.fix
    assert run.registrations == []
    assert asked == [load_module.Secret(management_key).fingerprint]
    assert_absent(management_key, str(run.error))


def test_a_refusal_names_the_setting_or_variable_it_came_from():
    unreachable = ProviderError("api-unavailable", "OpenRouter could not be asked (refused)")
    from_stack = validate(raw({"ci": {}}), "prod", {})
    from_env = validate(
        RawConfig(keys=json.dumps({"ci": {}})),
        "prod",
        {"OPENROUTER_MANAGEMENT_KEY": make_sentinel(), "OPENROUTER_API_BASE_URL": URL},
    )

    def path(config: Any, refused: ProviderError) -> str:
        with pytest.raises(TopologyConfigError) as caught:
            verify_management_slot(config, lambda _: refused)
        return caught.value.problems[0].path

    assert path(from_stack, REFUSED) == "managementKey"
    assert path(from_stack, unreachable) == "apiBaseUrl"
    assert path(from_env, REFUSED) == "OPENROUTER_MANAGEMENT_KEY"
    assert path(from_env, unreachable) == "OPENROUTER_API_BASE_URL"
    verify_management_slot(from_stack, lambda _: None)  # accepted: nothing raised


def raw(keys: dict[str, Any]) -> RawConfig:
    return RawConfig(
        keys=json.dumps(keys),
        management_key="sk-or-v1-" + "0" * 8,
        management_key_is_secret=True,
    )


def test_other_stacks_are_read_only_for_a_key_adopted_anew(tmp_path):
    for stack in ("dev", "prod", "staging"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    read: list[str] = []

    def reader(stack: str) -> dict[str, Any]:
        read.append(stack)
        return {}

    guard(validate(raw({"ci": {}}), "prod", {}), reader, tmp_path)
    assert read == ["prod"]
    read.clear()
    guard(validate(raw({"legacy": {"adopt": "a" * 64}}), "prod", {}), reader, tmp_path)
    assert read == ["prod", "dev", "staging"]


def test_a_key_another_stack_manages_cannot_be_adopted(tmp_path):
    (tmp_path / "Pulumi.staging.yaml").write_text("config: {}\n")
    management_key = make_sentinel()
    staging = deploy({"agents": {"limit": 1}}, management_key)
    theirs = staging["keys"]["agents"]["hash"]

    def reader(stack: str) -> dict[str, Any]:
        return staging if stack == "staging" else {}

    with pytest.raises(TopologyGuardError) as refused:
        guard(validate(raw({"legacy": {"adopt": theirs}}), "prod", {}), reader, tmp_path)
    assert "already managed by stack 'staging' as keys.agents" in str(refused.value)


def test_a_record_read_while_the_engine_writes_it_is_tried_again(monkeypatch):
    # Seen with a file backend at the start of an update: "failed to load checkpoint: EOF".
    monkeypatch.setattr("topology.deployed.READ_PAUSE_SECONDS", 0.0)
    failures = ["failed to load checkpoint: EOF"] * 2

    def reader(_stack: str) -> dict[str, Any]:
        if failures:
            raise RuntimeError(failures.pop())
        return {}

    guard(validate(raw({"ci": {}}), "prod", {}), reader)
    assert failures == []


def test_an_unreadable_record_refuses_the_whole_update(monkeypatch):
    monkeypatch.setattr("topology.deployed.READ_PAUSE_SECONDS", 0.0)
    attempts: list[str] = []

    def reader(stack: str) -> dict[str, Any]:
        attempts.append(stack)
        raise RuntimeError("backend said no")

    with pytest.raises(TopologyGuardError) as refused:
        guard(validate(raw({"ci": {}}), "prod", {}), reader)
    assert "what stack prod last deployed could not be read (RuntimeError: backend said no)" in (
        str(refused.value)
    )
    assert len(attempts) == 5


def test_a_malformed_record_names_its_json_path():
    with pytest.raises(TopologyGuardError) as refused:
        guard(
            validate(raw({"ci": {}}), "prod", {}),
            lambda _s: {"keys": {"ci": {"hash": "", "label": "x", "name": "n"}}},
        )
    assert "keys.ci.hash" in str(refused.value)


@pytest.mark.management_slot
def test_the_real_check_asks_get_key_once_per_process(emulator, management_key):
    reset_process_memory()
    topology = validate(raw({"ci": {}}), "prod", {})
    wrong = emulator.seed_key(name="not-a-management-key").secret
    regular = load_module.StackConfig(
        **{
            **topology.__dict__,
            "management_key": load_module.Secret(wrong),
            "api_base_url": emulator.api_base_url,
        }
    )
    said = openrouter_module.management_key_refusal(regular)
    assert said is not None
    assert said.kind == "management-key-not-management"
    assert "(stack config openrouter-keys:managementKey, sk-or-v1-" in str(said)
    assert_absent(wrong, str(said))
    right = load_module.StackConfig(
        **{**regular.__dict__, "management_key": load_module.Secret(management_key)}
    )
    emulator.clear_requests()
    assert openrouter_module.management_key_refusal(right) is None
    verify_management_slot(right)  # asked again in this process (a deletion): the verdict is kept
    assert [(r.method, r.path) for r in emulator.requests()] == [("GET", "/api/v1/key")]
    pasted = load_module.StackConfig(
        **{**regular.__dict__, "management_key": load_module.Secret("sk-or-pasted with a space")}
    )
    unsendable = openrouter_module.management_key_refusal(pasted)
    assert unsendable is not None
    assert unsendable.kind == "management-key-unsendable"
    assert len(emulator.requests()) == 1  # nothing sent
    reset_process_memory()


def test_deployments_of_other_stacks_that_were_never_deployed_manage_nothing():
    assert Deployment("x", {}).keys == {}
