"""Resources a stack scopes to some of its keys: BYOK provider credentials (`byok:`) and
observability destinations (`observability:`).

Both are secrets-bearing objects of the account that OpenRouter can restrict to a list of key
hashes. The stack file names key ids (`keys: [api, ci]`) and the program hands OpenRouter the hash
of every live generation of each, so a rotation widens the list before the new key is used and
narrows it only when the old generation is deleted (docs/config.md#byok-and-observability).

Everything a kind needs is one `ScopedKind` in `KINDS`: its section of the stack file, its spec
(the provider's settings table plus `ScopedFields`), where its secrets are, its model lists for
the catalogue check, and how its resource is registered. The rest of topology (config reading,
rules, plan, registration, the `governance` output, the inventory, audit) loops over `KINDS`.
Adding a kind: docs/architecture.md#add-a-resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

import pulumi
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from providers import (
    FIX_SEPARATOR,
    PER_TYPE_CAP,
    SECRET_CONFIG_KEYS,
    UUID,
    ByokCredential,
    ByokCredentialArgs,
    ByokSettings,
    DestinationSettings,
    ObservabilityDestination,
    ObservabilityDestinationArgs,
    config_error,
    shown,
)
from topology.model import _ConfigModel, openrouter_name
from topology.problem import Problem

MAX_KEY_HASHES = 100
"""OpenRouter accepts at most this many hashes in one restriction (reference: BYOK and
observability request bodies, `allowed_api_key_hashes` and `api_key_hashes`)."""


class ScopedFields(_ConfigModel):
    """What every scoped resource's entry has beside its settings."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    """OpenRouter's name for it; default `<stack>-<id>`."""
    workspace: str | None = Field(default=None, min_length=1)
    """A workspace id from `workspaces`, or a workspace UUID; default: the default workspace."""
    keys: list[str] | None = Field(default=None, min_length=1)
    """Key ids of this stack: only their live generations may use it. Omitted: every key."""
    adopt: str | None = Field(default=None, pattern=UUID.pattern)
    """The UUID of an existing object to manage instead of creating one."""

    @field_validator("keys", mode="before")
    @classmethod
    def _empty_is_no_restriction_only_when_absent(cls, value: Any) -> Any:
        """A bare `keys:` reads as null, which would silently allow every key of the account."""
        if value is None:
            raise ValueError(
                f"`keys:` is empty{FIX_SEPARATOR}list the key ids that may use it, e.g. keys:"
                " [api], or remove the `keys` line to allow every key of the account"
            )
        return value


class ByokSpec(ByokSettings, ScopedFields):
    """One entry of `byok:`: a provider's API key that OpenRouter holds for the account."""

    key: str = Field(min_length=1, repr=False)
    """The provider's API key; set with `pulumi config set --secret --path`."""


class DestinationSpec(DestinationSettings, ScopedFields):
    """One entry of `observability:`: where OpenRouter sends traces of the keys' requests."""

    config: dict[str, Any] = Field(repr=False)
    """The destination's settings as OpenRouter names them; secrets set with `--secret --path`."""

    @model_validator(mode="after")
    def _config_complete(self, info: ValidationInfo) -> DestinationSpec:
        where = info.context.get("path") if isinstance(info.context, dict) else None
        error = config_error(self.type, self.config, where)
        if error is not None:
            raise error
        return self


@dataclass(frozen=True)
class ScopedPlan:
    """One scoped resource, planned: its kind, its id in the stack file and its spec."""

    kind: ScopedKind
    scoped_id: str
    name: str
    workspace: str | None
    """A workspace id of this stack; None: `workspace_uuid` or the default workspace."""
    workspace_uuid: str | None
    spec: ScopedFields = field(repr=False)

    @property
    def config_path(self) -> str:
        return f"{self.kind.setting}.{self.scoped_id}"


