"""Register the plan: one component per key id, its `ApiKey` generations, and their sinks.

Everything decided about names, aliases and protection is decided in `plan.py`; this module only
turns it into resources (docs/adr/0003-consumer-ordering.md):

- every sink gets `delete_before_replace=True` (a create-before-delete replacement of a same-named
  secret deletes the new GitHub secret and fails on Vercel,
  docs/reference/github-vercel-sinks.md §6.1);
- every sink value is `pulumi.Output.secret(<key>.key)`, passed as `value` (never the deprecated
  `plaintext_value`), so each sink depends on its key and updates after it;
- Vercel variables are `sensitive`, except a development variable whose entry says
  `developmentReadableByTeam: true` (Vercel cannot make those sensitive); each of those is named
  in a warning on every preview and update (docs/adr/0007-consumers-as-github-and-vercel-behave.md);
- nothing from `pulumi_github` or `pulumiverse_vercel` is registered or invoked unless a sink of
  that kind is planned, so a stack without consumers needs neither plugin.

No resource is created inside an `apply`: previews show everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

import pulumi

if TYPE_CHECKING:
    import pulumi_github as github

from providers import ApiKey, ApiKeyArgs
from topology.config import Secret, StackConfig
from topology.governance_resources import (
    BuiltGovernance,
    assign,
    register_governance,
    register_scoped,
)
from topology.plan import (
    COMPONENT_TYPE,
    READABLE,
    GenerationPlan,
    KeyPlan,
    SinkKind,
    SinkPlan,
    is_project_id,
    same_owner,
)


def _github() -> Any:
    """`pulumi_github`, imported only when a GitHub sink is planned (a third of a second per
    program run, two runs per `up`, for a stack that may have none: bench/README.md)."""
    return import_module("pulumi_github")


def _vercel() -> Any:
    """`pulumiverse_vercel`, likewise only when a Vercel sink is planned."""
    return import_module("pulumiverse_vercel")


def former_parent(key_id: str) -> str:
    """The URN of the component a key id's resources were children of before ADR 0010, so an
    alias moves them to the stack without replacing anything."""
    return (
        f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{COMPONENT_TYPE}::{key_id}"
    )


def moved(key_id: str, names: tuple[str, ...] = ()) -> list[pulumi.Alias]:
    """Aliases of a resource that hung under `key_id`'s component, and of the names it had."""
    parent = former_parent(key_id)
    aliases = [pulumi.Alias(parent=parent)]
    for name in names:
        aliases += [pulumi.Alias(name=name), pulumi.Alias(name=name, parent=parent)]
    return aliases


@dataclass(frozen=True)
class BuiltKey:
    """One registered generation and the plan it came from."""

    plan: GenerationPlan
    resource: ApiKey


@dataclass(frozen=True)
class Built:
    """What `build()` registered, for the outputs and the tests."""

    config: StackConfig
    generations: Mapping[str, tuple[BuiltKey, ...]]
    """Key id -> its registered generations, oldest first."""
    sinks: tuple[pulumi.CustomResource, ...]
    governance: BuiltGovernance = field(default_factory=lambda: BuiltGovernance({}, {}, {}))


@dataclass
class _GitHubProviders:
    """The default provider for `github:owner`, one explicit provider per other owner."""

    default_owner: str | None
    token: Secret | None
    base_url: str | None
    providers: dict[str, github.Provider] = field(default_factory=dict)
    repository_ids: dict[tuple[str, str], pulumi.Output[int]] = field(default_factory=dict)

    def provider_for(self, owner: str | None) -> github.Provider | None:
        if owner is None or same_owner(owner, self.default_owner):
            return None
        key = owner.casefold()
        if key not in self.providers:
            self.providers[key] = _github().Provider(
                f"github-{key}",
                owner=key,
                token=pulumi.Output.secret(self.token.reveal()) if self.token else None,
                base_url=self.base_url,
            )
        return self.providers[key]

    def repository_id(self, owner: str, name: str) -> pulumi.Output[int]:
        """Organization allow-lists take numeric ids; one lookup per repository per run."""
        key = (owner.casefold(), name.casefold())
        if key not in self.repository_ids:
            found = _github().get_repository_output(
                full_name=f"{owner}/{name}",
                opts=pulumi.InvokeOutputOptions(provider=self.provider_for(owner)),
            )
            self.repository_ids[key] = found.repo_id
        return self.repository_ids[key]


