"""The Vercel rules of consumer entries: what Vercel accepts, checked before anything is written.

Vercel enforces several of them only when a write reaches the API (sensitive variables at apply
time, as the pinned SDK's docstring says), so a stack file that breaks one is refused here first.
Each rule returns `Problem`s and never raises; its public source is in `consumers.RULE_SOURCES`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from providers import shown
from topology.model import (
    DEFAULT_SECRET,
    SENSITIVE_TARGETS,
    VERCEL_RESERVED,
    VERCEL_VARIABLE,
    VercelConsumer,
)
from topology.plan import SinkKind, vercel_sinks, vercel_targets
from topology.problem import Problem, first_seen, suggest_name

_GIT_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")

# --- one entry ---------------------------------------------------------------------------------


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
                f"use a name such as {shown(suggest_name(entry.variable))}.",
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


# --- across entries ----------------------------------------------------------------------------


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
