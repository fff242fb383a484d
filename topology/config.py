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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import TypeVar

import pulumi
import pulumi.runtime.config
import yaml
from pulumi.runtime.config import get_config_env
from pydantic import BaseModel, ValidationError

from providers import (
    API_BASE_URL_SETTING,
    BASE_URL_FIX,
    CONFIG_NAMESPACE,
    DEFAULT_BASE_URL,
    base_url_problem,
    find_api_base_url,
    find_management_key,
    mask,
    normal_base_url,
    shown,
)
from topology.config_errors import pydantic_problems
from topology.governance_rules import all_governance_problems, spec_id_problems
from topology.model import (
    GuardrailSpec,
    KeySpec,
    ManagementKeyTargets,
    WorkspaceSpec,
    setting_names,
)
from topology.plan import Plan, make_plan
from topology.retirement import (
    RetirementPolicy,
    parse_quiet_period,
    parse_retire_in_use,
)
from topology.rules import Facts, Problem, TopologyConfigError, all_problems
from topology.scoped import (
    KINDS,
    ScopedFields,
    plain_text_problems,
    reference_problems,
    written_leaves,
)
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
    scoped: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    """`byok`, `observability`, ... (topology/scoped.py) as JSON text: they hold secrets."""
    scoped_secret: frozenset[str] = frozenset()
    """The scoped sections that hold an encrypted value."""
    scoped_written: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    """Each scoped section as the stack file writes it: leaf path -> encrypted (absent: the
    file does not hold the section, or cannot be read)."""


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
        scoped={kind.setting: config.get(kind.setting) for kind in KINDS},
        scoped_secret=frozenset(kind.setting for kind in KINDS if is_secret(kind.setting)),
        scoped_written=scoped_as_written(STACK_DIR / f"Pulumi.{pulumi.get_stack()}.yaml"),
    )


def scoped_as_written(stack_file: Path) -> dict[str, dict[str, bool]]:
    """Which leaves of each scoped section the stack file encrypts: Pulumi hands the program
    the values decrypted and says only whether a section holds any secret, which let a second
    secret in plain text pass once one was encrypted."""
    try:
        document = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        return {}
    return {
        kind.setting: written_leaves(config[f"{NAMESPACE}:{kind.setting}"])
        for kind in KINDS
        if f"{NAMESPACE}:{kind.setting}" in config
    }


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
    secret: bool = False
    """Its entries hold secrets: no value of it is ever quoted in a problem."""


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
        return (
            {},
            set(),
            [
                Problem(
                    section.name,
                    f"is {_kind(value)}, not a map of {section.what} id to {section.what} spec;"
                    f" allowed: a map such as {section.example}.",
                    f"write `{section.name}:` as a map under `{NAMESPACE}:{section.name}` in the"
                    " stack file (docs/config.md).",
                )
            ],
        )
    parsed: dict[str, _Spec] = {}
    failed: set[str] = set()
    problems: list[Problem] = []
    for spec_id, written in value.items():
        path = f"{section.name}.{spec_id}"
        spec = {} if written is None else written  # `production:` with nothing under it
        if not isinstance(spec, dict):
            failed.add(spec_id)
            value = "the value (not shown)" if section.secret else shown(spec)
            problems.append(
                Problem(
                    path,
                    f"{value} is not a {section.what} spec; allowed: a map of settings,"
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
            validated = model.model_validate(spec, context={"path": path})
        except ValidationError as error:
            failed.add(spec_id)
            problems.extend(pydantic_problems(path, model, error, hide_values=section.secret))
            continue
        if not nested:
            parsed[spec_id] = validated
    return parsed, failed, problems


def nested_specs(spec: Mapping[str, object], model: type[BaseModel]) -> list[str]:
    """The names in a spec that are no setting of it but read as a whole spec of its section:
    ids of the section indented one level too deep (YAML puts them under the id above), whose
    fix is the indentation, not "remove it". A value that is empty reads so only when its name
    is not close to a setting (an empty misspelt setting stays a misspelt setting)."""
    allowed = setting_names(model)
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
    (providers/http/credentials.py) before anything is registered or sent."""
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


def parse_scoped(
    raw: RawConfig,
    keys: Mapping[str, KeySpec],
    failed_keys: set[str],
    workspaces: set[str],
) -> tuple[dict[str, dict[str, ScopedFields]], list[Problem]]:
    """Every scoped section (topology/scoped.py), its entries and their rules."""
    generations = {key_id: len(spec.rotations or ()) or 1 for key_id, spec in keys.items()}
    generations.update(dict.fromkeys(failed_keys, 1))
    found: dict[str, dict[str, ScopedFields]] = {}
    problems: list[Problem] = []
    for kind in KINDS:
        section = Section(kind.setting, kind.what, kind.example, secret=True)
        specs, _, section_problems = parse_specs(raw.scoped.get(kind.setting), section, kind.spec)
        problems += spec_id_problems(kind.setting, kind.what, specs)
        problems += section_problems
        problems += plain_text_problems(
            kind,
            specs,
            kind.setting in raw.scoped_secret,
            raw.scoped_written.get(kind.setting),
        )
        problems += reference_problems(kind, specs, generations, workspaces)
        problems += kind.rules(specs)
        found[kind.setting] = specs
    return found, problems


def management_key_from(
    raw: RawConfig, environ: Mapping[str, str]
) -> tuple[Secret | None, str | None]:
    """The key the provider will use (providers/http/credentials.py decides which), and its source:
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
    scoped, scoped_problems = parse_scoped(raw, keys, failed, {*workspaces, *failed_workspaces})
    problems += scoped_problems
    targets, target_problems = parse_management_targets(raw.management_key_targets)
    protect_keys, protect_problems = parse_protect_keys(raw.protect_keys)
    quiet_period, quiet_problems = parse_quiet_period(raw.retire_quiet_period)
    in_use, in_use_problems = parse_retire_in_use(_json(raw.retire_in_use))
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
        scoped=scoped,
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
