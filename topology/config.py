"""Read the stack config, validate all of it, and plan it; or raise every problem at once.

`read_raw_config()` is the only function that touches `pulumi.Config`; `validate()` is pure, so
the tests call it with a `RawConfig` and no Pulumi runtime. Nothing here registers a resource:
`TopologyConfigError` is raised before `build()` could run (the issue's "validation first").

Secrets read here (the management key, the secrets of adopted keys) are wrapped in `Secret` at
once: its repr is masked, rules only ever see fingerprints, and `build()` hands the value to
Pulumi as a Pulumi secret. Values are never quoted in an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import TypeVar

import pulumi
import pulumi.runtime.config
from pulumi.runtime.config import get_config_env
from pydantic import BaseModel, ValidationError

from providers import (
    API_BASE_URL_SETTING,
    BASE_URL_FIX,
    CONFIG_NAMESPACE,
    DEFAULT_BASE_URL,
    ENV_API_BASE_URL,
    FILTER_TAGS,
    FIX_SEPARATOR,
    INPUTS_BY_NAME,
    MANAGEMENT_KEY_SETTING,
    ClientSettings,
    Credentials,
    KeyNotFound,
    KeyRecord,
    NotFoundError,
    OpenRouterClient,
    OpenRouterError,
    ProviderError,
    base_url_problem,
    find_api_base_url,
    find_management_key,
    get_guardrail,
    get_workspace,
    key_source,
    management_key_error,
    mask,
    normal_base_url,
    one_line,
    parse_instant,
    shown,
    stack_setting_name,
)
from topology.catalogue import (
    MODELS,
    Catalogue,
    Kind,
    catalogue_problems,
    declared_lists,
    kinds_needed,
    model_catalogue,
    provider_catalogue,
)
from topology.deployed import (
    Deployment,
    DeploymentUnreadableError,
    OutputsReader,
    deployment_of,
    other_deployments,
    read_outputs,
    stack_names,
    unreadable_problem,
)
from topology.governance_guard import (
    LiveKey,
    removed_workspaces,
    restriction_losses,
    workspace_removal_problems,
)
from topology.governance_rules import all_governance_problems
from topology.guard import TopologyGuardError, deletions, guard_problems
from topology.model import (
    SETTING_NAMES,
    VERCEL_TARGETS,
    VISIBILITIES,
    GuardrailSpec,
    KeySpec,
    ManagementKeyTargets,
    WorkspaceSpec,
    literal_words,
    models_in,
)
from topology.ownership import GUARDRAIL, Answer, Answers, Question, needs_other_stacks, questions
from topology.plan import MANAGEMENT_SOURCE, Plan, make_plan
from topology.retirement import (
    RetirementPolicy,
    Seen,
    parse_quiet_period,
    parse_retire_in_use,
    retirement_problems,
    stale_overrides,
    to_ask,
)
from topology.rules import Facts, Problem, TopologyConfigError, all_problems, record_problems
from topology.settings import setting_problems

NAMESPACE = CONFIG_NAMESPACE
STACK_DIR = Path("stacks")
"""Where Pulumi.yaml's `stackConfigDir` keeps the stack files, relative to the project."""
GITHUB_NAMESPACE = "github"
VERCEL_NAMESPACE = "vercel"
CONFIG_SOURCE = "config"


