"""The GitHub rules of consumer entries: what GitHub accepts, checked before anything is written.

Each rule returns `Problem`s and never raises; its public source is in `consumers.RULE_SOURCES`.
The shape of one `github:` entry (a key's or `managementKeyTargets`'), where the management key may
not go, then the rules across entries: one secret per scope, and no repository secret hiding an
organization secret that holds another key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from providers import shown
from topology.model import (
    DEFAULT_SECRET,
    GITHUB_ENVIRONMENT_MAX,
    GITHUB_NAME,
    GITHUB_SECRET_NAME,
    GitHubConsumer,
)
from topology.plan import SinkKind, SinkPlan, github_sinks, split_repository
from topology.problem import Problem, first_seen, suggest_name

# --- one entry ---------------------------------------------------------------------------------


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
                f"use a name such as {shown(suggest_name(entry.secret))}.",
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


def _environment_problems(path: str, environment: str) -> list[Problem]:
    where = f"{path}.environment"
    if not environment.strip():
        return [
            Problem(
                where,
                "'' is not an environment; allowed: the name of an environment of the"
                " repository, e.g. 'production'.",
                "write the environment's name, or remove `environment` for a repository secret.",
            )
        ]
    if len(environment) > GITHUB_ENVIRONMENT_MAX:
        return [
            Problem(
                where,
                f"environment name {shown(environment)} has {len(environment)} characters;"
                f" allowed: at most {GITHUB_ENVIRONMENT_MAX}, GitHub's limit.",
                "write the environment's name as GitHub shows it under Settings, Environments.",
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
    if entry.environment is not None:
        problems.extend(_environment_problems(path, entry.environment))
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
    for index, first in first_seen(names):
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


def management_entry_problems(path: str, entry: GitHubConsumer) -> list[Problem]:
    """Where the management key may not go, even though GitHub would accept it.

    It can create and delete every key, so it goes only to secrets the automation that runs
    `pulumi` reads: never to Dependabot (its secrets reach workflows run for Dependabot's pull
    requests, i.e. dependency code), never to every repository of an organization.
    """
    problems = []
    if entry.dependabot:
        problems.append(
            Problem(
                f"{path}.dependabot",
                "the management key never goes to Dependabot: Dependabot secrets reach workflows"
                " run for Dependabot's pull requests, which run dependency code nobody here"
                " reviewed, and the management key can delete every key; allowed: Actions"
                " repository, environment or selected organization secrets.",
                "remove `dependabot`, and publish the key to the repository (or environment)"
                " whose workflow runs pulumi.",
            )
        )
    if entry.organization is not None and entry.visibility in ("all", "private"):
        problems.append(
            Problem(
                f"{path}.visibility",
                f"visibility {entry.visibility} would hand the management key to every"
                f"{' private' if entry.visibility == 'private' else ''} repository of"
                f" {shown(entry.organization)}, and it can delete every key; allowed: visibility:"
                " selected with the repositories that run pulumi.",
                "set visibility: selected and list the automation repositories, or publish a"
                " repository or environment secret instead.",
            )
        )
    return problems


# --- across entries: duplicates and shadowing --------------------------------------------------

_GITHUB_SCOPES: Mapping[SinkKind, str] = {
    SinkKind.ACTIONS_REPOSITORY: "Actions secret {name} of repository {where}",
    SinkKind.ACTIONS_ENVIRONMENT: "Actions secret {name} of environment {where}",
    SinkKind.ACTIONS_ORGANIZATION: "organization Actions secret {name} of {where}",
    SinkKind.DEPENDABOT_REPOSITORY: "Dependabot secret {name} of repository {where}",
    SinkKind.DEPENDABOT_ORGANIZATION: "organization Dependabot secret {name} of {where}",
}
_SHADOWING: Mapping[SinkKind, SinkKind] = {
    SinkKind.ACTIONS_ORGANIZATION: SinkKind.ACTIONS_REPOSITORY,
    SinkKind.DEPENDABOT_ORGANIZATION: SinkKind.DEPENDABOT_REPOSITORY,
}
"""An organization secret and the repository secret GitHub prefers to it in a repository."""


@dataclass(frozen=True)
class GitHubDeclaration:
    path: str
    entry: GitHubConsumer
    default_secret: str
    source: str = ""
    """The key id it holds, or MANAGEMENT_SOURCE."""

    def sink(self, owner: str | None) -> SinkPlan:
        return github_sinks(self.entry, self.source, owner, self.default_secret)[0]


def _github_scope(decl: GitHubDeclaration, owner: str | None) -> tuple[SinkKind, str, str]:
    sink = decl.sink(owner)
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
        written = {(d.entry.secret or d.default_secret) for d in (first, decl)}
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


def github_shadow_problems(
    declarations: Sequence[GitHubDeclaration], owner: str | None
) -> list[Problem]:
    """A repository secret that hides an organization secret holding another key.

    GitHub gives the lower level precedence, so the listed repository never sees the
    organization secret's key: a silent split of one name between two keys.
    """
    repository_secrets: dict[tuple[SinkKind, str, str, str], GitHubDeclaration] = {}
    for decl in declarations:
        sink = decl.sink(owner)
        if sink.kind in _SHADOWING.values():
            scope = ((sink.owner or "").casefold(), (sink.repository or "").casefold())
            repository_secrets.setdefault((sink.kind, *scope, sink.secret_name or ""), decl)
    problems = []
    for decl in declarations:
        sink = decl.sink(owner)
        if sink.kind not in _SHADOWING:
            continue
        org = sink.owner or ""
        for index, repository in enumerate(sink.repositories):
            lookup = (_SHADOWING[sink.kind], org.casefold(), repository.casefold())
            hiding = repository_secrets.get((*lookup, sink.secret_name or ""))
            if hiding is None or hiding.source == decl.source:
                continue
            problems.append(
                Problem(
                    f"{decl.path}.repositories[{index}]",
                    f"{org}/{repository} also has the repository secret {sink.secret_name}"
                    f" (declared at {hiding.path}, another key), which GitHub prefers to the"
                    f" organization secret, so {repository}'s workflows never see this one;"
                    " allowed: one of the two for a repository.",
                    f"remove {repository} from `repositories`, or remove the repository secret"
                    f" at {hiding.path}.",
                )
            )
    return problems
