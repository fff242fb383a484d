"""Where the project validates what OpenRouter validates, it agrees with the emulator.

The project's rules (providers/) decide what a preview accepts; the emulator (emulator/) is an
independent copy of the API (ADR 0005) and decides what `up` gets back. Each corpus below runs
both and requires the same verdict, so a preview never passes what `up` then fails, and the
project never refuses what the API takes. A disagreement names the input and both verdicts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from emulator import app as emulator_app
from emulator import guardrail_rules as api_guardrails
from emulator.wire import MAX_PAGE_LIMIT, ApiError
from providers.guardrail_settings import GuardrailPolicy, regex_problem
from providers.http.client import PAGE_SIZE
from providers.key_inputs import check_inputs

PATTERNS = (
    # Nested quantifiers, as the guide's `(a+)+`, lazy, counted, through inner groups.
    r"(a+)+", r"(a+?)+", r"(a*)*", r"(?:x*)*", r"(b{2,})+", r"(a|b+)+", r"((a+))+",
    r"((a)+)+", r"(a+){2}", r"(a{2})+", r"(\d+)-?(\d+)*",
    # Lookarounds and backreferences.
    r"(?=x)", r"(?!x)", r"(?<=x)", r"(?<!x)", r"a(?=b)", r"\1", r"(a)\1", r"(a)(b)\2", r"\10",
    r"\k<n>", r"(?<n>a)\k<n>", r"\k",
    # Group syntax of other dialects, and possessive quantifiers JavaScript lacks.
    r"(?i)abc", r"(?i:abc)", r"(?s).", r"(?P<n>a)", r"(?#c)", r"(?>a)", r"a++", r"a?+",
    r"a{2}+",
    # Not a regular expression at all.
    r"[", r"(", r"a{2,1}", r"a{1}{2}", r"\p{L}", r"\cA", r"\z", r"(?<a-b>x)", r"[(]a+)+",
    # Ordinary JavaScript patterns the API keeps.
    r"ACME-[0-9]{6}", r"\b(sk-[a-zA-Z0-9]{48})\b", r"\bsecret\b", r"(ab)+c", r"a{2,3}",
    r"(?<n>a)", r"(?<id>\d+)-x", r"(?:a)", r"(?:a|b)+", r"(a?)+", r"(a+)?", r"(a*)?",
    r"\(a+\)+", r"[(a+)]+", r"[\1]", r"\(?=literal\)", r"[(?=]", r"\\1", r"\0", r"\x41",
    r"\u00e9", r"\d+", r"a{2,}b*", r"(a+b)+", r"(x(a+)y)*", r"(\d+\.)+", r"([a-z]+\s)*",
    r"a+?b*?", r"]", r"}", r"$", r"\/",
)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_regex_rule_of_the_project_and_of_the_emulator_agree(pattern: str) -> None:
    project, api = regex_problem(pattern), api_guardrails.regex_problem(pattern)

    assert (project is None) == (api is None), f"project: {project!r}; emulator: {api!r}"


def test_the_regex_corpus_holds_both_verdicts() -> None:
    """The corpus is not one-sided: it holds patterns each side refuses and keeps."""
    verdicts = {regex_problem(pattern) is None for pattern in PATTERNS}

    assert verdicts == {True, False}


def _project_accepts(policy: dict[str, Any]) -> bool:
    try:
        GuardrailPolicy.model_validate(policy)
    except ValidationError:
        return False
    return True


def _api_accepts(body: dict[str, Any]) -> bool:
    full = {"name": "g", **body}
    if api_guardrails.guardrail_problems(full, creating=True):
        return False
    try:
        api_guardrails.refuse_bad_body(full, creating=True)
    except ApiError:
        return False
    return True


LONG = "x" * 100_001
GUARDRAIL_BODIES: tuple[dict[str, Any], ...] = (
    {"limit_usd": 0, "reset_interval": "daily"},
    {"limit_usd": 2.5, "reset_interval": "monthly"},
    {"limit_usd": -1, "reset_interval": "weekly"},
    {"limit_usd": "5", "reset_interval": "weekly"},
    {"limit_usd": True, "reset_interval": "weekly"},
    {"limit_usd": 5},
    {"reset_interval": "daily"},
    {"limit_usd": 5, "reset_interval": "hourly"},
    {"description": "d" * 1000},
    {"description": "d" * 1001},
    {"allowed_data_regions": ["europe", "us"]},
    {"allowed_data_regions": []},
    {"allowed_data_regions": ["mars"]},
    {"allowed_models": []},
    {"allowed_models": [""]},
    {"content_filters": [{"pattern": "x" * 100_000, "action": "redact"}]},
    {"content_filters": [{"pattern": LONG, "action": "redact"}]},
    {"content_filters": [{"pattern": "", "action": "redact"}]},
    {"content_filters": [{"pattern": "(a+?)+", "action": "block"}]},
    {"content_filters": [{"pattern": "(?<n>a)", "action": "flag", "label": "l" * 100}]},
    {"content_filters": [{"pattern": "a", "action": "flag", "label": "l" * 101}]},
    {"content_filters": [{"pattern": "a", "action": "erase"}]},
)
"""Guardrail settings as the API names them (a stack file writes them in camelCase; the model
takes both). Only fields the project sends as written: filters go through `body()` below."""


@pytest.mark.parametrize("body", GUARDRAIL_BODIES, ids=lambda body: repr(body)[:60])
def test_a_guardrail_setting_is_refused_by_both_or_by_neither(body: dict[str, Any]) -> None:
    project = _project_accepts(body)
    # What `up` sends is `body()` of the accepted policy; a refused one is sent as written.
    sent = GuardrailPolicy.model_validate(body).body() if project else body

    assert project == _api_accepts(sent), f"project accepts: {project}"


KEY_SETTINGS: tuple[tuple[str, object], ...] = (
    ("limit", 0), ("limit", 250), ("limit", 2.5), ("limit", -1), ("limit", -0.01),
    ("limit", "5"), ("limit", True),
    ("limit_reset", "daily"), ("limit_reset", "monthly"), ("limit_reset", "hourly"),
    ("limit_reset", "Daily"),
    ("include_byok_in_limit", True), ("include_byok_in_limit", "true"), ("disabled", False),
    ("disabled", 0),
    ("expires_at", "2099-06-30T00:00:00Z"), ("expires_at", "2099-06-30T00:00Z"),
    ("expires_at", "tomorrow"),
)


@pytest.mark.parametrize(("name", "value"), KEY_SETTINGS)
def test_a_key_setting_is_refused_by_both_or_by_neither(name: str, value: object) -> None:
    project = not check_inputs({}, {"name": "k", name: value}, datetime.now(UTC))
    api = not emulator_app.field_problems({name: value}, frozenset({name}))

    assert project == api


def test_the_project_pages_as_the_api_serves() -> None:
    """A `GET /keys` page shorter than `PAGE_SIZE` ends the listing: were the project's page
    larger than the API's, it would stop after the first page and miss keys. The same size is
    the `limit` of the other lists, which the API caps."""
    assert PAGE_SIZE == emulator_app.PAGE_SIZE
    assert PAGE_SIZE <= MAX_PAGE_LIMIT
