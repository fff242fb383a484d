"""`KeyProvider` against the emulator over real loopback HTTP: every lifecycle rule of issue 2."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import Config, ConfigureRequest

from emulator import Fault
from providers.base import session
from providers.base.fields import CONFIG_PATH
from providers.base.messages import ProviderError
from providers.http.credentials import (
    CONFIG_API_BASE_URL,
    CONFIG_MANAGEMENT_KEY,
    DEFAULT_BASE_URL,
    ENV_API_BASE_URL,
    ENV_MANAGEMENT_KEY,
    ENV_PROVISIONING_KEY,
)
from providers.http.formats import LIMIT_RESETS
from providers.http.listing import LISTINGS
from providers.http.paging import PAGE_SIZE
from providers.key import GUARD_PROPERTY, KeyProvider
from providers.key_inputs import DECLARED
from tests.support.sentinel import assert_absent

EVERY_OUTPUT = {
    "hash", "key", "label", "name", "limit", "limit_reset", "include_byok_in_limit", "expires_at",
    "disabled", "workspace_id", "created_at", "adopt", DECLARED, CONFIG_PATH,
}
FUTURE = "2099-06-30T00:00:00Z"


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    session.reset_process_memory()
    yield
    session.reset_process_memory()


def configure(provider: KeyProvider, management_key: str | None, base_url: str | None) -> None:
    raw = {CONFIG_MANAGEMENT_KEY: management_key, CONFIG_API_BASE_URL: base_url}
    provider.configure(ConfigureRequest(Config(
        {k: v for k, v in raw.items() if v is not None}, "openrouter-keys"
    )))


@pytest.fixture
def provider(emulator, management_key) -> KeyProvider:
    provider = KeyProvider()
    configure(provider, management_key, emulator.api_base_url)
    return provider


class RequestLog:
    """The emulator's request log from a mark on: what a step really sent."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.start = len(emulator.requests())

    def mark(self) -> None:
        self.start = len(self.emulator.requests())

    def calls(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.emulator.requests()[self.start :]]

    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls() if call[0] != "GET"]


def warm_guard(provider: KeyProvider) -> None:
    """Pay the once-per-process `GET /key` up front, so counts below are per operation."""
    credentials = session.credentials_of(provider)
    with session.open_client(credentials) as client:
        session.ensure_management_key(client, credentials)


def hashes(emulator: Any) -> set[str]:
    stored = emulator.keys()
    return {record["hash"] for record in stored}


# --- lifecycle ---------------------------------------------------------------------------------


def test_lifecycle_create_read_update_replace_delete(provider, emulator):
    news = {"name": "ci-deploy", "limit": 5, "limit_reset": "monthly"}
    assert provider.check({}, news).failures == []
    created = provider.create(news)
    outs = created.outs
    assert created.id == outs["hash"]
    assert set(outs) == EVERY_OUTPUT
    assert (outs["name"], outs["limit"], outs["limit_reset"]) == ("ci-deploy", 5, "monthly")
    assert isinstance(outs["key"], str)
    assert outs["key"]
    assert outs["label"] != outs["key"]
    assert hashes(emulator) == {created.id}

    read = provider.read(created.id, {**outs, "__provider": "x"})
    assert (read.id, read.outs["key"], read.outs["limit"]) == (created.id, outs["key"], 5)

    raised = {**news, "limit": 10}
    diff = provider.diff(created.id, read.outs, raised)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, read.outs, raised).outs
    assert (updated["hash"], updated["key"], updated["limit"]) == (created.id, outs["key"], 10)

    expiring = {**raised, "expires_at": FUTURE}
    replace = provider.diff(created.id, updated, expiring)
    assert (replace.changes, replace.replaces, replace.delete_before_replace) == (
        True, ["expires_at"], False
    )
    # The engine's create-before-delete: the successor exists before the old key goes.
    successor = provider.create(expiring)
    assert hashes(emulator) == {created.id, successor.id}
    provider.delete(created.id, updated)
    assert hashes(emulator) == {successor.id}
    assert provider.diff(successor.id, successor.outs, expiring).changes is False
    provider.delete(successor.id, successor.outs)
    assert hashes(emulator) == set()


