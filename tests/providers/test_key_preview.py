"""`check` before a write asks OpenRouter what the write will need, so the preview fails whenever
the `up` would fail for a reason knowable before any write (issue 9, case 7); a `check` that
precedes no write asks nothing."""

from __future__ import annotations

import socket

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from emulator import Fault
from providers.base import session
from providers.http.credentials import CONFIG_API_BASE_URL, CONFIG_MANAGEMENT_KEY
from providers.key import KeyProvider
from tests.support.sentinel import assert_absent

KEY = "/api/v1/key"


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def configured(management_key: str, base_url: str) -> KeyProvider:
    provider = KeyProvider()
    config = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: base_url}
    provider.configure(ConfigureRequest(Config(config, "openrouter-keys")))
    return provider


def calls(emulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests()]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reasons(result) -> list[tuple[str, str]]:
    return [(f.property, f.reason.rsplit("[", 1)[1].rstrip("]")) for f in result.failures]


def test_a_create_whose_api_is_unreachable_fails_the_preview_once_per_process(
    management_key, monkeypatch
):
    monkeypatch.setattr("providers.http.retry.backoff_delay", lambda *_args: 0.0)
    provider = configured(management_key, f"http://127.0.0.1:{closed_port()}/api/v1")
    first = provider.check({}, {"name": "ci"})
    assert reasons(first) == [("apiBaseUrl", "api-unavailable")]
    assert "could not be asked before the first write" in first.failures[0].reason
    assert "Nothing was changed" in first.failures[0].reason
    # The next key's check reuses the verdict instead of waiting out the retries again.
    assert reasons(provider.check({}, {"name": "web"})) == [("apiBaseUrl", "api-unavailable")]
    assert_absent(management_key, first.failures[0].reason)


def test_a_create_whose_api_keeps_failing_fails_the_preview_after_the_retries(
    emulator, management_key
):
    emulator.inject(Fault(KEY, "GET", status=503, retry_after=0, times=10))
    provider = configured(management_key, emulator.api_base_url)
    assert reasons(provider.check({}, {"name": "ci"})) == [("apiBaseUrl", "api-unavailable")]
    assert calls(emulator).count(("GET", KEY)) == 4  # the client's attempts, then the verdict


def test_a_management_key_that_cannot_be_sent_fails_the_preview_without_a_request(emulator):
    provider = configured("sk-or-v1-pasted with a space", emulator.api_base_url)
    result = provider.check({}, {"name": "ci"})
    assert reasons(result) == [("managementKey", "management-key-unsendable")]
    assert "pasted" not in result.failures[0].reason
    assert calls(emulator) == []


def test_a_rejected_management_key_fails_the_preview(emulator):
    provider = configured("sk-or-v1-" + "0" * 8 + "not-known", emulator.api_base_url)
    assert reasons(provider.check({}, {"name": "ci"})) == [
        ("managementKey", "management-key-invalid")
    ]


def test_a_check_that_precedes_no_write_asks_nothing_even_with_the_api_down(management_key):
    provider = configured(management_key, f"http://127.0.0.1:{closed_port()}/api/v1")
    olds = {"name": "ci", "limit": 5.0}
    assert provider.check(olds, {"name": "ci", "limit": 5}).failures == []


def test_an_update_checks_the_api_like_a_create(emulator, management_key):
    emulator.inject(Fault(KEY, "GET", status=503, retry_after=0, times=10))
    provider = configured(management_key, emulator.api_base_url)
    result = provider.check({"name": "ci", "limit": 5.0}, {"name": "ci", "limit": 7})
    assert reasons(result) == [("apiBaseUrl", "api-unavailable")]


def test_an_adopted_secret_of_another_key_fails_the_preview(emulator, management_key):
    adopted = emulator.seed_key(name="legacy")
    other = emulator.seed_key(name="other")
    provider = configured(management_key, emulator.api_base_url)
    news = {
        "name": "legacy",
        "adopt": adopted.hash,
        "adopt_secret": other.secret,
        "config_path": "keys.legacy",
    }
    result = provider.check({}, news)
    assert reasons(result) == [("adopt_secret", "adopt-secret-mismatch")]
    assert result.failures[0].reason.startswith("`adoptedSecrets.legacy`: the secret given")
    assert_absent(other.secret, result.failures[0].reason)
    assert [m for m, _ in calls(emulator)] == ["GET", "GET", "GET"]  # nothing written


