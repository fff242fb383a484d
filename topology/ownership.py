"""One OpenRouter object, one resource of one stack: ownership across the project's stacks.

Two resources on one object (a key, a workspace, a guardrail) overwrite each other's settings on
every update, and removing either deletes the object under the other. So, before anything is
registered (docs/adr/0008-topology-guard.md), the program refuses:

- an `adopt` of an object that this stack or another stack of the project already manages,
  naming that stack and where its file declares the object; when a stack's record cannot be read,
  every new `adopt` is refused naming it (fail closed);
- a new workspace whose slug, or a new guardrail whose name in the same workspace, another stack
  manages: OpenRouter would refuse the workspace or make a twin guardrail, and the provider's own
  message (`workspace-slug-taken`, `guardrail-name-taken`) would offer an `adopt` that takes the
  object from that stack. Only an object no stack manages reaches the provider's check.

One rule for every kind: each stack's record says what it `holds` (kind, OpenRouter's id), and the
plan says what it `claims` anew; objects are compared by id. A kind recorded later joins by adding
it to `holds`, `new_claims` and `KINDS`.

Ids are unique across accounts, slugs and names are not: stacks of one project may use different
OpenRouter accounts (or the emulator), so a slug or name another record carries is only a reason
to ask. `questions` lists what OpenRouter must answer (which workspace has this slug, what this
guardrail is called now), only when a record makes it matter; topology/openrouter.py asks them and
hands the `answers` back. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from providers import UUID, shown
from topology.deployed import Deployment
from topology.plan import GuardrailPlan, Plan, WorkspacePlan, key_path
from topology.problem import Problem
from topology.scoped import KINDS as SCOPED_KINDS

RUNBOOK: Final = "docs/runbooks.md"
SHARE: Final = f"{RUNBOOK}#share-a-workspace-between-stacks"
DEFAULT_WORKSPACE: Final = ""
"""The account's default workspace, where a guardrail without `workspace` lives."""


@dataclass(frozen=True)
class Kind:
    """What a refusal says of one kind of object."""

    section: str
    """The stack file's map of them: `keys`, `workspaces`, `guardrails`."""
    ref: str
    """What an `adopt` of it names: `hash` for a key, the kind itself for the others."""
    twice: str
    """What two resources on one such object do."""
    noun: str

    def fix(self, path: str, owner: str) -> str:
        if self.section == "keys":
            return (
                f"remove `adopt` from {path}; to move a key between key ids or stacks, follow"
                f" {RUNBOOK}#move-a-key."
            )
        if self.section == "workspaces":
            return (
                f"remove `adopt` from {path}; to put this stack's keys or guardrails in that"
                f" workspace, leave it to {owner} and name it by its id (`workspaceId: <id>` on a"
                f" key, `workspace: <id>` on a guardrail; {SHARE})."
            )
        if self.section == "guardrails":
            return (
                f"remove `adopt` from {path}: change that guardrail's policy in {owner}'s stack"
                f" file, or declare a guardrail of this stack under another name ({SHARE})."
            )
        return (
            f"remove `adopt` from {path}: change that {self.noun} in {owner}'s stack file, or"
            f" declare a {self.noun} of this stack without `adopt`."
        )


KEY: Final = Kind(
    "keys",
    "hash",
    "two resources on one key means removing either deletes it under the other",
    "key",
)
WORKSPACE: Final = Kind(
    "workspaces",
    "workspace",
    "two stacks on one workspace overwrite each other's name, slug and budgets on every update,"
    " and removing either deletes it, with its guardrails, under the other",
    "workspace",
)
GUARDRAIL: Final = Kind(
    "guardrails",
    "guardrail",
    "two stacks on one guardrail overwrite each other's policy on every update, and removing"
    " either deletes it under the other",
    "guardrail",
)
SCOPED: Final[Mapping[str, Kind]] = {
    kind.setting: Kind(
        kind.setting,
        kind.what,
        f"two stacks on one {kind.what} overwrite each other's settings on every update, and"
        " removing either deletes it under the other",
        kind.what,
    )
    for kind in SCOPED_KINDS
}
KINDS: Final = (KEY, WORKSPACE, GUARDRAIL, *SCOPED.values())


@dataclass(frozen=True)
class Held:
    """One object a stack's record says it manages."""

    kind: Kind
    id: str
    """OpenRouter's id (a key's hash), lowercase."""
    path: str
    """Where that stack's file declares it: `keys.<id>`, `workspaces.<id>`, ..."""


