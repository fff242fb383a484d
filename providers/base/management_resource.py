"""What every OpenRouter provider shares: keys, guardrails, workspaces, budgets, assignments.

Each of them is a `ManagementProvider`: stateless and pickled by class reference
(docs/adr/0001-management-key-at-run-time.md), its inputs declared once as a pydantic model
that `check` validates with the stack file's paths, its `diff` derived from that model, and its
preview asking OpenRouter whether the management key may write, then what the write will need,
before any write (docs/adr/0008-topology-guard.md). `check` and `diff` are one template each:
a resource whose rules differ (the key keeps a `declared` output, so that removing an input is
a change) overrides a hook, never the template. The lifecycles stay in each resource's module.

State holds the inputs as applied, plus, where OpenRouter rewrites what it is sent (canonical
model slugs, filter labels), a fingerprint of what it held after the last write (`observed`):
a refresh that finds another fingerprint shows the server's values as drift, and one that finds
the same shows none, so nothing diffs forever.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Final

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    DiffResult,
    ResourceProvider,
)
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from providers.base.before_write import asking, is_new
from providers.base.fields import CONFIG_PATH, FIX_SEPARATOR, DiffPlan
from providers.base.messages import ProviderError, one_line, provider_error
from providers.base.provider_process import install, redacted_errors, report_changed
from providers.base.session import (
    checked_beside,
    credentials_of,
    management_client,
    open_client,
    remember_stack_settings,
    stack_settings_from,
)
from providers.base.values import is_unknown, normal_value, shown
from providers.http.client import OpenRouterClient
from providers.http.credentials import API_BASE_URL_SETTING, MANAGEMENT_KEY_SETTING, Credentials

OBSERVED: Final = "observed"
"""Output: the fingerprint of the server's record after the last write (module docstring)."""
BOOKKEEPING: Final = frozenset({CONFIG_PATH, OBSERVED, "adopt"})
"""Inputs and outputs that say where or what, never what to change: not diffed."""
_FAILURE_INPUT: Final = {
    "api-unavailable": API_BASE_URL_SETTING,
    "api-base-url-unsafe": API_BASE_URL_SETTING,
    "workspace-not-found": "workspace_id",
}
"""The input (or setting) a `check` failure of a kind is reported on, when not the identity."""


