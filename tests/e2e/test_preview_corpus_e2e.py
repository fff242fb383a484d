"""A preview shows what `up` does, no more and no less (issue 19, item 4), over a corpus of edits.

One stack with a workspace (budgets, a default guardrail), two guardrails and keys assigned to
them is deployed once; then every setting of every resource is changed, one at a time, in
sequence. For each edit, `pulumi preview --json` gives the planned step of every resource, then
`pulumi up --skip-preview` runs it, and what `up` did is read off the emulator's request log and
the state before and after:

- a resource whose id stayed and that got no write: `same`;
- one whose id stayed and that got writes: `update` (a PATCH of that object; a workspace's
  budgets are a PUT or DELETE per interval);
- one whose id changed: `replace` (a create and a delete);
- one only after: `create`; one only before: `delete`.

The preview's steps must equal those, resource by resource, and every write must belong to a
resource the preview named. Before the fix, raising a key's limit previewed the key's guardrail
assignment as a replacement, and a new workspace slug previewed four replacements.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from e2e_harness import Emulator, PulumiProject, engine_skip_reason
from test_governance_e2e import new_stack

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

DYNAMIC = "pulumi-python:dynamic/openrouter:"
API = "/api/v1"
REPLACING = frozenset({"replace", "create-replacement", "delete-replaced"})
PATCHED = frozenset(
    {
        "ApiKey",
        "Guardrail",
        "Workspace",
        "DefaultGuardrail",
        "ByokCredential",
        "ObservabilityDestination",
    }
)
"""Types whose in-place update is exactly one PATCH of the object."""
CREATED_BY_POST = {
    "/keys": "ApiKey",
    "/guardrails": "Guardrail",
    "/workspaces": "Workspace",
    "/byok": "ByokCredential",
    "/observability/destinations": "ObservabilityDestination",
}

Config = dict[str, Any]


def deployed() -> Config:
    """The stack every edit starts from (the previous edit's result)."""
    return {
        "workspaces": {
            "agents": {
                "name": "Agents",
                "description": "agents of the corpus",
                "budgets": {"monthly": 500, "weekly": 150},
                "defaultGuardrail": {"enforceZdr": {"other": True}},
            },
        },
        "guardrails": {
            "cheap": {
                "description": "one small model",
                "limitUsd": 20,
                "resetInterval": "monthly",
                "allowedModels": ["openai/gpt-4o-mini"],
                "workspace": "agents",
            },
            "strict": {"allowedProviders": ["anthropic"], "workspace": "agents"},
        },
        "keys": {
            "ci": {
                "limit": 5,
                "limitReset": "daily",
                "workspace": "agents",
                "guardrail": "cheap",
            },
            "web": {"limit": 10},
        },
    }


def _set(*path: str, value: Any) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        node = config
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    return edit


def _drop(*path: str) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        node = config
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def _both(*edits: Callable[[Config], None]) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        for one in edits:
            one(config)

    return edit


@dataclass(frozen=True)
class Edit:
    setting: str
    """The setting as the stack file writes it, and what is done to it."""
    apply: Callable[[Config], None]
    refused: bool = False
    """The program refuses it: the preview fails, `up` fails with no write, and it is undone."""


CORPUS: tuple[Edit, ...] = (
    # keys: every setting of a key that lives in a workspace and holds a guardrail
    Edit("keys.ci.limit raised", _set("keys", "ci", "limit", value=7)),
    Edit("keys.ci.limitReset", _set("keys", "ci", "limitReset", value="weekly")),
    Edit("keys.ci.includeByokInLimit", _set("keys", "ci", "includeByokInLimit", value=True)),
    Edit("keys.ci.disabled", _set("keys", "ci", "disabled", value=True)),
    Edit("keys.ci.disabled: false", _set("keys", "ci", "disabled", value=False)),
    Edit("keys.ci.name", _set("keys", "ci", "name", value="corpus-ci")),
    Edit("keys.ci.protect", _set("keys", "ci", "protect", value=True)),
    Edit("keys.ci.guardrail moved", _set("keys", "ci", "guardrail", value="strict")),
    Edit("keys.ci.guardrail removed", _drop("keys", "ci", "guardrail")),
    Edit("keys.ci.guardrail added", _set("keys", "ci", "guardrail", value="cheap")),
    Edit(
        "keys.ci.expiresAt",
        _set("keys", "ci", "expiresAt", value="2099-01-01T00:00:00Z"),
        refused=True,
    ),
    Edit("keys.web.workspace", _set("keys", "web", "workspace", value="agents"), refused=True),
    Edit(
        "keys.web.workspace (a new one)",
        _both(
            _set("workspaces", "tools", value={}), _set("keys", "web", "workspace", value="tools")
        ),
        refused=True,
    ),
    Edit(
        "keys.web.rotations (a new generation)",
        _set("keys", "web", "rotations", value=["2026-11-01", "2026-12-01"]),
    ),
    Edit(
        "keys.web.rotations (the old one retired)",
        _set("keys", "web", "rotations", value=["2026-12-01"]),
    ),
    # guardrails: every policy setting, its name, and its workspace
    Edit("guardrails.cheap.limitUsd", _set("guardrails", "cheap", "limitUsd", value=30)),
    Edit(
        "guardrails.cheap.resetInterval",
        _set("guardrails", "cheap", "resetInterval", value="weekly"),
    ),
    Edit(
        "guardrails.cheap.includeByokInBudgets",
        _set("guardrails", "cheap", "includeByokInBudgets", value=True),
    ),
    Edit(
        "guardrails.cheap.allowedModels",
        _set("guardrails", "cheap", "allowedModels", value=["openai/gpt-4o"]),
    ),
    Edit(
        "guardrails.cheap.ignoredModels",
        _set("guardrails", "cheap", "ignoredModels", value=["openai/gpt-4o-mini"]),
    ),
    Edit(
        "guardrails.cheap.allowedProviders",
        _set("guardrails", "cheap", "allowedProviders", value=["openai"]),
    ),
    Edit(
        "guardrails.cheap.ignoredProviders",
        _set("guardrails", "cheap", "ignoredProviders", value=["azure"]),
    ),
    Edit(
        "guardrails.cheap.enforceZdr",
        _set("guardrails", "cheap", "enforceZdr", value={"openai": True}),
    ),
    Edit(
        "guardrails.cheap.allowTraining",
        _set("guardrails", "cheap", "allowTraining", value={"paidModelTraining": False}),
    ),
    Edit(
        "guardrails.cheap.contentFilters",
        _set(
            "guardrails",
            "cheap",
            "contentFilters",
            value=[{"builtin": "secrets", "action": "redact"}],
        ),
    ),
    Edit(
        "guardrails.cheap.allowedDataRegions",
        _set("guardrails", "cheap", "allowedDataRegions", value=["europe"]),
    ),
    Edit(
        "guardrails.cheap.description",
        _set("guardrails", "cheap", "description", value="two models"),
    ),
    Edit("guardrails.cheap.name", _set("guardrails", "cheap", "name", value="corpus-cheap")),
    Edit("guardrails.strict.workspace (replace)", _drop("guardrails", "strict", "workspace")),
    # workspaces: its settings, its budgets, its default guardrail
    Edit("workspaces.agents.name", _set("workspaces", "agents", "name", value="Corpus agents")),
    Edit("workspaces.agents.slug", _set("workspaces", "agents", "slug", value="corpus-agents")),
    Edit(
        "workspaces.agents.description",
        _set("workspaces", "agents", "description", value="renamed"),
    ),
    Edit(
        "workspaces.agents.budgets lowered",
        _set("workspaces", "agents", "budgets", value={"monthly": 100, "weekly": 50}),
    ),
    Edit(
        "workspaces.agents.budgets.daily added",
        _set("workspaces", "agents", "budgets", "daily", value=10),
    ),
    Edit(
        "workspaces.agents.includeByokInBudgets",
        _set("workspaces", "agents", "includeByokInBudgets", value=True),
    ),
    Edit(
        "workspaces.agents.defaultGuardrail",
        _set(
            "workspaces",
            "agents",
            "defaultGuardrail",
            value={"enforceZdr": {"other": True, "openai": True}},
        ),
    ),
    Edit(
        "workspaces.agents.defaultGuardrail removed",
        _drop("workspaces", "agents", "defaultGuardrail"),
    ),
    Edit(
        "workspaces.agents.budgets removed",
        _both(
            _drop("workspaces", "agents", "budgets"),
            _drop("workspaces", "agents", "includeByokInBudgets"),
        ),
    ),
)


def write(project: PulumiProject, config: Config) -> None:
    for setting, value in config.items():
        project.edit_config(setting, copy.deepcopy(value))


def ids(project: PulumiProject) -> dict[str, tuple[str, str]]:
    """URN -> (type name, id) of every OpenRouter resource in state."""
    return {
        r["urn"]: (r["type"].removeprefix(DYNAMIC), r.get("id", ""))
        for r in project.state().get("resources", [])
        if r["type"].startswith(DYNAMIC)
    }


def planned(project: PulumiProject) -> dict[str, str]:
    """URN -> the step `pulumi preview --json` plans for it (a replacement's steps as one)."""
    preview = json.loads(project.pulumi("preview", "--json").stdout)
    ops: dict[str, str] = {}
    for step in preview.get("steps", []):
        if not step["urn"].split("::")[2].startswith(DYNAMIC):
            continue
        op = "replace" if step["op"] in REPLACING else step["op"]
        ops[step["urn"]] = "replace" if ops.get(step["urn"]) == "replace" else op
    return ops


def targets(write: Mapping[str, Any]) -> list[str]:
    """The ids of the objects a write changed ([] for a create, which makes a new id)."""
    path = str(write["path"]).removeprefix(API)
    parts = path.strip("/").split("/")
    if path in CREATED_BY_POST and write["method"] == "POST":
        return []
    if parts[0] == "guardrails" and parts[2:4] == ["assignments", "keys"]:
        return [f"{parts[1]}/{h}" for h in (write.get("body") or {}).get("key_hashes", [])]
    if parts[0] == "workspaces" and parts[2:3] == ["budgets"]:
        return [f"{parts[1]}/budgets"]
    if parts[0] == "observability":
        return [parts[2]]
    return [parts[1]]


def by_object(writes: list[dict[str, Any]]) -> tuple[dict[str, list[str]], Counter[str]]:
    """Object id -> the methods written to it; and how many objects of each type were POSTed."""
    written: dict[str, list[str]] = {}
    creates: Counter[str] = Counter()
    for item in writes:
        found = targets(item)
        if not found:
            creates[CREATED_BY_POST[str(item["path"]).removeprefix(API)]] += 1
        for target in found:
            written.setdefault(target, []).append(str(item["method"]))
    return written, creates


def op_of(
    before: tuple[str, str] | None,
    after: tuple[str, str] | None,
    written: Mapping[str, list[str]],
) -> str:
    """What `up` did to one resource, from its (type, id) before and after and the writes."""
    if before is None:
        return "create"
    if after is None:
        return "delete"
    if before[1] != after[1]:
        return "replace"
    return "update" if before[1] in written else "same"


def moved(
    before: Mapping[str, tuple[str, str]], after: Mapping[str, tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """`before` with a resource renamed by an alias (a generation's own name once `rotations`
    is added) under its new URN: the same object, found by its type and id."""
    new_urns = {after[urn]: urn for urn in after.keys() - before.keys()}
    return {
        new_urns.get(held, urn) if urn not in after else urn: held for urn, held in before.items()
    }


def performed(
    before: Mapping[str, tuple[str, str]],
    after: Mapping[str, tuple[str, str]],
    writes: list[dict[str, Any]],
) -> tuple[dict[str, str], list[str]]:
    """URN -> what `up` did to it, from the state and the writes; plus every write no resource
    explains (a write the preview did not announce)."""
    written, creates = by_object(writes)
    before = moved(before, after)
    done = {urn: op_of(before.get(urn), after.get(urn), written) for urn in {*before, *after}}
    made = Counter(after[urn][0] for urn, op in done.items() if op in {"create", "replace"})
    explained = {i for u in done for i in (before.get(u, ("", ""))[1], after.get(u, ("", ""))[1])}
    unexplained = [
        f"{method} on {target}"
        for target, methods in written.items()
        if target not in explained
        for method in methods
    ]
    unexplained += [
        f"{count} POST creating {type_} for {made[type_]} new"
        for type_, count in creates.items()
        if count != made[type_]
    ]
    for urn, op in done.items():
        type_, id_ = after.get(urn) or before[urn]
        if op == "update" and type_ in PATCHED and written[id_] != ["PATCH"]:
            unexplained.append(f"{urn}: an update made {written[id_]}, not one PATCH")
    return done, unexplained


def adoptions(emulator: Emulator) -> tuple[Edit, ...]:
    """`adopt`: a key and a workspace made by hand, taken over by the stack."""
    key = emulator.seed_key("corpus-legacy")["hash"]
    workspace = emulator.seed_workspace("Found", "found")["id"]
    return (
        Edit("keys.legacy.adopt", _set("keys", "legacy", value={"adopt": key})),
        Edit("workspaces.found.adopt", _set("workspaces", "found", value={"adopt": workspace})),
    )


@pytest.mark.timeout(900)  # about 4 minutes on 2 busy cores; a loaded machine takes twice that
def test_every_edit_previews_exactly_what_up_does(
    project: PulumiProject, emulator: Emulator
) -> None:
    config = deployed()
    new_stack(project, emulator, protectKeys=False, **copy.deepcopy(config))
    project.pulumi("up", "--yes", "--skip-preview")
    walk(project, emulator, config, (*CORPUS, *adoptions(emulator)))


def scoped_deployed() -> Config:
    """Keys, a workspace, a BYOK credential and a destination restricted to some keys; the
    secrets are added, encrypted, by `encrypted` (a `secure:` value kept as written)."""
    return {
        "workspaces": {"agents": {}},
        "keys": {"api": {"rotations": ["2026-11-01"]}, "ci": {}},
        "byok": {"openai": {"provider": "openai", "keys": ["api"]}},
        "observability": {
            "lf": {"type": "langfuse", "config": {"publicKey": "pk-lf-corpus"}, "keys": ["ci"]}
        },
    }


def encrypted(project: PulumiProject, config: Config, path: str) -> None:
    """Set a secret as a user does (`--secret --path`) and keep its `secure:` value in `config`."""
    project.pulumi(
        "config", "set", "--secret", "--path", f"openrouter-keys:{path}", secrets.token_hex(16)
    )
    setting, *inner = path.split(".")
    written: Any = project.project_config()[f"openrouter-keys:{setting}"]
    node: Any = config[setting]
    for part in inner[:-1]:
        written, node = written[part], node[part]
    node[inner[-1]] = written[inner[-1]]


def _secret(path: str) -> Callable[[Config], None]:
    """A new secret value: applied by `encrypted` on the project the corpus walks."""

    def edit(config: Config) -> None:
        config.setdefault("__secrets__", []).append(path)

    return edit


SCOPED_CORPUS: tuple[Edit, ...] = (
    Edit("byok.openai.keys widened", _set("byok", "openai", "keys", value=["api", "ci"])),
    Edit("byok.openai.key (a new secret)", _secret("byok.openai.key")),
    Edit(
        "byok.openai.allowedModels",
        _set("byok", "openai", "allowedModels", value=["openai/gpt-4o"]),
    ),
    Edit("byok.openai.fallback", _set("byok", "openai", "fallback", value=True)),
    Edit("byok.openai.disabled", _set("byok", "openai", "disabled", value=True)),
    Edit("byok.openai.name", _set("byok", "openai", "name", value="corpus-openai")),
    Edit("byok.openai.keys removed", _drop("byok", "openai", "keys")),
    Edit(
        "keys.api.rotations (a new generation)",
        _both(
            _set("keys", "api", "rotations", value=["2026-11-01", "2026-12-01"]),
            _set("byok", "openai", "keys", value=["api"]),
        ),
    ),
    Edit(
        "keys.api.rotations (the old one retired)",
        _set("keys", "api", "rotations", value=["2026-12-01"]),
    ),
    Edit(
        "byok.openai.keys (unknown id)",
        _set("byok", "openai", "keys", value=["nope"]),
        refused=True,
    ),
    Edit("byok.openai.provider (replace)", _set("byok", "openai", "provider", value="anthropic")),
    Edit("byok.openai.workspace (replace)", _set("byok", "openai", "workspace", value="agents")),
    Edit(
        "observability.lf.config.secretKey (a new secret)",
        _secret("observability.lf.config.secretKey"),
    ),
    Edit(
        "observability.lf.config.baseUrl",
        _set("observability", "lf", "config", "baseUrl", value="https://eu.cloud.langfuse.com"),
    ),
    Edit("observability.lf.privacyMode", _set("observability", "lf", "privacyMode", value=True)),
    Edit("observability.lf.samplingRate", _set("observability", "lf", "samplingRate", value=0.5)),
    Edit("observability.lf.enabled", _set("observability", "lf", "enabled", value=False)),
    Edit(
        "observability.lf.filterRules",
        _set(
            "observability",
            "lf",
            "filterRules",
            value={
                "groups": [
                    {"rules": [{"field": "model", "operator": "starts_with", "value": "openai/"}]}
                ]
            },
        ),
    ),
    Edit(
        "observability.lf.broadcastGenerationCost",
        _set("observability", "lf", "broadcastGenerationCost", value=True),
    ),
    Edit("observability.lf.keys", _set("observability", "lf", "keys", value=["api", "ci"])),
    Edit("observability.lf.name", _set("observability", "lf", "name", value="corpus-lf")),
    Edit(
        "observability.lf.workspace (replace)",
        _set("observability", "lf", "workspace", value="agents"),
    ),
)


@pytest.mark.timeout(900)
def test_every_edit_of_a_credential_or_destination_previews_what_up_does(
    project: PulumiProject, emulator: Emulator
) -> None:
    config = scoped_deployed()
    new_stack(project, emulator, protectKeys=False, **copy.deepcopy(config))
    encrypted(project, config, "byok.openai.key")
    encrypted(project, config, "observability.lf.config.secretKey")
    project.pulumi("up", "--yes", "--skip-preview")
    walk(project, emulator, config, SCOPED_CORPUS)


def walk(
    project: PulumiProject, emulator: Emulator, config: Config, corpus: tuple[Edit, ...]
) -> None:
    """Each edit in turn: the preview's steps must be what `up --skip-preview` does."""
    state = ids(project)
    mismatches: list[str] = []
    for edit in corpus:
        if edit.refused:
            mismatches += refused(project, emulator, edit, config)
            continue
        edit.apply(config)
        new_secrets = config.pop("__secrets__", [])  # not a setting: never in the stack file
        write(project, config)
        for path in new_secrets:
            encrypted(project, config, path)
        plan = planned(project)
        emulator.clear_requests()
        result = project.pulumi("up", "--yes", "--skip-preview", check=False)
        assert result.returncode == 0, f"{edit.setting}: {result.output}"
        writes = [r for r in emulator.requests() if r["method"] != "GET"]
        after = ids(project)
        done, unexplained = performed(state, after, writes)
        state = after
        shown = {urn: op for urn, op in plan.items() if op != "same"}
        happened = {urn: op for urn, op in done.items() if op != "same"}
        if shown != happened or unexplained:
            mismatches.append(
                f"{edit.setting}: preview {_short(shown)}, up {_short(happened)}"
                + (f", unexplained writes {unexplained}" if unexplained else "")
            )
    assert mismatches == [], "\n".join(mismatches)
    project.pulumi("preview", "--expect-no-changes")


def refused(project: PulumiProject, emulator: Emulator, edit: Edit, config: Config) -> list[str]:
    """Apply a refused edit: the preview and `up` both stop on it before any write; undo it."""
    changed = copy.deepcopy(config)
    edit.apply(changed)
    write(project, changed)
    emulator.clear_requests()
    wrong = []
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        result = project.pulumi(*command, check=False)
        if result.returncode == 0:
            wrong.append(f"{edit.setting}: `pulumi {' '.join(command)}` passed")
    writes = [f"{r['method']} {r['path']}" for r in emulator.requests() if r["method"] != "GET"]
    if writes:
        wrong.append(f"{edit.setting}: refused, yet wrote {writes}")
    for setting in changed:
        if setting not in config:
            document = project.read_stack_config()
            del document["config"][f"openrouter-keys:{setting}"]
            project.write_stack_config(document)
    write(project, config)
    return wrong


def _short(ops: Mapping[str, str]) -> dict[str, str]:
    return {
        urn.rsplit("::", 2)[-2].split("$")[-1].removeprefix(DYNAMIC)
        + "::"
        + urn.rsplit("::", 1)[-1]: op
        for urn, op in sorted(ops.items())
    }