@dataclass(frozen=True)
class Claim:
    """An object the plan takes over anew: its resource is not in this stack's record."""

    kind: Kind
    path: str
    """The entry that adopts it (`keys.<id>`, `workspaces.<id>`, `guardrails.<id>`)."""
    ref: str
    """As `adopt` writes it: a hash, a UUID, or a workspace's slug."""

    @property
    def by_slug(self) -> bool:
        return self.kind is WORKSPACE and not UUID.match(self.ref)


@dataclass(frozen=True)
class Question:
    """One request to OpenRouter: for WORKSPACE, the id of the workspace with slug `ref`
    (`GET /workspaces/{slug}`); for GUARDRAIL, the name of guardrail `ref`
    (`GET /guardrails/{id}`)."""

    kind: Kind
    ref: str


@dataclass(frozen=True)
class Answer:
    """What OpenRouter said: the id or name asked for, None when nothing has that slug or id in
    this account, or why it could not say."""

    value: str | None = None
    failure: str | None = None


Answers = Mapping[Question, Answer]


# --- what each stack holds, what the plan claims ---------------------------------------------


def holds(deployment: Deployment) -> list[Held]:
    """Every object `deployment`'s record says it manages, of every kind."""
    held = [
        Held(KEY, generation.hash.lower(), key_path(key_id))
        for key_id, deployed in deployment.keys.items()
        for generation in deployed.generations
    ]
    governance = deployment.governance
    for workspace_id, workspace in governance.workspaces.items():
        path = f"workspaces.{workspace_id}"
        held.append(Held(WORKSPACE, workspace.id.lower(), path))
        if workspace.default_guardrail:
            held.append(
                Held(GUARDRAIL, workspace.default_guardrail.lower(), f"{path}.defaultGuardrail")
            )
    held += [
        Held(GUARDRAIL, guardrail.id.lower(), f"guardrails.{guardrail_id}")
        for guardrail_id, guardrail in governance.guardrails.items()
    ]
    held += [
        Held(SCOPED[setting], record.id.lower(), f"{setting}.{scoped_id}")
        for setting, records in governance.scoped.items()
        if setting in SCOPED
        for scoped_id, record in records.items()
    ]
    return held


def new_claims(previous: Deployment, plan: Plan) -> list[Claim]:
    """Every object the plan adopts anew, in config order: an `adopt` counts only when its
    resource is created (a stale one, left after the adoption, is read by nobody)."""
    claims = []
    for key_plan in plan.keys:
        known = previous.keys.get(key_plan.key_id)
        kept = {g.resource_name(key_plan.key_id) for g in (known.generations if known else ())}
        for key in key_plan.generations:
            new = key.resource_name not in kept and not set(key.aliases) & kept
            if key.adopt is not None and new:
                claims.append(Claim(KEY, key_path(key_plan.key_id), key.adopt))
    recorded = previous.governance
    claims += [
        Claim(WORKSPACE, w.config_path, w.adopt)
        for w in plan.workspaces
        if w.adopt is not None and w.workspace_id not in recorded.workspaces
    ]
    claims += [
        Claim(GUARDRAIL, g.config_path, g.adopt)
        for g in plan.guardrails
        if g.adopt is not None and g.guardrail_id not in recorded.guardrails
    ]
    claims += [
        Claim(SCOPED[s.kind.setting], s.config_path, s.spec.adopt)
        for s in plan.scoped
        if s.spec.adopt is not None and s.scoped_id not in recorded.scoped.get(s.kind.setting, {})
    ]
    return claims


def new_creates(previous: Deployment, plan: Plan) -> bool:
    """Whether the plan creates a workspace or guardrail (whose slug or name another stack may
    hold already)."""
    return bool(_created_workspaces(previous, plan) or _created_guardrails(previous, plan))


def needs_other_stacks(previous: Deployment, plan: Plan) -> bool:
    """Other stacks' records are read only for a change that could take their objects."""
    return bool(new_claims(previous, plan)) or new_creates(previous, plan)


