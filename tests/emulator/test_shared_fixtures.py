"""The shared fixtures and the sentinel search every other folder relies on."""

from __future__ import annotations

import base64
import json
import os
import pickle
import re

import pytest

from tests.support.sentinel import assert_absent, assert_present, find_secret, make_sentinel

EXPECTED_LEAK = re.compile(r"secret sk-or-v1-[0-9a-f]{3}\.\.\.[0-9a-f]{3} leaked")


def test_environment_is_stripped_of_openrouter_and_pulumi_variables():
    leftovers = [name for name in os.environ if name.startswith(("OPENROUTER_", "PULUMI_"))]

    assert leftovers == []


def test_emulator_fixture_starts_each_test_empty(emulator, management_key):
    assert emulator.keys() == []
    assert emulator.requests() == []
    assert emulator.pending_faults() == []
    assert emulator.store.management_key_count() == 1


def test_management_key_is_generated_per_test(management_key):
    assert management_key.startswith("sk-or-mgmt-")
    assert len(management_key) > 40


def test_sentinel_is_key_shaped_and_fresh(sentinel):
    assert re.fullmatch(r"sk-or-v1-[0-9a-f]{64}", sentinel)
    assert make_sentinel() != sentinel


def leak_message(secret: str, *haystacks: object) -> str:
    with pytest.raises(AssertionError) as raised:
        assert_absent(secret, *haystacks)
    message = str(raised.value)
    assert secret not in message
    assert secret[9:] not in message
    assert EXPECTED_LEAK.search(message)
    return message


def test_plain_leak_is_found_and_the_message_masks_it(sentinel):
    message = leak_message(sentinel, "clean", f"error: bad key {sentinel} given")

    assert "plain text in haystack #1 (str)" in message


@pytest.mark.parametrize("prefix_length", [0, 1, 2, 5])
def test_base64_leak_is_found_at_every_alignment(sentinel, prefix_length):
    blob = b"x" * prefix_length + json.dumps({"key": sentinel}).encode() + b"tail"

    leak_message(sentinel, base64.b64encode(blob).decode())
    leak_message(sentinel, base64.urlsafe_b64encode(blob))


def test_leak_in_a_nested_value_names_its_path(sentinel):
    message = leak_message(sentinel, {"outputs": [{"label": "ok"}, {"key": sentinel}]})

    assert "['outputs'][1]['key']" in message


class Holder:
    """An object whose repr hides its value: only its pickle shows what it carries."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Holder(<hidden>)"


def test_leak_in_pickle_bytes_and_in_an_object_that_pickles_it(sentinel):
    leak_message(sentinel, pickle.dumps({"k": sentinel}))
    leak_message(sentinel, pickle.dumps({"k": sentinel}, protocol=0))
    message = leak_message(sentinel, Holder(sentinel))

    assert "(pickle)" in message
    assert_absent(sentinel, Holder("harmless-value"))


def test_leak_in_a_file_or_a_folder(sentinel, tmp_path):
    (tmp_path / "clean.txt").write_text("nothing")
    nested = tmp_path / "state" / "stack.json"
    nested.parent.mkdir()
    nested.write_text(json.dumps({"outputs": {"key": sentinel}}))

    message = leak_message(sentinel, tmp_path)

    assert str(nested) in message
    assert_absent(sentinel, tmp_path / "clean.txt")


def test_hex_leak_is_found(sentinel):
    leak_message(sentinel, sentinel.encode().hex())


def test_masked_form_and_other_keys_are_not_leaks(sentinel):
    masked_label = f"sk-or-v1-{sentinel[9:12]}...{sentinel[-3:]}"

    assert_absent(sentinel, masked_label, make_sentinel(), {"hash": "0" * 64}, None, 12)
    assert find_secret(sentinel, masked_label) == []


def test_assert_present_is_the_positive_control(sentinel):
    assert_present(sentinel, {"deep": [sentinel]})
    with pytest.raises(AssertionError) as raised:
        assert_present(sentinel, "nothing here")
    assert sentinel not in str(raised.value)


def test_too_short_a_secret_is_refused():
    with pytest.raises(ValueError, match="at least 8"):
        find_secret("abc", "abc")
