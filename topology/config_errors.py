"""pydantic's validation errors -> the project's problems, naming the setting as written.

The table says, per setting, what is allowed and the fix, where a model's own rule does not
(a rule that raises carries its own words, split at FIX_SEPARATOR).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from difflib import get_close_matches
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from providers import (
    FILTER_TAGS,
    FIX_SEPARATOR,
    INPUTS_BY_NAME,
    shown,
)
from topology.model import (
    VERCEL_TARGETS,
    VISIBILITIES,
    literal_words,
    models_in,
    setting_names,
)
from topology.rules import Problem

_EXPECTED: Mapping[str, tuple[str, str]] = {
    # A key's inputs say what they accept in their rows (providers/key_inputs.py, key_settings.py).
    **{
        spec.setting: (spec.row.expected, spec.row.fix)
        for spec in INPUTS_BY_NAME.values()
        if spec.name != "adopt_secret"
    },
    "rotations": (
        "a list of generation labels, oldest first, e.g. ['2025-10-28', '2025-11-28']",
        "write the generations as a list of quoted labels.",
    ),
    "github": (
        "a list of GitHub entries",
        "write one `- repository: ...` or `- organization: ...` item per secret.",
    ),
    "vercel": (
        "a list of Vercel entries",
        "write one `- project: ...` or `- projects: [...]` item per variable.",
    ),
    "visibility": (", ".join(VISIBILITIES), "write one of the allowed words."),
    "targets": (
        ", ".join(VERCEL_TARGETS),
        "write one of the allowed targets (Vercel custom environments are not supported), or"
        " remove `targets` for production and preview.",
    ),
    "repositories": (
        "a list of repository names, e.g. [agents, web]",
        "write the repositories as a list of names.",
    ),
    "projects": (
        "a list of project names or prj_ ids",
        "write the projects as a list of names or ids.",
    ),
    # Guardrails and workspaces (their words are checked by the models themselves).
    "guardrail": ("a guardrail id from `guardrails`", "write the id of a declared guardrail."),
    "workspace": (
        "a workspace id from `workspaces`, or a workspace UUID",
        "write the id of a declared workspace.",
    ),
    "description": (
        "a string (a guardrail's up to 1000 characters, a workspace's up to 500)",
        "shorten it, or remove `description`.",
    ),
    "limitUsd": (
        "a number of US dollars >= 0, with `resetInterval`",
        "write the cap as a number >= 0, e.g. 20.",
    ),
    **dict.fromkeys(
        ("allowedModels", "allowedProviders"),
        (
            "a non-empty list of slugs, e.g. [openai/gpt-4o-mini]",
            "list at least one, or remove the setting for no restriction.",
        ),
    ),
    **dict.fromkeys(
        ("ignoredModels", "ignoredProviders"),
        ("a list of slugs, e.g. [openai/gpt-4o]", "write them as a list."),
    ),
    "allowedDataRegions": (
        "a non-empty list of regions",
        "list at least one region, or remove the setting for no restriction.",
    ),
    "enforceZdr": (
        "a map of model families (anthropic, openai, google, xai, other) to true or false",
        "write it as a map, e.g. {anthropic: true}.",
    ),
    "allowTraining": (
        "a map of freeModelPublication, freeModelTraining, paidModelTraining to true or false",
        "write it as a map, e.g. {paidModelTraining: false}.",
    ),
    "contentFilters": (
        "a list of filters, each {builtin, action} or {pattern, action}",
        "write one `- {builtin: email, action: redact}` or `- {pattern: ..., action: block}`"
        " item per filter.",
    ),
    "pattern": (
        "a regular expression of 1 to 100000 characters",
        "write the pattern as a quoted string.",
    ),
    "label": ("a string of up to 100 characters", "shorten the label."),
    "budgets": (
        "a map of lifetime, monthly, weekly, daily to US dollars > 0",
        "write it as a map, e.g. {monthly: 500}.",
    ),
    **dict.fromkeys(
        ("lifetime", "monthly", "weekly", "daily"),
        (
            "a number of US dollars > 0",
            "write the budget as a number > 0, e.g. 500, or remove the interval.",
        ),
    ),
    "slug": (
        "1 to 50 lowercase letters and digits, single hyphens between words",
        "write a slug such as `agents`.",
    ),
    "defaultGuardrail": (
        "a map of guardrail settings, without name, workspace or adopt",
        "write the settings as a map (docs/config.md#guardrails).",
    ),
}
_IN_SECTION: Mapping[tuple[str, str], tuple[str, str]] = {
    ("guardrails", "adopt"): ("a guardrail UUID", "copy the guardrail's id from the dashboard."),
    ("workspaces", "adopt"): (
        "a workspace UUID or slug",
        "copy the workspace's id or slug from the dashboard.",
    ),
    ("guardrails", "name"): ("a string of 1 to 200 characters", "shorten the name."),
    **{
        (section, "keys"): (
            "a list of key ids of this stack, at least one, e.g. [api, ci]",
            "write `keys: [<key id>, ...]`, or remove `keys` to allow every key of the account.",
        )
        for section in ("byok", "observability")
    },
    **{
        (section, "adopt"): (f"the UUID of an existing {what}", "copy its id from the dashboard.")
        for section, what in (("byok", "BYOK credential"), ("observability", "destination"))
    },
    ("byok", "key"): (
        "the provider's API key as text, encrypted in the stack file",
        "run `pulumi config set --secret --path 'openrouter-keys:{path}' <the key>`.",
    ),
    ("observability", "config"): (
        "a map of the destination's settings, such as {publicKey: ..., secretKey: ...}",
        "write it as a map; set each secret field with `pulumi config set --secret --path"
        " 'openrouter-keys:{path}.<field>' <value>`.",
    ),
    ("workspaces", "name"): ("a string of 1 to 100 characters", "shorten the name."),
}
"""Settings whose name means another thing in another section."""
_FLAG = ("true or false", "write true or false, without quotes.")
_TEXT = ("a string", "write the value as a string.")
_ITEM: Mapping[str, tuple[str, str]] = {
    "github": (
        "a GitHub entry, a map such as {repository: owner/name}",
        "write the entry as a map with `repository` or `organization`.",
    ),
    "vercel": (
        "a Vercel entry, a map such as {project: my-app}",
        "write the entry as a map with `project` or `projects`.",
    ),
    "rotations": ("a generation label, e.g. '2025-11-28'", "write the label in quotes."),
    "repositories": ("a repository name", "write the repository's name."),
    "projects": ("a project name or prj_ id", "write the project's name or id."),
    "targets": _EXPECTED["targets"],
}
_FLAGS = frozenset(
    {
        "protect",
        "dependabot",
        "developmentReadableByTeam",
        "includeByokInBudgets",
        *("anthropic", "openai", "google", "xai", "other"),
        *("freeModelPublication", "freeModelTraining", "paidModelTraining"),
    }
)


def config_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """('vercel', 1, 'targets', 0) under keys.production -> keys.production.vercel[1].targets[0];
    the tag pydantic puts in a location to say which kind of filter it tried is left out."""
    path = prefix
    for part in loc:
        if part in FILTER_TAGS:
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model that holds the last element of `loc` (for the "allowed settings" list)."""
    current = model
    for part in loc:
        if isinstance(part, int):
            continue
        if part in FILTER_TAGS:
            current = FILTER_TAGS[part]
            continue
        found = next(
            (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
        )
        if found is None:
            break
        inner = next(models_in(found.annotation), None)
        if inner is None:
            break
        current = inner
    return current




def _guide(
    model: type[BaseModel], loc: tuple[int | str, ...], section: str
) -> tuple[str, str]:
    names = [part for part in loc if isinstance(part, str) and part not in FILTER_TAGS]
    name = names[-1] if names else ""
    if loc and isinstance(loc[-1], int) and name in _ITEM:
        return _ITEM[name]
    if name in _FLAGS:
        return _FLAG
    if (section, name) in _IN_SECTION and len(names) == 1:
        return _IN_SECTION[(section, name)]
    if name in _EXPECTED:
        return _EXPECTED[name]
    choices = _choices(model, loc)
    if choices:
        return ", ".join(choices), "write one of the allowed words."
    return _by_type(model, loc)


def _by_type(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, str]:
    """What a setting's declared type allows, where no table says more."""
    parts = tuple(p for p in loc if p not in FILTER_TAGS and isinstance(p, str))
    if not parts:
        return _TEXT
    holder = _model_at(model, loc[: max(i for i, p in enumerate(loc) if p == parts[-1])])
    found = next(
        (f for n, f in holder.model_fields.items() if (f.alias or n) == parts[-1]), None
    )
    kinds = set(_types_in(found.annotation)) if found is not None else set()
    if kinds == {bool}:
        return _FLAG
    if kinds and kinds <= {int, float}:
        bounds = [
            f"{word} {getattr(m, attr)}"
            for m in (found.metadata if found is not None else ())
            for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
            if getattr(m, attr, None) is not None
        ]
        return (
            "a number" + (f" {' and '.join(bounds)}" if bounds else ""),
            "write it as a number without quotes (with `pulumi config set --path`, add"
            " `--type float`).",
        )
    if kinds == {list}:
        return "a list, e.g. [a, b]", "write it as a list."
    if kinds == {dict}:
        return "a map", "write it as a map of settings."
    return _TEXT


def _types_in(annotation: object) -> Iterator[type]:
    """The plain types an annotation allows (`list[str] | None` -> list), None left out."""
    origin = get_origin(annotation)
    if origin is not None and origin not in (Union, UnionType, Annotated):
        yield origin if isinstance(origin, type) else object
        return
    if origin is None:
        if isinstance(annotation, type) and annotation is not type(None):
            yield dict if issubclass(annotation, BaseModel) else annotation
        return
    for arg in get_args(annotation):
        yield from _types_in(arg)


def _choices(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """The words a `Literal` setting allows, read from its declaration (never copied here)."""
    parts = tuple(p for p in loc if p not in FILTER_TAGS)
    names = [p for p in parts if isinstance(p, str)]
    if not names:
        return ()
    holder = _model_at(model, parts[: max(i for i, p in enumerate(parts) if p == names[-1])])
    field = next(
        (f for n, f in holder.model_fields.items() if (f.alias or n) == names[-1]), None
    )
    return literal_words(field.annotation) if field is not None else ()


def pydantic_problems(
    prefix: str, model: type[BaseModel], error: ValidationError, *, hide_values: bool = False
) -> list[Problem]:
    """One problem per error; `hide_values` for a section that holds secrets."""
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        path = config_path(prefix, loc)
        if detail["type"] == "extra_forbidden":
            unknown = str(loc[-1])
            allowed = setting_names(_model_at(model, loc[:-1]))
            close = get_close_matches(unknown, allowed, n=1)
            spelled = f", or correct it to `{close[0]}`" if close else ""
            problems.append(
                Problem(
                    path,
                    f"unknown setting `{unknown}`; allowed: {', '.join(allowed)}.",
                    f"remove `{unknown}`{spelled}.",
                )
            )
            continue
        if detail["type"] == "value_error":
            # A rule of the model itself: its message says what is wrong and the fix.
            text = str(detail["msg"]).removeprefix("Value error, ")
            wrong, _, fix = text.partition(FIX_SEPARATOR)
            problems.append(Problem(path, f"{wrong}.", f"{fix or 'correct the value'}."))
            continue
        expected, fix = _guide(model, loc, prefix.partition(".")[0])
        fix = fix.replace("{path}", path)
        if detail["type"] == "missing":
            problems.append(Problem(path, f"is required; allowed: {expected}.", fix))
            continue
        value = "the value (not shown)" if hide_values else shown(detail.get("input"))
        problems.append(Problem(path, f"{value} is not allowed; allowed: {expected}.", fix))
    return problems

