"""BYOK credentials: what `check` refuses (and never quotes), what `diff` calls a change, what a
PATCH carries; then the lifecycle against the emulator over loopback HTTP."""

from __future__ import annotations

import secrets
from typing import Any, get_args

import httpx
import pytest
from openrouter.components.byokproviderslug import BYOKProviderSlug
from pulumi.dynamic import Config, ConfigureRequest
from pydantic import ValidationError

from emulator import Fault
from emulator import byok as api_byok
from providers.base import session
from providers.base.fields import CONFIG_PATH
from providers.base.messages import ProviderError
from providers.base.object_resource import patch_body
from providers.byok import BYOK_PROVIDERS, ByokCredentialProvider, ByokSettings
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from tests.support.sentinel import assert_absent


def key_hash() -> str:
    return secrets.token_hex(32)


def byok(**extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "fallback": False,
        "disabled": False,
        "key": secrets.token_urlsafe(24),
        "name": "OpenAI production",
        CONFIG_PATH: "byok.openai-prod",
        **extra,
    }


def failures(provider: Any, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider.invalid({}, news)}


# --- BYOK ----------------------------------------------------------------------------------------


def test_a_byok_credential_as_declared_passes_check():
    assert failures(ByokCredentialProvider(), byok(allowed_key_hashes=[key_hash()])) == {}


def test_an_unknown_provider_slug_is_refused_with_the_setting_and_the_fix():
    found = failures(ByokCredentialProvider(), byok(provider="open-ai"))
    assert found["provider"].startswith("byok.openai-prod.provider: 'open-ai' is not allowed")
    assert "Fix: correct it to openai" in found["provider"]


def test_the_slug_table_holds_the_documented_examples():
    assert {"openai", "anthropic", "amazon-bedrock", "azure", "google-vertex"} <= BYOK_PROVIDERS


def test_the_slug_table_is_the_sdks_and_the_emulator_takes_each_slug():
    (literal, *_) = get_args(BYOKProviderSlug)
    assert {slug for slug in get_args(literal) if "/" not in slug} == BYOK_PROVIDERS
    assert all(api_byok.is_provider(slug) for slug in BYOK_PROVIDERS)


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
    assert list(provider.changes(old, {**old, "allowed_key_hashes": [b, a]}).changed) == []
    assert list(provider.changes(old, {**old, "allowed_key_hashes": [a]}).changed) == [
        "allowed_key_hashes"
    ]


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


# --- the lifecycle against the emulator ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def configured(emulator: Any, management_key: str) -> ByokCredentialProvider:
    provider = ByokCredentialProvider()
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: emulator.api_base_url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    return provider


def writes(emulator: Any) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in emulator.requests() if r.method != "GET"]


def test_a_credential_is_created_read_back_without_drift_and_deleted(emulator, management_key):
    provider = configured(emulator, management_key)
    api_key = emulator.seed_key("api")
    props = byok(allowed_key_hashes=[api_key.hash], allowed_models=["openai/gpt-4o-mini"])
    assert provider.check({}, props).failures == []

    created = provider.create(props)

    [stored] = emulator.objects("byok")
    assert stored["id"] == created.id == created.outs["credential_id"]
    assert (stored["provider"], stored["name"]) == ("openai", "OpenAI production")
    assert stored["allowed_api_key_hashes"] == [api_key.hash]
    assert created.outs["label"] == stored["label"]
    assert_absent(props["key"], stored, emulator.requests())
    read = provider.read(created.id, created.outs)
    assert read.outs == created.outs
    assert read.outs["key"] == props["key"]  # kept from state: the API never returns it
    provider.delete(created.id, created.outs)
    assert emulator.objects("byok") == []
    assert provider.read(created.id, created.outs).id is None


def test_a_new_key_is_one_patch_of_the_key_alone(emulator, management_key):
    provider = configured(emulator, management_key)
    props = byok()
    created = provider.create(props)
    emulator.clear_requests()
    new = {**created.outs, "key": secrets.token_urlsafe(24)}

    assert provider.diff(created.id, created.outs, new).replaces == []
    updated = provider.update(created.id, created.outs, new)

    [(method, path, body)] = writes(emulator)
    assert (method, path, set(body)) == ("PATCH", f"/api/v1/byok/{created.id}", {"key"})
    [stored] = emulator.objects("byok")
    assert stored["id"] == created.id
    assert updated.outs["label"] == stored["label"] != created.outs["label"]


def test_clearing_the_key_hashes_sends_null(emulator, management_key):
    provider = configured(emulator, management_key)
    created = provider.create(byok(allowed_key_hashes=[emulator.seed_key("api").hash]))
    emulator.clear_requests()
    provider.update(created.id, created.outs, {**created.outs, "allowed_key_hashes": None})
    [(_, _, body)] = writes(emulator)
    assert body == {"allowed_api_key_hashes": None}
    assert emulator.objects("byok")[0]["allowed_api_key_hashes"] is None


def test_a_change_made_outside_shows_as_drift_and_a_rotated_key_is_sent_again(
    emulator, management_key
):
    provider = configured(emulator, management_key)
    props = byok()
    created = provider.create(props)
    with httpx.Client(base_url=emulator.api_base_url) as http:
        answer = http.patch(
            f"/byok/{created.id}",
            json={"disabled": True, "key": secrets.token_urlsafe(24)},
            headers={"Authorization": f"Bearer {management_key}"},
        )
        answer.raise_for_status()

    read = provider.read(created.id, created.outs)

    assert read.inputs is not None
    assert read.inputs["disabled"] is True
    assert read.inputs["key"] is None  # rotated outside: the next `up` sends the declared key
    assert list(provider.changes(read.outs, props).changed) == ["disabled", "key"]


