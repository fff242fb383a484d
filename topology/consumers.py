"""What GitHub and Vercel accept, checked before anything is written: the consumer rules.

The GitHub and Vercel plugins only run at `pulumi preview`/`up`, and several of the services' rules
are enforced only when a write reaches the API (or, for Vercel's sensitive variables, by the API
at apply time, as the pinned SDK's docstring says). Every rule a stack file can break is therefore
checked here, purely, with the source it comes from in `RULE_SOURCES` (docs/config.md cites the
same pages). Each rule returns `Problem`s and never raises, like the rest of `rules.py`.

`ConsumerCheck` is what `rules.all_problems` drives: entries are checked in config order as the
keys are walked, and the rules that look across entries (duplicates, shadowing) run at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from providers import shown
from topology.model import (
    DEFAULT_MANAGEMENT_SECRET,
    DEFAULT_SECRET,
    GITHUB_ENVIRONMENT_MAX,
    GITHUB_NAME,
    GITHUB_SECRET_NAME,
    SENSITIVE_TARGETS,
    VERCEL_RESERVED,
    VERCEL_VARIABLE,
    GitHubConsumer,
    KeySpec,
    ManagementKeyTargets,
    VercelConsumer,
)
from topology.plan import (
    MANAGEMENT_SOURCE,
    SinkKind,
    SinkPlan,
    github_sinks,
    split_repository,
    vercel_sinks,
    vercel_targets,
)
from topology.problem import Problem, first_seen, index_path

RULE_SOURCES: Mapping[str, str] = {
    "GitHub secret names": "https://docs.github.com/en/actions/reference/security/secrets",
    "GitHub secret precedence": "https://docs.github.com/en/actions/reference/security/secrets",
    "GitHub environment names": (
        "https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/"
        "manage-environments"
    ),
    "GitHub organization secret visibility": (
        "https://docs.github.com/en/rest/actions/secrets#create-or-update-an-organization-secret"
    ),
    "Dependabot secrets": (
        "https://docs.github.com/en/code-security/dependabot/working-with-dependabot/"
        "configuring-access-to-private-registries-for-dependabot"
    ),
    "Vercel sensitive variables": (
        "https://vercel.com/docs/environment-variables/sensitive-environment-variables"
    ),
    "Vercel reserved names": (
        "https://vercel.com/docs/environment-variables/reserved-environment-variables"
    ),
    "Vercel variable names": "https://github.com/vercel/vercel/issues/1481",
    "Vercel git branches": "https://git-scm.com/docs/git-check-ref-format",
    "Vercel shared variables": (
        "https://vercel.com/docs/environment-variables/shared-environment-variables"
    ),
}
"""Each rule family and the public page it follows; docs/config.md cites every one (a test)."""

_GIT_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def _suggest_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text).upper()
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"


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
                "list at least one target, or omit `targets` for production and preview.",
            )
        ]
    return [
        Problem(
            f"{where}[{index}]",
            f"target {shown(entry.targets[index])} is listed twice (first at targets[{first}]);"
            " allowed: each target once.",
            "remove the repeated entry.",
        )
        for index, first in first_seen(entry.targets)
    ]


def _development_problems(path: str, entry: VercelConsumer) -> list[Problem]:
    """Vercel keeps sensitive (write-only) variables to production and preview.

    A development variable is therefore readable: allowed only when the entry says so in words.
    """
    targets = entry.targets or []
    readable = [i for i, target in enumerate(targets) if target not in SENSITIVE_TARGETS][:1]
    where_to = "the project's" if entry.project is not None else "the linked projects'"
    if readable and not entry.development_readable_by_team:
        return [
            Problem(
                f"{path}.targets[{index}]",
                f"target {targets[index]} would hold the key in a readable variable: Vercel"
                " makes variables sensitive (write-only) in production and preview only, so"
                f" every team member who can see {where_to} environment variables could read the"
                " key, and `vercel env pull` copies it to laptops; allowed: development only"
                " with developmentReadableByTeam: true.",
                "give local development its own low-limit key (another entry under `keys` with"
                " targets: [development] and developmentReadableByTeam: true), or remove"
                " development from `targets`.",
            )
            for index in readable
        ]
    if entry.development_readable_by_team and not readable:
        shown_targets = ", ".join(vercel_targets(entry))
        return [
            Problem(
                f"{path}.developmentReadableByTeam",
                f"developmentReadableByTeam: true has no effect: the targets are {shown_targets},"
                " which Vercel keeps sensitive; allowed: developmentReadableByTeam with"
                " development among the targets.",
                "remove `developmentReadableByTeam`, or add development to `targets`.",
            )
        ]
    return []


def git_branch_issue(branch: str) -> str | None:
    """Why git would refuse `branch` as a branch name (git check-ref-format --branch), or None."""
    checks = (
        (_GIT_REF_FORBIDDEN.search(branch) is not None, "spaces, control characters and ~^:?*[\\"
         " are not allowed"),
        (".." in branch, "'..' is not allowed"),
        ("@{" in branch, "'@{' is not allowed"),
        (branch == "@", "'@' alone is not a branch"),
        (branch.startswith("-"), "it may not start with '-'"),
        (branch.startswith("/") or branch.endswith("/") or "//" in branch,
         "it may not start or end with '/' or hold '//'"),
        (branch.endswith("."), "it may not end with '.'"),
        (any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/")),
         "no part may start with '.' or end with '.lock'"),
    )
    return next((reason for failed, reason in checks if failed), None)


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
    issue = git_branch_issue(entry.git_branch)
    if issue is not None:
        return [
            Problem(
                where,
                f"{shown(entry.git_branch)} is not a git branch name ({issue}); allowed: a name"
                " git accepts, e.g. 'main' or 'release/1.2'.",
                "write the branch exactly as it is pushed.",
            )
        ]
    return []


def _project_problems(path: str, entry: VercelConsumer, team_set: bool | None) -> list[Problem]:
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
    if entry.projects is None:
        return []
    problems = _projects_list_problems(path, entry.projects)
    if team_set is False:
        problems.append(
            Problem(
                f"{path}.projects",
                "a shared variable belongs to a Vercel team, and vercel:team is not set; allowed:"
                " `projects` with vercel:team set.",
                "run `pulumi config set vercel:team <team slug or id>`, or declare one project:"
                " entry per project.",
            )
        )
    return problems


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
        for index, first in first_seen(projects)
    )
    return problems


def _variable_problems(path: str, entry: VercelConsumer) -> list[Problem]:
    if entry.variable is None:
        return []
    where = f"{path}.variable"
    if not VERCEL_VARIABLE.match(entry.variable):
        return [
            Problem(
                where,
                f"{shown(entry.variable)} is not a valid environment variable name; allowed:"
                " letters, digits and '_', not starting with a digit.",
                f"use a name such as {shown(_suggest_name(entry.variable))}.",
            )
        ]
    if entry.variable.upper() in VERCEL_RESERVED:
        return [
            Problem(
                where,
                f"{shown(entry.variable)} is reserved by Vercel's function runtime, which refuses"
                f" it; allowed: any name outside {', '.join(sorted(VERCEL_RESERVED))}.",
                f"use another name, e.g. {shown(DEFAULT_SECRET)}.",
            )
        ]
    return []


def vercel_entry_problems(
    path: str, entry: VercelConsumer, team_set: bool | None = None
) -> list[Problem]:
    """Shape rules of one `vercel:` entry (duplicates across entries are another rule).

    `team_set`: whether `vercel:team` is set (None: not known, the team rule is skipped).
    """
    return (
        _project_problems(path, entry, team_set)
        + _variable_problems(path, entry)
        + _target_problems(path, entry)
        + _development_problems(path, entry)
        + _branch_problems(path, entry)
    )


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


# --- the walk that rules.all_problems drives ---------------------------------------------------


@dataclass
class ConsumerCheck:
    """Checks entries as the keys are walked, then the rules across all of them."""

    github_owner: str | None
    vercel_team_set: bool | None = None
    github: list[GitHubDeclaration] = field(default_factory=list)
    vercel: list[tuple[str, VercelConsumer]] = field(default_factory=list)

    def key_entries(self, path: str, key_id: str, spec: KeySpec) -> list[Problem]:
        """Every `github`/`vercel` entry of one key, in config order."""
        problems = []
        for index, entry in enumerate(spec.github):
            where = index_path(path, "github", index)
            shape = github_entry_problems(where, entry, self.github_owner)
            problems.extend(shape)
            if not shape:
                self.github.append(GitHubDeclaration(where, entry, DEFAULT_SECRET, key_id))
        for index, vercel_entry in enumerate(spec.vercel):
            where = index_path(path, "vercel", index)
            shape = vercel_entry_problems(where, vercel_entry, self.vercel_team_set)
            problems.extend(shape)
            if not shape:
                self.vercel.append((where, vercel_entry))
        return problems

    def management_entries(self, targets: ManagementKeyTargets) -> list[Problem]:
        problems = []
        for index, entry in enumerate(targets.github):
            where = index_path("managementKeyTargets", "github", index)
            shape = github_entry_problems(where, entry, self.github_owner)
            shape += management_entry_problems(where, entry)
            problems.extend(shape)
            if not shape:
                self.github.append(
                    GitHubDeclaration(where, entry, DEFAULT_MANAGEMENT_SECRET, MANAGEMENT_SOURCE)
                )
        return problems

    def across_entries(self) -> list[Problem]:
        return (
            github_duplicate_problems(self.github, self.github_owner)
            + github_shadow_problems(self.github, self.github_owner)
            + vercel_duplicate_problems(self.vercel)
        )
