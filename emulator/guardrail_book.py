"""The guardrails and key assignments the emulator holds, and how a validated body is stored.

The rules that shape a client (the routes, emulator/guardrail_routes.py, refuse the rest): a key
holds at most one guardrail (assigning moves it); a workspace's default guardrail has a
deterministic id, answers 404 until a PATCH materializes it, is never created, renamed, assigned
or deleted; PATCH replaces every collection it is sent. docs/emulator.md lists each rule with its
public source, and marks "(inferred)" what the sources leave open.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.guardrail_rules import MODEL_LISTS, PROMPT_INJECTION, SETTINGS, ZDR_FIELDS
from emulator.wire import DEFAULT_WORKSPACE_ID, EMULATOR_USER_ID, KeyRef, now_iso

# The namespace of default guardrail ids (uuid5 of the workspace id): deterministic, as the
# published Workspace object says; the real derivation is not published.
DEFAULT_GUARDRAIL_NAMESPACE = uuid.UUID("6f1d8c2a-0b7e-4f3a-9c51-7e2d4a9b0c11")


def default_guardrail_id(workspace_id: str) -> str:
    return str(uuid.uuid5(DEFAULT_GUARDRAIL_NAMESPACE, workspace_id))


def default_guardrail_name(workspace_id: str) -> str:
    return f"Workspace {workspace_id} Default"


def builtin_label(slug: str) -> str:
    """The server-assigned placeholder: `[EMAIL]`, `[PHONE]` as published; the rest by the same
    rule (inferred)."""
    return f"[{slug.upper().replace('-', '_')}]"


@dataclass
class StoredGuardrail:
    """A guardrail as the server knows it; `settings` holds each optional field (null: unset)."""

    id: str
    name: str
    workspace_id: str | None
    sequence: int
    settings: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(SETTINGS))
    include_byok_in_budgets: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str | None = None
    is_default: bool = False

    def to_object(self) -> dict[str, Any]:
        """The Guardrail object, every optional field included (null when unset)."""
        return {
            "id": self.id,
            "name": self.name,
            "workspace_id": self.workspace_id,
            "include_byok_in_budgets": self.include_byok_in_budgets,
            **{name: clone(value) for name, value in self.settings.items()},
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def clone(value: Any) -> Any:
    """A copy of a stored JSON value, so no answer can alias the store."""
    if isinstance(value, list):
        return [clone(item) for item in value]
    if isinstance(value, dict):
        return {name: clone(item) for name, item in value.items()}
    return value


@dataclass
class Assignment:
    """One key's guardrail (a key holds at most one)."""

    id: str
    key_hash: str
    guardrail_id: str
    sequence: int
    created_at: str = field(default_factory=now_iso)
    assigned_by: str | None = EMULATOR_USER_ID

    def to_object(self, key: KeyRef) -> dict[str, Any]:
        return {
            "id": self.id,
            "key_hash": self.key_hash,
            "key_name": key.name,
            "key_label": key.label,
            "guardrail_id": self.guardrail_id,
            "assigned_by": self.assigned_by,
            "created_at": self.created_at,
        }


def stored_setting(name: str, value: Any, canonical: Mapping[str, str]) -> Any:
    """A setting as the server keeps it: model slugs as canonical slugs, builtins with their
    label, `scan_scope` only on the prompt-injection detector (default all_messages, inferred)."""
    if value is None:
        return None
    if name in MODEL_LISTS:
        return [canonical.get(slug, slug) for slug in value]
    if name == "content_filter_builtins":
        return [stored_builtin(entry) for entry in value]
    if name == "content_filters":
        return [{"pattern": e["pattern"], "action": e["action"], "label": e.get("label")}
                for e in value]
    return clone(value)


def stored_builtin(entry: Mapping[str, Any]) -> dict[str, Any]:
    slug = entry["slug"]
    stored = {"slug": slug, "action": entry["action"], "label": builtin_label(slug)}
    if slug == PROMPT_INJECTION:
        stored["scan_scope"] = entry.get("scan_scope") or "all_messages"
    return stored


