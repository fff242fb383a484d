"""Observability destinations: the required config per type, the five-per-type cap, what `check`
refuses (and never quotes), what a PATCH carries; then the lifecycle against the emulator."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from providers.inputs import CONFIG_PATH
from providers.object_resource import patch_body
from providers.observability import (
    DESTINATION_TYPES,
    PER_TYPE_CAP,
    REQUIRED_CONFIG,
    SECRET_CONFIG_KEYS,
    DestinationRecord,
    DestinationSettings,
    ObservabilityDestinationProvider,
    config_problem,
)


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
    return {f.property: f.reason for f in provider._invalid(news)}


# --- observability -------------------------------------------------------------------------------


def test_there_are_the_17_documented_types_each_with_its_required_config():
    assert len(DESTINATION_TYPES) == 17
    assert set(REQUIRED_CONFIG) == set(DESTINATION_TYPES)
    assert SECRET_CONFIG_KEYS["langfuse"] == {"secretKey", "headers"}
    assert SECRET_CONFIG_KEYS["webhook"] == {"headers"}


@pytest.mark.parametrize("type_", DESTINATION_TYPES)
def test_config_problem_names_each_missing_required_key(type_):
    required = REQUIRED_CONFIG[type_]
    assert config_problem(type_, dict.fromkeys(required, "v")) is None
    problem = config_problem(type_, dict.fromkeys(required[1:], "v"))
    assert problem is not None
    assert f"{required[0]} is missing" in problem


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
