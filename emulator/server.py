"""The in-process emulator: a loopback server in a daemon thread and its Python handle."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from emulator.faults import Fault, FaultBook
from emulator.httpd import EmulatorServer
from emulator.records import RequestRecord, SeededKey
from emulator.seeding import seed_key, seed_object, seed_workspace
from emulator.store import Store

# Obviously fake and short: never mistaken for a real key by a scanner or a reader.
SANDBOX_MANAGEMENT_KEY = "sk-or-mgmt-sandbox-throwaway-not-a-secret"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """A running emulator: its address, seeding, fault injection and the request log."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not is_loopback(host):
            raise ValueError(f"the emulator serves loopback only; refusing host {host!r}")
        self.store = Store()
        self.faults = FaultBook()
        self._server = EmulatorServer((host, port), self.store, self.faults)
        self.host = host
        self.port = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self.api_base_url = f"{self.url}/api/v1"
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r})"

    def start(self) -> Emulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"openrouter-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    # seeding and inspection

    def add_management_key(self, secret: str | None = None) -> str:
        """Register a management key (generated at run time unless given) and return it."""
        return self.store.add_management_key(secret)

    def seed_key(
        self,
        name: str,
        *,
        limit: float | None = None,
        limit_reset: str | None = None,
        include_byok_in_limit: bool = False,
        disabled: bool = False,
        expires_at: str | None = None,
        usage: float = 0.0,
        created_at: str | datetime | None = None,
        last_used_at: str | datetime | None = None,
        workspace_id: str | None = None,
        creator_user_id: str | None = None,
        secret: str | None = None,
    ) -> SeededKey:
        """A regular key made behind the API's back (e.g. by hand in the dashboard)."""
        return seed_key(
            self.store,
            name,
            limit=limit,
            limit_reset=limit_reset,
            include_byok_in_limit=include_byok_in_limit,
            disabled=disabled,
            expires_at=expires_at,
            usage=usage,
            created_at=created_at,
            last_used_at=last_used_at,
            workspace_id=workspace_id,
            creator_user_id=creator_user_id,
            secret=secret,
        )

    def keys(self) -> list[dict[str, Any]]:
        """Every stored key object, newest first, disabled and every workspace included."""
        return self.store.all_key_objects()

    def key(self, key_hash: str) -> dict[str, Any] | None:
        """One stored key object, or None when there is no such key."""
        return self.store.key_object(key_hash)

    def update_key(self, key_hash: str, **changes: Any) -> dict[str, Any]:
        """Change a key behind Pulumi's back (drift), including fields PATCH cannot touch."""
        from emulator.admin import admin_update  # noqa: PLC0415 - keeps the public names short

        return admin_update(self.store, key_hash, changes)

    def delete_key(self, key_hash: str) -> bool:
        """Delete a key behind Pulumi's back; False when it was not there."""
        return self.store.delete(key_hash)

    # workspaces and guardrails

    def add_workspace(
        self, name: str, slug: str, *, workspace_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A workspace made behind the API's back, checked by the create rules (`fields`: the
        other create fields, e.g. `description`); `workspace_id` picks its id."""
        return seed_workspace(
            self.store,
            {"name": name, "slug": slug, **fields}, workspace_id
        ).to_object()

    def workspaces(self) -> list[dict[str, Any]]:
        """Every workspace object, newest first, the default one included."""
        return self.store.workspace_objects()

    def workspace_budgets(self, ref: str) -> list[dict[str, Any]] | None:
        """A workspace's budget objects (by id or slug), broadest first; None: no workspace."""
        return self.store.budget_objects(ref)

    def guardrails(self) -> list[dict[str, Any]]:
        """Every guardrail object of every workspace, configured default guardrails included."""
        return self.store.guardrail_objects()

    def key_guardrail(self, key_hash: str) -> str | None:
        """The id of the guardrail a key holds, or None."""
        return self.store.key_guardrail(key_hash)

    def set_canonical_models(self, canonical: dict[str, str]) -> None:
        """Map model slugs to the canonical slugs guardrails store them as (empty: kept as
        sent), as OpenRouter's model catalogue does (`openai/gpt-4o` -> a dated slug)."""
        with self.store.lock:
            self.store.guardrails.canonical_models = dict(canonical)

    # the other areas of the API (emulator/areas.py: byok, observability)

    def seed_object(self, area: str, **body: Any) -> dict[str, Any]:
        """An object of an area made behind the API's back (`seed_object("byok",
        provider="openai", key=...)`), checked by its create rules; the object as the API shows
        it (secrets masked)."""
        return seed_object(self.store, area, body)

    def objects(self, area: str) -> list[dict[str, Any]]:
        """Every live object of an area, every workspace, newest first, secrets masked."""
        return self.store.area_objects(area)

    # faults and the request log

    def inject(self, *faults: Fault) -> None:
        for fault in faults:
            self.faults.add(fault)

    def pending_faults(self) -> list[Fault]:
        return self.faults.pending()

    def clear_faults(self) -> None:
        self.faults.clear()

    def requests(self) -> list[RequestRecord]:
        """The API requests so far, oldest first (admin routes are not logged)."""
        return self.store.requests()

    def clear_requests(self) -> None:
        self.store.clear_requests()

    def reset(self, *, management_keys: bool = False) -> None:
        """Forget keys, workspaces (but the default), guardrails, faults and the log; management
        keys too only when asked."""
        self.faults.clear()
        self.store.reset(keep_management_keys=not management_keys)


@contextmanager
def run_emulator(host: str = "127.0.0.1", port: int = 0) -> Iterator[Emulator]:
    """Serve on loopback in a daemon thread for the duration of the block (port 0: a free one)."""
    emulator = Emulator(host, port).start()
    try:
        yield emulator
    finally:
        emulator.stop()
