"""Observability destinations: the required config per type, the five-per-type cap, what `check`
refuses (and never quotes), what a PATCH carries; then the lifecycle against the emulator."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from emulator import Fault
from emulator import observability as api_observability
from providers.base import session
from providers.base.fields import CONFIG_PATH
from providers.base.messages import ProviderError
from providers.base.object_resource import patch_body
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.observability import (
    DESTINATION_TYPES,
    OPTIONAL_CONFIG,
    PER_TYPE_CAP,
    REQUIRED_CONFIG,
    SECRET_CONFIG_KEYS,
    URL_KEYS,
    DestinationRecord,
    DestinationSettings,
    FilterRules,
    ObservabilityDestinationProvider,
    config_problem,
)
from tests.support.sentinel import assert_absent


def destination(**extra: Any) -> dict[str, Any]:
    config = {"publicKey": "pk-public", "secretKey": secrets.token_urlsafe(24)}
    return {
        "type": "langfuse",
        "config": config,
        "name": "Langfuse production",
        CONFIG_PATH: "observability.langfuse-prod",
        **extra,
    }


def failures(provider: Any, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider.invalid({}, news)}


# --- observability -------------------------------------------------------------------------------


def test_there_are_the_17_documented_types_each_with_its_required_config():
    assert len(DESTINATION_TYPES) == 17
    assert set(REQUIRED_CONFIG) == set(DESTINATION_TYPES)
    assert SECRET_CONFIG_KEYS["langfuse"] == {"secretKey", "headers"}
    assert SECRET_CONFIG_KEYS["webhook"] == {"headers"}


def complete(type_: str) -> dict[str, Any]:
    """A config of `type_` with every required key (URLs where a URL belongs)."""
    required = REQUIRED_CONFIG[type_] + (
        ("accessKeyId", "secretAccessKey") if type_ == "s3" else ()
    )
    return {
        name: "https://example.test/x" if name in URL_KEYS else f"v-{name}" for name in required
    }


@pytest.mark.parametrize("type_", DESTINATION_TYPES)
def test_config_problem_names_each_missing_required_key(type_):
    config = complete(type_)
    assert config_problem(type_, config) is None
    first = REQUIRED_CONFIG[type_][0]
    problem = config_problem(type_, {k: v for k, v in config.items() if k != first})
    assert problem is not None
    assert f"{first} is missing" in problem


def test_an_s3_destination_needs_keys_or_a_role_by_its_auth_mode():
    assert "accessKeyId, secretAccessKey are missing" in str(
        config_problem("s3", {"bucketName": "b"})
    )
    assert config_problem("s3", {"bucketName": "b", "authMode": "iam_role", "roleArn": "r"}) is None


def test_a_config_key_the_type_does_not_take_is_named():
    problem = str(config_problem("webhook", {"url": "https://example.test", "token": "x"}))
    assert problem.startswith("a webhook destination takes no token in its config")
    assert "headers, method, url" in problem


def test_the_config_keys_each_type_takes_are_the_emulators():
    for type_ in DESTINATION_TYPES:
        known = set(api_observability.DESTINATION_TYPES[type_].kinds)
        assert {*REQUIRED_CONFIG[type_], *OPTIONAL_CONFIG[type_], "headers"} == known, type_


def test_a_url_key_that_is_no_url_is_refused():
    assert "url must be an http or https URL" in str(config_problem("webhook", {"url": "ftp://x"}))


# --- the project's rule and the emulator's agree (tests/test_one_rule_two_implementations.py) ---

CONFIG_CORPUS = [
    *((type_, complete(type_)) for type_ in DESTINATION_TYPES),
    *(
        (type_, {k: v for k, v in complete(type_).items() if k != name})
        for type_ in DESTINATION_TYPES
        for name in complete(type_)
    ),
    ("s3", {"bucketName": "b"}),
    ("s3", {"bucketName": "b", "authMode": "iam_role", "roleArn": "arn:aws:iam::1:role/x"}),
    ("s3", {"bucketName": "b", "authMode": "iam_role"}),
    ("webhook", {"url": "https://example.test", "method": "PUT"}),
    ("webhook", {"url": "https://example.test", "secret": "x"}),
    ("langfuse", {"publicKey": "pk", "secretKey": "sk", "host": "https://x.test"}),
    ("s3", {"bucketName": "b", "accessKeyId": "a", "secretAccessKey": "s", "prefix": "p/"}),
    ("webhook", {"url": "ftp://example.test"}),
    ("webhook", {"url": ""}),
    ("otel-collector", {"endpoint": "collector:4318"}),
    ("langfuse", {"publicKey": "pk", "secretKey": "sk", "baseUrl": "cloud.langfuse.com"}),
    ("langfuse", {"publicKey": "pk", "secretKey": "sk", "baseUrl": "https://cloud.langfuse.com"}),
]


@pytest.mark.parametrize(("type_", "config"), CONFIG_CORPUS)
def test_a_config_is_refused_by_both_or_by_neither(type_, config):
    ours = config_problem(type_, config)
    theirs = api_observability.config_problems(type_, config)
    assert (ours is None) == (not theirs), (type_, config, ours, theirs)


RULES = [
    {"field": "model", "operator": "equals", "value": "openai/gpt-4o"},
    {"field": "model", "operator": "equals"},
    {"field": "total_cost", "operator": "gt", "value": 1},
    {"field": "total_cost", "operator": "gt", "value": "1"},
    {"field": "user_id", "operator": "exists"},
    {"field": "user_id", "operator": "exists", "value": "x"},
    {"field": "cost", "operator": "equals", "value": "x"},
    {"field": "model", "operator": "like", "value": "x"},
    {"field": "output", "operator": "regex", "value": "^ok"},
]


@pytest.mark.parametrize("rule", RULES)
def test_a_filter_rule_is_refused_by_both_or_by_neither(rule):
    props = destination(filter_rules={"groups": [{"rules": [rule]}]})
    ours = failures(ObservabilityDestinationProvider(), props)
    theirs = api_observability.rule_problems(rule)
    assert ("filter_rules" not in ours) == (not theirs), (rule, ours, theirs)


def test_the_types_and_their_secrets_are_the_emulators():
    assert set(DESTINATION_TYPES) == set(api_observability.DESTINATION_TYPES)
    for type_ in DESTINATION_TYPES:
        assert REQUIRED_CONFIG[type_] == api_observability.DESTINATION_TYPES[type_].required
        known = set(api_observability.DESTINATION_TYPES[type_].kinds)
        masked = api_observability.SECRET_CONFIG_KEYS & known
        assert SECRET_CONFIG_KEYS[type_] - {"headers"} == masked, type_


def test_a_destination_as_declared_passes_check():
    assert failures(ObservabilityDestinationProvider(), destination()) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "splunk"),
        ("sampling_rate", 0),
        ("sampling_rate", 1.5),
        ("allowed_key_hashes", [secrets.token_hex(32).upper()]),
        ("filter_rules", {"groups": []}),
        ("filter_rules", {"groups": [{"rules": [{"field": "model", "operator": "equals"}]}]}),
        (
            "filter_rules",
            {"groups": [{"rules": [{"field": "cost", "operator": "gt", "value": 1}]}]},
        ),
    ],
)
def test_a_destination_the_api_would_refuse_is_refused_at_check(field, value):
    assert field in failures(ObservabilityDestinationProvider(), destination(**{field: value}))


def test_a_missing_secret_config_key_is_named_and_no_config_value_quoted():
    props = destination()
    secret = props["config"].pop("secretKey")
    props["config"]["publicKey"] = secret  # a value that must not be quoted
    found = failures(ObservabilityDestinationProvider(), props)
    assert "secretKey is missing" in found["config"]
    assert "--secret --path" in found["config"]
    assert secret not in found["config"]


def test_the_sixth_destination_of_a_type_is_refused_and_other_types_do_not_count():
    provider = ObservabilityDestinationProvider()
    siblings = [
        DestinationRecord(id=f"d{i}", type="langfuse" if i < PER_TYPE_CAP else "datadog")
        for i in range(PER_TYPE_CAP + 2)
    ]
    error = provider.full(destination(), siblings)
    assert error is not None
    assert error.kind == "destination-type-full"
    assert "d0, d1, d2, d3, d4" in str(error)
    assert provider.full(destination(), siblings[1:]) is None


def test_a_destination_patch_carries_the_changed_config_and_flags_only():
    provider = ObservabilityDestinationProvider()
    old = destination()
    new = {**old, "config": {**old["config"], "secretKey": "rotated"}, "privacy_mode": True}
    assert patch_body(provider.body(old), provider.body(new)) == {
        "config": new["config"],
        "privacy_mode": True,
    }
    assert provider.diff("id", old, new).replaces == []
    assert provider.diff("id", old, {**old, "type": "datadog"}).replaces == ["type"]


def test_destination_settings_read_the_stack_files_camel_case():
    settings = DestinationSettings.model_validate(
        {"type": "webhook", "privacyMode": True, "samplingRate": 0.5}
    )
    assert (settings.privacy_mode, settings.sampling_rate) == (True, 0.5)


# --- the lifecycle against the emulator ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def configured(emulator: Any, management_key: str) -> ObservabilityDestinationProvider:
    provider = ObservabilityDestinationProvider()
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: emulator.api_base_url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    return provider


def declared(**extra: Any) -> dict[str, Any]:
    """A destination's inputs as `ObservabilityDestinationArgs.inputs()` gives them."""
    settings = DestinationSettings(type="langfuse").model_dump()
    return {**settings, **destination(**extra)}


