"""Helpers of the CLI tests: a finished run, timestamps as the API wants them, the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from emulator import Emulator
from providers import ClientSettings, OpenRouterClient
from providers.http.client import PAGE_SIZE


@dataclass(frozen=True)
class Run:
    """One finished CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> object:
        """stdout as exactly one JSON document (json.loads refuses trailing documents)."""
        return json.loads(self.out)


RunCli = Callable[..., Run]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Account:
    """A seeded account, the two stack outputs files that manage part of it, and its secrets."""

    emulator: Emulator
    management_key: str
    outputs: dict[str, Path]
    hashes: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    def label(self, name: str) -> str:
        key = self.emulator.key(self.hashes[name])
        assert key is not None
        return key["label"]

    def last_used_day(self, name: str) -> str:
        """The day a key was last used, as the audit table shows it."""
        key = self.emulator.key(self.hashes[name])
        assert key is not None
        return datetime.fromisoformat(key["last_used_at"]).strftime("%Y-%m-%d")

    def outputs_args(self) -> list[str]:
        return [arg for path in self.outputs.values() for arg in ("--outputs", str(path))]


FILLER_KEYS = PAGE_SIZE + 4  # with the named keys, more than one page


def management_client(emulator: Emulator, management_key: str) -> OpenRouterClient:
    """The project's client with the management key: sets up guardrails and workspaces the way
    a person would, through the API."""
    return OpenRouterClient(ClientSettings(api_key=management_key, base_url=emulator.api_base_url))


def capped_guardrail(
    client: OpenRouterClient, name: str, workspace_id: str, cap: tuple[float, str], *holders: str
) -> str:
    """A guardrail of a workspace with a spend cap (`(limit_usd, reset_interval)`), assigned to
    the keys whose hashes are `holders`; its id."""
    limit, reset = cap
    body = {"name": name, "workspace_id": workspace_id, "limit_usd": limit, "reset_interval": reset}
    guardrail_id = str(client.post_json("/guardrails", body)["data"]["id"])
    if holders:
        path = f"/guardrails/{guardrail_id}/assignments/keys"
        client.send_json("POST", path, {"key_hashes": list(holders)})
    return guardrail_id