def test_no_diff_right_after_create(provider):
    news = {
        "name": "ci", "limit": 2.5, "limit_reset": "daily", "include_byok_in_limit": True,
        "expires_at": FUTURE, "disabled": False,
    }
    created = provider.create(news)
    diff = provider.diff(created.id, created.outs, news)
    assert (diff.changes, diff.replaces) == (False, [])
    read = provider.read(created.id, created.outs)
    assert provider.diff(created.id, read.outs, news).changes is False


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20)
    .filter(str.strip),
    optional=st.fixed_dictionaries({}, optional={
        "limit": st.one_of(st.integers(0, 1000), st.floats(0, 1000).map(lambda v: round(v, 2))),
        "limit_reset": st.sampled_from(LIMIT_RESETS),
        "include_byok_in_limit": st.booleans(),
        "disabled": st.booleans(),
        "expires_at": st.sampled_from(
            [FUTURE, "2098-01-02T03:04:05.678Z", "2097-12-31T23:59:59+00:00"]
        ),
    }),
)
def test_no_perpetual_diff_for_any_valid_inputs(provider, name, optional):
    news = {"name": name, **optional}
    assert provider.check({}, news).failures == []
    created = provider.create(news)
    diff = provider.diff(created.id, created.outs, news)
    assert (diff.changes, diff.replaces) == (False, [])
    provider.delete(created.id, created.outs)


def test_create_is_one_post(provider, emulator):
    warm_guard(provider)
    log = RequestLog(emulator)
    provider.create({"name": "ci"})
    assert log.calls() == [("POST", "/api/v1/keys")]


def test_disabled_create_is_post_then_patch(provider, emulator):
    warm_guard(provider)
    log = RequestLog(emulator)
    created = provider.create({"name": "ci", "disabled": True})
    assert log.calls() == [("POST", "/api/v1/keys"), ("PATCH", f"/api/v1/keys/{created.id}")]
    assert created.outs["disabled"] is True


def test_read_reports_gone_on_404(provider, emulator):
    created = provider.create({"name": "ci"})
    emulator.delete_key(created.id)
    read = provider.read(created.id, created.outs)
    assert (read.id, read.outs) == (None, {})


# --- reads in pages (docs/adr/0014-reads-in-pages.md) --------------------------------------------


def test_a_refresh_of_many_keys_lists_each_workspace_once(provider, emulator):
    count = PAGE_SIZE + 5
    created = [provider.create({"name": f"k{i}", "limit": i + 1}) for i in range(count)]
    log = RequestLog(emulator)
    reads = [provider.read(c.id, c.outs) for c in created]
    listed = [call for call in log.calls() if call == ("GET", "/api/v1/keys")]
    assert len(log.calls()) == len(listed) == 2  # a page and a bit: two pages of one listing
    assert [r.outs["limit"] for r in reads] == [i + 1 for i in range(count)]


def test_a_read_from_the_listing_is_what_the_get_returns(provider, emulator):
    created = provider.create({"name": "ci", "limit": 3})
    emulator.update_key(created.id, limit=7, disabled=True)  # drift behind Pulumi's back
    from_listing = provider.read(created.id, created.outs)
    log = RequestLog(emulator)
    with LISTINGS.writing():  # no listing may answer: the read is one GET, as before
        from_get = provider.read(created.id, created.outs)
    assert log.calls() == [("GET", f"/api/v1/keys/{created.id}")]
    assert (from_listing.id, from_listing.outs, from_listing.inputs) == (
        from_get.id, from_get.outs, from_get.inputs
    )
    assert (from_listing.outs["limit"], from_listing.outs["disabled"]) == (7, True)


def test_a_key_absent_from_the_listing_is_confirmed_by_one_get(provider, emulator):
    kept = provider.create({"name": "kept"})
    gone = provider.create({"name": "gone"})
    emulator.delete_key(gone.id)
    log = RequestLog(emulator)
    assert provider.read(kept.id, kept.outs).id == kept.id
    assert provider.read(gone.id, gone.outs).id is None
    assert log.calls() == [("GET", "/api/v1/keys"), ("GET", f"/api/v1/keys/{gone.id}")]


