"""The program's own questions to OpenRouter, asked before anything is registered.

Each function takes the validated stack config and returns what the pure rules judge
(topology/catalogue.py, ownership.py, retirement.py, governance_guard.py); a failure becomes
part of the answer (or an `OpenRouterError` the caller words), so the rule that needed it fails
closed and names the setting. docs/adr/0013-the-guard-asks-openrouter.md lists every question
with its cost in requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from providers import (
    DESTINATIONS_API,
    MANAGEMENT_KEY_SETTING,
    ClientSettings,
    Credentials,
    KeyNotFound,
    KeyRecord,
    NotFoundError,
    OpenRouterClient,
    OpenRouterError,
    ProviderError,
    get_guardrail,
    get_workspace,
    key_source,
    management_key_error,
    parse_instant,
    shown,
    stack_setting_name,
)
from topology.catalogue import (
    MODELS,
    Catalogue,
    Kind,
    model_catalogue,
    provider_catalogue,
)
from topology.config import CONFIG_SOURCE, Secret, StackConfig
from topology.governance_guard import (
    LiveKey,
)
from topology.ownership import GUARDRAIL, Answer, Answers, Question
from topology.retirement import (
    Seen,
)


def _client(management_key: Secret, base_url: str) -> OpenRouterClient:
    """The client every question uses: the management key to the stack's API base URL."""
    return OpenRouterClient(ClientSettings(management_key.reveal(), base_url=base_url))


def read_catalogues(config: StackConfig, kinds: frozenset[Kind]) -> dict[Kind, Catalogue | str]:
    """`GET /models` and/or `GET /providers` (one request each, retried while transient), or
    why a list could not be read: the check then fails closed."""
    if config.management_key is None:
        return {}  # reported by validation already
    found: dict[Kind, Catalogue | str] = {}
    with _client(config.management_key, config.api_base_url) as client:
        for kind in sorted(kinds):
            try:
                found[kind] = (
                    model_catalogue(client.list_models())
                    if kind == MODELS
                    else provider_catalogue(client.list_providers())
                )
            except OpenRouterError as error:
                found[kind] = error.message
    return found


def keys_in_workspaces(
    config: StackConfig, workspace_ids: Sequence[str]
) -> dict[str, list[LiveKey]]:
    """Every key OpenRouter lists in each workspace, disabled and expired ones included."""
    if config.management_key is None:
        return {}
    with _client(config.management_key, config.api_base_url) as client:
        return {
            workspace: [LiveKey(k.hash, k.name) for k in client.list_keys(workspace)]
            for workspace in workspace_ids
        }


def answer_questions(config: StackConfig, asked: Sequence[Question]) -> Answers:
    """Ask OpenRouter what topology/ownership.py needs: one GET per question."""
    if config.management_key is None:
        return {}  # reported by validation already
    answers: dict[Question, Answer] = {}
    with _client(config.management_key, config.api_base_url) as client:
        for question in asked:
            try:
                if question.kind is GUARDRAIL:
                    value = get_guardrail(client, question.ref).name
                else:
                    value = get_workspace(client, question.ref).id
            except NotFoundError:
                answers[question] = Answer()
            except OpenRouterError as error:
                answers[question] = Answer(failure=error.message)
            else:
                answers[question] = Answer(value)
    return answers


def destinations_in(
    config: StackConfig, workspaces: Sequence[str | None]
) -> dict[str | None, list[tuple[str, str]] | str]:
    """Every observability destination in each workspace (None: the default one), as a message
    names it (`name (id)`) and its type, one listing each; a failure is kept as that workspace's
    answer (fail closed)."""
    if config.management_key is None:
        return {}
    found: dict[str | None, list[tuple[str, str]] | str] = {}
    with _client(config.management_key, config.api_base_url) as client:
        for workspace in workspaces:
            try:
                listed = DESTINATIONS_API.list(client, workspace)
                found[workspace] = [
                    (f"{d.name} ({d.id})" if d.name else d.id, d.type) for d in listed
                ]
            except OpenRouterError as error:
                found[workspace] = error.message
    return found


def last_uses(config: StackConfig, hashes: Sequence[str]) -> dict[str, Seen]:
    """What OpenRouter says of each key, one `GET /keys/{hash}` each; a failure is kept as the
    key's answer, so the rule refuses that deletion (fail closed) and judges the others."""
    if config.management_key is None:
        return dict.fromkeys(hashes, Seen(error="no management key to ask it with"))
    seen: dict[str, Seen] = {}
    with _client(config.management_key, config.api_base_url) as client:
        for hash_ in hashes:
            try:
                record = client.get_key(hash_)
            except KeyNotFound:
                seen[hash_] = Seen(gone=True)
            except OpenRouterError as error:
                seen[hash_] = Seen(error=error.message)
            else:
                seen[hash_] = seen_of(record)
    return seen


def seen_of(record: KeyRecord) -> Seen:
    """A key's answer as the retirement rule reads it; a time it cannot read is an error."""
    last_used = parse_instant(record.last_used_at)
    if record.last_used_at and last_used is None:
        return Seen(error=f"its last_used_at {shown(record.last_used_at)} is not a time")
    return Seen(
        last_used_at=last_used,
        created_at=parse_instant(record.created_at),
        usage=record.usage + record.byok_usage,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def management_key_refusal(config: StackConfig) -> ProviderError | None:
    """What OpenRouter says of the management key and the URL (GET /key), or None if it takes
    them; asked once per process and credentials (providers/base/session.py keeps the verdict)."""
    if config.management_key is None:
        return None  # reported by validation already
    source = config.management_key_source or CONFIG_SOURCE
    named = stack_setting_name(MANAGEMENT_KEY_SETTING) if source == CONFIG_SOURCE else source
    credentials = Credentials(
        config.management_key.reveal(), config.api_base_url, key_source(named)
    )
    return management_key_error(credentials)
