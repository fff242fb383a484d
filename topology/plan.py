"""The validated config as a resource plan: names, aliases, options and values, no Pulumi calls.

`resources.py` registers exactly what this module plans, and the rotation walks in
`tests/topology/test_ordering.py` replay the same plans through a model of Pulumi's step semantics,
so the names below are the identity of every resource (docs/adr/0003-consumer-ordering.md):

- keys, sinks and assignments are children of the stack; each answers, by an alias, to the
  component `openrouter-keys:index:KeyTopology` it hung under before (named by its key id, or
  `@management-key` for the management key's targets), so older stacks move without a
  replacement (docs/adr/0010-no-component-per-key.md);
- a key without `rotations` is the `ApiKey` named by its id; with `rotations`, generation `g` is
  `<id>@<g>`, and the first listed generation carries the alias `<id>`, so adding `rotations` to a
  plain key renames nothing in OpenRouter's eyes: the key stays, only its display name changes;
- a sink is named by the slot it writes (owner/repo/SECRET, project/VARIABLE/target), never by
  the key feeding it, so moving a consumer to another key or generation is an in-place update of
  the same secret, never a delete of it after a create;
- a guardrail is the `Guardrail` named by its id; a workspace the `Workspace` named by its id,
  with its `WorkspaceBudgets` and `DefaultGuardrail` as children of the same name; a generation
  that holds a guardrail has a `GuardrailAssignment` named like the generation
  (docs/adr/0009-guardrails-and-workspaces.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TypedDict

from providers import (
    MANAGEMENT_KEY_SETTING,
    REPLACE_FIELDS,
    UUID,
    BudgetLimits,
    GuardrailPolicy,
    KeySettings,
    WorkspaceSettings,
)
from topology.keys_output import resource_name
from topology.model import (
    DEFAULT_MANAGEMENT_SECRET,
    DEFAULT_SECRET,
    DEFAULT_VERCEL_TARGETS,
    SENSITIVE_TARGETS,
    VERCEL_TARGETS,
    GitHubConsumer,
    GuardrailSpec,
    KeySpec,
    ManagementKeyTargets,
    VercelConsumer,
    WorkspaceSpec,
    openrouter_name,
)
from topology.scoped import ScopedFields, ScopedPlan, scoped_plans

COMPONENT_TYPE = "openrouter-keys:index:KeyTopology"
MANAGEMENT_COMPONENT = "@management-key"
MANAGEMENT_SOURCE = MANAGEMENT_KEY_SETTING
ADOPT_INPUT = "adopt"
FROZEN_WHEN_RETIRING: tuple[str, ...] = tuple(sorted(REPLACE_FIELDS))
"""What an older generation never changes: every setting that would replace it."""
PROJECT_ID_PREFIX = "prj_"
READABLE = "READABLE by the team"
"""How a non-sensitive (development) variable is shown wherever a reviewer looks."""


class SinkKind(Enum):
    """Where a value is written; the value is the resource class `resources.py` registers."""

    ACTIONS_REPOSITORY = "ActionsSecret"
    ACTIONS_ENVIRONMENT = "ActionsEnvironmentSecret"
    ACTIONS_ORGANIZATION = "ActionsOrganizationSecret"
    DEPENDABOT_REPOSITORY = "DependabotSecret"
    DEPENDABOT_ORGANIZATION = "DependabotOrganizationSecret"
    VERCEL_PROJECT = "ProjectEnvironmentVariable"
    VERCEL_SHARED = "SharedEnvironmentVariable"

    @property
    def is_github(self) -> bool:
        return not self.name.startswith("VERCEL")

    @property
    def is_organization(self) -> bool:
        return self in (SinkKind.ACTIONS_ORGANIZATION, SinkKind.DEPENDABOT_ORGANIZATION)


@dataclass(frozen=True)
class GenerationPlan:
    """One `ApiKey`: a key, or one generation of a rotated key."""

    resource_name: str
    key_id: str
    generation: str | None
    position: int
    """1-based place among the live generations (1 for a key without rotations)."""
    name: str
    settings: KeySettings
    workspace_id: str | None
    adopt: str | None
    takes_adopted_secret: bool
    wired: bool
    protect: bool
    aliases: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    config_path: str = ""
    """Where the key is declared in the stack file (`keys.<id>`), for the provider's messages."""
    workspace: str | None = None
    """The id of the stack's workspace it lives in (`workspace: agents`); `workspace_id` then is
    that workspace's id once it exists."""
    guardrail: str | None = None
    """The id of the stack's guardrail it holds."""

    def inputs(self) -> dict[str, object]:
        """The `ApiKey` inputs this plans, by the provider's names (settings flattened)."""
        return {
            "name": self.name,
            **self.settings.model_dump(),
            "workspace_id": self.workspace_id,
            "adopt": self.adopt,
        }