def test_a_key_missing_from_its_recorded_workspace_is_read_by_its_get(provider, emulator):
    created = provider.create({"name": "moved"})
    other = provider.create({"name": "stays"})
    log = RequestLog(emulator)
    listed_in = {**created.outs, "workspace_id": "00000000-0000-4000-8000-00000000abcd"}
    read = provider.read(created.id, listed_in)  # that workspace's listing lacks it
    assert read.id == created.id
    assert read.outs["workspace_id"] == created.outs["workspace_id"]
    assert log.calls()[-1] == ("GET", f"/api/v1/keys/{created.id}")
    assert provider.read(other.id, other.outs).id == other.id


def test_a_write_in_the_process_forgets_the_listing(provider, emulator):
    first = provider.create({"name": "a", "limit": 1})
    provider.read(first.id, first.outs)
    updated = provider.update(first.id, first.outs, {**first.outs, "limit": 2})
    log = RequestLog(emulator)
    read = provider.read(first.id, updated.outs)
    assert read.outs["limit"] == 2
    assert log.calls() == [("GET", "/api/v1/keys")]  # listed again, not answered from before


def test_delete_of_a_missing_key_succeeds(provider, emulator):
    created = provider.create({"name": "ci"})
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)
    assert hashes(emulator) == set()


def test_read_is_one_listing_and_carries_key_and_declared(provider, emulator):
    created = provider.create({"name": "ci", "limit": 3})
    log = RequestLog(emulator)
    read = provider.read(created.id, created.outs)
    assert log.calls() == [("GET", "/api/v1/keys")]
    assert read.outs["key"] == created.outs["key"]
    assert read.outs[DECLARED] == ["limit", "name"]
    # Nothing drifted: no inputs, so the engine keeps the recorded ones (config_path too).
    assert read.inputs is None


def test_a_read_returns_inputs_only_when_a_declared_setting_drifted(provider, emulator):
    created = provider.create({"name": "ci", "limit": 3})
    assert provider.read(created.id, created.outs).inputs is None
    emulator.update_key(created.id, name="renamed")
    LISTINGS.forget()  # the first read's listing would answer for 10 s (ADR 0014)
    assert provider.read(created.id, created.outs).inputs == {"name": "renamed", "limit": 3}


def test_a_refresh_keeps_the_config_path_so_it_shows_no_diff(provider, emulator):
    # Without it, `pulumi refresh` printed `[diff: -config_path]` for every key, and the next
    # update `+config_path`: the refreshed inputs are built from the outputs alone.
    declared = {"name": "ci", "limit": 3, CONFIG_PATH: "keys.ci"}
    created = provider.create(declared)
    other = provider.create({"name": "web", "limit": 3, CONFIG_PATH: "keys.web"})
    assert created.outs[CONFIG_PATH] == "keys.ci"
    emulator.update_key(created.id, limit=9)  # drift, behind Pulumi's back

    read = provider.read(created.id, created.outs)
    quiet = provider.read(other.id, other.outs)

    assert read.outs[CONFIG_PATH] == "keys.ci"
    assert read.inputs == {**declared, "limit": 9}
    assert quiet.inputs is None  # no drift: the engine keeps the recorded inputs, config_path too
    bookkeeping = provider.update(created.id, created.outs, {**declared, "adopt": None}).outs
    assert bookkeeping[CONFIG_PATH] == "keys.ci"
    renamed = provider.update(created.id, created.outs, {**declared, "name": "ci-2"}).outs
    assert renamed[CONFIG_PATH] == "keys.ci"


def test_update_returns_every_output_and_keeps_the_secret(provider, emulator):
    created = provider.create({"name": "ci", "limit": 3})
    warm_guard(provider)
    log = RequestLog(emulator)
    updated = provider.update(created.id, created.outs, {"name": "ci-2", "limit": 3}).outs
    assert log.calls() == [("PATCH", f"/api/v1/keys/{created.id}")]
    assert set(updated) == EVERY_OUTPUT
    assert (updated["name"], updated["key"]) == ("ci-2", created.outs["key"])


def test_update_patches_only_the_changed_fields(provider, emulator):
    created = provider.create({"name": "ci", "limit": 3, "limit_reset": "daily"})
    warm_guard(provider)
    log = RequestLog(emulator)
    provider.update(created.id, created.outs, {"name": "ci", "limit": 4, "limit_reset": "daily"})
    patches = [r for r in emulator.requests()[log.start :] if r["method"] == "PATCH"]
    assert [r["body"] for r in patches] == [{"limit": 4}]