class GuardrailBook:
    """Every guardrail and key assignment. Callers hold the store's lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._guardrails: dict[str, StoredGuardrail] = {}
        self._assignments: dict[str, Assignment] = {}
        self._sequence = 0
        # slug -> canonical slug, as the model catalogue would map it (empty: slugs kept as sent).
        self.canonical_models: dict[str, str] = {}

    def _next(self) -> int:
        self._sequence += 1
        return self._sequence

    def get(self, guardrail_id: str) -> StoredGuardrail | None:
        return self._guardrails.get(guardrail_id)

    def all(self) -> list[StoredGuardrail]:
        """Newest first (inferred, as `/keys` lists)."""
        return sorted(self._guardrails.values(), key=lambda g: g.sequence, reverse=True)

    def in_workspace(self, workspace_id: str) -> list[StoredGuardrail]:
        return [g for g in self.all() if g.workspace_id == workspace_id]

    def create(self, body: Mapping[str, Any]) -> StoredGuardrail:
        stored = StoredGuardrail(
            id=str(uuid.uuid4()),
            name=body["name"],
            workspace_id=body.get("workspace_id", DEFAULT_WORKSPACE_ID),
            sequence=self._next(),
        )
        self.apply(stored, body)
        stored.updated_at = None
        self._guardrails[stored.id] = stored
        return stored

    def materialize_default(self, guardrail_id: str, workspace_id: str | None) -> StoredGuardrail:
        """A workspace's default guardrail, stored on its first write."""
        if workspace_id is None or guardrail_id != default_guardrail_id(workspace_id):
            raise ValueError(f"{guardrail_id} is not the default guardrail of a workspace")
        stored = StoredGuardrail(
            id=guardrail_id,
            name=default_guardrail_name(workspace_id),
            workspace_id=workspace_id,
            sequence=self._next(),
            is_default=True,
        )
        self._guardrails[stored.id] = stored
        return stored

    def apply(self, stored: StoredGuardrail, body: Mapping[str, Any]) -> None:
        """Write a validated body: each field sent replaces the stored one (collections whole),
        a deprecated `enforce_zdr` fills the per-group flags the body leaves out."""
        if "name" in body:
            stored.name = body["name"]
        if "include_byok_in_budgets" in body:
            stored.include_byok_in_budgets = body["include_byok_in_budgets"]
        for name in SETTINGS:
            if name in body:
                stored.settings[name] = stored_setting(name, body[name], self.canonical_models)
        if isinstance(body.get("enforce_zdr"), bool):
            for name in ZDR_FIELDS:
                if name not in body:
                    stored.settings[name] = body["enforce_zdr"]
        stored.updated_at = now_iso()

    def delete(self, guardrail_id: str) -> None:
        """Delete a guardrail; the keys that held it hold none afterwards (inferred: the API
        declares no refusal for a guardrail still assigned)."""
        self._guardrails.pop(guardrail_id, None)
        for key_hash in [h for h, a in self._assignments.items() if a.guardrail_id == guardrail_id]:
            del self._assignments[key_hash]

    def forget_workspace(self, workspace_id: str) -> None:
        """Deleting a workspace deletes its guardrails (the delete operation says so)."""
        for guardrail in self.in_workspace(workspace_id):
            self.delete(guardrail.id)

    # assignments

    def assign(self, guardrail: StoredGuardrail, key_hashes: list[str]) -> int:
        """Give each key this guardrail, moving it from any other; a key that already holds it
        keeps its assignment (and is counted, inferred)."""
        for key_hash in key_hashes:
            held = self._assignments.get(key_hash)
            if held is None or held.guardrail_id != guardrail.id:
                self._assignments[key_hash] = Assignment(
                    str(uuid.uuid4()), key_hash, guardrail.id, self._next()
                )
        return len(key_hashes)

    def unassign(self, guardrail: StoredGuardrail, key_hashes: list[str]) -> int:
        """Take this guardrail from the keys that hold it; other keys are left alone, uncounted."""
        held = [h for h in key_hashes if (a := self._assignments.get(h)) and
                a.guardrail_id == guardrail.id]
        for key_hash in held:
            del self._assignments[key_hash]
        return len(held)

    def assignments(self, guardrail_id: str | None = None) -> list[Assignment]:
        """Newest first; of one guardrail, or every one."""
        chosen = [a for a in self._assignments.values()
                  if guardrail_id is None or a.guardrail_id == guardrail_id]
        return sorted(chosen, key=lambda a: a.sequence, reverse=True)

    def guardrail_of_key(self, key_hash: str) -> StoredGuardrail | None:
        held = self._assignments.get(key_hash)
        return None if held is None else self._guardrails.get(held.guardrail_id)

    def governing(self, key_hash: str, workspace_id: str) -> tuple[str, StoredGuardrail] | None:
        """The guardrail that governs a key, with its budget scope: its own (`api_key`), else
        its workspace's default once configured (`workspace_default_key`), else none."""
        own = self.guardrail_of_key(key_hash)
        if own is not None:
            return "api_key", own
        default = self._guardrails.get(default_guardrail_id(workspace_id))
        return None if default is None else ("workspace_default_key", default)

    def forget_key(self, key_hash: str) -> None:
        self._assignments.pop(key_hash, None)
