"""Run the real program (`__main__.py`) under Pulumi mocks and record what it registered.

- `RecordingMonitor` keeps every `RegisterResourceRequest` field the tests assert on (protect,
  delete-before-replace, aliases, parent, dependencies, ignore-changes, provider, which inputs
  arrive as secrets) and every invoke: the mock monitor ignores resource options, so asserting
  them on the request is the only honest way.
- `TopologyMocks` answers like the engine would: an `ApiKey` gets a hash, a masked label and its
  key as a wrapped secret (the mock monitor ignores `additional_secret_outputs`).
- `stack_file_config()` turns `stacks/Pulumi.<stack>.yaml` into what Pulumi hands the program:
  namespaced keys, objects as JSON text, and each `secure:` value replaced by a key-shaped dummy
  generated at run time (the dummies are returned, so tests can prove they never leak).

Also used by `bench/bench_topology.py`.
"""

from __future__ import annotations

import hashlib
import json
import runpy
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from emulator import catalogue as emulator_catalogue
from providers import CatalogueModel, CatalogueProvider
from tests.support.sentinel import make_sentinel, masked
from topology import openrouter as program_openrouter
from topology.__main__ import yaml_plain as _plain
from topology.catalogue import (
    MODELS,
    PROVIDERS,
    Catalogue,
    Kind,
    model_catalogue,
    provider_catalogue,
)

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "__main__.py"
STACKS = ROOT / "stacks"
PROJECT = "openrouter-keys"
API_KEY_TYPE = "pulumi-python:dynamic/openrouter:ApiKey"
DYNAMIC = "pulumi-python:dynamic/openrouter:"
WORKSPACE_TYPE = f"{DYNAMIC}Workspace"
GUARDRAIL_TYPE = f"{DYNAMIC}Guardrail"
DEFAULT_GUARDRAIL_TYPE = f"{DYNAMIC}DefaultGuardrail"
ASSIGNMENT_TYPE = f"{DYNAMIC}GuardrailAssignment"
BUDGETS_TYPE = f"{DYNAMIC}WorkspaceBudgets"


def emulator_catalogues() -> dict[Kind, Catalogue]:
    """The emulator's catalogue (emulator/catalogue.py) as the program's check reads it."""
    models = [CatalogueModel(m.id, m.canonical_slug) for m in emulator_catalogue.MODELS]
    providers = [CatalogueProvider(p.slug, p.name) for p in emulator_catalogue.PROVIDERS]
    return {MODELS: model_catalogue(models), PROVIDERS: provider_catalogue(providers)}


def fake_uuid(*parts: str) -> str:
    """A stable UUID-shaped id for a mocked object (what OpenRouter would assign)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))
COMPONENT_TYPE = "openrouter-keys:index:KeyTopology"
SECRET_SIG = rpc._special_sig_key
GET_REPOSITORY = "github:index/getRepository:getRepository"
GET_PROJECT = "vercel:index/getProject:getProject"
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


def _is_wire_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == rpc._special_secret_sig


@dataclass(frozen=True)
class Registration:
    """One `RegisterResource` call, as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    protect: bool | None
    delete_before_replace: bool
    aliases: tuple[dict[str, Any], ...]
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    ignore_changes: tuple[str, ...]
    provider: str
    inputs: Mapping[str, Any]
    """Inputs as sent on the wire: secrets are still wrapped (`secret_inputs` names them)."""
    secret_inputs: frozenset[str]

    @property
    def parent_name(self) -> str:
        return self.parent.rsplit("::", 1)[-1] if self.parent else ""

    @property
    def alias_names(self) -> tuple[str, ...]:
        """The former names among the aliases (an alias of the parent only has none)."""
        names = (alias.get("spec", {}).get("name", "") for alias in self.aliases)
        return tuple(dict.fromkeys(name for name in names if name))

    @property
    def alias_parents(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                alias["spec"]["parentUrn"]
                for alias in self.aliases
                if alias.get("spec", {}).get("parentUrn")
            )
        )

    @property
    def key_id(self) -> str:
        """The key id (or `@management-key`) a key's or sink's resource belongs to: the name of
        the component it hung under before ADR 0010, which its alias names."""
        parents = self.alias_parents
        return parents[0].rsplit("::", 1)[-1] if parents else ""


@dataclass(frozen=True)
class Invocation:
    token: str
    args: Mapping[str, Any]
    provider: str


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, plus a record of every registration and invoke."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.invocations: list[Invocation] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        wire = json_format.MessageToDict(request.object) if request.HasField("object") else {}
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                protect=request.protect if request.HasField("protect") else None,
                delete_before_replace=request.deleteBeforeReplace,
                aliases=tuple(json_format.MessageToDict(alias) for alias in request.aliases),
                dependencies=tuple(request.dependencies),
                property_dependencies={
                    key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
                },
                ignore_changes=tuple(request.ignoreChanges),
                provider=request.provider,
                inputs=wire,
                secret_inputs=frozenset(k for k, v in wire.items() if _is_wire_secret(v)),
            )
        )
        return response

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self.invocations.append(
            Invocation(
                request.tok, json_format.MessageToDict(request.args), request.provider
            )
        )
        return super().Invoke(request)


