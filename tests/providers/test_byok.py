"""BYOK credentials: what `check` refuses (and never quotes), what `diff` calls a change, what a
PATCH carries; then the lifecycle against the emulator over loopback HTTP."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from providers.byok import BYOK_PROVIDERS, ByokCredentialProvider, ByokSettings
from providers.inputs import CONFIG_PATH
from providers.object_resource import patch_body


def key_hash() -> str:
    return secrets.token_hex(32)


def byok(**extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "key": secrets.token_urlsafe(24),
        "name": "OpenAI production",
        CONFIG_PATH: "byok.openai-prod",
        **extra,
    }


def failures(provider: Any, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider._invalid(news)}


# --- BYOK ----------------------------------------------------------------------------------------


def test_a_byok_credential_as_declared_passes_check():
    assert failures(ByokCredentialProvider(), byok(allowed_key_hashes=[key_hash()])) == {}


def test_an_unknown_provider_slug_is_refused_with_the_setting_and_the_fix():
    found = failures(ByokCredentialProvider(), byok(provider="open-ai"))
    assert found["provider"].startswith("byok.openai-prod.provider: 'open-ai' is not allowed")
    assert "e.g. openai, anthropic" in found["provider"]


def test_the_slug_table_holds_the_documented_examples():
    assert {"openai", "anthropic", "amazon-bedrock", "azure", "google-vertex"} <= BYOK_PROVIDERS


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_models", []),
        ("allowed_models", [f"m/{i}" for i in range(101)]),
        ("allowed_key_hashes", []),
        ("allowed_key_hashes", ["not-a-hash"]),
        ("workspace_id", "agents"),
        ("name", ""),
    ],
)
def test_what_the_api_refuses_is_refused_before_any_write(field, value):
    assert field in failures(ByokCredentialProvider(), byok(**{field: value}))


def test_a_refused_key_is_never_quoted():
    found = failures(ByokCredentialProvider(), byok(key=""))
    assert found["key"] == "byok.openai-prod.key: String should have at least 1 character."


def test_key_hashes_in_another_order_are_no_change():
    a, b = key_hash(), key_hash()
    provider = ByokCredentialProvider()
    old = byok(allowed_key_hashes=[a, b])
    assert provider.changed(old, {**old, "allowed_key_hashes": [b, a]}) == []
    assert provider.changed(old, {**old, "allowed_key_hashes": [a]}) == ["allowed_key_hashes"]


def test_a_new_key_is_an_update_in_place_and_a_new_provider_a_replacement():
    provider = ByokCredentialProvider()
    old = byok()
    assert provider.diff("id", old, {**old, "key": "another"}).replaces == []
    assert provider.diff("id", old, {**old, "provider": "anthropic"}).replaces == ["provider"]
    workspace = "0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11"
    assert provider.diff("id", old, {**old, "workspace_id": workspace}).replaces == ["workspace_id"]


def test_a_patch_carries_what_changed_and_never_the_unchanged_key():
    provider = ByokCredentialProvider()
    old = byok(allowed_key_hashes=[key_hash()])
    assert patch_body(provider.body(old), provider.body({**old, "disabled": True})) == {
        "disabled": True
    }
    assert patch_body(provider.body(old), provider.body({**old, "allowed_key_hashes": None})) == {
        "allowed_api_key_hashes": None
    }
    new_key = secrets.token_urlsafe(24)
    assert patch_body(provider.body(old), provider.body({**old, "key": new_key})) == {
        "key": new_key
    }


def test_a_create_sends_the_provider_and_the_workspace_and_an_update_never_does():
    provider = ByokCredentialProvider()
    props = byok(workspace_id="0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11")
    assert provider.create_only(props) == {
        "provider": "openai",
        "workspace_id": "0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11",
    }
    assert "provider" not in provider.body(props)
    assert "workspace_id" not in provider.body(props)


def test_byok_settings_read_the_stack_files_camel_case():
    settings = ByokSettings.model_validate({"provider": "openai", "allowedModels": ["a/b"]})
    assert settings.allowed_models == ["a/b"]