@dataclass(frozen=True)
class SinkPlan:
    """One GitHub secret or Vercel variable holding a key; `resource_name` is its slot."""

    kind: SinkKind
    resource_name: str
    source: str
    """The key id whose wired generation it holds, or MANAGEMENT_SOURCE."""
    consumer: str
    """The config entry it comes from, as the `consumers` output spells it."""
    owner: str | None = None
    """GitHub owner (user or organization) whose provider writes it."""
    repository: str | None = None
    environment: str | None = None
    secret_name: str | None = None
    visibility: str | None = None
    repositories: tuple[str, ...] = ()
    project: str | None = None
    projects: tuple[str, ...] = ()
    variable: str | None = None
    target: str | None = None
    git_branch: str | None = None
    sensitive: bool = True
    """Vercel: write-only once set. False only for a development target the entry declares
    readable (developmentReadableByTeam); rules.py refuses any other development target."""


@dataclass(frozen=True)
class KeyPlan:
    """One key id's generations and sinks, or the management key's targets (`@management-key`)."""

    key_id: str
    generations: tuple[GenerationPlan, ...]
    sinks: tuple[SinkPlan, ...]
    consumers: tuple[str, ...]

    @property
    def wired(self) -> GenerationPlan | None:
        return next((key for key in self.generations if key.wired), None)


@dataclass(frozen=True)
class GuardrailPlan:
    """One `Guardrail`."""

    guardrail_id: str
    name: str
    policy: GuardrailPolicy
    workspace: str | None
    """A workspace id of this stack; None: `workspace_uuid` or the default workspace."""
    workspace_uuid: str | None
    adopt: str | None

    @property
    def config_path(self) -> str:
        return f"guardrails.{self.guardrail_id}"


@dataclass(frozen=True)
class WorkspacePlan:
    """One `Workspace`, and its `WorkspaceBudgets` and `DefaultGuardrail` when declared."""

    workspace_id: str
    settings: WorkspaceSettings
    budgets: BudgetLimits | None
    include_byok_in_budgets: bool | None
    default_guardrail: GuardrailPolicy | None
    adopt: str | None

    @property
    def config_path(self) -> str:
        return f"workspaces.{self.workspace_id}"


@dataclass(frozen=True)
class Plan:
    """The whole stack: one KeyPlan per key id, then the management key's targets."""

    stack: str
    github_owner: str | None
    keys: tuple[KeyPlan, ...]
    management: KeyPlan | None = None
    owners: tuple[str, ...] = field(default=())
    """GitHub owners that need an explicit provider (not `github:owner`), lowercase, sorted."""
    guardrails: tuple[GuardrailPlan, ...] = ()
    workspaces: tuple[WorkspacePlan, ...] = ()
    scoped: tuple[ScopedPlan, ...] = ()
    """BYOK credentials, observability destinations, ... (topology/scoped.py)."""

    def all_key_plans(self) -> tuple[KeyPlan, ...]:
        """Every key id's plan, then the management key's targets."""
        return self.keys + ((self.management,) if self.management else ())


# --- small pure helpers shared with rules.py --------------------------------------------------


def split_repository(text: str, default_owner: str | None) -> tuple[str | None, str]:
    """`owner/name` -> (owner, name); `name` -> (github:owner or None, name)."""
    owner, slash, name = text.partition("/")
    if slash:
        return owner, name
    return default_owner, text


