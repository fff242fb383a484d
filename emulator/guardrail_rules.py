"""What a guardrail request body may hold, as OpenRouter's management API validates it: the create
and PATCH fields, their limits, the content filters and the custom-filter regex rule, and the
`key_hashes` of a bulk (un)assign. Pure functions only: the book (emulator/guardrail_book.py)
stores what they pass, the routes (emulator/guardrail_routes.py) apply them. docs/emulator.md
lists each rule with its public source, and marks "(inferred)" what the sources leave open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.wire import (
    ApiError,
    flag_problems,
    is_number,
    is_uuid,
    json_object,
    refuse_unless_valid,
    text_problems,
    unknown_field_problems,
)

GUARDRAIL_INTERVALS = ("daily", "weekly", "monthly")
DATA_REGIONS = ("global", "europe", "us")
FILTER_ACTIONS = ("redact", "block", "flag")
BUILTIN_SLUGS = ("email", "phone", "ssn", "credit-card", "ip-address", "secrets", "person-name",
                 "address", "regex-prompt-injection")
PROMPT_INJECTION = "regex-prompt-injection"
SCAN_SCOPES = ("user_only", "all_messages")
ZDR_FIELDS = tuple(f"enforce_zdr_{group}" for group in ("anthropic", "openai", "google", "xai",
                                                         "other"))
NULLABLE_FLAGS = (*ZDR_FIELDS, "enforce_zdr", "enable_free_model_publication",
                  "enable_free_model_training", "enable_paid_model_training",
                  "allow_safety_retention_google", "allow_safety_retention_other")
STRING_LISTS = ("allowed_models", "allowed_providers", "ignored_models", "ignored_providers")
MODEL_LISTS = ("allowed_models", "ignored_models")
# Every optional field of the Guardrail object: null until set.
SETTINGS = ("description", "limit_usd", "reset_interval", *STRING_LISTS, "allowed_data_regions",
            "content_filter_builtins", "content_filters", *NULLABLE_FLAGS)
UPDATE_FIELDS = frozenset({"name", "include_byok_in_budgets", *SETTINGS})
CREATE_FIELDS = UPDATE_FIELDS | {"workspace_id"}
NAME_LONGEST = 200
DESCRIPTION_LONGEST = 1000
PATTERN_LONGEST = 100_000
LABEL_LONGEST = 100
MSG_INVALID_REGEX = "invalid_regex_pattern"


def scrub_regex(pattern: str) -> tuple[str, bool]:
    """The pattern with every escape and character class blanked out (so `\\(` and `[(]` are not
    groups), and whether it held a backreference (`\\1`, `\\k<name>`)."""
    out: list[str] = []
    backreference = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            backreference |= pattern[index + 1] in "123456789k"
            out.append("_")
            index += 2
        elif char == "[":
            end = index + 1
            while end < len(pattern) and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            out.append("_")
            index = end + 1
        else:
            out.append(char)
            index += 1
    return "".join(out), backreference


LOOKAROUND = re.compile(r"\(\?<?[=!]")
# A group that ends in a quantifier (or in groups that do), itself quantified: `(a+)+`,
# `(?:x*)*`, `(b{2,})+`, `((a+))+`, `((ab)+)+`.
NESTED_QUANTIFIER = re.compile(r"[+*}]\??\)+[+*{]")
# A quantifier after a quantifier: Python reads `a++` as possessive, JavaScript refuses it.
POSSESSIVE = re.compile(r"[+*?}]\??[+*]")
# After `(?` JavaScript knows only `:` and a named group `<name>` (lookarounds are refused above).
GROUP_EXTENSION = re.compile(r"\(\?(?!:|<[A-Za-z_])")


def regex_problem(pattern: str) -> str | None:
    """Why the API refuses a custom filter's pattern (the guardrails guide: lookarounds,
    backreferences and nested quantifiers are rejected; it must be a JavaScript regex)."""
    scrubbed, backreference = scrub_regex(pattern)
    if LOOKAROUND.search(scrubbed):
        return "lookahead and lookbehind are not supported"
    if backreference:
        return "backreferences are not supported"
    if NESTED_QUANTIFIER.search(scrubbed):
        return "nested quantifiers are not supported"
    if GROUP_EXTENSION.search(scrubbed) or POSSESSIVE.search(scrubbed):
        return "not a JavaScript regular expression"
    try:
        re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern))
    except re.error as error:
        return f"not a valid regular expression ({error.msg})"
    return None


def string_list_problems(
    body: Mapping[str, Any], name: str, allowed: tuple[str, ...] = ()
) -> list[str]:
    """Null, or a non-empty list of non-empty strings (from `allowed` when given)."""
    value = body.get(name)
    if name not in body or value is None:
        return []
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item for item in value)
        or (allowed and not set(value) <= set(allowed))
    ):
        return [f"{name} must be null or a non-empty list of {' | '.join(allowed) or 'strings'}"]
    return []


def builtin_problems(entry: object) -> list[str]:
    if not isinstance(entry, dict):
        return ["content_filter_builtins items must be objects"]
    problems = unknown_field_problems(entry, ("slug", "action", "scan_scope", "label"))
    if entry.get("slug") not in BUILTIN_SLUGS:
        problems.append(f"content_filter_builtins slug must be one of {BUILTIN_SLUGS}")
    if entry.get("action") not in FILTER_ACTIONS:
        problems.append(f"content_filter_builtins action must be one of {FILTER_ACTIONS}")
    if entry.get("scan_scope") not in (None, *SCAN_SCOPES):
        problems.append(f"scan_scope must be one of {SCAN_SCOPES} or null")
    if "label" in entry and not isinstance(entry["label"], str):
        problems.append("a builtin's label (ignored) must be a string")
    return problems


def custom_filter_problems(entry: object) -> list[str]:
    if not isinstance(entry, dict):
        return ["content_filters items must be objects"]
    problems = unknown_field_problems(entry, ("pattern", "action", "label"))
    pattern = entry.get("pattern")
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= PATTERN_LONGEST:
        problems.append(f"pattern must be a string of 1 to {PATTERN_LONGEST} characters")
    if entry.get("action") not in FILTER_ACTIONS:
        problems.append(f"content_filters action must be one of {FILTER_ACTIONS}")
    problems += text_problems(entry, "label", longest=LABEL_LONGEST, nullable=True)
    return problems


def filter_list_problems(
    body: Mapping[str, Any], name: str, check: Callable[[object], list[str]]
) -> list[str]:
    value = body.get(name)
    if name not in body or value is None:
        return []
    if not isinstance(value, list):
        return [f"{name} must be a list or null"]
    problems = [problem for entry in value for problem in check(entry)]
    if name == "content_filter_builtins" and not problems:
        slugs = [entry["slug"] for entry in value]
        if len(set(slugs)) != len(slugs):
            problems.append("a builtin slug may appear once (inferred)")
    return problems


def budget_problems(body: Mapping[str, Any]) -> list[str]:
    """`limit_usd` (a number >= 0, inferred) and `reset_interval` go together: one sent alone,
    or one null and the other not, is refused."""
    problems: list[str] = []
    limit, interval = body.get("limit_usd"), body.get("reset_interval")
    if limit is not None and (not is_number(limit) or limit < 0):
        problems.append("limit_usd must be a number >= 0 or null")
    if interval not in (None, *GUARDRAIL_INTERVALS):
        problems.append(f"reset_interval must be one of {GUARDRAIL_INTERVALS} or null")
    if ("limit_usd" in body) != ("reset_interval" in body) or (limit is None) != (
        interval is None
    ):
        problems.append("limit_usd and reset_interval must be sent together")
    return problems


def guardrail_problems(body: Mapping[str, Any], *, creating: bool) -> list[str]:
    """Every way a create (or update) body breaks the published request schema."""
    problems = unknown_field_problems(body, CREATE_FIELDS if creating else UPDATE_FIELDS)
    if creating and "name" not in body:
        problems.append("name is required")
    if "name" in body and body["name"] is None:
        problems.append("name cannot be null")
    problems += text_problems(body, "name", longest=NAME_LONGEST)
    problems += text_problems(body, "description", longest=DESCRIPTION_LONGEST, nullable=True,
                              shortest=0)
    problems += budget_problems(body)
    problems += flag_problems(body, ("include_byok_in_budgets",), nullable=False)
    problems += flag_problems(body, NULLABLE_FLAGS, nullable=True)
    for name in STRING_LISTS:
        problems += string_list_problems(body, name)
    problems += string_list_problems(body, "allowed_data_regions", DATA_REGIONS)
    problems += filter_list_problems(body, "content_filter_builtins", builtin_problems)
    problems += filter_list_problems(body, "content_filters", custom_filter_problems)
    if "workspace_id" in body and not is_uuid(body["workspace_id"]):
        problems.append("workspace_id must be a uuid")
    return problems


def refuse_bad_body(body: Mapping[str, Any], *, creating: bool) -> None:
    """400 for a body the schema refuses, then 400 `invalid_regex_pattern` for a pattern the
    guardrails guide says is rejected."""
    refuse_unless_valid(guardrail_problems(body, creating=creating))
    for entry in body.get("content_filters") or ():
        problem = regex_problem(entry["pattern"])
        if problem is not None:
            raise ApiError(400, f"{MSG_INVALID_REGEX}: {problem}")


def key_hashes_of(raw: bytes) -> list[str]:
    """The `key_hashes` of a bulk (un)assign body: at least one string; repeats count once."""
    body = json_object(raw)
    refuse_unless_valid(
        unknown_field_problems(body, ("key_hashes",))
        + string_list_problems(body, "key_hashes")
        + ([] if isinstance(body.get("key_hashes"), list) else ["key_hashes is required"])
    )
    return list(dict.fromkeys(body["key_hashes"]))