def questions(previous: Deployment, plan: Plan, others: Sequence[Deployment]) -> list[Question]:
    """What OpenRouter must answer before the rules can judge, in a stable order: the slug of
    every workspace adopted anew by slug (when some stack manages a workspace), the slug of every
    new workspace another stack's record carries, and every guardrail of another stack whose
    name and workspace a new guardrail takes."""
    deployments = [previous, *others]
    asked: list[Question] = []
    if any(w for d in deployments for w in d.governance.workspaces.values()):
        asked += [
            Question(WORKSPACE, c.ref.lower()) for c in new_claims(previous, plan) if c.by_slug
        ]
    slugs = _slugs(others)
    asked += [
        Question(WORKSPACE, w.settings.slug.lower())
        for w in _created_workspaces(previous, plan)
        if w.settings.slug.lower() in slugs
    ]
    names = _names(others)
    for guardrail in _created_guardrails(previous, plan):
        place = _planned_place(guardrail, previous, plan)
        held = names.get((place, guardrail.name)) if place is not None else None
        if held is not None:
            asked.append(Question(GUARDRAIL, held[2].lower()))
    return list(dict.fromkeys(asked))


# --- the rules ---------------------------------------------------------------------------------


def _where(stack: str, own: str) -> str:
    return "this stack" if stack == own else f"stack {stack!r}"


def ownership_problems(
    previous: Deployment,
    plan: Plan,
    others: Iterable[Deployment] = (),
    answers: Answers | None = None,
) -> list[Problem]:
    """Every refusal of an adoption or a create that would take an object another resource of
    the project manages; `answers` to `questions(previous, plan, others)`."""
    others = [d for d in others if d.stack != plan.stack]
    said = answers or {}
    problems = adoption_problems(new_claims(previous, plan), plan.stack, [previous, *others], said)
    problems += taken_problems(previous, plan, others, said)
    return problems


def adoption_problems(
    claims: Iterable[Claim], stack: str, deployments: Sequence[Deployment], answers: Answers
) -> list[Problem]:
    """An adopted object must not be one that this stack or another stack manages."""
    owners: dict[tuple[str, str], tuple[str, Held]] = {}
    for deployment in deployments:
        for held in holds(deployment):
            owners.setdefault((held.kind.section, held.id), (deployment.stack, held))
    unread = [d for d in deployments if d.unreadable is not None]
    problems = []
    for claim in claims:
        ref = claim.ref.lower()
        if claim.by_slug:
            answer = answers.get(Question(WORKSPACE, ref), Answer())
            if answer.failure is not None:
                problems.append(_unanswered(f"{claim.path}.adopt", claim.ref, answer.failure))
                continue
            ref = (answer.value or "").lower()
        owner = owners.get((claim.kind.section, ref))
        if owner is None:
            problems += [_unknown_owner(claim, d) for d in unread]
            continue
        owner_stack, held = owner
        where = _where(owner_stack, stack)
        named = f"{shown(claim.ref)} (id {held.id})" if claim.by_slug else shown(claim.ref)
        problems.append(
            Problem(
                f"{claim.path}.adopt",
                f"{claim.kind.ref} {named} is already managed by {where} as {held.path};"
                f" {claim.kind.twice}; allowed: adopting a {claim.kind.noun} no stack of this"
                " project manages.",
                claim.kind.fix(claim.path, where),
            )
        )
    return problems


def _unknown_owner(claim: Claim, other: Deployment) -> Problem:
    return Problem(
        f"{claim.path}.adopt",
        f"cannot tell whether stack {other.stack!r} manages {claim.kind.ref} {shown(claim.ref)}:"
        f" its record could not be read ({other.unreadable}); allowed: adopting a"
        f" {claim.kind.noun} once every stack of this project can be read.",
        "run the preview where every stack's record can be decrypted (stacks of one project that"
        " share a backend should share their passphrase or secrets provider), or remove"
        f" `adopt` from {claim.path}; see the topology guard in docs/troubleshooting.md.",
    )


def _unanswered(path: str, ref: str, failure: str) -> Problem:
    return Problem(
        path,
        f"cannot tell whether another stack manages {shown(ref)}: OpenRouter could not say"
        f" which object that is ({failure}); allowed: a change whose effect on other stacks'"
        " objects is known.",
        "fix what the message says and run the preview again.",
    )


def _slugs(others: Iterable[Deployment]) -> dict[str, tuple[str, str, str]]:
    """Slug -> (stack, path, id) of every workspace another stack records."""
    return {
        w.slug.lower(): (other.stack, f"workspaces.{wid}", w.id.lower())
        for other in others
        for wid, w in other.governance.workspaces.items()
    }


