"""Masking and redaction: a key never survives `redact`, and a mask never shows enough to use."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.http.redaction import contains_key, mask, redact


def v1_key() -> str:
    return "sk-or-v1-" + secrets.token_hex(32)


def test_mask_keeps_prefix_three_first_and_three_last_characters():
    key = v1_key()
    body = key.removeprefix("sk-or-v1-")
    assert mask(key) == f"sk-or-v1-{body[:3]}...{body[-3:]}"


@pytest.mark.parametrize("kind", ["v1", "mgmt", "v2", "prov"])
def test_any_kind_of_key_is_redacted(kind):
    key = f"sk-or-{kind}-" + secrets.token_hex(32)
    text = f'{{"key": "{key}"}} and Bearer {key}.'
    redacted = redact(text)
    assert key not in redacted
    assert redacted.count(f"sk-or-{kind}-") == 2
    assert mask(key) in redacted


def test_masks_and_labels_pass_through_unchanged():
    text = "label sk-or-v1-0e6...1c96 and mask sk-or-mgmt-abc...def"
    assert redact(text) == text
    assert not contains_key(text)


def test_redaction_is_idempotent():
    text = f"a {v1_key()} b sk-or-v1-0e6...1c9 c"
    once = redact(text)
    assert redact(once) == once


def test_a_value_too_short_to_hide_is_masked_completely():
    assert mask("sk-or-v1-abcd") == "sk-or-v1-***"
    assert "abcd" not in redact("x sk-or-v1-abcd y")


def test_text_without_keys_is_untouched():
    text = "GET /keys: HTTP 401 'User not found.' sk-orange is fine"
    assert redact(text) == text


@given(
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    body=st.text(alphabet="0123456789abcdefABCDEF", min_size=20, max_size=80),
    kind=st.sampled_from(["v1-", "mgmt-", ""]),
)
def test_no_run_of_a_key_longer_than_its_mask_survives(before, after, body, kind):
    key = f"sk-or-{kind}{body}"
    redacted = redact(f"{before}{key}{after}")
    assert key not in redacted
    # No 7-character window of the secret body outlives redaction next to its prefix.
    assert f"sk-or-{kind}{body[:7]}" not in redacted


@given(st.text(min_size=0, max_size=200))
def test_redact_never_grows_a_key_into_the_output(text):
    key = v1_key()
    assert key not in redact(text + key + text)