class Secret:
    """A secret value that cannot leak through repr, str or an f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self._value.strip().encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"Secret({self.masked})"

    __str__ = __repr__


@dataclass(frozen=True)
class RawConfig:
    """The config values as Pulumi hands them to the program: text, objects as JSON text."""

    keys: str | None = None
    guardrails: str | None = None
    workspaces: str | None = None
    management_key_targets: str | None = None
    protect_keys: str | None = None
    api_base_url: str | None = None
    retire_quiet_period: str | None = None
    retire_in_use: str | None = None
    adopted_secrets: str | None = field(default=None, repr=False)
    adopted_secrets_is_secret: bool = False
    management_key: str | None = field(default=None, repr=False)
    management_key_is_secret: bool = False
    github_owner: str | None = None
    github_token: str | None = field(default=None, repr=False)
    github_base_url: str | None = None
    vercel_team: str | None = None
    config_keys: tuple[str, ...] = ()
    """Every config key of the stack (`namespace:setting`), to refuse the unknown ones."""


@dataclass(frozen=True)
class StackConfig:
    """A validated stack: the plan `build()` registers, plus the secrets it needs."""

    plan: Plan
    management_key: Secret | None
    management_key_source: str | None
    adopted_secrets: Mapping[str, Secret]
    github_token: Secret | None = None
    github_base_url: str | None = None
    api_base_url: str = DEFAULT_BASE_URL
    """Where the provider sends the management key (checked by the URL rule)."""
    retirement: RetirementPolicy = field(default_factory=RetirementPolicy)
    """The quiet period and the generations to delete even in use (topology/retirement.py)."""
    api_base_url_setting: str = "the default"
    """Where `api_base_url` came from, as `find_api_base_url` names it."""


def read_raw_config() -> RawConfig:
    """The only read of `pulumi.Config`: plain values, and whether each secret is encrypted."""
    config = pulumi.Config(NAMESPACE)
    github = pulumi.Config(GITHUB_NAMESPACE)

    def is_secret(key: str) -> bool:
        return pulumi.runtime.config.is_config_secret(config.full_key(key))

    return RawConfig(
        keys=config.get("keys"),
        guardrails=config.get("guardrails"),
        workspaces=config.get("workspaces"),
        management_key_targets=config.get("managementKeyTargets"),
        protect_keys=config.get("protectKeys"),
        api_base_url=config.get("apiBaseUrl"),
        retire_quiet_period=config.get("retireQuietPeriod"),
        retire_in_use=config.get("retireInUse"),
        adopted_secrets=config.get("adoptedSecrets"),
        adopted_secrets_is_secret=is_secret("adoptedSecrets"),
        management_key=config.get("managementKey"),
        management_key_is_secret=is_secret("managementKey"),
        github_owner=github.get("owner"),
        github_token=github.get("token"),
        github_base_url=github.get("baseUrl"),
        vercel_team=pulumi.Config(VERCEL_NAMESPACE).get("team"),
        config_keys=tuple(sorted({*pulumi.runtime.config.CONFIG.get(), *get_config_env()})),
    )


def load() -> StackConfig:
    """Validate this stack's config, plan it, and compare the plan with what the stack last
    deployed; `TopologyConfigError` or `TopologyGuardError` lists every problem, and nothing
    is registered."""
    config = validate(read_raw_config(), pulumi.get_stack(), os.environ)
    verify_management_slot(config)
    check_catalogue(config)
    guard(config)
    return config


CatalogueReader = Callable[[StackConfig, frozenset[Kind]], Mapping[Kind, Catalogue | str]]


def check_catalogue(config: StackConfig, read: CatalogueReader | None = None) -> None:
    """Refuse a model or provider name OpenRouter does not list (topology/catalogue.py), before
    anything is registered, so it holds with `--skip-preview`. Asks each list at most once, and
    only when the plan declares a list that needs it."""
    lists = declared_lists(config.plan)
    kinds = kinds_needed(lists)
    if not kinds:
        return
    problems = catalogue_problems(lists, (read or read_catalogues)(config, kinds))
    if problems:
        raise TopologyConfigError(problems)


def read_catalogues(config: StackConfig, kinds: frozenset[Kind]) -> dict[Kind, Catalogue | str]:
    """`GET /models` and/or `GET /providers` (one request each, retried while transient), or
    why a list could not be read: the check then fails closed."""
    if config.management_key is None:
        return {}  # reported by validation already
    settings = ClientSettings(config.management_key.reveal(), base_url=config.api_base_url)
    found: dict[Kind, Catalogue | str] = {}
    with OpenRouterClient(settings) as client:
        for kind in sorted(kinds):
            try:
                found[kind] = (
                    model_catalogue(client.list_models())
                    if kind == MODELS
                    else provider_catalogue(client.list_providers())
                )
            except OpenRouterError as error:
                found[kind] = error.message
    return found


def verify_management_slot(
    config: StackConfig,
    ask: Callable[[StackConfig], ProviderError | None] | None = None,
) -> None:
    """Ask OpenRouter (one `GET /key`) whether the configured management key and base URL work,
    on every run and before anything is registered; raise `TopologyConfigError` if not.

    A provider `check` asks only before a write, so a run that changes nothing would otherwise
    pass with a regular key in the slot, and `pulumi up` would then record it (with the rest of
    the stack config) as the default provider's inputs, for `refresh` and `destroy` to use
    (issue 19). Refusing here keeps every recorded key and URL one that was verified.
    """
    refused = (ask or management_key_refusal)(config)
    if refused is not None:
        raise TopologyConfigError([management_slot_problem(config, refused)])


def management_slot_problem(config: StackConfig, refused: ProviderError) -> Problem:
    """The refusal as a problem of the setting it came from, as the user wrote or exported it."""
    if refused.kind.startswith("management-key"):
        source = config.management_key_source
        path = MANAGEMENT_KEY_SETTING if source in (None, CONFIG_SOURCE) else str(source)
        what = "management key"
    else:
        from_env = config.api_base_url_setting == ENV_API_BASE_URL
        path = ENV_API_BASE_URL if from_env else API_BASE_URL_SETTING
        what = "API base URL"
    return Problem(
        path,
        f"OpenRouter, asked before anything is registered (GET /key on {config.api_base_url}),"
        f" does not accept this {what}: {one_line(str(refused), refused.kind)}",
        "do what the message says, then run the command again; nothing was registered, so"
        " the stack still holds the settings of its last `pulumi up`.",
    )


def guard(
    config: StackConfig,
    read: OutputsReader = read_outputs,
    stack_dir: Path = STACK_DIR,
    *,
    list_keys: Callable[[StackConfig, Sequence[str]], Mapping[str, Sequence[LiveKey]]]
    | None = None,
    ask_owner: Callable[[StackConfig, Sequence[Question]], Answers] | None = None,
    ask_usage: Callable[[StackConfig, Sequence[str]], Mapping[str, Seen]] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Refuse a change that would delete a live key by mistake (topology/guard.py), or a
    workspace that would still hold a key (topology/governance_guard.py); first, the config
    rules that need the record (topology/rules.py `record_problems`: rotation labels, consumers
    of a disabled key), as a `TopologyConfigError`.

    Reads this stack's record, and the other stacks' only when the plan adopts something anew
    or creates a workspace or guardrail (topology/ownership.py); asks OpenRouter which workspace
    has a slug, or what a guardrail is called, only where a record makes it matter. When the
    change deletes a key, asks OpenRouter when each deleted generation was last used
    (topology/retirement.py); when it deletes a workspace, which keys live there. Whether the
    management key may delete at all was asked before (`verify_management_slot`, every run).
    """
    plan = config.plan
    try:
        deployment = deployment_of(plan.stack, read)
    except DeploymentUnreadableError as error:
        raise TopologyGuardError([unreadable_problem(plan.stack, str(error))]) from None
    previous = deployment.keys
    in_config = record_problems(previous, plan, datetime.now(UTC).date())
    if in_config:
        raise TopologyConfigError(in_config)
    for warning in restriction_losses(previous, deployment.governance, plan):
        pulumi.log.warn(warning)
    others: list[Deployment] = []
    if needs_other_stacks(deployment, plan):
        names = [name for name in stack_names(stack_dir) if name != plan.stack]
        others = other_deployments(names, read)
    asked = questions(deployment, plan, others)
    answers = (ask_owner or answer_questions)(config, asked) if asked else {}
    problems = guard_problems(
        previous, plan, others, governance=deployment.governance, answers=answers
    )
    removed_keys = deletions(previous, plan)
    for warning in stale_overrides(removed_keys, plan, config.retirement.in_use):
        pulumi.log.warn(warning)
    if not problems and removed_keys:
        hashes = to_ask(removed_keys, plan, config.retirement)
        seen = (ask_usage or last_uses)(config, hashes) if hashes else {}
        now = (clock or utc_now)()
        problems += retirement_problems(removed_keys, plan, seen, config.retirement, now)
    removed = removed_workspaces(deployment.governance, plan)
    if not problems and removed:
        try:
            living = (list_keys or keys_in_workspaces)(config, [w.id for w in removed.values()])
        except OpenRouterError as error:
            problems.append(
                Problem(
                    MANAGEMENT_SOURCE,
                    f"the change deletes a workspace, and which keys live in it could not be"
                    f" read: {error.message}",
                    "fix the management key or the API as the message says, then run the"
                    " preview again.",
                )
            )
        else:
            going = [d.generation.hash for d in deletions(previous, plan)]
            problems += workspace_removal_problems(removed, living, going)
    if problems:
        raise TopologyGuardError(problems)


