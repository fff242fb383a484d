"""What GitHub and Vercel accept, checked before anything is written: the consumer rules.

The GitHub and Vercel plugins only run at `pulumi preview`/`up`, and several of the services' rules
are enforced only when a write reaches the API (or, for Vercel's sensitive variables, by the API
at apply time, as the pinned SDK's docstring says). Every rule a stack file can break is therefore
checked before, purely: GitHub's in `github_rules.py`, Vercel's in `vercel_rules.py`, each family
with the source it comes from in `RULE_SOURCES` (docs/config.md cites the same pages). Each rule
returns `Problem`s and never raises, like the rest of `rules.py`.

`ConsumerCheck` is what `rules.all_problems` drives: entries are checked in config order as the
keys are walked, and the rules that look across entries (duplicates, shadowing) run at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from topology.github_rules import (
    GitHubDeclaration,
    github_duplicate_problems,
    github_entry_problems,
    github_shadow_problems,
    management_entry_problems,
)
from topology.model import (
    DEFAULT_MANAGEMENT_SECRET,
    DEFAULT_SECRET,
    KeySpec,
    ManagementKeyTargets,
    VercelConsumer,
)
from topology.plan import MANAGEMENT_SOURCE
from topology.problem import Problem, index_path
from topology.vercel_rules import vercel_duplicate_problems, vercel_entry_problems

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