def same_owner(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and left.casefold() == right.casefold()


def github_secret_name(entry: GitHubConsumer, default: str) -> str:
    """GitHub stores names upper-cased; using that form everywhere makes case edits no-ops."""
    return (entry.secret or default).upper()


def vercel_variable(entry: VercelConsumer, default: str = DEFAULT_SECRET) -> str:
    return entry.variable or default


def vercel_targets(entry: VercelConsumer) -> tuple[str, ...]:
    """The entry's targets in the canonical order; production and preview when omitted."""
    chosen = set(entry.targets) if entry.targets is not None else set(DEFAULT_VERCEL_TARGETS)
    return tuple(target for target in VERCEL_TARGETS if target in chosen)


def shown_target(target: str, git_branch: str | None = None) -> str:
    """A target as the `consumers` output and the inventory spell it."""
    if target not in SENSITIVE_TARGETS:
        return f"{target}: {READABLE}"
    if target == "preview" and git_branch:
        return f"{target} on branch {git_branch}"
    return target


def is_project_id(project: str) -> bool:
    """A `prj_` id is used as is; any other text is a project name, resolved through the API."""
    return project.startswith(PROJECT_ID_PREFIX)


def key_path(key_id: str) -> str:
    """How the stack file and every message name a key: `keys.<id>`."""
    return f"keys.{key_id}"


def generation_resource_name(key_id: str, generation: str) -> str:
    return resource_name(key_id, generation)


def github_sinks(
    entry: GitHubConsumer, source: str, default_owner: str | None, default_secret: str
) -> tuple[SinkPlan, ...]:
    """The one sink a valid GitHub entry writes (a tuple to match the Vercel fan-out)."""
    name = github_secret_name(entry, default_secret)
    if entry.organization is not None:
        org = entry.organization
        kind = (
            SinkKind.DEPENDABOT_ORGANIZATION if entry.dependabot else SinkKind.ACTIONS_ORGANIZATION
        )
        visibility = entry.visibility or "private"  # rules.py requires one; this is for the type
        repositories = tuple(
            split_repository(repo, org)[1] for repo in (entry.repositories or ())
        )
        listed = f": {', '.join(repositories)}" if repositories else ""
        prefix = "dependabot" if entry.dependabot else "github"
        consumer = f"{prefix}:{org}:{name} (organization, {visibility}{listed})"
        return (
            SinkPlan(
                kind=kind,
                resource_name=f"{org.casefold()}/{name}",
                source=source,
                consumer=consumer,
                owner=org,
                secret_name=name,
                visibility=visibility,
                repositories=repositories,
            ),
        )
    owner, repo = split_repository(entry.repository or "", default_owner)
    owner = owner or ""
    slot = f"{owner.casefold()}/{repo.casefold()}"
    if entry.environment is not None:
        return (
            SinkPlan(
                kind=SinkKind.ACTIONS_ENVIRONMENT,
                resource_name=f"{slot}/{entry.environment.casefold()}/{name}",
                source=source,
                consumer=f"github:{owner}/{repo}@{entry.environment}:{name}",
                owner=owner,
                repository=repo,
                environment=entry.environment,
                secret_name=name,
            ),
        )
    kind = SinkKind.DEPENDABOT_REPOSITORY if entry.dependabot else SinkKind.ACTIONS_REPOSITORY
    prefix = "dependabot" if entry.dependabot else "github"
    return (
        SinkPlan(
            kind=kind,
            resource_name=f"{slot}/{name}",
            source=source,
            consumer=f"{prefix}:{owner}/{repo}:{name}",
            owner=owner,
            repository=repo,
            secret_name=name,
        ),
    )


def _sensitive(entry: VercelConsumer, target: str) -> bool:
    """Readable only where Vercel requires it and the entry says so; never by default."""
    return target in SENSITIVE_TARGETS or not entry.development_readable_by_team


def vercel_sinks(entry: VercelConsumer, source: str) -> tuple[SinkPlan, ...]:
    """One sink per target: the slot Vercel keeps unique is (project, variable, target, branch).

    A variable with three targets is three resources, so narrowing the targets or moving one target
    to another key updates or deletes exactly that slot, and never creates a variable Vercel would
    refuse as a duplicate of one that is only deleted at the end of the update. Only a development
    target is ever not sensitive, and only when the entry says so (rules.py).
    """
    variable = vercel_variable(entry)
    targets = vercel_targets(entry)
    if entry.projects is not None:
        projects = tuple(entry.projects)
        shown_targets = ", ".join(shown_target(t) for t in targets)
        consumer = f"vercel:{variable} (shared; {shown_targets}) -> {', '.join(projects)}"
        return tuple(
            SinkPlan(
                kind=SinkKind.VERCEL_SHARED,
                resource_name=f"{variable}/{target}",
                source=source,
                consumer=consumer,
                projects=projects,
                variable=variable,
                target=target,
                sensitive=_sensitive(entry, target),
            )
            for target in targets
        )
    project = entry.project or ""
    shown_targets = ", ".join(shown_target(t, entry.git_branch) for t in targets)
    consumer = f"vercel:{project}:{variable} ({shown_targets})"
    sinks = []
    for target in targets:
        git_branch = entry.git_branch if target == "preview" else None
        suffix = f"@{git_branch}" if git_branch else ""
        sinks.append(
            SinkPlan(
                kind=SinkKind.VERCEL_PROJECT,
                resource_name=f"{project}/{variable}/{target}{suffix}",
                source=source,
                consumer=consumer,
                project=project,
                variable=variable,
                target=target,
                git_branch=git_branch,
                sensitive=_sensitive(entry, target),
            )
        )
    return tuple(sinks)


# --- the plan ----------------------------------------------------------------------------------


def display_name(key_id: str, spec: KeySpec, stack: str) -> str:
    """The OpenRouter name of a key id: `name`, else `<stack>-<id>`."""
    return openrouter_name(spec.name, key_id, stack)


def generation_display_name(name: str, generation: str) -> str:
    return f"{name}-{generation}"


def display_names(key_id: str, spec: KeySpec, stack: str) -> tuple[str, ...]:
    """Every OpenRouter name one key id uses: one per generation, or the plain name."""
    name = display_name(key_id, spec, stack)
    if spec.rotations is None:
        return (name,)
    return tuple(generation_display_name(name, generation) for generation in spec.rotations)


class _SharedByGenerations(TypedDict):
    """What every generation of one key id is planned with alike."""

    settings: KeySettings
    workspace_id: str | None
    workspace: str | None
    guardrail: str | None


def generation_plans(
    key_id: str, spec: KeySpec, stack: str, protect_keys: bool, has_adopted_secret: bool
) -> tuple[GenerationPlan, ...]:
    """The generations of one key id, oldest first; the newest is the wired one."""
    name = display_name(key_id, spec, stack)
    protect = spec.protect if spec.protect is not None else protect_keys
    config_path = key_path(key_id)
    declared_workspace, workspace_uuid = split_workspace_ref(spec.workspace)
    settings: _SharedByGenerations = {
        "settings": KeySettings.of(spec),
        # `workspace: <uuid>` is `workspaceId: <uuid>`; a workspace of the stack is filled in
        # with its id by resources.py.
        "workspace_id": spec.workspace_id or workspace_uuid,
        "workspace": declared_workspace,
        "guardrail": spec.guardrail,
    }
    if spec.rotations is None:
        return (
            GenerationPlan(
                resource_name=key_id,
                key_id=key_id,
                generation=None,
                position=1,
                name=name,
                adopt=spec.adopt,
                takes_adopted_secret=spec.adopt is not None and has_adopted_secret,
                wired=True,
                protect=protect,
                config_path=config_path,
                **settings,
            ),
        )
    last = len(spec.rotations)
    plans = []
    for position, generation in enumerate(spec.rotations, start=1):
        first = position == 1
        plans.append(
            GenerationPlan(
                resource_name=generation_resource_name(key_id, generation),
                key_id=key_id,
                generation=generation,
                position=position,
                name=generation_display_name(name, generation),
                # The adopted key is the oldest generation. `adopt` only counts when that resource
                # is created: a stale `adopt` left behind after the adopted generation was retired
                # must not make the next generation adopt (and later delete) a key it never owned.
                adopt=spec.adopt if first else None,
                takes_adopted_secret=first and spec.adopt is not None and has_adopted_secret,
                wired=position == last,
                protect=protect and position == last,
                aliases=(key_id,) if first else (),
                # Replace-forcing settings belong to the generation being created: an older one
                # keeps what it was created with until it is retired (ADR 0008), so an
                # `expiresAt` edit never replaces the key deployments still hold.
                ignore_changes=(ADOPT_INPUT,) if position == last else FROZEN_WHEN_RETIRING,
                config_path=config_path,
                **settings,
            )
        )
    return tuple(plans)


def consumer_plans(
    entries_github: Sequence[GitHubConsumer],
    entries_vercel: Sequence[VercelConsumer],
    source: str,
    default_owner: str | None,
    default_secret: str,
) -> tuple[tuple[SinkPlan, ...], tuple[str, ...]]:
    sinks: list[SinkPlan] = []
    consumers: list[str] = []
    for github_entry in entries_github:
        planned = github_sinks(github_entry, source, default_owner, default_secret)
        sinks.extend(planned)
        consumers.append(planned[0].consumer)
    for vercel_entry in entries_vercel:
        planned = vercel_sinks(vercel_entry, source)
        sinks.extend(planned)
        if planned:
            consumers.append(planned[0].consumer)
    return tuple(sinks), tuple(consumers)


def split_workspace_ref(ref: str | None) -> tuple[str | None, str | None]:
    """`workspace:` as (a workspace id of the stack, a workspace UUID): one of them, or neither."""
    if ref is None:
        return None, None
    return (None, ref) if UUID.match(ref) else (ref, None)


def guardrail_display_name(guardrail_id: str, spec: GuardrailSpec, stack: str) -> str:
    """OpenRouter's name of a guardrail: `name`, else `<stack>-<id>` (as for keys)."""
    return openrouter_name(spec.name, guardrail_id, stack)


def workspace_slug(workspace_id: str, spec: WorkspaceSpec) -> str:
    """`slug`, else the id: `agents:` is the workspace with slug agents."""
    return spec.slug or workspace_id


def guardrail_plans(
    guardrails: Mapping[str, GuardrailSpec], stack: str
) -> tuple[GuardrailPlan, ...]:
    plans = []
    for guardrail_id, spec in guardrails.items():
        workspace, workspace_uuid = split_workspace_ref(spec.workspace)
        plans.append(
            GuardrailPlan(
                guardrail_id=guardrail_id,
                name=guardrail_display_name(guardrail_id, spec, stack),
                policy=GuardrailPolicy.model_construct(
                    **{name: getattr(spec, name) for name in GuardrailPolicy.model_fields}
                ),
                workspace=workspace,
                workspace_uuid=workspace_uuid,
                adopt=spec.adopt,
            )
        )
    return tuple(plans)


def workspace_plans(workspaces: Mapping[str, WorkspaceSpec]) -> tuple[WorkspacePlan, ...]:
    return tuple(
        WorkspacePlan(
            workspace_id=workspace_id,
            settings=WorkspaceSettings(
                name=spec.name or workspace_id,
                slug=workspace_slug(workspace_id, spec),
                description=spec.description,
            ),
            budgets=spec.budgets,
            include_byok_in_budgets=spec.include_byok_in_budgets,
            default_guardrail=spec.default_guardrail,
            adopt=spec.adopt,
        )
        for workspace_id, spec in workspaces.items()
    )


def make_plan(
    stack: str,
    *,
    keys: Mapping[str, KeySpec],
    management_targets: ManagementKeyTargets,
    protect_keys: bool,
    github_owner: str | None,
    adopted_secret_ids: frozenset[str] = frozenset(),
    guardrails: Mapping[str, GuardrailSpec] | None = None,
    workspaces: Mapping[str, WorkspaceSpec] | None = None,
    scoped: Mapping[str, Mapping[str, ScopedFields]] | None = None,
) -> Plan:
    """Plan a config that passed every rule (rules.py); the result is deterministic."""
    key_plans_ = []
    for key_id, spec in keys.items():
        generations = generation_plans(
            key_id, spec, stack, protect_keys, key_id in adopted_secret_ids
        )
        sinks, consumers = consumer_plans(
            spec.github, spec.vercel, key_id, github_owner, DEFAULT_SECRET
        )
        key_plans_.append(KeyPlan(key_id, generations, sinks, consumers))
    management = None
    if management_targets.github:
        sinks, consumers = consumer_plans(
            management_targets.github, (), MANAGEMENT_SOURCE, github_owner,
            DEFAULT_MANAGEMENT_SECRET,
        )
        management = KeyPlan(MANAGEMENT_COMPONENT, (), sinks, consumers)
    owners = sorted(
        {
            sink.owner.casefold()
            for key_plan in [*key_plans_, *([management] if management else [])]
            for sink in key_plan.sinks
            if sink.owner and not same_owner(sink.owner, github_owner)
        }
    )
    return Plan(
        stack,
        github_owner,
        tuple(key_plans_),
        management,
        tuple(owners),
        guardrails=guardrail_plans(guardrails or {}, stack),
        workspaces=workspace_plans(workspaces or {}),
        scoped=scoped_plans(scoped or {}, stack),
    )