def _names(others: Iterable[Deployment]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(workspace, name) -> (stack, path, id) of every guardrail another stack records."""
    names = {}
    for other in others:
        for gid, guardrail in other.governance.guardrails.items():
            place = _recorded_place(guardrail.workspace, other)
            if place is not None:
                names[(place, guardrail.name)] = (other.stack, f"guardrails.{gid}", guardrail.id)
    return names


def _created_workspaces(previous: Deployment, plan: Plan) -> list[WorkspacePlan]:
    recorded = previous.governance.workspaces
    return [w for w in plan.workspaces if w.adopt is None and w.workspace_id not in recorded]


def _created_guardrails(previous: Deployment, plan: Plan) -> list[GuardrailPlan]:
    recorded = previous.governance.guardrails
    return [g for g in plan.guardrails if g.adopt is None and g.guardrail_id not in recorded]


def taken_problems(
    previous: Deployment, plan: Plan, others: Sequence[Deployment], answers: Answers
) -> list[Problem]:
    """A new workspace or guardrail that another stack's object already is, by slug or name
    (confirmed by id: another stack may use another account, where the same slug is free)."""
    problems = []
    slugs = _slugs(others)
    for workspace in _created_workspaces(previous, plan):
        slug = workspace.settings.slug.lower()
        if slug not in slugs:
            continue
        owner, path, id_ = slugs[slug]
        answer = answers.get(Question(WORKSPACE, slug), Answer())
        if answer.failure is not None:
            problems.append(_unanswered(workspace.config_path, slug, answer.failure))
        elif (answer.value or "").lower() == id_:
            problems.append(
                Problem(
                    workspace.config_path,
                    f"slug {shown(slug)} is the slug of workspace {id_}, which stack {owner!r}"
                    f" manages as {path}; a slug names one workspace, so the create would fail,"
                    " and adopting it would make two stacks manage one workspace; allowed: a slug"
                    " no other stack's workspace has.",
                    f"give {workspace.config_path} another `slug`; to put this stack's keys or"
                    f" guardrails in that workspace, leave it to stack {owner!r} and name it by"
                    f" its id (`workspaceId: <id>` on a key, `workspace: <id>` on a guardrail;"
                    f" {SHARE}).",
                )
            )
    names = _names(others)
    for guardrail in _created_guardrails(previous, plan):
        place = _planned_place(guardrail, previous, plan)
        held = names.get((place, guardrail.name)) if place is not None else None
        if held is None:
            continue
        owner, path, id_ = held
        answer = answers.get(Question(GUARDRAIL, id_.lower()), Answer())
        if answer.failure is not None:
            problems.append(_unanswered(guardrail.config_path, id_, answer.failure))
        elif answer.value == guardrail.name:
            problems.append(
                Problem(
                    guardrail.config_path,
                    f"name {shown(guardrail.name)} is the name of guardrail {id_} in the same"
                    f" workspace, which stack {owner!r} manages as {path}; a new one would be"
                    " its twin, and adopting it would make two stacks manage one guardrail;"
                    " allowed: a name no other stack's guardrail has in that workspace.",
                    f"give {guardrail.config_path} another `name`; to change that guardrail's"
                    f" policy, edit stack {owner!r}'s file ({SHARE}).",
                )
            )
    return problems


def _recorded_place(workspace: str | None, deployment: Deployment) -> str | None:
    """The UUID of the workspace a recorded guardrail lives in (`DEFAULT_WORKSPACE` for the
    default one), or None when the record does not say."""
    if workspace is None:
        return DEFAULT_WORKSPACE
    if UUID.match(workspace):
        return workspace.lower()
    recorded = deployment.governance.workspaces.get(workspace)
    return recorded.id.lower() if recorded else None


def _planned_place(guardrail: GuardrailPlan, previous: Deployment, plan: Plan) -> str | None:
    """The UUID of the workspace a new guardrail will live in, when known before the update;
    None for a workspace this update creates (it holds no guardrail yet)."""
    if guardrail.workspace_uuid is not None:
        return guardrail.workspace_uuid.lower()
    if guardrail.workspace is None:
        return DEFAULT_WORKSPACE
    place = _recorded_place(guardrail.workspace, previous)
    if place is not None:
        return place
    adopted = next(
        (w.adopt for w in plan.workspaces if w.workspace_id == guardrail.workspace), None
    )
    return adopted.lower() if adopted is not None and UUID.match(adopted) else None