def writes(emulator: Any) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in emulator.requests() if r.method != "GET"]


def test_a_destination_is_created_read_back_without_drift_and_deleted(emulator, management_key):
    provider = configured(emulator, management_key)
    api_key = emulator.seed_key("api")
    props = declared(allowed_key_hashes=[api_key.hash], privacy_mode=True, sampling_rate=0.5)
    assert provider.check({}, props).failures == []

    created = provider.create(props)

    [stored] = emulator.objects("observability")
    assert stored["id"] == created.id == created.outs["destination_id"]
    assert (stored["type"], stored["privacy_mode"], stored["sampling_rate"]) == (
        "langfuse",
        True,
        0.5,
    )
    assert stored["api_key_hashes"] == [api_key.hash]
    assert_absent(props["config"]["secretKey"], stored, emulator.requests())
    read = provider.read(created.id, created.outs)
    assert read.outs == created.outs  # the masked config is no drift
    provider.delete(created.id, created.outs)
    assert emulator.objects("observability") == []


def test_a_new_secret_in_the_config_is_one_patch_of_the_config_alone(emulator, management_key):
    provider = configured(emulator, management_key)
    created = provider.create(declared())
    emulator.clear_requests()
    config = {**created.outs["config"], "secretKey": secrets.token_urlsafe(24)}
    new = {**created.outs, "config": config}

    assert provider.diff(created.id, created.outs, new).replaces == []
    provider.update(created.id, created.outs, new)

    [(method, path, body)] = writes(emulator)
    assert (method, path, set(body)) == (
        "PATCH",
        f"/api/v1/observability/destinations/{created.id}",
        {"config"},
    )
    assert [d["id"] for d in emulator.objects("observability")] == [created.id]


