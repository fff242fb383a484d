"""A refresh reads with what the last `pulumi up` recorded: refused when the stack file now holds
another `apiBaseUrl` or has gained or lost `managementKey` (issue 19), and a key's read asks
`GET /key` first, as the governance reads do."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from providers.base import refresh_settings, session
from providers.base.messages import ProviderError
from providers.base.refresh_settings import (
    Recorded,
    refuse_stale_refresh,
    serving_urn,
    stack_file,
    stack_of,
    stale_settings,
)
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.key import KeyProvider
from tests.support.sentinel import assert_absent

OLD = "http://127.0.0.1:8787/api/v1"
NEW = "https://openrouter.ai/api/v1"
URN = "urn:pulumi:dev::openrouter-keys::pulumi-python:dynamic/openrouter:ApiKey::ci"
SECURE = {"secure": "v1:abc"}


def recorded(url: str | None = OLD, key: bool = True) -> Recorded:
    return Recorded(url, key)


def document(**config: Any) -> dict[str, Any]:
    return {"config": {f"openrouter-keys:{name}": value for name, value in config.items()}}


def test_the_same_settings_are_not_stale():
    assert stale_settings(recorded(), document(apiBaseUrl=OLD + "/", managementKey=SECURE)) == []
    # Pulumi.yaml's default "" is no URL, as on both sides of a stack that never set one.
    assert stale_settings(recorded(None), document(apiBaseUrl="", managementKey=SECURE)) == []


def test_a_changed_or_removed_url_is_stale():
    [changed] = stale_settings(recorded(), document(apiBaseUrl=NEW, managementKey=SECURE))
    assert changed == (
        f"`apiBaseUrl` was {OLD} at the last `pulumi up` and is {NEW} in the stack file now"
    )
    [removed] = stale_settings(recorded(), document(managementKey=SECURE))
    assert removed.endswith("is not set in the stack file now")


def test_a_management_key_added_to_or_removed_from_the_file_is_stale():
    [added] = stale_settings(recorded(key=False), document(apiBaseUrl=OLD, managementKey=SECURE))
    assert added == "`managementKey` was added to the stack file since then"
    [removed] = stale_settings(recorded(), document(apiBaseUrl=OLD))
    assert removed == "`managementKey` was removed from the stack file since then"


def test_what_the_file_cannot_tell_is_not_called_stale():
    assert stale_settings(recorded(), None) == []  # no readable file
    # Values a Pulumi ESC environment supplies are not in the file's `config:`.
    assert stale_settings(recorded(), {"environment": ["prod"], "config": {}}) == []
    changed = {"environment": ["prod"], **document(apiBaseUrl=NEW)}
    assert len(stale_settings(recorded(), changed)) == 1
    # An encrypted URL cannot be compared with the recorded one.
    assert stale_settings(recorded(), document(apiBaseUrl=SECURE, managementKey=SECURE)) == []


def test_the_stack_comes_from_the_urn():
    assert stack_of(URN) == "dev"
    assert stack_of("not-a-urn") is None


def Read(request: Any) -> str | None:  # noqa: N802 - the SDK servicer's method name
    """Stands in for the servicer's `Read`, whose frame holds the request."""
    return serving_urn()


def test_the_urn_is_found_only_inside_a_read():
    assert Read(SimpleNamespace(urn=URN)) == URN
    assert serving_urn() is None


def project(tmp_path: Path, **config: Any) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: openrouter-keys\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    lines = "".join(f"  openrouter-keys:{k}: {v}\n" for k, v in config.items())
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(f"config:\n{lines}")
    return tmp_path


def refresh(recorded_: Recorded, root: Path) -> None:
    refuse_stale_refresh(recorded_, URN, root)


def test_a_refresh_with_a_replaced_url_is_refused_before_any_request(tmp_path):
    root = project(tmp_path, apiBaseUrl=NEW, managementKey="{secure: v1:abc}")
    assert stack_file("dev", root) == document(apiBaseUrl=NEW, managementKey=SECURE)
    with pytest.raises(ProviderError) as caught:
        refresh(recorded(), root)
    assert caught.value.kind == "refresh-stale-settings"
    assert "Nothing was read" in str(caught.value)
    assert "--run-program" in str(caught.value)
    refresh(recorded(NEW), root)  # the recorded URL is the file's: the refresh goes ahead
    refuse_stale_refresh(recorded(), "not-a-urn", root)  # no stack to compare with
    assert stack_file("elsewhere", root) is None  # no file: no verdict


def test_the_stack_file_is_parsed_once_a_process_until_it_changes(tmp_path, monkeypatch):
    root = project(tmp_path, apiBaseUrl=OLD, managementKey="{secure: v1:abc}")
    parses: list[str] = []
    real = refresh_settings.yaml.safe_load

    def counted(text: str) -> Any:
        parses.append(text)
        return real(text)

    monkeypatch.setattr(refresh_settings.yaml, "safe_load", counted)
    for _ in range(5):  # five reads of one refresh
        refresh(recorded(), root)
    assert len(parses) == 2  # Pulumi.yaml and the stack file, once each
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace(OLD, NEW))  # edited meanwhile: read again
    with pytest.raises(ProviderError):
        refresh(recorded(), root)
    assert len(parses) == 3


@pytest.fixture
def fresh_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def test_a_key_read_asks_whether_the_recorded_key_is_a_management_key(
    emulator, fresh_memory
):
    # A state written before the slot was checked may hold a regular key: say so, not "401".
    regular = emulator.seed_key(name="recorded-by-an-older-version")
    provider = KeyProvider()
    provider.configure(
        ConfigureRequest(
            Config(
                {CONFIG_MANAGEMENT_KEY: regular.secret, CONFIG_API_BASE_URL: emulator.api_base_url},
                "openrouter-keys",
            )
        )
    )
    with pytest.raises(ProviderError) as caught:
        provider.read(regular.hash, {"name": "x"})
    assert caught.value.kind == "management-key-not-management"
    assert_absent(regular.secret, str(caught.value))
    # The check travels beside the first listing (one round trip); nothing else is asked, and
    # the listing's answer is not used: the refusal is the read's answer.
    assert sorted((r.method, r.path) for r in emulator.requests()) == [
        ("GET", "/api/v1/key"),
        ("GET", "/api/v1/keys"),
    ]


def test_inside_a_refresh_the_recorded_key_says_where_it_came_from(tmp_path, monkeypatch):
    root = project(tmp_path, apiBaseUrl=OLD, managementKey="{secure: v1:abc}")
    monkeypatch.chdir(root)
    provider = KeyProvider()
    provider.configure(
        ConfigureRequest(
            Config({CONFIG_MANAGEMENT_KEY: "sk-or-x", CONFIG_API_BASE_URL: OLD}, "openrouter-keys")
        )
    )

    def Read(request: Any) -> str:  # noqa: N802
        return session.credentials_of(provider).source

    assert Read(SimpleNamespace(urn=URN)) == (
        "stack config openrouter-keys:managementKey, as the last `pulumi up` recorded it"
    )
    assert session.credentials_of(provider).source == "stack config openrouter-keys:managementKey"