def keys_in_workspaces(
    config: StackConfig, workspace_ids: Sequence[str]
) -> dict[str, list[LiveKey]]:
    """Every key OpenRouter lists in each workspace, disabled and expired ones included."""
    if config.management_key is None:
        return {}
    settings = ClientSettings(config.management_key.reveal(), base_url=config.api_base_url)
    with OpenRouterClient(settings) as client:
        return {
            workspace: [LiveKey(k.hash, k.name) for k in client.list_keys(workspace)]
            for workspace in workspace_ids
        }


def answer_questions(config: StackConfig, asked: Sequence[Question]) -> Answers:
    """Ask OpenRouter what topology/ownership.py needs: one GET per question."""
    if config.management_key is None:
        return {}  # reported by validation already
    settings = ClientSettings(config.management_key.reveal(), base_url=config.api_base_url)
    answers: dict[Question, Answer] = {}
    with OpenRouterClient(settings) as client:
        for question in asked:
            try:
                if question.kind is GUARDRAIL:
                    value = get_guardrail(client, question.ref).name
                else:
                    value = get_workspace(client, question.ref).id
            except NotFoundError:
                answers[question] = Answer()
            except OpenRouterError as error:
                answers[question] = Answer(failure=error.message)
            else:
                answers[question] = Answer(value)
    return answers


