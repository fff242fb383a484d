"""Model and provider names in guardrails, checked against OpenRouter's public catalogue; pure.

OpenRouter stores whatever a guardrail's `allowed_models`, `ignored_models`, `allowed_providers`
and `ignored_providers` say, typo included, and every key under an allowlist that names nothing
real then fails every call (issue 19, case 5). So before anything is registered the program asks
for the two public lists (`GET /models`, `GET /providers`; topology/preflight.py
`check_catalogue`), once each and only when the plan declares such a list, and refuses a name
neither list holds, naming the setting as written and the nearest listed name.

A model is written as a listed `id` (`openai/gpt-4o-mini`, a `:free` variant OpenRouter lists as
a model of its own) or its `canonical_slug` (what OpenRouter stores back); a routing suffix such
as `:nitro` or `:online` picks an endpoint, not a model, and is refused with the model to write
instead. A provider is written as its `slug` (`openai`), never its display name (`OpenAI`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Final, Literal

from providers import CatalogueModel, CatalogueProvider, GuardrailPolicy, shown
from topology.plan import Plan
from topology.problem import Problem

Kind = Literal["models", "providers"]
MODELS: Final[Kind] = "models"
PROVIDERS: Final[Kind] = "providers"
LIST_SETTINGS: Final[Mapping[str, Kind]] = {
    "allowedModels": MODELS,
    "ignoredModels": MODELS,
    "allowedProviders": PROVIDERS,
    "ignoredProviders": PROVIDERS,
}
"""The four settings checked, as the stack file writes them, and the list each is checked
against."""
_FIELDS: Final[Mapping[str, str]] = {
    "allowedModels": "allowed_models",
    "ignoredModels": "ignored_models",
    "allowedProviders": "allowed_providers",
    "ignoredProviders": "ignored_providers",
}
SOURCES: Final[Mapping[Kind, str]] = {MODELS: "GET /models", PROVIDERS: "GET /providers"}
BROWSE: Final[Mapping[Kind, str]] = {
    MODELS: "https://openrouter.ai/models",
    PROVIDERS: "https://openrouter.ai/providers",
}
CLOSE_ENOUGH: Final = 0.8
"""How alike (difflib's ratio, on the squashed forms) a listed name must be to be suggested:
`opnai` -> `openai` (0.91) is; `openai/gpt-9-ultra` -> any GPT-4o (below) is not."""
_NOT_ALNUM: Final = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Catalogue:
    """What one of OpenRouter's lists accepts, and what a suggestion may name."""

    kind: Kind
    accepted: frozenset[str]
    """Every name a guardrail's list may hold, exactly as written."""
    listed: tuple[str, ...]
    """The names a suggestion names: models' ids, providers' slugs."""
    spoken: Mapping[str, str]
    """Other spellings a user may write (a provider's display name, lowercased) -> a listed name."""

    @property
    def size(self) -> int:
        return len(self.listed)


def model_catalogue(models: Iterable[CatalogueModel]) -> Catalogue:
    """`GET /models`: a model's `id` and its `canonical_slug` are both accepted."""
    chosen = list(models)
    accepted = {m.id for m in chosen} | {m.canonical_slug for m in chosen if m.canonical_slug}
    return Catalogue(MODELS, frozenset(accepted), tuple(sorted({m.id for m in chosen})), {})


def provider_catalogue(providers: Iterable[CatalogueProvider]) -> Catalogue:
    """`GET /providers`: a provider's `slug` is accepted; its name only leads to a suggestion."""
    chosen = list(providers)
    spoken = {p.name.casefold(): p.slug for p in chosen if p.name}
    slugs = {p.slug for p in chosen}
    return Catalogue(PROVIDERS, frozenset(slugs), tuple(sorted(slugs)), spoken)


def squash(name: str) -> str:
    """`GPT-4o Mini` -> `gpt4omini`: what is left of a name once case and punctuation go."""
    return _NOT_ALNUM.sub("", name.casefold())


def _spellings(catalogue: Catalogue) -> dict[str, str]:
    """Squashed spelling -> the listed name it leads to: each name whole, a model without its
    author (`gpt-4o-mini`), and every other spelling the list knows. The first one wins."""
    found: dict[str, str] = {}
    for name in catalogue.listed:
        found.setdefault(squash(name), name)
    for name in catalogue.listed:
        found.setdefault(squash(name.partition("/")[2]), name)
    for spoken, name in catalogue.spoken.items():
        found.setdefault(squash(spoken), name)
    found.pop("", None)
    return found


def suggestion(name: str, catalogue: Catalogue) -> str | None:
    """The listed name `name` most likely means, or None when nothing is close enough."""
    base, colon, _ = name.partition(":")
    if colon and base in catalogue.accepted:
        return base  # a routing suffix on a listed model: the model itself
    spellings = _spellings(catalogue)
    wanted = squash(name)
    if wanted in spellings:
        return spellings[wanted]
    close = get_close_matches(wanted, list(spellings), n=1, cutoff=CLOSE_ENOUGH)
    return spellings[close[0]] if close else None


@dataclass(frozen=True)
class DeclaredList:
    """One of the four settings as one guardrail of the stack file declares it."""

    path: str
    """As written: `guardrails.ci.allowedModels`, `workspaces.a.defaultGuardrail.ignoredModels`."""
    kind: Kind
    names: tuple[str, ...]


def _lists_of(path: str, policy: GuardrailPolicy) -> list[DeclaredList]:
    found = []
    for setting, kind in LIST_SETTINGS.items():
        names = getattr(policy, _FIELDS[setting])
        if names:
            found.append(DeclaredList(f"{path}.{setting}", kind, tuple(names)))
    return found


def declared_lists(plan: Plan) -> list[DeclaredList]:
    """Every model or provider list of the plan's guardrails and workspaces' default guardrails."""
    found: list[DeclaredList] = []
    for guardrail in plan.guardrails:
        found += _lists_of(guardrail.config_path, guardrail.policy)
    for workspace in plan.workspaces:
        if workspace.default_guardrail is not None:
            found += _lists_of(
                f"{workspace.config_path}.defaultGuardrail", workspace.default_guardrail
            )
    for scoped in plan.scoped:
        for setting, names in scoped.kind.model_lists(scoped.spec).items():
            if names:
                found.append(DeclaredList(f"{scoped.config_path}.{setting}", MODELS, tuple(names)))
    return found


def kinds_needed(lists: Sequence[DeclaredList]) -> frozenset[Kind]:
    """Which lists to ask OpenRouter for: none for a stack that declares neither."""
    return frozenset(item.kind for item in lists)


def unknown_name_problem(path: str, name: str, catalogue: Catalogue) -> Problem:
    what = "model" if catalogue.kind == MODELS else "provider"
    source = f"OpenRouter's {what} list ({SOURCES[catalogue.kind]}, {catalogue.size} {what}s)"
    allowed = (
        "a model's id or canonical slug from that list"
        if catalogue.kind == MODELS
        else "a provider's slug from that list"
    )
    base, colon, suffix = name.partition(":")
    if colon and base in catalogue.accepted:
        return Problem(
            path,
            f"{shown(name)} is not in {source}: it lists no `:{suffix}` variant of `{base}` (a"
            f" routing suffix such as `:nitro` picks a route, not a model); allowed: {allowed}.",
            f"write `{base}`.",
        )
    near = suggestion(name, catalogue)
    fix = (
        f"correct it to `{near}`, or write another {what} {BROWSE[catalogue.kind]} lists."
        if near
        else f"write a {what} {BROWSE[catalogue.kind]} lists, or remove this one."
    )
    return Problem(path, f"{shown(name)} is not in {source}; allowed: {allowed}.", fix)


def unreadable_problem(item: DeclaredList, error: str) -> Problem:
    """A list OpenRouter did not hand over: nothing it names can be checked, so nothing is
    written (the project fails closed)."""
    what = "model" if item.kind == MODELS else "provider"
    return Problem(
        item.path,
        f"cannot be checked: OpenRouter's {what} list ({SOURCES[item.kind]}) could not be read"
        f" ({error}); allowed: names from that list, checked before any write.",
        "run the preview again once OpenRouter answers (https://status.openrouter.ai); if"
        " `apiBaseUrl` is set, check that it serves that list.",
    )


def catalogue_problems(
    lists: Sequence[DeclaredList], catalogues: Mapping[Kind, Catalogue | str]
) -> list[Problem]:
    """One problem per name no list holds; a list that could not be read (its error as text)
    makes one problem per setting that needed it."""
    problems: list[Problem] = []
    for item in lists:
        catalogue = catalogues.get(item.kind, "not asked")
        if isinstance(catalogue, str):
            problems.append(unreadable_problem(item, catalogue))
            continue
        problems += [
            unknown_name_problem(f"{item.path}[{index}]", name, catalogue)
            for index, name in enumerate(item.names)
            if name not in catalogue.accepted
        ]
    return problems