def test_removed_limit_makes_the_key_unlimited(provider, emulator):
    news = {"name": "ci", "limit": 3, "limit_reset": "weekly"}
    created = provider.create(news)
    diff = provider.diff(created.id, created.outs, {"name": "ci"})
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, created.outs, {"name": "ci"}).outs
    assert (updated["limit"], updated["limit_reset"], updated[DECLARED]) == (None, None, ["name"])
    assert provider.diff(created.id, updated, {"name": "ci"}).changes is False


def test_drift_after_refresh_is_put_back_by_the_next_update(provider, emulator):
    news = {"name": "ci", "disabled": False}
    created = provider.create(news)
    emulator.update_key(created.id, disabled=True)
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["disabled"] is True
    assert refreshed.inputs == {"name": "ci", "disabled": True}
    assert provider.diff(created.id, refreshed.outs, news).changes is True
    restored = provider.update(created.id, refreshed.outs, news).outs
    assert restored["disabled"] is False


def test_undeclared_server_change_is_left_alone(provider, emulator):
    created = provider.create({"name": "ci"})
    emulator.update_key(created.id, disabled=True)
    refreshed = provider.read(created.id, created.outs)
    assert provider.diff(created.id, refreshed.outs, {"name": "ci"}).changes is False


def test_outputs_are_json_like(provider):
    outs = provider.create({"name": "ci", "expires_at": FUTURE}).outs
    allowed = (str, int, float, bool, type(None), list)
    assert all(isinstance(value, allowed) for value in outs.values())
    assert outs["expires_at"].endswith("Z") or outs["expires_at"].endswith("+00:00")


# --- check -------------------------------------------------------------------------------------


def test_check_lists_all_failures_together(provider):
    failures = provider.check({}, {"name": "", "limit": -2, "workspace_id": "nope"}).failures
    assert [(f.property, "`" + f.property + "`" in f.reason) for f in failures] == [
        ("name", True), ("limit", True), ("workspace_id", True)
    ]


@pytest.mark.parametrize("news", [{"name": "ci"}, {"name": "x", "adopt": "d" * 64}])
def test_check_without_a_management_key_fails_the_preview_without_a_request(
    emulator, monkeypatch, news
):
    # A create follows this check, and it could not run: the preview says so (issue 9).
    monkeypatch.setenv(ENV_API_BASE_URL, emulator.api_base_url)
    log = RequestLog(emulator)
    failures = KeyProvider().check({}, news).failures
    assert [f.property for f in failures] == [GUARD_PROPERTY]
    assert failures[0].reason.endswith("[management-key-missing]")
    assert log.calls() == []


@pytest.mark.parametrize("where", ["stack", "environment"])
def test_a_plain_http_api_base_url_is_refused_before_the_management_key_travels(
    management_key, monkeypatch, where
):
    # Regression (issue 10): `apiBaseUrl: http://proxy.example/api/v1` (or the same in
    # OPENROUTER_API_BASE_URL) sent `Authorization: Bearer <management key>` in clear text.
    url = "http://proxy.example/api/v1"
    provider = KeyProvider()
    if where == "stack":
        configure(provider, management_key, url)
        setting = "stack config openrouter-keys:apiBaseUrl"
    else:
        monkeypatch.setenv(ENV_API_BASE_URL, url)
        configure(provider, management_key, None)
        setting = ENV_API_BASE_URL
    failures = provider.check({}, {"name": "ci"}).failures
    assert [f.property for f in failures] == ["apiBaseUrl"]
    assert failures[0].reason.startswith(f"{setting} is {url!r}, which cannot carry")
    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "ci"})
    assert raised.value.kind == "api-base-url-unsafe"  # refused before any connection attempt
    assert_absent(management_key, str(raised.value), failures[0].reason)


def test_check_reports_a_regular_key_during_preview(emulator):
    regular = emulator.seed_key(name="app").secret
    provider = KeyProvider()
    configure(provider, regular, emulator.api_base_url)
    failures = provider.check({}, {"name": "ci"}).failures
    assert [f.property for f in failures] == [GUARD_PROPERTY]
    assert "regular key, not a management key" in failures[0].reason


