"""Guardrails and their key assignments, as OpenRouter's management API serves them.

docs/emulator.md lists each rule with its public source, and marks "(inferred)" what the sources
leave open. The rules that shape a client: a key holds at most one guardrail (assigning moves it);
a workspace's default guardrail has a deterministic id, answers 404 until a PATCH materializes it,
is never created, renamed, assigned or deleted; PATCH replaces every collection it is sent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulator.wire import (
    DEFAULT_WORKSPACE_ID,
    EMULATOR_USER_ID,
    MSG_INVALID,
    MSG_NO_WORKSPACE,
    MSG_NOT_FOUND,
    ApiError,
    KeyIndex,
    KeyRef,
    Page,
    Request,
    Response,
    flag_problems,
    is_number,
    is_uuid,
    json_object,
    method_not_allowed,
    now_iso,
    page_params,
    paged,
    refuse_unless_valid,
    single,
    text_problems,
    unknown_field_problems,
)

GUARDRAIL_INTERVALS = ("daily", "weekly", "monthly")
DATA_REGIONS = ("global", "europe", "us")
FILTER_ACTIONS = ("redact", "block", "flag")
BUILTIN_SLUGS = ("email", "phone", "ssn", "credit-card", "ip-address", "secrets", "person-name",
                 "address", "regex-prompt-injection")
PROMPT_INJECTION = "regex-prompt-injection"
SCAN_SCOPES = ("user_only", "all_messages")
ZDR_FIELDS = tuple(f"enforce_zdr_{group}" for group in ("anthropic", "openai", "google", "xai",
                                                         "other"))
NULLABLE_FLAGS = (*ZDR_FIELDS, "enforce_zdr", "enable_free_model_publication",
                  "enable_free_model_training", "enable_paid_model_training",
                  "allow_safety_retention_google", "allow_safety_retention_other")
STRING_LISTS = ("allowed_models", "allowed_providers", "ignored_models", "ignored_providers")
MODEL_LISTS = ("allowed_models", "ignored_models")
# Every optional field of the Guardrail object: null until set.
SETTINGS = ("description", "limit_usd", "reset_interval", *STRING_LISTS, "allowed_data_regions",
            "content_filter_builtins", "content_filters", *NULLABLE_FLAGS)
UPDATE_FIELDS = frozenset({"name", "include_byok_in_budgets", *SETTINGS})
CREATE_FIELDS = UPDATE_FIELDS | {"workspace_id"}
NAME_LONGEST = 200
DESCRIPTION_LONGEST = 1000
PATTERN_LONGEST = 100_000
LABEL_LONGEST = 100

MSG_DEFAULT_RENAME = "The name of a workspace default guardrail cannot be changed"
MSG_DEFAULT_ASSIGN = "A workspace default guardrail cannot be assigned to keys"
MSG_DEFAULT_DELETE = (
    "A workspace default guardrail cannot be deleted; configure it with PATCH instead"
)
MSG_OTHER_WORKSPACE = "Keys can only be assigned to a guardrail in their own workspace"
MSG_INVALID_REGEX = "invalid_regex_pattern"

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


# --- validation -----------------------------------------------------------------------------------


def scrub_regex(pattern: str) -> tuple[str, bool]:
    """The pattern with every escape and character class blanked out (so `\\(` and `[(]` are not
    groups), and whether it held a backreference (`\\1`, `\\k<name>`)."""
    out: list[str] = []
    backreference = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            backreference |= pattern[index + 1] in "123456789k"
            out.append("_")
            index += 2
        elif char == "[":
            end = index + 1
            while end < len(pattern) and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            out.append("_")
            index = end + 1
        else:
            out.append(char)
            index += 1
    return "".join(out), backreference


LOOKAROUND = re.compile(r"\(\?<?[=!]")
# A group that ends in a quantifier (or in groups that do), itself quantified: `(a+)+`,
# `(?:x*)*`, `(b{2,})+`, `((a+))+`, `((ab)+)+`.
NESTED_QUANTIFIER = re.compile(r"[+*}]\??\)+[+*{]")
# A quantifier after a quantifier: Python reads `a++` as possessive, JavaScript refuses it.
POSSESSIVE = re.compile(r"[+*?}]\??[+*]")
# After `(?` JavaScript knows only `:` and a named group `<name>` (lookarounds are refused above).
GROUP_EXTENSION = re.compile(r"\(\?(?!:|<[A-Za-z_])")


def regex_problem(pattern: str) -> str | None:
    """Why the API refuses a custom filter's pattern (the guardrails guide: lookarounds,
    backreferences and nested quantifiers are rejected; it must be a JavaScript regex)."""
    scrubbed, backreference = scrub_regex(pattern)
    if LOOKAROUND.search(scrubbed):
        return "lookahead and lookbehind are not supported"
    if backreference:
        return "backreferences are not supported"
    if NESTED_QUANTIFIER.search(scrubbed):
        return "nested quantifiers are not supported"
    if GROUP_EXTENSION.search(scrubbed) or POSSESSIVE.search(scrubbed):
        return "not a JavaScript regular expression"
    try:
        re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern))
    except re.error as error:
        return f"not a valid regular expression ({error.msg})"
    return None


def string_list_problems(
    body: Mapping[str, Any], name: str, allowed: tuple[str, ...] = ()
) -> list[str]:
    """Null, or a non-empty list of non-empty strings (from `allowed` when given)."""
    value = body.get(name)
    if name not in body or value is None:
        return []
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item for item in value)
        or (allowed and not set(value) <= set(allowed))
    ):
        return [f"{name} must be null or a non-empty list of {' | '.join(allowed) or 'strings'}"]
    return []


def builtin_problems(entry: object) -> list[str]:
    if not isinstance(entry, dict):
        return ["content_filter_builtins items must be objects"]
    problems = unknown_field_problems(entry, ("slug", "action", "scan_scope", "label"))
    if entry.get("slug") not in BUILTIN_SLUGS:
        problems.append(f"content_filter_builtins slug must be one of {BUILTIN_SLUGS}")
    if entry.get("action") not in FILTER_ACTIONS:
        problems.append(f"content_filter_builtins action must be one of {FILTER_ACTIONS}")
    if entry.get("scan_scope") not in (None, *SCAN_SCOPES):
        problems.append(f"scan_scope must be one of {SCAN_SCOPES} or null")
    if "label" in entry and not isinstance(entry["label"], str):
        problems.append("a builtin's label (ignored) must be a string")
    return problems


def custom_filter_problems(entry: object) -> list[str]:
    if not isinstance(entry, dict):
        return ["content_filters items must be objects"]
    problems = unknown_field_problems(entry, ("pattern", "action", "label"))
    pattern = entry.get("pattern")
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= PATTERN_LONGEST:
        problems.append(f"pattern must be a string of 1 to {PATTERN_LONGEST} characters")
    if entry.get("action") not in FILTER_ACTIONS:
        problems.append(f"content_filters action must be one of {FILTER_ACTIONS}")
    problems += text_problems(entry, "label", longest=LABEL_LONGEST, nullable=True)
    return problems


def filter_list_problems(
    body: Mapping[str, Any], name: str, check: Callable[[object], list[str]]
) -> list[str]:
    value = body.get(name)
    if name not in body or value is None:
        return []
    if not isinstance(value, list):
        return [f"{name} must be a list or null"]
    problems = [problem for entry in value for problem in check(entry)]
    if name == "content_filter_builtins" and not problems:
        slugs = [entry["slug"] for entry in value]
        if len(set(slugs)) != len(slugs):
            problems.append("a builtin slug may appear once (inferred)")
    return problems


def budget_problems(body: Mapping[str, Any]) -> list[str]:
    """`limit_usd` (a number >= 0, inferred) and `reset_interval` go together: one sent alone,
    or one null and the other not, is refused."""
    problems: list[str] = []
    limit, interval = body.get("limit_usd"), body.get("reset_interval")
    if limit is not None and (not is_number(limit) or limit < 0):
        problems.append("limit_usd must be a number >= 0 or null")
    if interval not in (None, *GUARDRAIL_INTERVALS):
        problems.append(f"reset_interval must be one of {GUARDRAIL_INTERVALS} or null")
    if ("limit_usd" in body) != ("reset_interval" in body) or (limit is None) != (
        interval is None
    ):
        problems.append("limit_usd and reset_interval must be sent together")
    return problems


def guardrail_problems(body: Mapping[str, Any], *, creating: bool) -> list[str]:
    """Every way a create (or update) body breaks the published request schema."""
    problems = unknown_field_problems(body, CREATE_FIELDS if creating else UPDATE_FIELDS)
    if creating and "name" not in body:
        problems.append("name is required")
    if "name" in body and body["name"] is None:
        problems.append("name cannot be null")
    problems += text_problems(body, "name", longest=NAME_LONGEST)
    problems += text_problems(body, "description", longest=DESCRIPTION_LONGEST, nullable=True,
                              shortest=0)
    problems += budget_problems(body)
    problems += flag_problems(body, ("include_byok_in_budgets",), nullable=False)
    problems += flag_problems(body, NULLABLE_FLAGS, nullable=True)
    for name in STRING_LISTS:
        problems += string_list_problems(body, name)
    problems += string_list_problems(body, "allowed_data_regions", DATA_REGIONS)
    problems += filter_list_problems(body, "content_filter_builtins", builtin_problems)
    problems += filter_list_problems(body, "content_filters", custom_filter_problems)
    if "workspace_id" in body and not is_uuid(body["workspace_id"]):
        problems.append("workspace_id must be a uuid")
    return problems


def refuse_bad_body(body: Mapping[str, Any], *, creating: bool) -> None:
    """400 for a body the schema refuses, then 400 `invalid_regex_pattern` for a pattern the
    guardrails guide says is rejected."""
    refuse_unless_valid(guardrail_problems(body, creating=creating))
    for entry in body.get("content_filters") or ():
        problem = regex_problem(entry["pattern"])
        if problem is not None:
            raise ApiError(400, f"{MSG_INVALID_REGEX}: {problem}")


# --- the store ------------------------------------------------------------------------------------


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


class WorkspaceDirectory(Protocol):
    """The workspace store as the guardrail routes see it."""

    def workspace_exists(self, workspace_id: str) -> bool: ...

    def workspace_of_default_guardrail(self, guardrail_id: str) -> str | None: ...


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


# --- routes ---------------------------------------------------------------------------------------


def is_guardrail_route(parts: list[str]) -> bool:
    """`/guardrails`, `/guardrails/assignments/keys`, `/guardrails/{id}`,
    `/guardrails/{id}/assignments/keys` and `.../remove`."""
    if not parts or parts[0] != "guardrails" or not all(parts):
        return False
    rest = parts[1:]
    return (
        len(rest) <= 1
        or rest == ["assignments", "keys"]
        or rest[1:] in (["assignments", "keys"], ["assignments", "keys", "remove"])
    )


def guardrails_route(
    book: GuardrailBook, workspaces: WorkspaceDirectory, keys: KeyIndex, request: Request,
    parts: list[str],
) -> Response:
    """Answer one guardrail request for a management key (the caller checked the route shape,
    authentication and the key's type)."""
    rest = parts[1:]
    if not rest:
        return collection(book, workspaces, request)
    if rest == ["assignments", "keys"]:
        only(request, "GET")
        return Response(200, assignment_page(book, keys, None, page_params(request.query)))
    if len(rest) == 1:
        return one_guardrail(book, workspaces, request, rest[0])
    return key_assignments(book, keys, request, rest[0], removing=len(rest) == 4)


def only(request: Request, *methods: str) -> None:
    if request.method not in methods:
        raise method_not_allowed()


def collection(book: GuardrailBook, workspaces: WorkspaceDirectory, request: Request) -> Response:
    """`GET /guardrails` (one workspace, the default unless named) and `POST /guardrails`."""
    only(request, "GET", "POST")
    if request.method == "GET":
        page = page_params(request.query)
        workspace_id = single(request.query, "workspace_id") or DEFAULT_WORKSPACE_ID
        if not is_uuid(workspace_id) or not workspaces.workspace_exists(workspace_id):
            raise ApiError(400, MSG_INVALID)
        listed = [g.to_object() for g in book.in_workspace(workspace_id)]
        return Response(200, paged(listed, page))
    body = json_object(request.body)
    refuse_bad_body(body, creating=True)
    if not workspaces.workspace_exists(body.get("workspace_id", DEFAULT_WORKSPACE_ID)):
        raise ApiError(400, MSG_NO_WORKSPACE)
    return Response(201, {"data": book.create(body).to_object()})


def one_guardrail(
    book: GuardrailBook, workspaces: WorkspaceDirectory, request: Request, guardrail_id: str
) -> Response:
    """`GET`, `PATCH` and `DELETE /guardrails/{id}`; a PATCH of a workspace default guardrail
    that was never written materializes it."""
    only(request, "GET", "PATCH", "DELETE")
    if request.method == "PATCH":
        body = json_object(request.body)
        refuse_bad_body(body, creating=False)
        stored = book.get(guardrail_id)
        owner = workspaces.workspace_of_default_guardrail(guardrail_id)
        if stored is None and owner is None:
            raise ApiError(404, MSG_NOT_FOUND)
        if "name" in body and owner is not None:
            raise ApiError(400, MSG_DEFAULT_RENAME)
        if stored is None:
            stored = book.materialize_default(guardrail_id, owner)
        book.apply(stored, body)
        return Response(200, {"data": stored.to_object()})
    stored = book.get(guardrail_id)
    if stored is None:
        raise ApiError(404, MSG_NOT_FOUND)
    if request.method == "GET":
        return Response(200, {"data": stored.to_object()})
    if stored.is_default:
        raise ApiError(403, MSG_DEFAULT_DELETE)
    book.delete(guardrail_id)
    return Response(200, {"deleted": True})


def key_hashes_of(raw: bytes) -> list[str]:
    """The `key_hashes` of a bulk (un)assign body: at least one string; repeats count once."""
    body = json_object(raw)
    refuse_unless_valid(
        unknown_field_problems(body, ("key_hashes",))
        + string_list_problems(body, "key_hashes")
        + ([] if isinstance(body.get("key_hashes"), list) else ["key_hashes is required"])
    )
    return list(dict.fromkeys(body["key_hashes"]))


def key_assignments(
    book: GuardrailBook, keys: KeyIndex, request: Request, guardrail_id: str, *, removing: bool
) -> Response:
    """`GET`/`POST /guardrails/{id}/assignments/keys` and `POST .../remove`."""
    only(request, *(("POST",) if removing else ("GET", "POST")))
    if request.method == "GET":
        page = page_params(request.query)
        if book.get(guardrail_id) is None:
            raise ApiError(404, MSG_NOT_FOUND)
        return Response(200, assignment_page(book, keys, guardrail_id, page))
    hashes = key_hashes_of(request.body)
    guardrail = book.get(guardrail_id)
    if guardrail is None:
        raise ApiError(404, MSG_NOT_FOUND)
    if guardrail.is_default:
        raise ApiError(400, MSG_DEFAULT_ASSIGN)
    if removing:
        return Response(200, {"unassigned_count": book.unassign(guardrail, hashes)})
    found = [ref for h in hashes if (ref := keys.key_ref(h)) is not None]
    if guardrail.workspace_id is not None and any(
        ref.workspace_id != guardrail.workspace_id for ref in found
    ):
        raise ApiError(400, MSG_OTHER_WORKSPACE)
    return Response(200, {"assigned_count": book.assign(guardrail, [ref.hash for ref in found])})


def assignment_page(
    book: GuardrailBook, keys: KeyIndex, guardrail_id: str | None, page: Page
) -> dict[str, Any]:
    listed = [
        assignment.to_object(ref)
        for assignment in book.assignments(guardrail_id)
        if (ref := keys.key_ref(assignment.key_hash)) is not None
    ]
    return paged(listed, page)