class ManagementProvider(ResourceProvider):
    """Base of every provider, `KeyProvider` included; subclasses set `INPUTS` and `REPLACE_ON`
    and, where theirs differ, the hooks: `invalid`, `changes`, `state_of`, `preview`."""

    INPUTS: ClassVar[type[BaseModel]]
    """The inputs, validated by `check`; their names are the resource's input names."""
    REPLACE_ON: ClassVar[frozenset[str]] = frozenset()
    """Inputs the API cannot change in place."""
    NESTED: ClassVar[frozenset[str]] = frozenset()
    """Inputs whose fields the stack file writes at the resource's own level (a policy)."""
    IDENTITY: ClassVar[str] = "name"
    """The input a `taken` failure is reported on."""
    SETS: ClassVar[frozenset[str]] = frozenset()
    """List inputs whose order means nothing (key hashes): compared as sets."""
    SECRETS: ClassVar[frozenset[str]] = frozenset()
    """Inputs whose value a message never quotes (a provider's API key, a destination's config)."""
    FAILURE_INPUTS: ClassVar[Mapping[str, str]] = {}
    """The input a `check` failure of a kind of this resource's own is reported on."""

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Nothing to restore: settings are read in the provider process, at call time."""

    def configure(self, req: ConfigureRequest) -> None:
        install()
        remember_stack_settings(self, stack_settings_from(req.config))

    @redacted_errors("check")
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the inputs; then, only before a write, ask OpenRouter what the write will
        need (`preview`), so the preview fails whenever `up` would (ADR 0008)."""
        failures = self.invalid(olds, news)
        if failures or not self.write_follows(olds, news):
            return CheckResult(dict(news), failures)
        try:
            credentials = credentials_of(self)
            with asking(credentials) as client:
                self.preview(client, credentials, olds, news)
        except ProviderError as err:
            where = self.failure_input(err.kind)
            failures.append(CheckFailure(where, one_line(str(err), err.kind)))
        return CheckResult(dict(news), failures)

    def write_follows(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Whether this `check` precedes a create or an update (judged from the old inputs)."""
        return is_new(olds) or self.changes(self.state_of(olds), news).has_changes

    def state_of(self, olds: Mapping[str, Any]) -> Mapping[str, Any]:
        """The state `diff` would compare against, from the old inputs `check` is given."""
        return olds

    def preview(
        self,
        client: OpenRouterClient,
        credentials: Credentials,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
    ) -> None:
        """Raise the `ProviderError` the write would fail with, knowable before any write: here,
        a twin a create would leave (`taken`). `client` holds a checked management key."""
        if is_new(olds) and not isinstance(news.get("adopt"), str):
            found = self.taken(client, news)
            if found is not None:
                raise found

    def failure_input(self, kind: str) -> str:
        """The input (or stack setting) the engine names beside a `check` failure of `kind`."""
        if kind.startswith("management-key"):
            return MANAGEMENT_KEY_SETTING
        return {**_FAILURE_INPUT, **self.FAILURE_INPUTS}.get(kind, self.IDENTITY)

    def taken(self, client: OpenRouterClient, news: Mapping[str, Any]) -> ProviderError | None:
        """What a create would duplicate: an object OpenRouter already holds under the identity
        this one would get (its leftover from an interrupted `up`, most often). None here."""
        return None

    def twin_error(
        self, kind: str, news: Mapping[str, Any], twin_id: str, created: str, **identity: str
    ) -> ProviderError:
        """The `taken` failure of `kind`, naming the twin and where the stack file declares this."""
        return provider_error(
            kind,
            where=news.get(CONFIG_PATH) or type(self).__name__.removesuffix("Provider"),
            id=twin_id,
            created=created or "at an unknown time",
            **identity,
        )

    @redacted_errors("diff")
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan = self.changes(olds, news)
        report_changed(plan.changed)  # what the preview and `up` show: `[diff: ~name]`
        return DiffResult(
            changes=plan.has_changes,
            replaces=list(plan.replaces),
            # The new object exists before the old one goes: an assignment moves a key from
            # one guardrail to the next with no moment under none, and consumers are never
            # left pointing at a deleted key.
            delete_before_replace=False,
        )

    def changes(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffPlan:
        """The inputs whose value differs, in declaration order (an unknown value differs),
        and those of them the API cannot change in place."""
        changed = tuple(
            name
            for name in self.INPUTS.model_fields
            if name not in BOOKKEEPING and self._normal(name, olds) != self._normal(name, news)
        )
        return DiffPlan(changed, tuple(name for name in changed if name in self.REPLACE_ON))

    def _normal(self, name: str, props: Mapping[str, Any]) -> object:
        value = normal_value(props.get(name))
        if name in self.SETS and isinstance(value, list):
            return sorted(set(value), key=repr)
        return value

    def invalid(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[CheckFailure]:
        """Every invalid known input, by the `INPUTS` model, in the stack file's words."""
        unknown = {name for name, value in news.items() if is_unknown(value)}
        known = {
            name: value
            for name, value in news.items()
            if name in self.INPUTS.model_fields and name not in unknown
        }
        try:
            self.INPUTS.model_validate(known)
        except ValidationError as error:
            return [
                CheckFailure(str(item["loc"][0]) if item["loc"] else "", self._message(news, item))
                for item in error.errors(include_url=False)
                if not item["loc"] or item["loc"][0] not in unknown
            ]
        return []

    def _message(self, news: Mapping[str, Any], item: Any) -> str:
        loc = tuple(item["loc"])
        base = news.get(CONFIG_PATH) or type(self).__name__.removesuffix("Provider")
        parts = loc[1:] if loc and loc[0] in self.NESTED else loc
        where = ".".join(
            [str(base), *(to_camel(p) for p in parts if isinstance(p, str) and " " not in p)]
        )
        quoted = "input" in item and not (loc and loc[0] in self.SECRETS)
        value = f"{shown(item.get('input'))} is not allowed: " if quoted else ""
        message = str(item["msg"]).removeprefix("Value error, ").replace(FIX_SEPARATOR, ". Fix: ")
        return f"{where}: {value}{message}."

    @contextmanager
    def connected(self) -> Iterator[tuple[OpenRouterClient, Credentials]]:
        """The client of one call, after the management key was checked to be one, and the
        credentials it was made from."""
        credentials = credentials_of(self)
        with management_client(credentials) as client:
            yield client, credentials

    @contextmanager
    def client(self) -> Iterator[OpenRouterClient]:
        """A client for one write, after the management key was checked to be one."""
        with self.connected() as (client, _):
            yield client

    @contextmanager
    def reader(self) -> Iterator[tuple[OpenRouterClient, str]]:
        """A client for one read, and who reads: the credentials' cache key, which scopes the
        listings a read may be answered from (providers/http/listing.py). The management key's
        check travels beside the read's listing, and the read ends only once it is known
        (providers/base/session.py `checked_beside`)."""
        credentials = credentials_of(self)
        with open_client(credentials) as client, checked_beside(client, credentials):
            yield client, credentials.guard_cache_key()


def fingerprint(record: Mapping[str, Any], fields: tuple[str, ...]) -> str:
    """A digest of the fields this project manages, as the server holds them."""
    chosen = {name: record.get(name) for name in fields}
    text = json.dumps(chosen, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def outputs(props: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """State: the inputs as applied (engine-internal `__` properties dropped), plus `extra`."""
    return {**{k: v for k, v in props.items() if not k.startswith("__")}, **extra}