# --- the key-type guard and where the key comes from -------------------------------------------


def test_regular_key_in_management_slot_is_refused_before_any_write(emulator):
    regular = emulator.seed_key(name="app").secret
    provider = KeyProvider()
    configure(provider, regular, emulator.api_base_url)
    log = RequestLog(emulator)
    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "ci"})
    message = str(raised.value)
    assert "is a regular key, not a management key" in message
    assert "A management key creates, lists, updates and deletes other keys" in message
    assert "A regular key calls models and cannot manage keys." in message
    assert "https://openrouter.ai/settings/management-keys" in message
    assert "stack config openrouter-keys:managementKey" in message
    assert_absent(regular, message)
    assert log.writes() == []


def test_invalid_management_key_says_invalid_disabled_or_deleted(emulator, management_key):
    provider = KeyProvider()
    configure(provider, management_key + "0", emulator.api_base_url)
    with pytest.raises(ProviderError) as raised:
        provider.delete("a" * 64, {})
    assert "invalid, disabled or deleted" in str(raised.value)
    assert_absent(management_key, str(raised.value))


def test_missing_management_key_names_both_fixes(monkeypatch):
    monkeypatch.delenv(ENV_MANAGEMENT_KEY, raising=False)
    monkeypatch.delenv(ENV_PROVISIONING_KEY, raising=False)
    with pytest.raises(ProviderError) as raised:
        KeyProvider().create({"name": "ci"})
    assert "pulumi config set --secret managementKey" in str(raised.value)
    assert ENV_MANAGEMENT_KEY in str(raised.value)
    assert raised.value.kind == "management-key-missing"


def test_guard_asks_once_per_process_even_under_concurrency(provider, emulator):
    log = RequestLog(emulator)
    errors: list[BaseException] = []

    def create(index: int) -> None:
        try:
            provider.create({"name": f"ci-{index}"})
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    counts = Counter(log.calls())
    assert counts[("GET", "/api/v1/key")] == 1
    assert counts[("POST", "/api/v1/keys")] == 4
    provider.delete("b" * 64, {})
    assert Counter(log.calls())[("GET", "/api/v1/key")] == 1