@dataclass
class _VercelProjects:
    """A `prj_` id is used as is; a name is resolved once per run with `get_project`."""

    ids: dict[str, pulumi.Output[str]] = field(default_factory=dict)

    def project_id(self, project: str) -> pulumi.Input[str]:
        if is_project_id(project):
            return project
        if project not in self.ids:
            self.ids[project] = _vercel().get_project_output(name=project).id
        return self.ids[project]


def _api_key(
    plan: GenerationPlan,
    config: StackConfig,
    governance: BuiltGovernance,
    depends_on: list[pulumi.Resource] | None = None,
) -> ApiKey:
    secret = config.adopted_secrets.get(plan.key_id) if plan.takes_adopted_secret else None
    key = ApiKey(
        plan.resource_name,
        ApiKeyArgs(
            name=plan.name,
            settings=plan.settings,
            workspace_id=governance.workspace_id(plan.workspace, plan.workspace_id),
            adopt=plan.adopt,
            adopt_secret=pulumi.Output.secret(secret.reveal()) if secret else None,
            config_path=plan.config_path or None,
        ),
        pulumi.ResourceOptions(
            protect=plan.protect,
            aliases=moved(plan.key_id, plan.aliases),
            ignore_changes=list(plan.ignore_changes) or None,
            depends_on=depends_on,
        ),
    )
    if plan.settings.disabled is None:
        key.disabled.apply(lambda disabled: _warn_if_disabled(plan, disabled))
    assign(plan, key, governance)
    return key


def _warn_if_disabled(plan: GenerationPlan, disabled: bool | None) -> None:
    """One rule for a key disabled in the dashboard (docs/config.md#disabled-keys): it stays
    disabled until its spec says otherwise; `preview --refresh` says so for every such key."""
    if not disabled:
        return
    generation = f" (generation {plan.generation})" if plan.generation else ""
    pulumi.log.warn(
        f"{plan.config_path}{generation}: OpenRouter key {plan.name!r} is disabled, and its spec"
        " does not say so. It stays disabled: a key disabled in the dashboard is usually a leak"
        " response, so `pulumi up` never enables it on its own. To enable it, set `disabled:"
        " false`; to keep it off, set `disabled: true` and move its consumers to another key."
    )


def _github_sink(
    sink: SinkPlan, value: pulumi.Output[str], opts: pulumi.ResourceOptions,
    providers: _GitHubProviders,
) -> list[pulumi.CustomResource]:
    github = _github()
    opts = pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(provider=providers.provider_for(sink.owner))
    )
    name, secret_name = sink.resource_name, sink.secret_name or ""
    if sink.kind is SinkKind.ACTIONS_REPOSITORY:
        return [github.ActionsSecret(
            name, repository=sink.repository, secret_name=secret_name, value=value, opts=opts
        )]
    if sink.kind is SinkKind.DEPENDABOT_REPOSITORY:
        return [github.DependabotSecret(
            name, repository=sink.repository, secret_name=secret_name, value=value, opts=opts
        )]
    if sink.kind is SinkKind.ACTIONS_ENVIRONMENT:
        return [github.ActionsEnvironmentSecret(
            name,
            repository=sink.repository,
            environment=sink.environment,
            secret_name=secret_name,
            value=value,
            opts=opts,
        )]
    secret_class, list_class = (
        (github.DependabotOrganizationSecret, github.DependabotOrganizationSecretRepositories)
        if sink.kind is SinkKind.DEPENDABOT_ORGANIZATION
        else (github.ActionsOrganizationSecret, github.ActionsOrganizationSecretRepositories)
    )
    secret = secret_class(
        name, secret_name=secret_name, visibility=sink.visibility, value=value, opts=opts
    )
    if sink.visibility != "selected":
        return [secret]
    # The allow-list resource, not the deprecated `selected_repository_ids`, which Pulumi turns
    # into a replacement of the secret itself (docs/reference/github-vercel-sinks.md §1.5).
    owner = sink.owner or ""
    allowed = list_class(
        name,
        secret_name=secret.secret_name,
        selected_repository_ids=[providers.repository_id(owner, r) for r in sink.repositories],
        opts=opts,
    )
    return [secret, allowed]


