"""Objects made behind the API's back (by hand in the dashboard), for tests and the sandbox: each
is checked by the create rules, so a test cannot seed a shape the real API would never hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.key_rules import as_timestamp, create_problems
from emulator.records import SeededKey
from emulator.store import Store
from emulator.wire import is_number, is_uuid
from emulator.workspaces import StoredWorkspace, workspace_problems

SEED_API_FIELDS = ("limit", "limit_reset", "include_byok_in_limit", "expires_at", "workspace_id",
                   "creator_user_id")
SEED_SETTINGS = frozenset(
    {*SEED_API_FIELDS, "disabled", "usage", "created_at", "last_used_at", "secret"}
)


def seed_key(store: Store, name: str, **settings: Any) -> SeededKey:
    """Put a regular key in the store with settings the API cannot set (usage, created_at,
    disabled), checking the rest by the create rules so a test cannot seed a shape the real
    API would never hold."""
    api_fields = {
        k: settings[k] for k in SEED_API_FIELDS if settings.get(k) is not None
    }
    body = {"name": name, **api_fields}
    problems = create_problems(body)
    disabled = settings.get("disabled", False)
    usage = settings.get("usage", 0.0)
    if not isinstance(disabled, bool):
        problems.append("disabled must be a boolean")
    if not is_number(usage) or usage < 0:
        problems.append("usage must be a number >= 0")
    stamps: dict[str, str] = {}
    for moment in ("created_at", "last_used_at"):
        if settings.get(moment) is None:
            continue
        try:
            stamps[moment] = as_timestamp(settings[moment])
        except (TypeError, ValueError):
            problems.append(f"{moment} must be an ISO 8601 timestamp or a datetime")
    unknown = sorted(set(settings) - SEED_SETTINGS)
    problems += [f"unknown seed setting {setting!r}" for setting in unknown]
    problems += store.missing_workspace_problems(body)
    if problems:
        raise ValueError(f"cannot seed key {name!r}: {'; '.join(problems)}")
    with store.lock:
        stored, secret = store.create(body, settings.get("secret"))
        stored.disabled = disabled
        for counter in ("usage", "usage_daily", "usage_weekly", "usage_monthly"):
            setattr(stored, counter, float(usage))
        for moment, stamp in stamps.items():
            setattr(stored, moment, stamp)
    return SeededKey(stored.hash, secret)

def seed_workspace(
    store: Store, body: Mapping[str, Any], workspace_id: str | None = None
) -> StoredWorkspace:
    """A workspace made behind the API's back (by hand in the dashboard), checked by the
    create rules; `workspace_id` lets a test choose its id."""
    problems = workspace_problems(body, creating=True)
    if workspace_id is not None and not is_uuid(workspace_id):
        problems.append(f"id must be a lowercase uuid, got {workspace_id!r}")
    with store.lock:
        if workspace_id is not None and store.workspaces.workspace_exists(workspace_id):
            problems.append(f"workspace {workspace_id} already exists")
        if any(w.slug == body.get("slug") for w in store.workspaces.all()):
            problems.append(f"slug {body.get('slug')!r} is taken")
        if problems:
            raise ValueError(f"cannot seed workspace: {'; '.join(problems)}")
        return store.workspaces.create(body, workspace_id)



def seed_object(store: Store, area: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """An object of an API area (emulator/areas.py), checked by its create rules (ValueError
    naming each problem, or an unknown area); the object as the API shows it."""
    with store.lock:
        return store.book(area).seed(store, body)