def test_one_client_serves_every_operation_of_the_process(
    provider, emulator, management_key, monkeypatch
):
    """A client per operation cost ~1.5 ms and a connection each (bench/README.md)."""
    opened: list[object] = []
    real = session.OpenRouterClient

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(session, "OpenRouterClient", counting)
    threads = [
        threading.Thread(target=provider.create, args=({"name": f"ci-{i}"},)) for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    created = hashes(emulator)
    assert len(created) == 4
    for hash_ in created:
        provider.read(hash_, {})
        provider.delete(hash_, {})
    assert hashes(emulator) == set()
    assert len(opened) == 1
    session.reset_process_memory()  # closes it; the next operation opens a new one
    configure(provider, management_key, emulator.api_base_url)
    provider.create({"name": "ci-after"})
    assert len(opened) == 2


def test_stack_config_wins_over_environment(emulator, management_key, monkeypatch):
    monkeypatch.setenv(ENV_MANAGEMENT_KEY, "not-the-key")
    monkeypatch.setenv(ENV_API_BASE_URL, "http://127.0.0.1:9/api/v1")
    provider = KeyProvider()
    configure(provider, management_key, emulator.api_base_url)
    credentials = session.credentials_of(provider)
    assert (credentials.management_key, credentials.base_url) == (
        management_key, emulator.api_base_url.rstrip("/")
    )
    assert provider.create({"name": "ci"}).id in hashes(emulator)


def test_environment_is_read_when_configure_never_ran(emulator, management_key, monkeypatch):
    monkeypatch.setenv(ENV_MANAGEMENT_KEY, management_key)
    monkeypatch.setenv(ENV_API_BASE_URL, emulator.api_base_url)
    created = KeyProvider().create({"name": "ci"})
    assert created.id in hashes(emulator)


def test_provisioning_key_variable_is_the_last_fallback(monkeypatch):
    monkeypatch.delenv(ENV_MANAGEMENT_KEY, raising=False)
    monkeypatch.setenv(ENV_PROVISIONING_KEY, "old-name")
    credentials = session.credentials_of(KeyProvider())
    assert (credentials.management_key, credentials.source, credentials.base_url) == (
        "old-name", f"environment {ENV_PROVISIONING_KEY}", DEFAULT_BASE_URL
    )
    monkeypatch.setenv(ENV_MANAGEMENT_KEY, "new-name")
    assert session.credentials_of(KeyProvider()).management_key == "new-name"


def test_configure_without_the_key_falls_back_to_the_environment(
    emulator, management_key, monkeypatch
):
    monkeypatch.setenv(ENV_MANAGEMENT_KEY, management_key)
    provider = KeyProvider()
    configure(provider, None, emulator.api_base_url)
    assert provider.create({"name": "ci"}).id in hashes(emulator)


# --- adoption ----------------------------------------------------------------------------------


def test_adopt_takes_over_without_minting(provider, emulator):
    seeded = emulator.seed_key(name="legacy", limit=1)
    warm_guard(provider)
    log = RequestLog(emulator)
    news = {"name": "legacy-backend", "limit": 1, "adopt": seeded.hash}
    created = provider.create(news)
    assert created.id == seeded.hash
    assert log.calls() == [
        ("GET", f"/api/v1/keys/{seeded.hash}"), ("PATCH", f"/api/v1/keys/{seeded.hash}")
    ]
    assert [r["body"] for r in emulator.requests()[log.start :] if r["method"] == "PATCH"] == [
        {"name": "legacy-backend"}
    ]
    assert created.outs["key"] is None
    assert created.outs["adopt"] == seeded.hash
    assert hashes(emulator) == {seeded.hash}
    assert provider.diff(created.id, created.outs, news).changes is False


def test_adopt_with_nothing_to_change_makes_no_write(provider, emulator):
    seeded = emulator.seed_key(name="legacy")
    warm_guard(provider)
    log = RequestLog(emulator)
    provider.create({"name": "legacy", "adopt": seeded.hash})
    assert log.writes() == []


def test_adopt_with_its_secret_exposes_it(provider, emulator):
    seeded = emulator.seed_key(name="legacy")
    news = {"name": "legacy", "adopt": seeded.hash, "adopt_secret": seeded.secret}
    created = provider.create(news)
    assert created.outs["key"] == seeded.secret
    assert provider.diff(created.id, created.outs, news).changes is False


def test_adopt_with_another_keys_secret_fails_and_changes_nothing(provider, emulator):
    seeded = emulator.seed_key(name="legacy", limit=1)
    other = emulator.seed_key(name="other")
    log = RequestLog(emulator)
    news = {"name": "renamed", "limit": 2, "adopt": seeded.hash, "adopt_secret": other.secret}
    with pytest.raises(ProviderError) as raised:
        provider.create(news)
    assert raised.value.kind == "adopt-secret-mismatch"
    assert "belongs to another key" in str(raised.value)
    assert_absent(other.secret, str(raised.value))
    assert log.writes() == []


def test_adopt_with_a_management_key_as_secret_fails(provider, emulator, management_key):
    seeded = emulator.seed_key(name="legacy")
    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "legacy", "adopt": seeded.hash, "adopt_secret": management_key})
    assert raised.value.kind == "adopt-secret-is-management"
    assert_absent(management_key, str(raised.value))


def test_adopt_with_a_revoked_secret_fails(provider, emulator):
    seeded = emulator.seed_key(name="legacy")
    with pytest.raises(ProviderError) as raised:
        provider.create(
            {"name": "legacy", "adopt": seeded.hash, "adopt_secret": seeded.secret + "0"}
        )
    assert raised.value.kind == "adopt-secret-invalid"


def test_adopt_of_an_unknown_hash_names_it(provider, emulator):
    log = RequestLog(emulator)
    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "legacy", "adopt": "c" * 64})
    assert "c" * 64 in str(raised.value)
    assert raised.value.kind == "adopt-not-found"
    assert log.writes() == []