def test_a_management_key_given_as_the_adopted_secret_fails_the_preview(
    emulator, management_key
):
    adopted = emulator.seed_key(name="legacy")
    provider = configured(management_key, emulator.api_base_url)
    news = {"name": "legacy", "adopt": adopted.hash, "adopt_secret": management_key}
    assert reasons(provider.check({}, news)) == [("adopt_secret", "adopt-secret-is-management")]


def test_the_right_adopted_secret_passes_and_a_new_one_later_is_checked_again(
    emulator, management_key
):
    adopted = emulator.seed_key(name="legacy")
    other = emulator.seed_key(name="other")
    provider = configured(management_key, emulator.api_base_url)
    news = {"name": "legacy", "adopt": adopted.hash, "adopt_secret": adopted.secret}
    assert provider.check({}, news).failures == []
    changed = {**news, "adopt_secret": other.secret}
    assert reasons(provider.check(news, changed)) == [("adopt_secret", "adopt-secret-mismatch")]


def test_adopting_a_missing_key_fails_the_preview_naming_the_setting(emulator, management_key):
    provider = configured(management_key, emulator.api_base_url)
    news = {"name": "legacy", "adopt": "d" * 64, "config_path": "keys.legacy"}
    result = provider.check({}, news)
    assert reasons(result) == [("adopt", "adopt-not-found")]
    assert result.failures[0].reason.startswith("`keys.legacy.adopt`: no key with hash")


def test_a_new_key_whose_name_is_taken_fails_the_preview_naming_the_leftover(
    emulator, management_key
):
    # Issue 9, case 5: a `pulumi up` killed with its provider left minted keys that no state
    # holds; the next `up` minted them again under the same names.
    leftover = emulator.seed_key(name="sandbox-ci")
    provider = configured(management_key, emulator.api_base_url)
    result = provider.check({}, {"name": "sandbox-ci", "config_path": "keys.ci"})
    assert reasons(result) == [("name", "key-name-taken")]
    reason = result.failures[0].reason
    assert reason.startswith("`keys.ci`: OpenRouter already has a key named 'sandbox-ci'")
    assert leftover.hash in reason
    assert "never used" in reason
    assert "python -m cli recover" in reason
    # One listing serves every check of the process.
    assert provider.check({}, {"name": "sandbox-web"}).failures == []
    assert calls(emulator).count(("GET", "/api/v1/keys")) == 1


def test_an_existing_key_keeps_its_name_without_a_listing(emulator, management_key):
    emulator.seed_key(name="sandbox-ci")
    provider = configured(management_key, emulator.api_base_url)
    olds = {"name": "sandbox-ci", "limit": 5.0}
    assert provider.check(olds, {"name": "sandbox-ci", "limit": 6}).failures == []
    assert ("GET", "/api/v1/keys") not in calls(emulator)


def test_a_new_key_in_a_workspace_that_does_not_exist_fails_the_preview_naming_it(
    emulator, management_key
):
    # Issue 19: the POST would fail with a bare 400 after the other steps of the update.
    missing = "0badc0de-0000-4000-8000-000000000000"
    provider = configured(management_key, emulator.api_base_url)
    news = {"name": "sandbox-ci", "workspace_id": missing, "config_path": "keys.ci"}
    result = provider.check({}, news)
    assert reasons(result) == [("workspace_id", "workspace-not-found")]
    assert result.failures[0].reason.startswith(
        f"`keys.ci.workspaceId` or `keys.ci.workspace`: OpenRouter has no workspace {missing}"
    )
    assert [m for m, _ in calls(emulator)] == ["GET"] * len(calls(emulator))
    # A workspace that exists costs one GET, and an existing key none.
    made = emulator.add_workspace("Agents", "agents")["id"]
    emulator.clear_requests()
    assert provider.check({}, {**news, "workspace_id": made}).failures == []
    assert ("GET", f"/api/v1/workspaces/{made}") in calls(emulator)
    emulator.clear_requests()
    assert provider.check({"name": "sandbox-ci", "workspace_id": missing}, news).failures == []
    assert calls(emulator) == []
