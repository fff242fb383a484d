"""Pure rules over `guardrails:`, `workspaces:` and the keys that refer to them.

What one value can get wrong (a policy's fields, budget ordering) is the models' job
(providers/guardrail_settings.py, providers/workspace_settings.py); here are the rules that look
at two entries: references to ids that are not declared, a guardrail assigned to a key of
another workspace (OpenRouter refuses it), two entries OpenRouter could not tell apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from difflib import get_close_matches
from typing import Final

from providers import UUID, WORKSPACE_SLUG, shown
from topology.model import KEY_ID, GuardrailSpec, KeySpec, WorkspaceSpec
from topology.plan import guardrail_display_name, workspace_slug
from topology.problem import Problem

DEFAULT_WORKSPACE: Final = "the default workspace"

Place = tuple[str, str] | None
"""Where something lives: ("id", <workspace id>) or ("uuid", <uuid>); None: the default."""


def spec_id_problems(
    section: str, what: str, ids: Iterable[str], example: str = "production"
) -> list[Problem]:
    """Ids name resources: the same alphabet as key ids."""
    problems = []
    for spec_id in ids:
        if not KEY_ID.match(spec_id):
            suggestion = re.sub(r"[^A-Za-z0-9_-]+", "-", spec_id).strip("-_")[:63] or example
            problems.append(
                Problem(
                    f"{section}.{spec_id}",
                    f"{what} id {shown(spec_id)} is not allowed; allowed: 1 to 63 letters,"
                    f" digits, '-' and '_', starting with a letter or digit (the id names the"
                    f" {what}'s resources).",
                    f"rename the {what} id, e.g. {shown(suggestion)}.",
                )
            )
    return problems


def _slug_like(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-") or "agents"


def _unknown_reference(
    path: str, value: str, declared: Iterable[str], *, workspace: bool
) -> Problem:
    what, section = ("workspace", "workspaces") if workspace else ("guardrail", "guardrails")
    close = get_close_matches(value, list(declared), n=1)
    allowed = sorted(declared)
    listed = ", ".join(allowed) if allowed else f"none declared in `{section}`"
    also = ", or a workspace UUID" if workspace else ""
    fix = (
        f"correct it to `{close[0]}`"
        if close
        else f"declare `{section}.{value}`, or remove `{path.rpartition('.')[2]}`"
    )
    return Problem(
        path,
        f"{shown(value)} is not a {what} of this stack; allowed: {listed}{also}.",
        f"{fix}.",
    )


def _place(ref: str | None, workspaces: Mapping[str, WorkspaceSpec]) -> Place:
    if ref is None:
        return None
    if ref in workspaces:
        adopt = workspaces[ref].adopt
        return ("uuid", adopt.lower()) if adopt and UUID.match(adopt) else ("id", ref)
    return ("uuid", ref.lower())


def _shown_place(place: Place, ref: str | None) -> str:
    return DEFAULT_WORKSPACE if place is None else f"workspace {shown(ref)}"


def reference_problems(
    keys: Mapping[str, KeySpec],
    guardrails: Mapping[str, GuardrailSpec],
    workspaces: Mapping[str, WorkspaceSpec],
    unparsed: tuple[Iterable[str], Iterable[str]] = ((), ()),
) -> list[Problem]:
    """Every `workspace:` and `guardrail:` names something declared, and a key's guardrail
    lives in the key's own workspace. An entry that failed to parse is declared all the same
    (its own problems are reported): a reference to it is no second problem."""
    unparsed_guardrails, unparsed_workspaces = (set(ids) for ids in unparsed)
    declared_workspaces = {*workspaces, *unparsed_workspaces}
    problems = []
    for guardrail_id, spec in guardrails.items():
        ref = spec.workspace
        if ref is not None and ref not in declared_workspaces and not UUID.match(ref):
            problems.append(
                _unknown_reference(
                    f"guardrails.{guardrail_id}.workspace", ref, declared_workspaces, workspace=True
                )
            )
    for key_id, key in keys.items():
        path = f"keys.{key_id}"
        if key.workspace is not None and key.workspace_id is not None:
            problems.append(
                Problem(
                    f"{path}.workspace",
                    "both `workspace` and `workspaceId` are set; allowed: one of them.",
                    "keep `workspace` (a workspace id from `workspaces`) and remove `workspaceId`.",
                )
            )
            continue
        ref = key.workspace or key.workspace_id
        if (
            key.workspace is not None
            and ref not in declared_workspaces
            and not UUID.match(key.workspace)
        ):
            problems.append(
                _unknown_reference(
                    f"{path}.workspace", key.workspace, declared_workspaces, workspace=True
                )
            )
            continue
        if key.guardrail is None or key.guardrail in unparsed_guardrails:
            continue
        guardrail = guardrails.get(key.guardrail)
        if guardrail is None:
            problems.append(
                _unknown_reference(
                    f"{path}.guardrail",
                    key.guardrail,
                    {*guardrails, *unparsed_guardrails},
                    workspace=False,
                )
            )
            continue
        key_place = _place(ref, workspaces)
        guardrail_place = _place(guardrail.workspace, workspaces)
        if {ref, guardrail.workspace} & unparsed_workspaces:
            continue
        if key_place != guardrail_place:
            problems.append(
                Problem(
                    f"{path}.guardrail",
                    f"guardrail {shown(key.guardrail)} lives in"
                    f" {_shown_place(guardrail_place, guardrail.workspace)}, and the key in"
                    f" {_shown_place(key_place, ref)}; OpenRouter assigns a guardrail only to"
                    " keys of its own workspace.",
                    "give the key and the guardrail the same `workspace`, or pick a guardrail"
                    " of the key's workspace.",
                )
            )
    return problems


def workspace_problems(workspaces: Mapping[str, WorkspaceSpec]) -> list[Problem]:
    """Slugs OpenRouter accepts and can tell apart; budgets' BYOK flag needs a budget."""
    problems = []
    slugs: dict[str, str] = {}
    for workspace_id, spec in workspaces.items():
        path = f"workspaces.{workspace_id}"
        slug = workspace_slug(workspace_id, spec)
        if not WORKSPACE_SLUG.match(slug) or len(slug) > 50:
            where = f"{path}.slug" if spec.slug else path
            problems.append(
                Problem(
                    where,
                    f"slug {shown(slug)} is not allowed (without `slug:` the id is the slug);"
                    " allowed: 1 to 50 lowercase letters and digits, words joined by single"
                    " hyphens.",
                    f"set `slug:`, e.g. {shown(_slug_like(slug))}.",
                )
            )
        elif slug in slugs:
            problems.append(
                Problem(
                    path,
                    f"slug {shown(slug)} is also workspaces.{slugs[slug]}'s; allowed: each"
                    " slug once (OpenRouter addresses a workspace by it).",
                    "give one of them another `slug`.",
                )
            )
        else:
            slugs[slug] = workspace_id
        if spec.include_byok_in_budgets is not None and not (
            spec.budgets and spec.budgets.limits()
        ):
            problems.append(
                Problem(
                    f"{path}.includeByokInBudgets",
                    "is set but the workspace has no `budgets`; OpenRouter keeps this flag with"
                    " the budgets, so alone it would be lost.",
                    "add `budgets`, or remove `includeByokInBudgets`.",
                )
            )
    return problems