CREATED_AT = "2026-12-01T09:30:00Z"
"""When every mocked key was made, as OpenRouter writes it."""


class TopologyMocks(pulumi.runtime.Mocks):
    """Engine stand-in: keys get generated secrets; lookups answer with stable fake ids; a
    stack's recorded outputs (what it last deployed) come from `stack_outputs`, by stack name."""

    def __init__(
        self,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        updates_in_preview: bool = False,
    ) -> None:
        self.secrets: dict[str, str] = {}
        self.stack_outputs = dict(stack_outputs or {})
        self.updates_in_preview = updates_in_preview
        self.catalogue_asks: list[frozenset[Kind]] = []
        self.destination_asks: list[list[str | None]] = []
        self.listed_destinations: dict[str | None, list[tuple[str, str]] | str] = {}
        """What OpenRouter lists in each workspace: (id, type) per destination; none by default."""

    def catalogues(self, _config: object, kinds: frozenset[Kind]) -> dict[Kind, Catalogue | str]:
        """OpenRouter's model and provider lists as the emulator serves them, in place of the
        program's `GET /models` and `GET /providers` (no network under mocks); each ask kept."""
        self.catalogue_asks.append(kinds)
        return {kind: emulator_catalogues()[kind] for kind in kinds}

    def destinations(
        self, _config: object, workspaces: Sequence[str | None]
    ) -> dict[str | None, list[tuple[str, str]] | str]:
        """The program's listing of observability destinations per workspace (no network under
        mocks): `listed_destinations`, empty by default; each ask kept."""
        self.destination_asks.append(list(workspaces))
        return {w: self.listed_destinations.get(w, []) for w in workspaces}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, state = self._made(args)
        if self.updates_in_preview and args.custom:
            # What the engine answers in a preview for a resource it updates in place through a
            # provider without previews of its own (every dynamic one): the id it already has,
            # and the new inputs as the only outputs; every other output is unknown.
            return resource_id, {k: v for k, v in args.inputs.items() if k != "__provider"}
        return resource_id, state

    def _made(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        if args.typ == API_KEY_TYPE:
            adopted = inputs.get("adopt_secret")
            secret = rpc.unwrap_rpc_secret(adopted) if adopted else make_sentinel()
            self.secrets[args.name] = secret
            key_hash = inputs.get("adopt") or hashlib.sha256(secret.encode()).hexdigest()
            return key_hash, {
                **inputs,
                "hash": key_hash,
                "created_at": CREATED_AT,
                "label": masked(secret),
                "key": rpc.wrap_rpc_secret(secret),
            }
        if not args.custom:
            return None, {}
        if args.typ == WORKSPACE_TYPE:
            made = inputs.get("adopt") or fake_uuid("workspace", args.name)
            return made, {
                **inputs,
                "workspace_id": made,
                "default_guardrail_id": fake_uuid("default", made),
            }
        if args.typ == GUARDRAIL_TYPE:
            made = inputs.get("adopt") or fake_uuid("guardrail", args.name)
            return made, {**inputs, "guardrail_id": made}
        if args.typ == DEFAULT_GUARDRAIL_TYPE:
            made = fake_uuid("default", str(inputs.get("workspace_id")))
            return made, {**inputs, "guardrail_id": made}
        return f"{args.name}-id", inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == READ_STACK_OUTPUTS:
            stack = args.args["name"].rsplit("/", 1)[-1]
            outputs = self.stack_outputs.get(stack, {})  # none: a stack never deployed
            return {"name": args.args["name"], "outputs": outputs, "secretOutputNames": []}
        if args.token == GET_REPOSITORY:
            full_name = args.args["fullName"]
            number = int(hashlib.sha256(full_name.casefold().encode()).hexdigest()[:8], 16)
            return {"repoId": number, "fullName": full_name}
        if args.token == GET_PROJECT:
            name = args.args["name"]
            return {"id": "prj_" + hashlib.sha256(name.encode()).hexdigest()[:16], "name": name}
        raise AssertionError(f"unexpected invoke {args.token}")


@dataclass
class ProgramRun:
    """What one run of the program registered and exported."""

    registrations: list[Registration]
    invocations: list[Invocation]
    outputs: dict[str, Any] = field(default_factory=dict)
    output_secret: dict[str, bool] = field(default_factory=dict)
    error: BaseException | None = None
    key_secrets: dict[str, str] = field(default_factory=dict)
    catalogue_asks: list[frozenset[Kind]] = field(default_factory=list)
    """Which of OpenRouter's lists each run of the catalogue check asked for."""

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def named(self, type_: str, name: str) -> Registration:
        found = [r for r in self.of_type(type_) if r.name == name]
        assert len(found) == 1, f"{type_} {name}: {len(found)} registrations"
        return found[0]

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.registrations}

    @property
    def sinks(self) -> list[Registration]:
        return [
            r for r in self.registrations
            if r.custom and r.type != API_KEY_TYPE and not r.type.startswith("pulumi:providers:")
        ]