def test_preview_refuses_adopting_a_missing_key_so_the_update_never_starts(provider, emulator):
    # Found only at create, the update would stop half done, after replacements whose old keys
    # the next update deletes first (ADR 0003); a check failure stops it before any step.
    missing = secrets.token_hex(32)
    log = RequestLog(emulator)
    failures = provider.check({}, {"name": "legacy", "adopt": missing}).failures
    assert [f.property for f in failures] == ["adopt"]
    assert f"no key with hash {missing} exists" in failures[0].reason
    assert ("GET", f"/api/v1/keys/{missing}") in log.calls()
    assert log.writes() == []


def test_preview_of_an_adoption_reads_the_key_once_and_only_when_adopt_is_new(provider, emulator):
    seeded = emulator.seed_key(name="legacy")
    warm_guard(provider)
    log = RequestLog(emulator)
    assert provider.check({}, {"name": "legacy", "adopt": seeded.hash}).failures == []
    assert log.calls() == [("GET", f"/api/v1/keys/{seeded.hash}")]
    log.mark()
    # Already adopted (old inputs hold the same hash), even if the key is gone since: no request;
    # refresh is what notices a deleted key.
    emulator.delete_key(seeded.hash)
    olds = {"name": "legacy", "adopt": seeded.hash}
    assert provider.check(olds, dict(olds)).failures == []
    assert log.calls() == []


def test_adopt_refuses_a_different_expiry_before_changing_anything(provider, emulator):
    seeded = emulator.seed_key(name="legacy", expires_at=FUTURE)
    log = RequestLog(emulator)
    with pytest.raises(ProviderError) as raised:
        provider.create(
            {"name": "renamed", "adopt": seeded.hash, "expires_at": "2098-01-01T00:00:00Z"}
        )
    assert raised.value.kind == "adopt-fixed-field"
    assert "`expires_at`: the adopted key" in str(raised.value)
    assert "expiresAt '2099-06-30T00:00:00Z'" in str(raised.value)
    assert log.writes() == []


def test_adopt_secret_added_later_is_verified_without_a_patch(provider, emulator):
    seeded = emulator.seed_key(name="legacy")
    first = {"name": "legacy", "adopt": seeded.hash}
    created = provider.create(first)
    later = {**first, "adopt_secret": seeded.secret}
    assert provider.diff(created.id, created.outs, later).changes is True
    log = RequestLog(emulator)
    updated = provider.update(created.id, created.outs, later).outs
    assert log.writes() == []
    assert updated["key"] == seeded.secret
    assert provider.diff(created.id, updated, later).changes is False


def test_removing_adopt_after_adoption_keeps_the_key(provider, emulator):
    seeded = emulator.seed_key(name="legacy")
    created = provider.create({"name": "legacy", "adopt": seeded.hash})
    diff = provider.diff(created.id, created.outs, {"name": "legacy"})
    assert (diff.changes, diff.replaces) == (False, [])


# --- faults: after each, exactly the right keys are left -----------------------------------------

KEYS = "/api/v1/keys"


def _create(provider: KeyProvider, news: dict[str, Any]) -> str | None:
    """The hash created, or None when the create failed (its error text is checked elsewhere)."""
    try:
        return provider.create(news).id
    except ProviderError:
        return None


@pytest.mark.parametrize(
    ("faults", "created", "left"),
    [
        pytest.param([Fault(KEYS, "POST", drop="after_commit")], True, 1, id="create-lost"),
        pytest.param([Fault(KEYS, "POST", status=503)], True, 1, id="create-503"),
        pytest.param([Fault(KEYS, "POST", status=429, retry_after=0)], True, 1, id="create-429"),
        pytest.param([Fault(KEYS, "POST", drop="before")], True, 1, id="create-refused"),
        pytest.param(
            [Fault(KEYS, "POST", drop="after_commit", times=2)], False, 0, id="create-lost-twice"
        ),
        pytest.param([Fault(KEYS, "POST", status=400)], False, 0, id="create-400"),
        pytest.param(
            [Fault("/api/v1/key", "GET", status=503, retry_after=0, times=10)], False, 0,
            id="guard-unreachable",
        ),
    ],
)
def test_create_faults_leave_exactly_the_right_keys(provider, emulator, faults, created, left):
    emulator.inject(*faults)
    hash_ = _create(provider, {"name": "ci", "limit": 1})
    assert (hash_ is not None) == created
    assert len(emulator.keys()) == left
    if hash_ is not None:
        assert hashes(emulator) == {hash_}
        # The one key left is the one asked for, with the settings asked for.
        read = provider.read(hash_, {})
        assert provider.diff(hash_, read.outs, {"name": "ci", "limit": 1}).changes is False