@dataclass(frozen=True)
class ScopedKind:
    """One kind of scoped resource, as the stack file and the program see it."""

    setting: str
    """Its section of the stack file (`openrouter-keys:<setting>`) and of the output."""
    what: str
    example: str
    spec: type[ScopedFields]
    resource: Callable[[str, Any], pulumi.CustomResource]
    """Its resource class, called with (name, args)."""
    args: Callable[..., Any]
    """Its `...Args` class (an `ObjectArgs`)."""
    settings: type[BaseModel]
    """The provider's settings model, which `spec` extends."""
    hidden_input: str
    """The spec's field holding its secret (`key`, `config`), handed over as a Pulumi secret."""
    secrets: Callable[[Any], tuple[str, ...]]
    """The settings of an entry that hold secrets, as paths under the entry (`key`,
    `config.secretKey`): the stack file must hold them encrypted."""
    edge: str
    """The inventory diagram's words on an edge from a key to it."""
    model_lists: Callable[[Any], Mapping[str, Sequence[str]]] = lambda _spec: {}
    """Lists of model names, by setting, that must be in OpenRouter's catalogue."""
    rules: Callable[[Mapping[str, Any]], list[Problem]] = lambda _specs: []
    """Its own rules across its entries (id -> spec)."""

    def register(self, plan: ScopedPlan, hashes: Any, workspace_id: Any) -> pulumi.CustomResource:
        """Its resource, restricted to `hashes` (None: every key) in `workspace_id`."""
        spec = plan.spec
        settings = {name: getattr(spec, name) for name in self.settings.model_fields}
        return self.resource(
            plan.scoped_id,
            self.args(
                settings=self.settings.model_construct(**settings),
                **{self.hidden_input: pulumi.Output.secret(getattr(spec, self.hidden_input))},
                name=plan.name,
                workspace_id=workspace_id,
                allowed_key_hashes=hashes,
                adopt=spec.adopt,
                config_path=plan.config_path,
            ),
        )


def _per_type_cap(specs: Mapping[str, DestinationSpec]) -> list[Problem]:
    """OpenRouter keeps at most `PER_TYPE_CAP` destinations of a type in a workspace: more in
    the stack file would fail part-way through `up`, whichever the engine created last."""
    groups: dict[tuple[str, str | None], list[str]] = {}
    for scoped_id, spec in specs.items():
        groups.setdefault((spec.type, spec.workspace), []).append(scoped_id)
    return [
        Problem(
            f"observability.{ids[PER_TYPE_CAP]}",
            f"is one of {len(ids)} `{type_}` destinations declared for"
            f" {f'workspace {where}' if where else 'the default workspace'}"
            f" ({', '.join(ids)}); allowed: at most {PER_TYPE_CAP} of one type per workspace"
            " (OpenRouter's limit).",
            f"remove {len(ids) - PER_TYPE_CAP} of them, or give some another `workspace`.",
        )
        for (type_, where), ids in groups.items()
        if len(ids) > PER_TYPE_CAP
    ]


DEFAULT_WORKSPACE = "the default workspace"


def new_destinations(
    plans: Iterable[ScopedPlan],
    deployed: Iterable[str],
    workspace_ids: Mapping[str, str],
) -> dict[str | None, list[ScopedPlan]]:
    """The destinations this change creates, by the workspace OpenRouter files them in (a UUID;
    None: the default workspace). `deployed`: ids of the destinations the stack's record holds;
    `workspace_ids`: the UUID of each deployed workspace of the stack. One adopted, or in a
    workspace this change creates (which holds none yet), takes no new place."""
    found: dict[str | None, list[ScopedPlan]] = {}
    known = set(deployed)
    for plan in plans:
        if not isinstance(plan.spec, DestinationSpec) or plan.scoped_id in known or plan.spec.adopt:
            continue
        if plan.workspace is not None and plan.workspace not in workspace_ids:
            continue
        where = workspace_ids[plan.workspace] if plan.workspace else plan.workspace_uuid
        found.setdefault(where, []).append(plan)
    return found