def last_uses(config: StackConfig, hashes: Sequence[str]) -> dict[str, Seen]:
    """What OpenRouter says of each key, one `GET /keys/{hash}` each; a failure is kept as the
    key's answer, so the rule refuses that deletion (fail closed) and judges the others."""
    if config.management_key is None:
        return dict.fromkeys(hashes, Seen(error="no management key to ask it with"))
    settings = ClientSettings(config.management_key.reveal(), base_url=config.api_base_url)
    seen: dict[str, Seen] = {}
    with OpenRouterClient(settings) as client:
        for hash_ in hashes:
            try:
                record = client.get_key(hash_)
            except KeyNotFound:
                seen[hash_] = Seen(gone=True)
            except OpenRouterError as error:
                seen[hash_] = Seen(error=error.message)
            else:
                seen[hash_] = seen_of(record)
    return seen


def seen_of(record: KeyRecord) -> Seen:
    """A key's answer as the retirement rule reads it; a time it cannot read is an error."""
    last_used = parse_instant(record.last_used_at)
    if record.last_used_at and last_used is None:
        return Seen(error=f"its last_used_at {shown(record.last_used_at)} is not a time")
    return Seen(
        last_used_at=last_used,
        created_at=parse_instant(record.created_at),
        usage=record.usage + record.byok_usage,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def management_key_refusal(config: StackConfig) -> ProviderError | None:
    """What OpenRouter says of the management key and the URL (GET /key), or None if it takes
    them; asked once per process and credentials (providers/session.py keeps the verdict)."""
    if config.management_key is None:
        return None  # reported by validation already
    source = config.management_key_source or CONFIG_SOURCE
    named = stack_setting_name(MANAGEMENT_KEY_SETTING) if source == CONFIG_SOURCE else source
    credentials = Credentials(
        config.management_key.reveal(), config.api_base_url, key_source(named)
    )
    return management_key_error(credentials)


# --- pydantic errors -> problems ---------------------------------------------------------------

_EXPECTED: Mapping[str, tuple[str, str]] = {
    # A key's inputs say what they accept in their rows (providers/inputs.py, key_settings.py).
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
    return _TEXT


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
    prefix: str, model: type[BaseModel], error: ValidationError
) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        path = config_path(prefix, loc)
        if detail["type"] == "extra_forbidden":
            unknown = str(loc[-1])
            allowed = SETTING_NAMES.get(_model_at(model, loc[:-1]), ())
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
        problems.append(
            Problem(path, f"{shown(detail.get('input'))} is not allowed; allowed: {expected}.", fix)
        )
    return problems


# --- scalars and objects -----------------------------------------------------------------------


def _json(text: str | None) -> object:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a map"


_Spec = TypeVar("_Spec", bound=BaseModel)


@dataclass(frozen=True)
class Section:
    """A map of id -> spec in the stack file: `keys`, `guardrails`, `workspaces`."""

    name: str
    what: str
    example: str


KEYS = Section("keys", "key", "{production: {limit: 250}}")
GUARDRAILS = Section(
    "guardrails", "guardrail", "{ci-cheap: {limitUsd: 20, resetInterval: monthly}}"
)
WORKSPACES = Section("workspaces", "workspace", "{agents: {budgets: {monthly: 500}}}")


def parse_specs(
    text: str | None, section: Section, model: type[_Spec]
) -> tuple[dict[str, _Spec], set[str], list[Problem]]:
    """(parsed specs, ids that failed, problems); one bad entry never hides another's problems."""
    value = _json(text)
    if value is None:
        return {}, set(), []
    if not isinstance(value, dict):
        return {}, set(), [
            Problem(
                section.name,
                f"is {_kind(value)}, not a map of {section.what} id to {section.what} spec;"
                f" allowed: a map such as {section.example}.",
                f"write `{section.name}:` as a map under `{NAMESPACE}:{section.name}` in the"
                " stack file (docs/config.md).",
            )
        ]
    parsed: dict[str, _Spec] = {}
    failed: set[str] = set()
    problems: list[Problem] = []
    for spec_id, written in value.items():
        path = f"{section.name}.{spec_id}"
        spec = {} if written is None else written  # `production:` with nothing under it
        if not isinstance(spec, dict):
            failed.add(spec_id)
            problems.append(
                Problem(
                    path,
                    f"{shown(spec)} is not a {section.what} spec; allowed: a map of settings,"
                    " or {} for all defaults.",
                    f"write the {section.what}'s settings as a map.",
                )
            )
            continue
        nested = nested_specs(spec, model)
        if nested:
            failed.add(spec_id)
            problems.append(_too_deep(section, spec_id, nested))
            spec = {name: setting for name, setting in spec.items() if name not in nested}
        try:
            validated = model.model_validate(spec)
        except ValidationError as error:
            failed.add(spec_id)
            problems.extend(pydantic_problems(path, model, error))
            continue
        if not nested:
            parsed[spec_id] = validated
    return parsed, failed, problems


def nested_specs(spec: Mapping[str, object], model: type[BaseModel]) -> list[str]:
    """The names in a spec that are no setting of it but read as a whole spec of its section:
    ids of the section indented one level too deep (YAML puts them under the id above), whose
    fix is the indentation, not "remove it". A value that is empty reads so only when its name
    is not close to a setting (an empty misspelt setting stays a misspelt setting)."""
    allowed = SETTING_NAMES.get(model, ())
    found = []
    for name, value in spec.items():
        if name in allowed:
            continue
        if value is None or value == {}:
            if not get_close_matches(str(name), allowed, n=1):
                found.append(str(name))
        elif isinstance(value, dict) and set(value) <= set(allowed):
            found.append(str(name))
    return found


def _too_deep(section: Section, spec_id: str, nested: Sequence[str]) -> Problem:
    one = len(nested) == 1
    listed = " and ".join(f"`{name}`" for name in nested)
    what = section.what
    return Problem(
        f"{section.name}.{spec_id}",
        f"{listed} {'sits' if one else 'sit'} inside {section.name}.{spec_id} but"
        f" {'holds' if one else 'hold'} {what} settings of {'its' if one else 'their'} own:"
        f" {'a ' + what + ' id' if one else what + ' ids'} indented one level too deep;"
        f" allowed: every {what} id directly under `{section.name}`, in line with the others.",
        f"indent {listed} (and everything under {'it' if one else 'them'}) one level less, in"
        f" line with `{spec_id}`, directly under `{NAMESPACE}:{section.name}`.",
    )


def parse_keys(text: str | None) -> tuple[dict[str, KeySpec], set[str], list[Problem]]:
    return parse_specs(text, KEYS, KeySpec)


def parse_management_targets(text: str | None) -> tuple[ManagementKeyTargets | None, list[Problem]]:
    value = _json(text)
    if value is None:
        return ManagementKeyTargets(), []
    if not isinstance(value, dict):
        return None, [
            Problem(
                "managementKeyTargets",
                f"is {_kind(value)}, not a map; allowed: {{github: [...]}}.",
                "write managementKeyTargets as a map with a `github` list.",
            )
        ]
    try:
        return ManagementKeyTargets.model_validate(value), []
    except ValidationError as error:
        return None, pydantic_problems("managementKeyTargets", ManagementKeyTargets, error)


def parse_protect_keys(text: str | None) -> tuple[bool, list[Problem]]:
    value = _json(text)
    if value is None:
        return True, []
    if isinstance(value, bool):
        return value, []
    return True, [
        Problem(
            "protectKeys",
            f"{shown(value)} is not allowed; allowed: true, false.",
            "run `pulumi config set protectKeys true` (or false).",
        )
    ]


def api_base_url_problems(text: str | None, environ: Mapping[str, str]) -> list[Problem]:
    """The URL the provider will send the management key to, checked by the one rule
    (providers/credentials.py) before anything is registered or sent."""
    found = find_api_base_url(text, environ)
    problem = base_url_problem(found.value)
    if problem is None:
        return []
    from_stack = found.setting.endswith(API_BASE_URL_SETTING)
    path = API_BASE_URL_SETTING if from_stack else found.setting
    change = (
        f"run `pulumi config set {API_BASE_URL_SETTING} <url>`, or `pulumi config rm"
        f" {API_BASE_URL_SETTING}` for the real API"
        if from_stack
        else f"set {found.setting} to a safe URL, or unset it for the real API"
    )
    return [
        Problem(
            path,
            f"{shown(found.value)} cannot carry the management key: {problem}; allowed: an"
            " https base URL, or plain http to loopback only.",
            f"{BASE_URL_FIX}: {change}.",
        )
    ]


def parse_adopted_secrets(raw: RawConfig) -> tuple[dict[str, Secret], list[Problem]]:
    """Key id -> secret. Problems name ids only: an adopted secret is never quoted."""
    value = _json(raw.adopted_secrets)
    if value is None or value == {}:
        return {}, []
    set_it = "pulumi config set --secret --path 'adoptedSecrets.<id>' <the key's secret>"
    if not isinstance(value, dict):
        return {}, [
            Problem(
                "adoptedSecrets",
                f"is {_kind(value)}, not a map of key id to secret; allowed: a secret map such as"
                " {legacy: <secret>}.",
                f"remove it (`pulumi config rm adoptedSecrets`) and run `{set_it}`.",
            )
        ]
    problems = []
    if not raw.adopted_secrets_is_secret:
        problems.append(
            Problem(
                "adoptedSecrets",
                "is stored in plain text in the stack file; allowed: encrypted (secure:)"
                " values only.",
                "delete it from the stack file, rotate the keys it held (they are exposed"
                f" wherever the file went), and run `{set_it}`.",
            )
        )
    secrets: dict[str, Secret] = {}
    for key_id, secret in value.items():
        if not isinstance(secret, str) or not secret.strip():
            problems.append(
                Problem(
                    f"adoptedSecrets.{key_id}",
                    "is not a non-empty string (the value is not shown); allowed: the adopted"
                    " key's secret as text.",
                    f"run `pulumi config set --secret --path 'adoptedSecrets.{key_id}' <the key's"
                    " secret>`.",
                )
            )
            continue
        secrets[str(key_id)] = Secret(secret.strip())
    return secrets, problems


def management_key_from(
    raw: RawConfig, environ: Mapping[str, str]
) -> tuple[Secret | None, str | None]:
    """The key the provider will use (providers/credentials.py decides which), and its source:
    `config` or the environment variable's name."""
    found = find_management_key(raw.management_key, environ)
    if found is None:
        return None, None
    from_stack = raw.management_key is not None and raw.management_key.strip() == found.value
    return Secret(found.value), CONFIG_SOURCE if from_stack else found.setting


def validate(raw: RawConfig, stack: str, environ: Mapping[str, str]) -> StackConfig:
    """Parse and check everything; raise TopologyConfigError with every problem, or plan it."""
    problems = setting_problems(raw.config_keys)
    keys, failed, key_problems = parse_keys(raw.keys)
    guardrails, failed_guardrails, guardrail_problems = parse_specs(
        raw.guardrails, GUARDRAILS, GuardrailSpec
    )
    workspaces, failed_workspaces, workspace_problems = parse_specs(
        raw.workspaces, WORKSPACES, WorkspaceSpec
    )
    problems += key_problems + guardrail_problems + workspace_problems
    targets, target_problems = parse_management_targets(raw.management_key_targets)
    protect_keys, protect_problems = parse_protect_keys(raw.protect_keys)
    quiet_period, quiet_problems = parse_quiet_period(raw.retire_quiet_period)
    in_use, in_use_problems = parse_retire_in_use(raw.retire_in_use)
    adopted, adopted_problems = parse_adopted_secrets(raw)
    management_key, source = management_key_from(raw, environ)
    problems += target_problems + protect_problems + quiet_problems + in_use_problems
    problems += api_base_url_problems(raw.api_base_url, environ)
    problems += adopted_problems
    github_owner = (raw.github_owner or "").strip() or None
    facts = Facts(
        stack=stack,
        github_owner=github_owner,
        management_key_source=source,
        management_key_fingerprint=management_key.fingerprint if management_key else None,
        management_key_in_plain_text=source == CONFIG_SOURCE and not raw.management_key_is_secret,
        vercel_team_set=bool((raw.vercel_team or "").strip()),
        adopted_secret_fingerprints={
            key_id: secret.fingerprint for key_id, secret in adopted.items() if key_id not in failed
        },
    )
    problems += all_problems(keys, targets, facts)
    problems += all_governance_problems(
        keys,
        guardrails,
        workspaces,
        stack,
        unparsed=(failed_guardrails, failed_workspaces),
    )
    if problems or targets is None:
        raise TopologyConfigError(problems)
    plan = make_plan(
        stack,
        keys=keys,
        management_targets=targets,
        protect_keys=protect_keys,
        github_owner=github_owner,
        adopted_secret_ids=frozenset(adopted),
        guardrails=guardrails,
        workspaces=workspaces,
    )
    token = (raw.github_token or "").strip()
    api_base_url = find_api_base_url(raw.api_base_url, environ)
    return StackConfig(
        plan=plan,
        management_key=management_key,
        management_key_source=source,
        adopted_secrets=adopted,
        github_token=Secret(token) if token else None,
        github_base_url=(raw.github_base_url or "").strip() or None,
        api_base_url=normal_base_url(api_base_url.value),
        api_base_url_setting=api_base_url.setting,
        retirement=RetirementPolicy(quiet_period, in_use),
    )
