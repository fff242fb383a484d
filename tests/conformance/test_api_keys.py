"""Every `/key` and `/keys` answer the project relies on, parsed by OpenRouter's own SDK.

Each test drives the emulator through the SDK (retries off) and asserts two things about every
answer: it parses into the SDK's model (every required field, the right types), and it carries no
field the model lacks (`fields_unknown_to`). Values are then checked through the SDK's objects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openrouter import errors, operations
from openrouter.components import KeyBudget

from emulator import DEFAULT_WORKSPACE_ID, Emulator, Fault
from tests.conformance.endpoints import SDK_DEPRECATION, conforms
from tests.conformance.harness import Sdk, SdkFactory

pytestmark = pytest.mark.filterwarnings(SDK_DEPRECATION)

CHAT = {"model": "openrouter/auto", "messages": [{"role": "user", "content": "hi"}]}
OTHER_WORKSPACE = "9b2f6d4e-1111-4c3a-8d2e-222222222222"


@pytest.fixture
def other_workspace(emulator: Emulator) -> str:
    """A second workspace: a key can only live in one that exists."""
    return emulator.add_workspace("Other", "other", workspace_id=OTHER_WORKSPACE)["id"]
PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def use(emulator: Emulator, secret: str) -> None:
    """One inference call with a regular key, as a consumer makes it."""
    with httpx.Client(base_url=emulator.api_base_url) as http:
        answer = http.post(
            "/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {secret}"}
        )
    assert answer.status_code == 200


# --- GET /key ------------------------------------------------------------------------------------


def test_get_key_for_the_management_key(sdk: Sdk):
    answer = sdk.api_keys.get_current_key_metadata()

    assert isinstance(answer, operations.GetCurrentKeyResponse)
    conforms(sdk, answer)
    data = answer.data
    assert data.is_management_key is True
    assert (data.budgets, data.effective_budget, data.limit) == ([], None, None)


def test_get_key_for_a_regular_key_lists_its_budget_layers(emulator: Emulator, sdk_for: SdkFactory):
    expires = datetime(2099, 1, 1, tzinfo=UTC)
    seeded = emulator.seed_key("shop", limit=25, limit_reset="monthly", usage=10,
                               expires_at="2099-01-01T00:00:00Z")
    regular = sdk_for(seeded.secret)

    answer = regular.api_keys.get_current_key_metadata()

    conforms(regular, answer)
    data = answer.data
    assert (data.is_management_key, data.workspace_id, data.expires_at) == (
        False, DEFAULT_WORKSPACE_ID, expires
    )
    [layer] = data.budgets
    assert isinstance(layer, KeyBudget)
    assert (layer.scope, layer.limit_usd, layer.spend_usd, layer.remaining_usd) == (
        "key_limit", 25, 10, 15
    )
    assert (layer.reset_interval, layer.budget_id, layer.guardrail_id) == ("monthly", None, None)
    assert layer.resets_at is not None
    assert layer.resets_at.day == 1
    assert data.effective_budget == layer
    assert data.limit_remaining == layer.remaining_usd


def test_get_key_for_an_unlimited_regular_key_has_no_layers(
    emulator: Emulator, sdk_for: SdkFactory
):
    regular = sdk_for(emulator.seed_key("free-running").secret)

    answer = regular.api_keys.get_current_key_metadata()

    conforms(regular, answer)
    assert (answer.data.budgets, answer.data.effective_budget) == ([], None)


def test_get_key_with_a_dead_key_is_the_sdks_unauthorized_error(
    emulator: Emulator, sdk_for: SdkFactory
):
    seeded = emulator.seed_key("gone", disabled=True)

    with pytest.raises(errors.UnauthorizedResponseError) as caught:
        sdk_for(seeded.secret).api_keys.get_current_key_metadata()

    assert (caught.value.data.error.code, caught.value.data.error.message) == (
        401, "User not found."
    )


# --- POST /keys ----------------------------------------------------------------------------------


def test_create_with_every_field_the_project_sends(
    emulator: Emulator, sdk: Sdk, other_workspace: str
):
    expires = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)

    answer = sdk.api_keys.create(
        name="ci", limit=50, limit_reset="weekly", include_byok_in_limit=True,
        expires_at=expires, workspace_id=OTHER_WORKSPACE,
    )

    assert isinstance(answer, operations.CreateKeysResponse)
    assert sdk.answers[-1].status_code == 201
    conforms(sdk, answer)
    data = answer.data
    assert (data.name, data.limit, data.limit_reset, data.include_byok_in_limit) == (
        "ci", 50, "weekly", True
    )
    assert (data.expires_at, data.workspace_id, data.disabled) == (expires, OTHER_WORKSPACE, False)
    assert (data.last_used_at, data.external_user, data.updated_at) == (None, None, None)
    assert answer.key.startswith("sk-or-v1-")
    assert emulator.key(data.hash) is not None


def test_create_with_a_regular_key_is_the_sdks_forbidden_error(
    emulator: Emulator, sdk_for: SdkFactory
):
    regular = sdk_for(emulator.seed_key("inference").secret)

    with pytest.raises(errors.ForbiddenResponseError) as caught:
        regular.api_keys.create(name="nope")

    assert caught.value.data.error.message == "Only management keys can perform this operation"
    stored = emulator.keys()
    assert [key["name"] for key in stored] == ["inference"]


def test_create_refused_as_invalid_is_the_sdks_bad_request_error(emulator: Emulator, sdk: Sdk):
    with pytest.raises(errors.BadRequestResponseError) as caught:
        sdk.api_keys.create(name="")

    assert caught.value.data.error.code == 400
    assert emulator.keys() == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, errors.TooManyRequestsResponseError), (500, errors.InternalServerResponseError)],
)
def test_create_failures_parse_and_are_sent_once_with_retries_off(
    emulator: Emulator, sdk: Sdk, status: int, error: type[Exception]
):
    emulator.inject(Fault(path="/api/v1/keys", method="POST", status=status, retry_after=1))

    with pytest.raises(error):
        sdk.api_keys.create(name="once")

    assert [(r.method, r.status) for r in emulator.requests()] == [("POST", status)]
    assert emulator.keys() == []


# --- GET /keys -----------------------------------------------------------------------------------


def test_list_pages_with_include_disabled_and_include_expired(emulator: Emulator, sdk: Sdk):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(120):
        emulator.seed_key(f"k{index:03d}", created_at=start + timedelta(minutes=index),
                          disabled=index % 10 == 0)
    expired = emulator.seed_key("expired", expires_at=PAST, created_at=start)

    first = sdk.api_keys.list(include_disabled=True, include_expired=True, offset=0)
    conforms(sdk, first)
    second = sdk.api_keys.list(include_disabled=True, include_expired=True, offset=100)
    conforms(sdk, second)
    enabled = [*sdk.api_keys.list().data, *sdk.api_keys.list(offset=100).data]

    assert isinstance(first, operations.ListResponse)
    assert (len(first.data), len(second.data)) == (100, 21)
    every = {key.hash for key in first.data + second.data}
    stored = emulator.keys()
    assert every == {key["hash"] for key in stored}
    assert expired.hash in every
    assert len(enabled) == 108
    assert not any(key.disabled for key in enabled)
    assert expired.hash not in {key.hash for key in enabled}
    queries = [r.query for r in emulator.requests()]
    assert queries[0] == "include_disabled=true&include_expired=true&offset=0"


def test_list_of_another_workspace(emulator: Emulator, sdk: Sdk, other_workspace: str):
    away = emulator.seed_key("away", workspace_id=OTHER_WORKSPACE)
    emulator.seed_key("home")

    answer = sdk.api_keys.list(workspace_id=OTHER_WORKSPACE)

    conforms(sdk, answer)
    assert [(key.hash, key.workspace_id) for key in answer.data] == [(away.hash, OTHER_WORKSPACE)]


# --- GET /keys/{hash} ----------------------------------------------------------------------------


def test_get_one_key_after_it_was_used(emulator: Emulator, sdk: Sdk):
    seeded = emulator.seed_key("used", limit=1)
    before = datetime.now(UTC)
    use(emulator, seeded.secret)

    answer = sdk.api_keys.get(hash=seeded.hash)

    assert isinstance(answer, operations.GetKeyResponse)
    conforms(sdk, answer)
    assert answer.data.hash == seeded.hash
    assert answer.data.last_used_at is not None
    assert before <= answer.data.last_used_at <= datetime.now(UTC)
    assert answer.data.usage > 0


# --- PATCH /keys/{hash} --------------------------------------------------------------------------


def test_update_with_every_field_the_project_sends(emulator: Emulator, sdk: Sdk):
    seeded = emulator.seed_key("before", limit=5, limit_reset="daily")

    renamed = sdk.api_keys.update(
        hash=seeded.hash, name="after", disabled=True, limit_reset="monthly",
        include_byok_in_limit=True,
    )
    conforms(sdk, renamed)
    uncapped = sdk.api_keys.update(hash=seeded.hash, limit=None)
    conforms(sdk, uncapped)

    assert isinstance(renamed, operations.UpdateKeysResponse)
    data = renamed.data
    assert (data.name, data.disabled, data.limit_reset, data.include_byok_in_limit) == (
        "after", True, "monthly", True
    )
    assert data.updated_at is not None
    assert (uncapped.data.limit, uncapped.data.limit_remaining) == (None, None)
    assert [r.body for r in emulator.requests()][-1] == {"limit": None}


def test_update_moves_a_key_to_another_workspace(
    emulator: Emulator, sdk: Sdk, other_workspace: str
):
    seeded = emulator.seed_key("mover")

    answer = sdk.api_keys.update(hash=seeded.hash, workspace_id=OTHER_WORKSPACE)

    conforms(sdk, answer)
    assert answer.data.workspace_id == OTHER_WORKSPACE


# --- DELETE /keys/{hash} -------------------------------------------------------------------------


def test_delete_then_every_key_route_answers_404(emulator: Emulator, sdk: Sdk):
    seeded = emulator.seed_key("doomed")

    answer = sdk.api_keys.delete(hash=seeded.hash)

    assert isinstance(answer, operations.DeleteKeysResponse)
    conforms(sdk, answer)
    assert emulator.key(seeded.hash) is None
    for call in (
        lambda: sdk.api_keys.get(hash=seeded.hash),
        lambda: sdk.api_keys.update(hash=seeded.hash, name="x"),
        lambda: sdk.api_keys.delete(hash=seeded.hash),
    ):
        with pytest.raises(errors.NotFoundResponseError) as caught:
            call()
        assert (caught.value.data.error.code, caught.value.data.error.message) == (
            404, "Resource not found"
        )
