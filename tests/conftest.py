"""Fixtures shared by every test folder: a clean environment, the emulator and the sentinel."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import topology.openrouter
from emulator import Emulator, run_emulator
from tests.support.sentinel import make_sentinel

_ASK_OPENROUTER = topology.openrouter.management_key_refusal

STRIPPED_ENV_PREFIXES = ("OPENROUTER_", "PULUMI_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a developer's real key, backend or stack from the shell."""
    for name in list(os.environ):
        if name.startswith(STRIPPED_ENV_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session", autouse=True)
def _management_slot_accepted() -> Iterator[None]:
    """The program asks OpenRouter about the management key on every run (topology/preflight.py
    `verify_management_slot`); under Pulumi mocks there is no OpenRouter to ask, so the slot is
    taken as accepted, for module-scoped fixtures too. Tests marked `management_slot` ask."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topology.openrouter, "management_key_refusal", lambda config: None)
        yield


@pytest.fixture(autouse=True)
def _management_slot_asked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("management_slot") is not None:
        monkeypatch.setattr(topology.openrouter, "management_key_refusal", _ASK_OPENROUTER)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    """One emulator for the whole run, on a free loopback port."""
    with run_emulator(port=0) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The session emulator, emptied first: no keys, faults, log or management keys."""
    emulator_server.reset(management_keys=True)
    return emulator_server


@pytest.fixture
def management_key(emulator: Emulator) -> str:
    """A management key generated for this test and known to the emulator."""
    return emulator.add_management_key()


@pytest.fixture
def sentinel() -> str:
    """A key-shaped secret generated for this test, to prove it never leaks."""
    return make_sentinel()