def test_a_change_made_outside_shows_as_drift(emulator, management_key):
    provider = configured(emulator, management_key)
    rules = FilterRules.model_validate(
        {"groups": [{"rules": [{"field": "user_id", "operator": "exists"}]}]}
    )
    props = declared(filter_rules=rules.model_dump())
    created = provider.create(props)
    with httpx.Client(base_url=emulator.api_base_url) as http:
        http.patch(
            f"/observability/destinations/{created.id}",
            json={"privacy_mode": True},
            headers={"Authorization": f"Bearer {management_key}"},
        ).raise_for_status()

    read = provider.read(created.id, created.outs)

    assert read.inputs is not None
    assert read.inputs["privacy_mode"] is True
    assert read.inputs["config"] == props["config"]  # the declared config, not the masked one
    assert list(provider.changes(read.outs, props).changed) == ["privacy_mode"]


def test_check_refuses_a_sixth_destination_of_a_type_before_any_write(emulator, management_key):
    provider = configured(emulator, management_key)
    made = [
        emulator.seed_object(
            "observability", type="langfuse", name=f"lf-{i}", config=complete("langfuse")
        )
        for i in range(PER_TYPE_CAP)
    ]
    emulator.clear_requests()

    [failure] = provider.check({}, declared()).failures

    assert failure.property == "type"  # the setting to change, not the name
    assert failure.reason.startswith("`observability.langfuse-prod.type`: the workspace")
    assert "another workspace, or remove one of them" in failure.reason
    assert "[destination-type-full]" in failure.reason
    assert all(d["id"] in failure.reason for d in made)
    webhook = declared(type="webhook", config={"url": "https://example.test/hook"})
    assert provider.check({}, webhook).failures == []
    assert writes(emulator) == []