def readable_warning(sink: SinkPlan) -> str:
    """What every preview says about a variable Vercel lets the team read."""
    where = sink.project or ", ".join(sink.projects)
    return (
        f"{sink.kind.value} {sink.resource_name}: the {sink.target} value of {sink.variable} on"
        f" {where} is {READABLE} (developmentReadableByTeam: true): every team member who can"
        f" see the environment variables can read key {sink.source}."
    )


def _vercel_sink(
    sink: SinkPlan, value: pulumi.Output[str], opts: pulumi.ResourceOptions,
    projects: _VercelProjects,
) -> list[pulumi.CustomResource]:
    vercel = _vercel()
    resource: pulumi.CustomResource
    if sink.kind is SinkKind.VERCEL_SHARED:
        resource = vercel.SharedEnvironmentVariable(
            sink.resource_name,
            key=sink.variable or "",
            value=value,
            sensitive=sink.sensitive,
            targets=[sink.target or ""],
            project_ids=[projects.project_id(p) for p in sink.projects],
            opts=opts,
        )
    else:
        resource = vercel.ProjectEnvironmentVariable(
            sink.resource_name,
            project_id=projects.project_id(sink.project or ""),
            key=sink.variable or "",
            value=value,
            sensitive=sink.sensitive,
            targets=[sink.target or ""],
            git_branch=sink.git_branch,
            opts=opts,
        )
    if not sink.sensitive:
        pulumi.log.warn(readable_warning(sink), resource=resource)
    return [resource]


@dataclass
class _Builder:
    config: StackConfig
    github_providers: _GitHubProviders
    vercel_projects: _VercelProjects = field(default_factory=_VercelProjects)
    sinks: list[pulumi.CustomResource] = field(default_factory=list)

    def sinks_of(self, key_plan: KeyPlan, value: pulumi.Output[str]) -> list[pulumi.CustomResource]:
        """Register the sinks of one key id (or of the management key); returns them."""
        opts = pulumi.ResourceOptions(delete_before_replace=True, aliases=moved(key_plan.key_id))
        registered: list[pulumi.CustomResource] = []
        for sink in key_plan.sinks:
            if sink.kind.is_github:
                registered += _github_sink(sink, value, opts, self.github_providers)
            else:
                registered += _vercel_sink(sink, value, opts, self.vercel_projects)
        self.sinks += registered
        return registered


def build(config: StackConfig) -> Built:
    """Register every resource of a validated stack config (from `load()`)."""
    builder = _Builder(
        config,
        _GitHubProviders(config.plan.github_owner, config.github_token, config.github_base_url),
    )
    governance = register_governance(config.plan)
    generations: dict[str, tuple[BuiltKey, ...]] = {}
    for key_plan in config.plan.keys:
        wired_plan = next(g for g in key_plan.generations if g.wired)
        wired = _api_key(wired_plan, config, governance)
        # cast: `key` is None only for an adopted key without its secret, and such a key has no
        # consumers (rules.adoption_problems refuses them), so no sink ever reads a None.
        key = cast("pulumi.Output[str]", wired.key)
        sinks = builder.sinks_of(key_plan, pulumi.Output.secret(key))
        # An older generation is registered only once the wired one exists and every sink holds
        # it: whatever fails before that, it keeps its protection (ADR 0008).
        holders: list[pulumi.Resource] = [wired, *sinks]
        generations[key_plan.key_id] = tuple(
            BuiltKey(
                g,
                wired if g.wired else _api_key(g, config, governance, holders),
            )
            for g in key_plan.generations
        )
    live = {key_id: [built.resource for built in gens] for key_id, gens in generations.items()}
    register_scoped(config.plan.scoped, live, governance)
    management = config.plan.management
    if management is not None and config.management_key is not None:
        value = pulumi.Output.secret(config.management_key.reveal())
        builder.sinks_of(management, value)
    return Built(config, generations, tuple(builder.sinks), governance)
