"""Pure cross-field rules over the parsed config, and the error every rule reports into.

A rule takes parsed models and `Facts` (what the program knows beyond the YAML, secrets reduced to
fingerprints) and returns `Problem`s; none of them raises, so `load.py` can report every problem
of a config at once. Each message names the config path, the bad value, what is allowed, and the
fix, in the form `keys.production.vercel[1].targets[0]: <what is wrong>; allowed: ... Fix: ...`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from providers import KEY_TYPES, MANAGEMENT_KEYS_PAGE, shown
from topology.model import (
    DEFAULT_MANAGEMENT_SECRET,
    DEFAULT_SECRET,
    GENERATION,
    GITHUB_NAME,
    GITHUB_SECRET_NAME,
    KEY_ID,
    VERCEL_VARIABLE,
    GitHubConsumer,
    KeySpec,
    ManagementKeyTargets,
    VercelConsumer,
)
from topology.plan import (
    MANAGEMENT_SOURCE,
    SinkKind,
    display_names,
    github_sinks,
    split_repository,
    vercel_sinks,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: where, what (bad value and allowed values), and the fix."""

    path: str
    message: str
    fix: str

    def render(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


class TopologyConfigError(pulumi.RunError):
    """The stack config is invalid; raised before any resource is registered.

    A `pulumi.RunError`, so the CLI prints the problems without a Python traceback.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [
            f"The stack config has {count} {noun}; nothing was created, changed or deleted:",
            *(f"  {n}. {problem.render()}" for n, problem in enumerate(self.problems, start=1)),
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Facts:
    """What the rules know beyond the YAML. Secrets appear only as fingerprints, never values."""

    stack: str = "dev"
    github_owner: str | None = None
    management_key_source: str | None = "config"
    """`config`, an environment variable name, or None when there is no management key."""
    management_key_fingerprint: str | None = None
    management_key_in_plain_text: bool = False
    adopted_secret_fingerprints: Mapping[str, str] = field(default_factory=dict)


# --- helpers -----------------------------------------------------------------------------------


def index_path(path: str, name: str, index: int) -> str:
    return f"{path}.{name}[{index}]"


def _first_seen(items: Iterable[str]) -> list[tuple[int, int]]:
    """(index of a repeat, index of its first occurrence) for every repeated item."""
    seen: dict[str, int] = {}
    repeats = []
    for index, item in enumerate(items):
        if item in seen:
            repeats.append((index, seen[item]))
        else:
            seen[item] = index
    return repeats


def consumers_phrase(count: int) -> str:
    return f"{count} consumer" if count == 1 else f"{count} consumers"


def _suggest_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text).upper()
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"


# --- key ids and rotations ---------------------------------------------------------------------


def key_id_problems(key_ids: Iterable[str]) -> list[Problem]:
    problems = []
    for key_id in key_ids:
        if not KEY_ID.match(key_id):
            suggestion = re.sub(r"[^A-Za-z0-9_-]+", "-", key_id).strip("-_")[:63] or "production"
            problems.append(
                Problem(
                    f"keys.{key_id}",
                    f"key id {shown(key_id)} is not allowed; allowed: 1 to 63 letters, digits,"
                    " '-' and '_', starting with a letter or digit (the id names the key's"
                    " resources).",
                    f"rename the key id, e.g. {shown(suggestion)}.",
                )
            )
    return problems


def rotation_problems(path: str, rotations: Sequence[str] | None) -> list[Problem]:
    if rotations is None:
        return []
    where = f"{path}.rotations"
    if not rotations:
        return [
            Problem(
                where,
                "the list is empty; allowed: one or more generation labels, oldest first.",
                "list the live generations, e.g. rotations: ['2025-11-28'], or remove"
                " `rotations`.",
            )
        ]
    problems = []
    for index, generation in enumerate(rotations):
        if not GENERATION.match(generation):
            problems.append(
                Problem(
                    f"{where}[{index}]",
                    f"generation {shown(generation)} is not allowed; allowed: 1 to 32 letters,"
                    " digits, '.', '-' and '_', starting with a letter or digit (it becomes part"
                    " of the key's name).",
                    "label the generation with its date, e.g. '2025-11-28'.",
                )
            )
    for index, first in _first_seen(rotations):
        problems.append(
            Problem(
                f"{where}[{index}]",
                f"generation {shown(rotations[index])} is listed twice (first at"
                f" rotations[{first}]); allowed: each generation once, since each is its own key.",
                "remove the repeated entry.",
            )
        )
    return problems


# --- GitHub entries ----------------------------------------------------------------------------


def _secret_name_problems(path: str, entry: GitHubConsumer) -> list[Problem]:
    if entry.secret is None:
        return []
    where = f"{path}.secret"
    if not GITHUB_SECRET_NAME.match(entry.secret):
        return [
            Problem(
                where,
                f"{shown(entry.secret)} is not a valid GitHub secret name; allowed: letters,"
                " digits and '_', not starting with a digit.",
                f"use a name such as {shown(_suggest_name(entry.secret))}.",
            )
        ]
    if entry.secret.upper().startswith("GITHUB_"):
        return [
            Problem(
                where,
                f"{shown(entry.secret)} starts with GITHUB_, which GitHub reserves; allowed: any"
                " other name of letters, digits and '_'.",
                f"choose another name, e.g. {shown(DEFAULT_SECRET)}.",
            )
        ]
    return []


def _repository_problems(path: str, entry: GitHubConsumer, owner: str | None) -> list[Problem]:
    repository = entry.repository or ""
    where = f"{path}.repository"
    parts = repository.split("/")
    if len(parts) > 2 or not all(GITHUB_NAME.match(part) for part in parts):
        return [
            Problem(
                where,
                f"{shown(repository)} is not a repository; allowed: 'owner/name', or 'name' when"
                " github:owner is set.",
                "write the repository as owner/name, e.g. 'f8ai/agents'.",
            )
        ]
    if len(parts) == 1 and owner is None:
        return [
            Problem(
                where,
                f"{shown(repository)} names no owner and github:owner is not set; allowed:"
                " 'owner/name', or 'name' with github:owner set.",
                f"write it as '<owner>/{repository}', or run `pulumi config set github:owner"
                " <owner>`.",
            )
        ]
    problems = []
    for name in ("visibility", "repositories"):
        if getattr(entry, name) is not None:
            problems.append(
                Problem(
                    f"{path}.{name}",
                    f"`{name}` applies to organization secrets, not to repository"
                    f" {shown(repository)}; allowed: `{name}` with `organization` only.",
                    f"remove `{name}`, or publish an organization secret with organization:"
                    " <org>.",
                )
            )
    if entry.environment is not None and entry.dependabot:
        problems.append(
            Problem(
                f"{path}.dependabot",
                f"Dependabot has no environment secrets (environment {shown(entry.environment)});"
                " allowed: dependabot: true with a repository or an organization.",
                "remove `environment`, or remove `dependabot`.",
            )
        )
    if entry.environment is not None and not entry.environment.strip():
        problems.append(
            Problem(
                f"{path}.environment",
                "'' is not an environment; allowed: the name of an environment of the"
                " repository, e.g. 'production'.",
                "write the environment's name, or remove `environment` for a repository secret.",
            )
        )
    return problems


def _organization_problems(path: str, entry: GitHubConsumer) -> list[Problem]:
    org = entry.organization or ""
    if not GITHUB_NAME.match(org):
        return [
            Problem(
                f"{path}.organization",
                f"{shown(org)} is not an organization name; allowed: letters, digits, '-', '_'"
                " and '.'.",
                "write the organization's login, e.g. 'f8ai'.",
            )
        ]
    problems = []
    if entry.environment is not None:
        problems.append(
            Problem(
                f"{path}.environment",
                f"environments belong to repositories, not to organization {shown(org)};"
                " allowed: `environment` with `repository` only.",
                "replace `organization` with repository: owner/name, or remove `environment`.",
            )
        )
    if entry.visibility is None:
        problems.append(
            Problem(
                f"{path}.visibility",
                f"the organization secret of {shown(org)} has no visibility; allowed: all,"
                " private, selected.",
                "add visibility: private (the organization's private repositories), all (every"
                " repository) or selected (with repositories: [...]).",
            )
        )
    elif entry.visibility == "selected":
        problems.extend(_selected_problems(path, entry, org))
    elif entry.repositories is not None:
        problems.append(
            Problem(
                f"{path}.repositories",
                "a repository list needs visibility: selected (visibility is"
                f" {shown(entry.visibility)}); allowed: `repositories` only with visibility:"
                " selected.",
                "set visibility: selected, or remove `repositories`.",
            )
        )
    return problems


def _selected_problems(path: str, entry: GitHubConsumer, org: str) -> list[Problem]:
    where = f"{path}.repositories"
    if not entry.repositories:
        return [
            Problem(
                where,
                "visibility: selected needs the repositories that may read the secret; allowed:"
                f" a non-empty list of repositories of {shown(org)}.",
                "add repositories: [name, ...], or choose visibility: all or private.",
            )
        ]
    problems = []
    names = []
    for index, repository in enumerate(entry.repositories):
        owner, name = split_repository(repository, org)
        names.append(name.casefold())
        if owner is None or owner.casefold() != org.casefold() or not GITHUB_NAME.match(name):
            problems.append(
                Problem(
                    f"{where}[{index}]",
                    f"{shown(repository)} is not a repository of organization {shown(org)};"
                    f" allowed: 'name' or '{org}/name'.",
                    f"list only repositories of {org}, or publish a separate secret for the"
                    " other owner.",
                )
            )
    for index, first in _first_seen(names):
        problems.append(
            Problem(
                f"{where}[{index}]",
                f"{shown(entry.repositories[index])} is listed twice (first at"
                f" repositories[{first}]); allowed: each repository once.",
                "remove the repeated entry.",
            )
        )
    return problems


def github_entry_problems(path: str, entry: GitHubConsumer, owner: str | None) -> list[Problem]:
    """Shape rules of one `github:` entry (duplicates across entries are another rule)."""
    has_repository = entry.repository is not None
    has_organization = entry.organization is not None
    if has_repository == has_organization:
        if has_repository:
            return [
                Problem(
                    path,
                    f"the entry names both repository {shown(entry.repository)} and organization"
                    f" {shown(entry.organization)}; allowed: exactly one of them.",
                    "split it into two entries, one per secret.",
                )
            ]
        return [
            Problem(
                path,
                "the entry names neither `repository` nor `organization`; allowed: exactly one"
                " of them.",
                "add repository: owner/name (a repository or environment secret) or"
                " organization: <org> (an organization secret).",
            )
        ]
    shape = (
        _repository_problems(path, entry, owner)
        if has_repository
        else _organization_problems(path, entry)
    )
    return shape + _secret_name_problems(path, entry)


# --- Vercel entries ----------------------------------------------------------------------------


def _target_problems(path: str, entry: VercelConsumer) -> list[Problem]:
    if entry.targets is None:
        return []
    where = f"{path}.targets"
    if not entry.targets:
        return [
            Problem(
                where,
                "the list is empty; allowed: production, preview, development.",
                "list at least one target, or omit `targets` for all three.",
            )
        ]
    return [
        Problem(
            f"{where}[{index}]",
            f"target {shown(entry.targets[index])} is listed twice (first at targets[{first}]);"
            " allowed: each target once.",
            "remove the repeated entry.",
        )
        for index, first in _first_seen(entry.targets)
    ]


def _branch_problems(path: str, entry: VercelConsumer) -> list[Problem]:
    if entry.git_branch is None:
        return []
    where = f"{path}.gitBranch"
    if entry.projects is not None:
        return [
            Problem(
                where,
                "shared variables (`projects:`) have no git branch; allowed: `gitBranch` with"
                " `project:` only.",
                "declare the variable per project with project:, or remove `gitBranch`.",
            )
        ]
    if entry.targets is not None and "preview" not in entry.targets:
        return [
            Problem(
                where,
                f"a git branch scopes preview deployments, but the targets are"
                f" {', '.join(entry.targets) or 'empty'}; allowed: `gitBranch` only when the"
                " targets include preview.",
                "add preview to `targets`, or remove `gitBranch`.",
            )
        ]
    if not entry.git_branch.strip():
        return [
            Problem(
                where,
                "'' is not a branch; allowed: a git branch name, e.g. 'main'.",
                "write the branch name, or remove `gitBranch`.",
            )
        ]
    return []


def _project_problems(path: str, entry: VercelConsumer) -> list[Problem]:
    has_project = entry.project is not None
    has_projects = entry.projects is not None
    if has_project == has_projects:
        if has_project:
            return [
                Problem(
                    path,
                    f"the entry names both project {shown(entry.project)} and projects; allowed:"
                    " exactly one of them.",
                    "use project: for one project's variable, or projects: [...] for one shared"
                    " variable linked to many.",
                )
            ]
        return [
            Problem(
                path,
                "the entry names neither `project` nor `projects`; allowed: exactly one of them.",
                "add project: <name or prj_ id>, or projects: [<name or prj_ id>, ...].",
            )
        ]
    if entry.project is not None and not entry.project.strip():
        return [
            Problem(
                f"{path}.project",
                "'' is not a project; allowed: a project name or a prj_ id.",
                "write the project's name or id.",
            )
        ]
    if entry.projects is not None:
        return _projects_list_problems(path, entry.projects)
    return []


def _projects_list_problems(path: str, projects: Sequence[str]) -> list[Problem]:
    where = f"{path}.projects"
    if not projects:
        return [
            Problem(
                where,
                "the list is empty; allowed: one or more project names or prj_ ids.",
                "list the projects, or use project: for one.",
            )
        ]
    problems = [
        Problem(
            f"{where}[{index}]",
            "'' is not a project; allowed: a project name or a prj_ id.",
            "write the project's name or id, or remove the entry.",
        )
        for index, project in enumerate(projects)
        if not project.strip()
    ]
    problems.extend(
        Problem(
            f"{where}[{index}]",
            f"project {shown(projects[index])} is listed twice (first at projects[{first}]);"
            " allowed: each project once.",
            "remove the repeated entry.",
        )
        for index, first in _first_seen(projects)
    )
    return problems


def vercel_entry_problems(path: str, entry: VercelConsumer) -> list[Problem]:
    """Shape rules of one `vercel:` entry (duplicates across entries are another rule)."""
    problems = _project_problems(path, entry)
    if entry.variable is not None and not VERCEL_VARIABLE.match(entry.variable):
        problems.append(
            Problem(
                f"{path}.variable",
                f"{shown(entry.variable)} is not a valid environment variable name; allowed:"
                " letters, digits and '_', not starting with a digit.",
                f"use a name such as {shown(_suggest_name(entry.variable))}.",
            )
        )
    return problems + _target_problems(path, entry) + _branch_problems(path, entry)


# --- duplicates across all keys ----------------------------------------------------------------

_GITHUB_SCOPES: Mapping[SinkKind, str] = {
    SinkKind.ACTIONS_REPOSITORY: "Actions secret {name} of repository {where}",
    SinkKind.ACTIONS_ENVIRONMENT: "Actions secret {name} of environment {where}",
    SinkKind.ACTIONS_ORGANIZATION: "organization Actions secret {name} of {where}",
    SinkKind.DEPENDABOT_REPOSITORY: "Dependabot secret {name} of repository {where}",
    SinkKind.DEPENDABOT_ORGANIZATION: "organization Dependabot secret {name} of {where}",
}


@dataclass(frozen=True)
class GitHubDeclaration:
    path: str
    entry: GitHubConsumer
    default_secret: str


def _github_scope(decl: GitHubDeclaration, owner: str | None) -> tuple[SinkKind, str, str]:
    sink = github_sinks(decl.entry, "", owner, decl.default_secret)[0]
    if sink.kind.is_organization:
        where = sink.owner or ""
    elif sink.kind is SinkKind.ACTIONS_ENVIRONMENT:
        where = f"{sink.environment} in {sink.owner}/{sink.repository}"
    else:
        where = f"{sink.owner}/{sink.repository}"
    text = _GITHUB_SCOPES[sink.kind].format(name=sink.secret_name, where=where)
    return sink.kind, sink.resource_name, text


def github_duplicate_problems(
    declarations: Sequence[GitHubDeclaration], owner: str | None
) -> list[Problem]:
    """The same secret twice for one scope, across every key and managementKeyTargets."""
    seen: dict[tuple[SinkKind, str], GitHubDeclaration] = {}
    problems = []
    for decl in declarations:
        kind, slot, text = _github_scope(decl, owner)
        first = seen.setdefault((kind, slot), decl)
        if first is decl:
            continue
        written = {
            (d.entry.secret or d.default_secret) for d in (first, decl)
        }
        case_note = (
            " (GitHub stores secret names upper-cased, so the spelling does not tell them apart)"
            if len(written) > 1
            else ""
        )
        problems.append(
            Problem(
                decl.path,
                f"the {text} is already declared at {first.path}{case_note}; allowed: one"
                " declaration per secret and scope.",
                "remove one of the two entries, or give one of them another `secret` name.",
            )
        )
    return problems


def vercel_duplicate_problems(declarations: Sequence[tuple[str, VercelConsumer]]) -> list[Problem]:
    """One value per project, variable, target and branch; one shared variable per name, target."""
    project_slots: dict[tuple[str, str, str, str | None], str] = {}
    shared_slots: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    reported: set[tuple[str, str]] = set()

    def report(path: str, other: str, message: str, fix: str) -> None:
        if (path, other) not in reported:
            reported.add((path, other))
            problems.append(Problem(path, message, fix))

    for path, entry in declarations:
        for sink in vercel_sinks(entry, ""):
            variable = sink.variable or ""
            target = sink.target or ""
            if sink.kind is SinkKind.VERCEL_SHARED:
                other = shared_slots.setdefault((variable, target), path)
                if other != path:
                    report(
                        path,
                        other,
                        f"shared variable {variable} for target {target} is already declared at"
                        f" {other}; allowed: one shared variable per name and target.",
                        "merge the two `projects` lists into one entry, or use project: entries.",
                    )
            projects = sink.projects or (sink.project or "",)
            for project in projects:
                slot = (project, variable, target, sink.git_branch)
                other = project_slots.setdefault(slot, path)
                if other == path:
                    continue
                branch = f" on branch {sink.git_branch}" if sink.git_branch else ""
                report(
                    path,
                    other,
                    f"variable {variable} for target {target}{branch} of project {project} is"
                    f" already declared at {other}; allowed: one value per project, variable and"
                    " target.",
                    "remove the target from one of the two entries, or use another `variable`"
                    " name.",
                )
    return problems


# --- keys: adoption, disabled keys, the management key -----------------------------------------


def _wires_adopted_generation(spec: KeySpec) -> bool:
    return spec.adopt is not None and (spec.rotations is None or len(spec.rotations) <= 1)


def adoption_problems(keys: Mapping[str, KeySpec], facts: Facts) -> list[Problem]:
    problems = []
    adopted_by: dict[str, str] = {}
    for key_id, spec in keys.items():
        if spec.adopt is not None:
            other = adopted_by.setdefault(spec.adopt, key_id)
            if other != key_id:
                problems.append(
                    Problem(
                        f"keys.{key_id}.adopt",
                        f"hash {shown(spec.adopt)} is already adopted by keys.{other}; allowed:"
                        " one key id per OpenRouter key (removing either would delete the key"
                        " under the other).",
                        "remove one of the two `adopt` entries.",
                    )
                )
        missing_secret = key_id not in facts.adopted_secret_fingerprints
        if _wires_adopted_generation(spec) and spec.consumer_count and missing_secret:
            retired = (
                " If the adopted generation was already retired, remove `adopt` instead."
                if spec.rotations
                else ""
            )
            problems.append(
                Problem(
                    f"keys.{key_id}",
                    f"key {key_id} adopts an existing key and declares"
                    f" {consumers_phrase(spec.consumer_count)}, but its secret is not in"
                    " `adoptedSecrets`: OpenRouter shows a key's secret only when it is created,"
                    " so Pulumi cannot hand it to the consumers; allowed: consumers for an"
                    " adopted key only with its secret.",
                    f"run `pulumi config set --secret --path 'adoptedSecrets.{key_id}' <the key's"
                    f" secret>`, or remove the consumers of {key_id}.{retired}",
                )
            )
    for key_id in facts.adopted_secret_fingerprints:
        spec_or_none = keys.get(key_id)
        if spec_or_none is None or spec_or_none.adopt is None:
            problems.append(
                Problem(
                    f"adoptedSecrets.{key_id}",
                    f"there is no adopted key {key_id} (no keys.{key_id} with `adopt`); allowed:"
                    " secrets of keys that declare `adopt`.",
                    f"remove it with `pulumi config rm --path 'adoptedSecrets.{key_id}'`, or add"
                    f" adopt: <hash> to keys.{key_id}.",
                )
            )
    return problems


def display_name_problems(keys: Mapping[str, KeySpec], stack: str) -> list[Problem]:
    """Two keys (or generations) with one OpenRouter name in a stack.

    An ambiguous create is cleaned up by name (ADR 0002): a fresh, unused key with the same name
    would look like the orphan and be deleted while another resource holds it.
    """
    owner: dict[str, str] = {}
    problems = []
    for key_id, spec in keys.items():
        for name in display_names(key_id, spec, stack):
            other = owner.setdefault(name, key_id)
            if other == key_id:
                continue
            problems.append(
                Problem(
                    f"keys.{key_id}.name",
                    f"OpenRouter name {shown(name)} is already the name of keys.{other} in this"
                    " stack; an interrupted create is cleaned up by name, so one key could delete"
                    " the other's; allowed: a name used by one key (or generation) only.",
                    f"give keys.{key_id} a `name` of its own.",
                )
            )
    return problems


def disabled_problems(keys: Mapping[str, KeySpec]) -> list[Problem]:
    return [
        Problem(
            f"keys.{key_id}.disabled",
            f"key {key_id} is disabled but declares {consumers_phrase(spec.consumer_count)};"
            " a disabled key is refused on every call, so they would break; allowed: consumers"
            " only for enabled keys.",
            "remove its `github` and `vercel` entries, or set disabled: false.",
        )
        for key_id, spec in keys.items()
        if spec.disabled and spec.consumer_count
    ]


def management_key_problems(facts: Facts) -> list[Problem]:
    problems = []
    if facts.management_key_source is None:
        problems.append(
            Problem(
                MANAGEMENT_SOURCE,
                "no management key: it is not in the stack config, and neither"
                " OPENROUTER_MANAGEMENT_KEY nor OPENROUTER_PROVISIONING_KEY is set; allowed: a"
                f" management key ({MANAGEMENT_KEYS_PAGE}).",
                "run `pulumi config set --secret managementKey` with a management key, or export"
                " OPENROUTER_MANAGEMENT_KEY in the environment that runs pulumi.",
            )
        )
    if facts.management_key_in_plain_text:
        problems.append(
            Problem(
                MANAGEMENT_SOURCE,
                "the management key is stored in plain text in the stack file; allowed: an"
                " encrypted (secure:) value.",
                "delete the line, rotate the key (it is exposed wherever the file went), and run"
                " `pulumi config set --secret managementKey`.",
            )
        )
    fingerprint = facts.management_key_fingerprint
    for key_id, adopted in facts.adopted_secret_fingerprints.items():
        if fingerprint is not None and adopted == fingerprint:
            problems.append(
                Problem(
                    f"adoptedSecrets.{key_id}",
                    f"the secret given for the adopted key {key_id} is the management key. "
                    f"{KEY_TYPES} The management key never goes to a key's consumers; allowed:"
                    f" the adopted regular key's own secret.",
                    f"run `pulumi config set --secret --path 'adoptedSecrets.{key_id}' <the"
                    " regular key's secret>`.",
                )
            )
    return problems


def management_target_problems(targets: ManagementKeyTargets) -> list[Problem]:
    if targets.vercel is None:
        return []
    return [
        Problem(
            "managementKeyTargets.vercel",
            f"the management key never goes to Vercel. {KEY_TYPES} A Vercel deployment calls"
            " models, so it needs a regular key; allowed: managementKeyTargets.github only.",
            "remove `vercel` here, and declare the variable under a regular key"
            " (keys.<id>.vercel).",
        )
    ]


# --- all rules ---------------------------------------------------------------------------------


def all_problems(
    keys: Mapping[str, KeySpec], targets: ManagementKeyTargets | None, facts: Facts
) -> list[Problem]:
    """Every cross-field problem of the parsed parts of the config, in config order."""
    problems = key_id_problems(keys)
    github: list[GitHubDeclaration] = []
    vercel: list[tuple[str, VercelConsumer]] = []
    for key_id, spec in keys.items():
        path = f"keys.{key_id}"
        problems.extend(rotation_problems(path, spec.rotations))
        for index, entry in enumerate(spec.github):
            where = index_path(path, "github", index)
            shape = github_entry_problems(where, entry, facts.github_owner)
            problems.extend(shape)
            if not shape:
                github.append(GitHubDeclaration(where, entry, DEFAULT_SECRET))
        for index, vercel_entry in enumerate(spec.vercel):
            where = index_path(path, "vercel", index)
            shape = vercel_entry_problems(where, vercel_entry)
            problems.extend(shape)
            if not shape:
                vercel.append((where, vercel_entry))
    if targets is not None:
        for index, entry in enumerate(targets.github):
            where = index_path("managementKeyTargets", "github", index)
            shape = github_entry_problems(where, entry, facts.github_owner)
            problems.extend(shape)
            if not shape:
                github.append(GitHubDeclaration(where, entry, DEFAULT_MANAGEMENT_SECRET))
        problems.extend(management_target_problems(targets))
    problems.extend(github_duplicate_problems(github, facts.github_owner))
    problems.extend(vercel_duplicate_problems(vercel))
    problems.extend(adoption_problems(keys, facts))
    problems.extend(display_name_problems(keys, facts.stack))
    problems.extend(disabled_problems(keys))
    problems.extend(management_key_problems(facts))
    return problems

