"""What other code and Pulumi state rely on: the provider's module path and the package surface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import providers
from providers.key import ApiKey, KeyProvider

ROOT = Path(__file__).resolve().parents[1]


def test_the_provider_class_lives_where_state_refers_to_it():
    # dill pickles the provider by reference: a move would break refresh and destroy of every
    # stack already deployed.
    assert (KeyProvider.__module__, KeyProvider.__qualname__) == ("providers.key", "KeyProvider")
    assert ApiKey.__module__ == "providers.key"


@pytest.mark.parametrize("name", providers.__all__)
def test_every_public_name_resolves_to_its_home(name):
    value = getattr(providers, name)
    assert value.__module__.startswith("providers.")
    assert value.__name__ == name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = providers.Nope


def test_importing_the_client_does_not_load_the_pulumi_sdk():
    # cli imports only the client; the lazy package surface must not drag the SDK in.
    code = (
        "import sys, providers; from providers import OpenRouterClient;"
        " print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