def test_check_refuses_a_twin_by_name_and_a_workspace_that_does_not_exist(emulator, management_key):
    provider = configured(emulator, management_key)
    leftover = provider.create(byok())
    emulator.clear_requests()

    [failure] = provider.check({}, byok()).failures
    assert failure.property == "name"
    assert "[object-name-taken]" in failure.reason
    assert f"adopt: {leftover.id}" in failure.reason
    assert provider.check({}, byok(adopt=leftover.id)).failures == []
    missing = "0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11"
    [failure] = provider.check({}, byok(workspace_id=missing)).failures
    assert "[workspace-not-found]" in failure.reason
    assert writes(emulator) == []


def test_adopting_takes_over_with_one_patch_and_refuses_another_provider(emulator, management_key):
    provider = configured(emulator, management_key)
    made = emulator.seed_object("byok", provider="openai", key=secrets.token_urlsafe(24))
    emulator.clear_requests()

    with pytest.raises(ProviderError) as raised:
        provider.create(byok(provider="anthropic", adopt=made["id"]))
    assert raised.value.kind == "object-adopt-fixed"
    assert "'anthropic'" in str(raised.value)
    assert writes(emulator) == []

    adopted = provider.create(byok(adopt=made["id"]))
    assert adopted.id == made["id"]
    assert [(m, p) for m, p, _ in writes(emulator)] == [("PATCH", f"/api/v1/byok/{made['id']}")]
    with pytest.raises(ProviderError) as raised:
        provider.create(byok(adopt="0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11"))
    assert raised.value.kind == "object-adopt-not-found"


def test_a_create_whose_answer_is_lost_leaves_nothing_behind(emulator, management_key):
    provider = configured(emulator, management_key)
    emulator.inject(Fault("/api/v1/byok", method="POST", drop="after_commit"))
    with pytest.raises(ProviderError) as raised:
        provider.create(byok())
    assert "creating BYOK credential 'OpenAI production' got no clear answer" in str(raised.value)
    assert "the one it made was deleted" in str(raised.value)
    assert emulator.objects("byok") == []
    assert [(m, p) for m, p, _ in writes(emulator) if m == "POST"] == [("POST", "/api/v1/byok")]


def test_a_refusal_of_openrouter_is_in_the_projects_words_and_never_holds_the_key(
    emulator, management_key
):
    provider = configured(emulator, management_key)
    props = byok(allowed_key_hashes=[key_hash()])  # a hash of no key of this account
    with pytest.raises(ProviderError) as raised:
        provider.create(props)
    assert raised.value.kind == "object-refused"
    assert str(raised.value).startswith(
        "`byok.openai-prod`: OpenRouter refused to create the BYOK credential (HTTP 400)"
    )
    assert_absent(props["key"], str(raised.value))


def test_a_new_provider_replaces_and_the_credential_it_replaces_is_no_twin(
    emulator, management_key
):
    # The engine `check`s a replacement with no old inputs, as a create: the credential being
    # replaced has the same name, but another provider, so it is not the leftover of this one.
    provider = configured(emulator, management_key)
    current = provider.create(byok())
    replacing = {**byok(), "provider": "anthropic"}
    assert provider.diff(current.id, current.outs, replacing).replaces == ["provider"]
    emulator.clear_requests()

    assert provider.check({}, replacing).failures == []

    leftover = provider.create(replacing)  # what an interrupted replacement leaves behind
    [failure] = provider.check({}, replacing).failures
    assert "[object-name-taken]" in failure.reason
    assert f"id {leftover.id}" in failure.reason
    assert "already has a BYOK credential named" in failure.reason


def test_adopt_is_checked_at_preview_as_at_up_and_nothing_is_written(emulator, management_key):
    provider = configured(emulator, management_key)
    made = emulator.seed_object("byok", provider="anthropic", key=secrets.token_urlsafe(24))
    emulator.clear_requests()

    [failure] = provider.check({}, byok(adopt=made["id"])).failures
    assert failure.property == "adopt"
    assert failure.reason.startswith(f"`byok.openai-prod.adopt`: the BYOK credential {made['id']}")
    assert "has provider 'anthropic'" in failure.reason
    assert "[object-adopt-fixed]" in failure.reason
    missing = "0f9b2b8e-63a1-4d38-9d61-3b7e2f0d3c11"
    [failure] = provider.check({}, byok(adopt=missing)).failures
    assert (failure.property, "[object-adopt-not-found]" in failure.reason) == ("adopt", True)
    assert provider.check({}, byok(provider="anthropic", adopt=made["id"])).failures == []
    assert writes(emulator) == []


@pytest.mark.parametrize(
    ("written", "slug"), [("open-ai", "openai"), ("OpenAI", "openai"), ("antropic", "anthropic")]
)
def test_a_near_miss_of_a_provider_slug_is_told_the_slug(written, slug):
    with pytest.raises(ValidationError) as caught:
        ByokSettings(provider=written)
    assert f"correct it to {slug}" in str(caught.value)
