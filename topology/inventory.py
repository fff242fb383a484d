"""The inventory of a stack: every key and generation, its state, and what holds it; as a Markdown
table and a Mermaid diagram (docs/adr/0007-consumers-as-github-and-vercel-behave.md).

Pure: no Pulumi call. It joins two things:

- the plan of the stack file (`topology.plan.Plan`): which keys, generations and consumers exist,
  or, in a pull request, will exist once it is merged;
- the stack outputs of the last deployment (`pulumi stack output --json --show-secrets`): `keys`
  gives each generation's OpenRouter name and masked label, `inventory` the compact facts below
  (what the provider last saw: disabled flags and expiry dates, and the management key's masked
  label).

The rendered text is never a stack output: `pulumi up` prints every output on every run, and a
table with a diagram grows with every key and consumer. `python -m topology inventory` renders it
where a reader looks (the pull request comment, the deploy job's summary).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers import parse_instant
from topology.keys_output import GENERATION_SEPARATOR
from topology.plan import (
    MANAGEMENT_SOURCE,
    READABLE,
    GenerationPlan,
    KeyPlan,
    Plan,
    SinkKind,
    SinkPlan,
    generation_resource_name,
    shown_target,
)
from topology.scoped import ScopedPlan

INVENTORY_HEADER = (
    "key",
    "OpenRouter name",
    "masked value",
    "status",
    "type",
    "governed by",
    "consumers",
)
REGULAR = "regular"
MANAGEMENT = "management"
RETIRING = "none (older generation, unwired; retire it by removing it from `rotations`)"
EXPIRING_DAYS = 14
"""A key expiring within this many days is `expiring` (the same default as `cli audit`)."""
ACTIVE, DISABLED, EXPIRING, EXPIRED = "active", "disabled", "expiring", "expired"
NEW = "new: minted by the next pulumi up"
ADOPTED = "new: adopted by the next pulumi up"
REMOVED = "deleted by the next pulumi up"
UNKNOWN = "unknown"
NOT_MINTED = "(not minted yet)"
DIAGRAM_LIMIT = 40_000
"""Characters of Mermaid text GitHub still renders (its limit is 50,000); past it, consumers are
counted per key instead of drawn."""


@dataclass(frozen=True)
class GenerationFacts:
    """What the provider last saw of one generation: its state outputs after the last up/refresh.

    The lead wires these from the `ApiKey` outputs `disabled` and `expires_at`
    (topology/outputs.py `_facts`).
    """

    disabled: bool = False
    expires_at: str | None = None


@dataclass(frozen=True)
class ManagementFacts:
    """The management key as the last run used it: masked, and where it came from."""

    label: str
    source: str


@dataclass(frozen=True)
class InventoryRow:
    """One line of "where each key lives"."""

    key: str
    name: str
    masked: str
    status: str
    type: str
    consumers: tuple[str, ...]
    governed_by: str = ""
    """Its guardrail and workspace as the stack file names them; empty for the management key."""


# --- the `inventory` stack output: compact facts only --------------------------------------------


def inventory_output(
    facts: Mapping[str, GenerationFacts], management: ManagementFacts | None
) -> dict[str, Any]:
    """The `inventory` output: only what `keys` lacks, and only where it differs from a default.

    A stack of 100 active keys without expiry prints `{"disabled": [], "expiresAt": {}}` plus the
    management key's line, whatever else changes.
    """
    value: dict[str, Any] = {
        "disabled": sorted(name for name, seen in facts.items() if seen.disabled),
        "expiresAt": {
            name: seen.expires_at for name, seen in sorted(facts.items()) if seen.expires_at
        },
    }
    if management is not None:
        value["managementKey"] = {"label": management.label, "source": management.source}
    return value


@dataclass(frozen=True)
class Deployed:
    """The last deployment, per generation resource name (`<id>` or `<id>@<generation>`)."""

    generations: Mapping[str, Mapping[str, Any]]
    """`{hash, label, name}` from the `keys` output."""
    facts: Mapping[str, GenerationFacts]
    management: ManagementFacts | None

    @property
    def exists(self) -> bool:
        return bool(self.generations) or self.management is not None


def _entry_generations(key_id: str, entry: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    rotation = entry.get("rotation")
    wired = key_id if rotation is None else generation_resource_name(key_id, str(rotation))
    yield wired, entry
    for retiring in entry.get("retiring") or []:
        yield generation_resource_name(key_id, str(retiring.get("rotation"))), retiring


def deployed_from_outputs(outputs: Mapping[str, Any]) -> Deployed:
    """Read `pulumi stack output --json --show-secrets`; a stack never deployed gives `{}`, and so
    no facts.

    An `inventory` output of the previous shape (a Markdown string) carries no facts: statuses
    are `unknown` until the next `pulumi up` writes the compact form.
    """
    keys = outputs.get("keys")
    generations: dict[str, Mapping[str, Any]] = {}
    if isinstance(keys, Mapping):
        for key_id, entry in keys.items():
            if isinstance(entry, Mapping):
                generations.update(_entry_generations(str(key_id), entry))
    inventory = outputs.get("inventory")
    if not isinstance(inventory, Mapping):
        return Deployed(generations, {}, None)
    expiring = inventory.get("expiresAt") or {}
    disabled = set(inventory.get("disabled") or [])
    facts = {
        name: GenerationFacts(disabled=name in disabled, expires_at=expiring.get(name))
        for name in {*generations, *disabled, *expiring}
    }
    seen = inventory.get("managementKey")
    management = (
        ManagementFacts(str(seen.get("label")), str(seen.get("source")))
        if isinstance(seen, Mapping)
        else None
    )
    return Deployed(generations, facts, management)


# --- rows --------------------------------------------------------------------------------------


def status_of(facts: GenerationFacts | None, now: dt.datetime) -> str:
    """active, disabled, expiring (within EXPIRING_DAYS), expired; unknown without facts."""
    if facts is None:
        return UNKNOWN
    if facts.disabled:
        return DISABLED
    expires = parse_instant(facts.expires_at)
    if expires is not None:
        if expires <= now:
            return EXPIRED
        if expires - now <= dt.timedelta(days=EXPIRING_DAYS):
            return EXPIRING
    return ACTIVE


def governed_by(key: GenerationPlan) -> str:
    """`guardrail ci-cheap, workspace agents`; the defaults said as such."""
    guardrail = f"guardrail {key.guardrail}" if key.guardrail else "no guardrail of its own"
    workspace = key.workspace or key.workspace_id
    return f"{guardrail}, workspace {workspace}" if workspace else f"{guardrail}, default workspace"


def _key_label(key_id: str, generation: str | None) -> str:
    return key_id if generation is None else f"{key_id} @ {generation}"


def _planned_rows(plan: Plan, deployed: Deployed, now: dt.datetime) -> list[InventoryRow]:
    rows = []
    for key_plan in plan.keys:
        for key in key_plan.generations:
            seen = deployed.generations.get(key.resource_name)
            if seen is None:
                name, masked = key.name, NOT_MINTED
                status = ADOPTED if key.adopt is not None else NEW
            else:
                name, masked = str(seen.get("name")), str(seen.get("label"))
                status = status_of(deployed.facts.get(key.resource_name), now)
                if not deployed.facts and status == ACTIVE:
                    status = UNKNOWN
            rows.append(
                InventoryRow(
                    key=_key_label(key.key_id, key.generation),
                    name=name,
                    masked=masked,
                    status=status,
                    type=REGULAR,
                    consumers=key_plan.consumers if key.wired else (RETIRING,),
                    governed_by=governed_by(key),
                )
            )
    return rows


def _removed_rows(plan: Plan, deployed: Deployed) -> list[InventoryRow]:
    planned = {key.resource_name for t in plan.keys for key in t.generations}
    rows = []
    for resource_name, seen in deployed.generations.items():
        if resource_name in planned:
            continue
        key_id, _, generation = resource_name.partition(GENERATION_SEPARATOR)
        rows.append(
            InventoryRow(
                key=_key_label(key_id, generation or None),
                name=str(seen.get("name")),
                masked=str(seen.get("label")),
                status=REMOVED,
                type=REGULAR,
                consumers=(),
            )
        )
    return rows


def _management_row(plan: Plan, deployed: Deployed) -> list[InventoryRow]:
    targets = plan.management.consumers if plan.management else ()
    if deployed.management is None and not targets:
        return []
    seen = deployed.management
    return [
        InventoryRow(
            key=MANAGEMENT_SOURCE,
            name="(the management key)",
            masked=seen.label if seen else UNKNOWN,
            status=ACTIVE if seen else UNKNOWN,
            type=MANAGEMENT,
            consumers=((seen.source,) if seen else ()) + targets,
        )
    ]


def inventory_rows(plan: Plan, deployed: Deployed, now: dt.datetime) -> list[InventoryRow]:
    """Every generation of the plan, every deployed one the plan drops, then the management key."""
    return (
        _planned_rows(plan, deployed, now)
        + _removed_rows(plan, deployed)
        + _management_row(plan, deployed)
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_inventory(rows: Sequence[InventoryRow]) -> str:
    """The Markdown table; consumers of one key share a cell, one per line."""
    lines = [
        "| " + " | ".join(INVENTORY_HEADER) + " |",
        "|" + "---|" * len(INVENTORY_HEADER),
    ]
    for row in rows:
        consumers = "<br>".join(_cell(c) for c in row.consumers) or "none"
        cells = (row.key, row.name, row.masked, row.status, row.type, row.governed_by or "-")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + f" | {consumers} |")
    return "\n".join(lines) + "\n"


# --- the diagram -------------------------------------------------------------------------------

_KIND_TITLES: Mapping[SinkKind, str] = {
    SinkKind.ACTIONS_REPOSITORY: "GitHub repository secret",
    SinkKind.ACTIONS_ENVIRONMENT: "GitHub environment secret",
    SinkKind.ACTIONS_ORGANIZATION: "GitHub organization secret",
    SinkKind.DEPENDABOT_REPOSITORY: "Dependabot repository secret",
    SinkKind.DEPENDABOT_ORGANIZATION: "Dependabot organization secret",
    SinkKind.VERCEL_PROJECT: "Vercel variable",
    SinkKind.VERCEL_SHARED: "Vercel shared variable",
}
_CLASSES = (
    "classDef readable fill:#fde2e1,stroke:#c62828,stroke-width:2px;",
    "classDef warn fill:#fff3cd,stroke:#b26a00;",
    "classDef bad fill:#fde2e1,stroke:#c62828;",
    "classDef planned stroke-dasharray:4 3;",
)


_ENTITIES = str.maketrans({"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;"})


def _text(text: str) -> str:
    """Mermaid label text: quotes and angle brackets as entities, so nothing breaks the label."""
    return text.translate(_ENTITIES)


def _label(*lines: str) -> str:
    return '["' + "<br/>".join(_text(line) for line in lines if line) + '"]'


def _where(sink: SinkPlan) -> str:
    if sink.kind.is_organization:
        listed = f": {', '.join(sink.repositories)}" if sink.repositories else ""
        return f"{sink.owner} ({sink.visibility}{listed})"
    if sink.kind is SinkKind.ACTIONS_ENVIRONMENT:
        return f"{sink.owner}/{sink.repository} · env {sink.environment}"
    if sink.kind.is_github:
        return f"{sink.owner}/{sink.repository}"
    if sink.kind is SinkKind.VERCEL_SHARED:
        return ", ".join(sink.projects)
    return sink.project or ""


def _consumer_groups(topology: KeyPlan) -> list[tuple[SinkPlan, ...]]:
    """The sinks of one config entry together (one node per entry, its targets on one line)."""
    groups: dict[str, list[SinkPlan]] = {}
    for sink in topology.sinks:
        groups.setdefault(sink.consumer, []).append(sink)
    return [tuple(group) for group in groups.values()]


def _consumer_node(group: Sequence[SinkPlan]) -> tuple[str, bool]:
    first = group[0]
    name = first.secret_name if first.kind.is_github else first.variable
    readable = any(not s.sensitive for s in group)
    title = f"⚠ {_KIND_TITLES[first.kind]}" if readable else _KIND_TITLES[first.kind]
    lines = [title, _where(first), name or ""]
    if not first.kind.is_github:
        lines.append(", ".join(shown_target(s.target or "", s.git_branch) for s in group))
    return _label(*lines), readable


@dataclass
class _Diagram:
    lines: list[str]
    count: int = 0

    def node(self, label: str, css: str | None = None) -> str:
        self.count += 1
        node_id = f"n{self.count}"
        self.lines.append(f"  {node_id}{label}")
        if css:
            self.lines.append(f"  class {node_id} {css}")
        return node_id


_STATUS_CLASS = {
    DISABLED: "bad",
    EXPIRED: "bad",
    EXPIRING: "warn",
    NEW: "planned",
    ADOPTED: "planned",
}


def _management(diagram: _Diagram, plan: Plan, rows: Sequence[InventoryRow]) -> str | None:
    row = next((r for r in rows if r.type == MANAGEMENT), None)
    if row is None:
        return None
    targets = plan.management.consumers if plan.management else ()
    source = row.consumers[0] if len(row.consumers) > len(targets) else ""
    node = diagram.node(_label("management key", row.masked, source))
    for group in _consumer_groups(plan.management) if plan.management else []:
        label, _ = _consumer_node(group)
        diagram.lines.append(f"  {node} --> {diagram.node(label)}")
    return node


def render_diagram(plan: Plan, rows: Sequence[InventoryRow], *, collapse: bool = False) -> str:
    """The Mermaid flowchart: the management key and its targets, each key's generations, and
    every consumer of the wired generation; readable variables and bad states stand out."""
    diagram = _Diagram(["flowchart LR", *(f"  {line}" for line in _CLASSES)])
    management = _management(diagram, plan, rows)
    by_key = {row.key: row for row in rows}
    for index, key_plan in enumerate(plan.keys):
        group_id = f"k{index}"
        diagram.lines.append(f"  subgraph {group_id}{_label(key_plan.key_id)}")
        wired = None
        for key in key_plan.generations:
            row = by_key[_key_label(key.key_id, key.generation)]
            role = "wired" if key.wired else "retiring"
            node = diagram.node(
                _label(row.name, row.masked, f"{row.status} · {role}"),
                _STATUS_CLASS.get(row.status),
            )
            wired = node if key.wired else wired
        diagram.lines.append("  end")
        if management is not None:
            diagram.lines.append(f"  {management} -. mints .-> {group_id}")
        groups = _consumer_groups(key_plan)
        if wired is None or not groups:
            continue
        if collapse:
            diagram.lines.append(
                f"  {wired} --> {diagram.node(_label(f'{len(groups)} consumers (see the table)'))}"
            )
            continue
        for group in groups:
            label, readable = _consumer_node(group)
            target = diagram.node(label, "readable" if readable else None)
            diagram.lines.append(f"  {wired} --> {target}")
    _scoped(diagram, plan)
    return "\n".join(diagram.lines) + "\n"


def scoped_to(scoped: ScopedPlan) -> str:
    """Who may use a BYOK credential, whose traces a destination gets, ..."""
    keys = scoped.spec.keys
    return "every key of the account" if keys is None else ", ".join(keys)


def _scoped(diagram: _Diagram, plan: Plan) -> None:
    """One node per scoped resource, an edge from each key it is restricted to (every
    generation of it), or a note that every key may use it."""
    groups = {key_plan.key_id: f"k{index}" for index, key_plan in enumerate(plan.keys)}
    for scoped in plan.scoped:
        where = scoped.workspace or scoped.workspace_uuid
        node = diagram.node(
            _label(
                scoped.kind.what,
                scoped.name,
                f"workspace {where}" if where else "",
                "every key of the account" if scoped.spec.keys is None else "",
            )
        )
        for key_id in scoped.spec.keys or ():
            diagram.lines.append(f"  {groups[key_id]} -. {scoped.kind.edge} .-> {node}")


def render_scoped(plan: Plan) -> str:
    """The BYOK credentials, destinations, ... of the stack and the keys each is scoped to."""
    if not plan.scoped:
        return ""
    lines = ["| id | kind | OpenRouter name | workspace | keys |", "|---|---|---|---|---|"]
    for scoped in plan.scoped:
        where = scoped.workspace or scoped.workspace_uuid or "default"
        cells = (scoped.config_path, scoped.kind.what, scoped.name, where, scoped_to(scoped))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan, deployed: Deployed, now: dt.datetime) -> str:
    """The table, then the diagram in a fenced `mermaid` block (GitHub renders it)."""
    rows = inventory_rows(plan, deployed, now)
    diagram = render_diagram(plan, rows)
    if len(diagram) > DIAGRAM_LIMIT:
        diagram = render_diagram(plan, rows, collapse=True)
    readable = sum(1 for t in plan.all_key_plans() for s in t.sinks if not s.sensitive)
    warning = (
        f"\n**{readable} Vercel variable(s) {READABLE}** (developmentReadableByTeam: true):"
        " the development value is not sensitive.\n"
        if readable
        else ""
    )
    basis = (
        "names, masked values and statuses as the provider last saw them"
        if deployed.exists
        else "no deployment yet, so nothing is minted"
    )
    return (
        f"### Key inventory: stack `{plan.stack}`\n\n"
        f"Keys and consumers from the stack file; {basis}.\n"
        f"{warning}\n{render_inventory(rows)}\n{_after(render_scoped(plan))}"
        f"```mermaid\n{diagram}```\n"
    )


def _after(table: str) -> str:
    return f"{table}\n" if table else ""