@contextmanager
def mocked_runtime(
    config: Mapping[str, str],
    secret_keys: Sequence[str],
    stack: str,
    record: bool = True,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    updates_in_preview: bool = False,
) -> Iterator[tuple[TopologyMocks, RecordingMonitor | pulumi_mocks.MockMonitor]]:
    """Mocks and config for one run; every global is put back afterwards.

    `record=False` uses the SDK's own mock monitor (the benchmark: no recording overhead).
    `updates_in_preview=True` runs a preview in which every resource exists and is updated in
    place (`TopologyMocks.new_resource`).
    """
    mocks = TopologyMocks(stack_outputs, updates_in_preview)
    monitor = RecordingMonitor(mocks) if record else pulumi_mocks.MockMonitor(mocks)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=updates_in_preview, monitor=monitor
    )
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    reader = program_openrouter.read_catalogues
    lister = program_openrouter.destinations_in
    program_openrouter.read_catalogues = mocks.catalogues  # type: ignore[assignment]
    program_openrouter.destinations_in = mocks.destinations  # type: ignore[assignment]
    try:
        yield mocks, monitor
    finally:
        program_openrouter.read_catalogues = reader
        program_openrouter.destinations_in = lister
        pulumi.runtime.set_all_config({}, [])
        settings.reset_options()


def run_callable(  # noqa: PLR0917 - the test harness's own call shape
    program: Callable[[], object],
    config: Mapping[str, str],
    secret_keys: Sequence[str] = (),
    stack: str = "dev",
    record: bool = True,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    updates_in_preview: bool = False,
) -> ProgramRun:
    with mocked_runtime(
        config, secret_keys, stack, record, stack_outputs, updates_in_preview=updates_in_preview
    ) as (mocks, monitor):
        error: BaseException | None = None
        try:
            _sync_await(run_pulumi_func(program))
        except Exception as caught:
            error = caught
        root = settings.get_root_resource()
        exported = dict(root.outputs) if root is not None and error is None else {}
        outputs: dict[str, Any] = {}
        secret: dict[str, bool] = {}
        for name, value in exported.items():
            output = pulumi.Output.from_input(value)
            outputs[name] = _sync_await(output.future())
            secret[name] = _sync_await(output.is_secret())
        recorded = monitor if isinstance(monitor, RecordingMonitor) else RecordingMonitor(mocks)
        return ProgramRun(
            registrations=list(recorded.registrations),
            invocations=list(recorded.invocations),
            outputs=outputs,
            output_secret=secret,
            error=error,
            key_secrets=dict(mocks.secrets),
            catalogue_asks=list(mocks.catalogue_asks),
        )


def run_program(
    config: Mapping[str, str],
    secret_keys: Sequence[str] = (),
    stack: str = "dev",
    record: bool = True,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    updates_in_preview: bool = False,
) -> ProgramRun:
    """Run `__main__.py` itself, as `pulumi up` would; `stack_outputs` are what each stack
    last deployed (by stack name; none: never deployed)."""
    return run_callable(
        lambda: runpy.run_path(str(PROGRAM), run_name="__main__"),
        config,
        secret_keys,
        stack,
        record,
        stack_outputs,
        updates_in_preview=updates_in_preview,
    )


# --- config as Pulumi hands it to the program --------------------------------------------------


def config_text(value: Any) -> str:
    """A config value as the program receives it: text, objects and lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _replace_secure(value: Any, dummies: list[str]) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            dummy = make_sentinel()
            dummies.append(dummy)
            return dummy, True
        out, any_secret = {}, False
        for key, item in value.items():
            out[key], was = _replace_secure(item, dummies)
            any_secret = any_secret or was
        return out, any_secret
    if isinstance(value, list):
        pairs = [_replace_secure(item, dummies) for item in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


@dataclass(frozen=True)
class StackFile:
    config: dict[str, str]
    secret_keys: tuple[str, ...]
    dummies: tuple[str, ...]
    """The run-time secrets standing in for `secure:` values."""


def config_from(document: Mapping[str, Any]) -> StackFile:
    """A stack file's `config:` map as Pulumi would pass it, `secure:` replaced by dummies."""
    dummies: list[str] = []
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, raw in (document.get("config") or {}).items():
        value, secret = _replace_secure(_plain(raw), dummies)
        config[key] = config_text(value)
        if secret:
            secret_keys.append(key)
    return StackFile(config, tuple(secret_keys), tuple(dummies))


def stack_document(stack: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))


def stack_file_config(stack: str) -> StackFile:
    return config_from(stack_document(stack))


def namespaced(values: Mapping[str, Any], namespace: str = PROJECT) -> dict[str, Any]:
    """{'keys': {...}} -> {'openrouter-keys:keys': {...}} (keys already namespaced are kept)."""
    return {k if ":" in k else f"{namespace}:{k}": v for k, v in values.items()}