def guardrail_problems(guardrails: Mapping[str, GuardrailSpec], stack: str) -> list[Problem]:
    """Two guardrails of one workspace with one name could not be told apart after a create
    whose answer was lost (providers/governance_api.py), nor by a reader of the dashboard."""
    problems = []
    seen: dict[tuple[str | None, str], str] = {}
    for guardrail_id, spec in guardrails.items():
        name = guardrail_display_name(guardrail_id, spec, stack)
        place = (spec.workspace, name)
        if place in seen:
            problems.append(
                Problem(
                    f"guardrails.{guardrail_id}",
                    f"name {shown(name)} is also guardrails.{seen[place]}'s, in the same"
                    " workspace; allowed: one name per guardrail.",
                    "give one of them another `name`.",
                )
            )
        else:
            seen[place] = guardrail_id
    return problems


def adoption_twice_problems(
    guardrails: Mapping[str, GuardrailSpec], workspaces: Mapping[str, WorkspaceSpec]
) -> list[Problem]:
    """One object adopted by two entries would be managed twice, and deleted by either."""
    problems = []
    for section, specs in (("guardrails", guardrails), ("workspaces", workspaces)):
        owners: dict[str, str] = {}
        for spec_id, spec in specs.items():
            if spec.adopt is None:
                continue
            adopt = spec.adopt.lower()
            if adopt in owners:
                problems.append(
                    Problem(
                        f"{section}.{spec_id}.adopt",
                        f"{shown(spec.adopt)} is also adopted by {section}.{owners[adopt]};"
                        " allowed: one entry per object.",
                        "remove one of the two `adopt` lines.",
                    )
                )
            else:
                owners[adopt] = spec_id
    return problems


def all_governance_problems(
    keys: Mapping[str, KeySpec],
    guardrails: Mapping[str, GuardrailSpec],
    workspaces: Mapping[str, WorkspaceSpec],
    stack: str,
    unparsed: tuple[Iterable[str], Iterable[str]] = ((), ()),
) -> list[Problem]:
    """Every rule of this module, in config order."""
    return [
        *spec_id_problems("guardrails", "guardrail", guardrails),
        *spec_id_problems("workspaces", "workspace", workspaces),
        *workspace_problems(workspaces),
        *guardrail_problems(guardrails, stack),
        *adoption_twice_problems(guardrails, workspaces),
        *reference_problems(keys, guardrails, workspaces, unparsed),
    ]