def destination_cap_problems(
    new: Mapping[str | None, Sequence[ScopedPlan]],
    listed: Mapping[str | None, Sequence[tuple[str, str]] | str],
) -> list[Problem]:
    """Each new destination that would pass OpenRouter's cap of `PER_TYPE_CAP` of one type in
    a workspace, counting what OpenRouter lists there (`listed`: workspace -> (what names it,
    type) of each destination, or why it could not be read). The provider's check sees only
    what exists, so several new ones of one `up` would otherwise fail part-way, after the first
    writes."""
    problems = []
    for where, plans in new.items():
        answer = listed.get(where, ())
        place = f"workspace {where}" if where else DEFAULT_WORKSPACE
        if isinstance(answer, str):
            problems.append(
                Problem(
                    plans[0].config_path,
                    f"is a new observability destination, and which destinations {place} holds"
                    f" could not be read (OpenRouter keeps at most {PER_TYPE_CAP} of one type):"
                    f" {answer}",
                    "fix the management key or the API as the message says, then run the"
                    " preview again.",
                )
            )
            continue
        by_type: dict[str, list[ScopedPlan]] = {}
        for plan in plans:
            type_: str = plan.spec.type if isinstance(plan.spec, DestinationSpec) else ""
            by_type.setdefault(type_, []).append(plan)
        for type_, adding in by_type.items():
            there = [named for named, held in answer if held == type_]
            if len(there) + len(adding) <= PER_TYPE_CAP:
                continue
            first_over = adding[max(PER_TYPE_CAP - len(there), 0)]
            problems.append(
                Problem(
                    first_over.config_path,
                    f"would be one of {len(there) + len(adding)} `{type_}` destinations in"
                    f" {place}: OpenRouter lists {len(there)} there"
                    f" ({', '.join(there) or 'none'}) and this change creates"
                    f" {', '.join(p.scoped_id for p in adding)}; allowed: at most"
                    f" {PER_TYPE_CAP} of one type per workspace (OpenRouter's limit).",
                    f"declare {len(there) + len(adding) - PER_TYPE_CAP} fewer, give some another"
                    " `workspace`, or delete one OpenRouter lists that no stack needs (`python -m"
                    " cli audit` lists those no stack manages).",
                )
            )
    return problems


def _destination_secrets(spec: DestinationSpec) -> tuple[str, ...]:
    secret = SECRET_CONFIG_KEYS.get(spec.type, frozenset())
    return tuple(f"config.{name}" for name in spec.config if name in secret)


KINDS: tuple[ScopedKind, ...] = (
    ScopedKind(
        setting="byok",
        what="BYOK credential",
        example="{openai-prod: {provider: openai, keys: [api]}}",
        spec=ByokSpec,
        resource=ByokCredential,
        args=ByokCredentialArgs,
        settings=ByokSettings,
        hidden_input="key",
        secrets=lambda _spec: ("key",),
        edge="may call through",
        model_lists=lambda spec: {"allowedModels": spec.allowed_models or ()},
    ),
    ScopedKind(
        setting="observability",
        what="observability destination",
        example="{langfuse-prod: {type: langfuse, config: {...}}}",
        spec=DestinationSpec,
        resource=ObservabilityDestination,
        args=ObservabilityDestinationArgs,
        settings=DestinationSettings,
        hidden_input="config",
        secrets=_destination_secrets,
        edge="traced to",
        rules=_per_type_cap,
    ),
)
KIND_BY_SETTING: Mapping[str, ScopedKind] = {kind.setting: kind for kind in KINDS}


# --- planning and rules (pure) ------------------------------------------------------------------


def scoped_plans(
    specs: Mapping[str, Mapping[str, ScopedFields]], stack: str
) -> tuple[ScopedPlan, ...]:
    """Every scoped entry, kind by kind in `KINDS` order, each in stack-file order."""
    plans = []
    for kind in KINDS:
        for scoped_id, spec in specs.get(kind.setting, {}).items():
            ref = spec.workspace
            uuid = ref if ref is not None and UUID.match(ref) else None
            plans.append(
                ScopedPlan(
                    kind=kind,
                    scoped_id=scoped_id,
                    name=openrouter_name(spec.name, scoped_id, stack),
                    workspace=None if uuid is not None else ref,
                    workspace_uuid=uuid,
                    spec=spec,
                )
            )
    return tuple(plans)