def test_disabled_create_whose_patch_fails_leaves_no_key(provider, emulator):
    emulator.inject(Fault(f"{KEYS}/", "PATCH", prefix=True, status=503, retry_after=0, times=10))
    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "ci", "disabled": True})
    assert raised.value.kind == "create-disable-failed"
    assert "nothing is left behind" in str(raised.value)
    assert emulator.keys() == []


def test_disabled_create_whose_cleanup_fails_names_the_orphan(provider, emulator):
    emulator.inject(
        Fault(f"{KEYS}/", "PATCH", prefix=True, status=400),
        Fault(f"{KEYS}/", "DELETE", prefix=True, status=503, retry_after=0, times=10),
    )
    with pytest.raises(ProviderError) as raised:
        provider.create({"name": "ci", "disabled": True})
    (orphan,) = hashes(emulator)
    assert raised.value.kind == "create-disable-orphan"
    assert orphan in str(raised.value)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"drop": "after_commit"}, id="patch-response-lost"),
        pytest.param({"status": 503, "retry_after": 0}, id="patch-503"),
    ],
)
def test_update_survives_a_transient_fault_on_the_same_key(provider, emulator, fault):
    created = provider.create({"name": "ci", "limit": 1})
    emulator.inject(Fault(f"{KEYS}/{created.id}", "PATCH", **fault))
    updated = provider.update(created.id, created.outs, {"name": "ci", "limit": 2}).outs
    assert (updated["limit"], hashes(emulator)) == (2, {created.id})


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"drop": "after_commit"}, id="delete-response-lost"),
        pytest.param({"status": 503, "retry_after": 0}, id="delete-503"),
    ],
)
def test_delete_survives_a_transient_fault(provider, emulator, fault):
    created = provider.create({"name": "ci"})
    emulator.inject(Fault(f"{KEYS}/{created.id}", "DELETE", **fault))
    provider.delete(created.id, created.outs)
    assert emulator.keys() == []


def test_read_that_keeps_failing_is_an_error_not_gone(provider, emulator):
    created = provider.create({"name": "ci"})
    emulator.inject(
        Fault(KEYS, "GET", status=500, retry_after=0, times=10),
        Fault(f"{KEYS}/{created.id}", "GET", status=500, retry_after=0, times=10),
    )
    with pytest.raises(ProviderError):
        provider.read(created.id, created.outs)
    assert hashes(emulator) == {created.id}


def test_a_failed_listing_falls_back_to_each_keys_get(provider, emulator):
    created = [provider.create({"name": f"k{i}"}) for i in range(3)]
    emulator.inject(Fault(KEYS, "GET", status=500, retry_after=0, times=10))
    log = RequestLog(emulator)
    assert [provider.read(c.id, c.outs).id for c in created] == [c.id for c in created]
    gets = [call for call in log.calls() if call[1] != KEYS]
    assert gets == [("GET", f"{KEYS}/{c.id}") for c in created]
    assert log.calls().count(("GET", KEYS)) == 4  # one listing, its retries, never again


# --- secrets -----------------------------------------------------------------------------------


def test_no_secret_in_outputs_logs_or_errors(emulator, management_key, caplog):
    caplog.set_level(logging.DEBUG)
    provider = KeyProvider()
    configure(provider, management_key, emulator.api_base_url)
    created = provider.create({"name": "ci", "limit": 1, "disabled": True})
    minted = created.outs["key"]
    provider.read(created.id, created.outs)
    provider.update(created.id, created.outs, {"name": "ci-2"})
    errors: list[str] = []
    failing = (
        {"name": "x", "adopt": "d" * 64},
        {"name": "x", "adopt": created.id, "adopt_secret": management_key},
    )
    for bad in failing:
        with pytest.raises(ProviderError) as raised:
            provider.create(bad)
        errors.append(str(raised.value))
    provider.delete(created.id, created.outs)
    visible = {k: v for k, v in created.outs.items() if k != "key"}
    for text in (repr(visible), caplog.text, *errors):
        assert_absent(management_key, text)
        assert_absent(minted, text)