def test_a_sixth_destination_refused_at_up_is_in_the_projects_words(emulator, management_key):
    provider = configured(emulator, management_key)
    for i in range(PER_TYPE_CAP):
        emulator.seed_object(
            "observability", type="langfuse", name=f"lf-{i}", config=complete("langfuse")
        )
    props = declared()
    with pytest.raises(ProviderError) as raised:
        provider.create(props)  # as when several new ones passed the preview together
    assert raised.value.kind == "destination-type-full-at-create"
    text = str(raised.value)
    assert text.startswith("`observability.langfuse-prod.type`: OpenRouter refused to create")
    assert "(HTTP 409)" in text
    assert "give `observability.langfuse-prod.workspace` another workspace" in text
    assert "remove one of the langfuse destinations" in text
    assert_absent(props["config"]["secretKey"], str(raised.value))


def test_a_destination_create_whose_answer_is_lost_leaves_nothing_behind(emulator, management_key):
    provider = configured(emulator, management_key)
    emulator.inject(Fault("/api/v1/observability/destinations", method="POST", drop="after_commit"))
    with pytest.raises(ProviderError) as raised:
        provider.create(declared())
    assert "the one it made was deleted" in str(raised.value)
    assert emulator.objects("observability") == []


def test_a_new_type_replaces_and_the_destination_it_replaces_is_no_twin(emulator, management_key):
    provider = configured(emulator, management_key)
    current = provider.create(declared())
    replacing = declared(type="webhook", config={"url": "https://example.test/hook"})
    assert provider.diff(current.id, current.outs, replacing).replaces == ["type"]

    assert provider.check({}, replacing).failures == []

    provider.create(replacing)  # what an interrupted replacement leaves behind
    [failure] = provider.check({}, replacing).failures
    assert "[object-name-taken]" in failure.reason
    assert "already has an observability destination named" in failure.reason


def test_a_webhook_adopted_as_langfuse_is_refused_at_preview(emulator, management_key):
    provider = configured(emulator, management_key)
    hook = emulator.seed_object(
        "observability", type="webhook", name="hook", config={"url": "https://example.test/h"}
    )
    emulator.clear_requests()

    [failure] = provider.check({}, declared(adopt=hook["id"])).failures

    assert failure.property == "adopt"
    assert "has type 'webhook'" in failure.reason
    assert "[object-adopt-fixed]" in failure.reason
    assert writes(emulator) == []


def test_a_misspelt_config_key_is_named_with_the_key_it_meant():
    props = destination()
    props["config"]["secretkey"] = props["config"].pop("secretKey")
    found = failures(ObservabilityDestinationProvider(), props)
    assert found["config"].startswith(
        "observability.langfuse-prod.config.secretkey: a langfuse destination takes no secretkey"
    )
    assert "Fix: correct it to `secretKey`" in found["config"]


def test_a_missing_secret_names_the_setting_to_set_as_written():
    props = destination()
    del props["config"]["secretKey"]
    found = failures(ObservabilityDestinationProvider(), props)
    assert found["config"].startswith("observability.langfuse-prod.config.secretKey: ")
    assert (
        "`pulumi config set --secret --path"
        " 'openrouter-keys:observability.langfuse-prod.config.secretKey'`"
    ) in found["config"]


def test_types_said_with_a_vowel_take_an():
    assert str(config_problem("opik", {})).startswith("an opik destination needs")
    assert str(config_problem("s3", {})).startswith("an s3 destination needs")
    assert str(config_problem("langfuse", {})).startswith("a langfuse destination needs")