def written_leaves(value: Any, prefix: str = "") -> dict[str, bool]:
    """Every leaf of a section as the stack file writes it: path under the section -> whether
    it is encrypted (`{secure: ...}`)."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return {prefix: True}
        found: dict[str, bool] = {}
        for name, inner in value.items():
            found.update(written_leaves(inner, f"{prefix}.{name}" if prefix else str(name)))
        return found
    return {prefix: False}


def plain_text_problems(
    kind: ScopedKind,
    specs: Mapping[str, ScopedFields],
    section_is_secret: bool,
    written: Mapping[str, bool] | None = None,
) -> list[Problem]:
    """A secret written in plain text is exposed wherever the stack file went: refused.

    `written` is the section as the stack file holds it (`written_leaves`): each secret must be
    encrypted there. Without it (the value came from elsewhere, such as an environment), Pulumi
    says only whether the section holds any encrypted value, and one with none is refused."""
    problems = []
    for scoped_id, spec in specs.items():
        for secret in kind.secrets(spec):
            path = f"{scoped_id}.{secret}"
            encrypted = written.get(path, False) if written is not None else section_is_secret
            if encrypted:
                continue
            where = f"{kind.setting}.{path}"
            problems.append(
                Problem(
                    where,
                    "is stored in plain text in the stack file (the value is not shown);"
                    " allowed: an encrypted (secure:) value only.",
                    "delete it from the stack file, revoke it where it was issued (it is"
                    " exposed wherever the file went), and set the new one with `pulumi config"
                    f" set --secret --path 'openrouter-keys:{where}' <value>`.",
                )
            )
    return problems


def reference_problems(
    kind: ScopedKind,
    specs: Mapping[str, ScopedFields],
    key_generations: Mapping[str, int],
    workspaces: Iterable[str],
) -> list[Problem]:
    """`keys` names keys of this stack, each once, within OpenRouter's limit of hashes;
    `workspace` names a workspace of this stack or a UUID. `key_generations`: key id -> how
    many live generations it has (a key that failed to parse counts as one)."""
    declared_workspaces = set(workspaces)
    problems = []
    for scoped_id, spec in specs.items():
        path = f"{kind.setting}.{scoped_id}"
        ref = spec.workspace
        if ref is not None and ref not in declared_workspaces and not UUID.match(ref):
            problems.append(_unknown(f"{path}.workspace", ref, declared_workspaces, "workspaces"))
        seen: set[str] = set()
        for index, key_id in enumerate(spec.keys or ()):
            where = f"{path}.keys[{index}]"
            if key_id not in key_generations:
                problems.append(_unknown(where, key_id, key_generations, "keys"))
            elif key_id in seen:
                problems.append(
                    Problem(
                        where,
                        f"{shown(key_id)} is listed twice; allowed: each key id once.",
                        "remove the repeat.",
                    )
                )
            seen.add(key_id)
        hashes = sum(key_generations.get(key_id, 0) for key_id in seen)
        if hashes > MAX_KEY_HASHES:
            problems.append(
                Problem(
                    f"{path}.keys",
                    f"lists keys with {hashes} live generations; allowed: at most"
                    f" {MAX_KEY_HASHES} key hashes in one restriction (OpenRouter's limit).",
                    "list fewer keys, retire old generations, or remove `keys` to allow every"
                    " key of the account.",
                )
            )
    return problems


def _unknown(path: str, value: str, declared: Iterable[str], section: str) -> Problem:
    names = sorted(declared)
    close = get_close_matches(value, names, n=1)
    listed = ", ".join(names) if names else f"none declared in `{section}`"
    also = ", or a workspace UUID" if section == "workspaces" else ""
    fix = f"correct it to `{close[0]}`" if close else f"declare `{section}.{value}`, or remove it"
    what = "workspace" if section == "workspaces" else "key id"
    return Problem(
        path, f"{shown(value)} is not a {what} of this stack; allowed: {listed}{also}.", f"{fix}."
    )
