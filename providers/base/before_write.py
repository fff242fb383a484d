"""What every provider's `check` asks OpenRouter before a write, whatever the resource.

A write needs a management key OpenRouter accepts and a reachable API. The program asks this
before it registers anything (topology/openrouter.py), and each provider's `check` asks it, then
its own questions, through `asking`, before a create or an update, so the preview fails
whenever `up` would (docs/adr/0008-topology-guard.md). A `check` that precedes no write asks
nothing: a no-change preview makes no request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from providers.base.messages import ProviderError, one_line, provider_error
from providers.base.session import management_client, remember_unavailable, unavailable_cause
from providers.http.client import OpenRouterClient
from providers.http.credentials import Credentials, is_header_safe
from providers.http.errors import OpenRouterError


def is_new(olds: Mapping[str, Any]) -> bool:
    """Whether a `check` precedes a create: no old inputs but the engine's own (`__...`)."""
    return not {name for name in olds if not name.startswith("__")}


@contextmanager
def asking(credentials: Credentials) -> Iterator[OpenRouterClient]:
    """The client of a `check`'s questions, once the management key was found to be one.

    An API found unreachable is remembered, so that one preview does not wait out the retries
    again for every resource; every `OpenRouterError` in the block becomes `api-unavailable`.
    """
    known_down = unavailable_cause(credentials)
    if known_down is not None:
        raise provider_error("api-unavailable", cause=known_down, url=credentials.base_url)
    try:
        with management_client(credentials) as client:
            yield client
    except OpenRouterError as err:
        remember_unavailable(credentials, str(err))
        raise provider_error("api-unavailable", cause=str(err), url=credentials.base_url) from None


def management_key_error(credentials: Credentials) -> ProviderError | None:
    """Why the management key may not write at all (GET /key, once per process and
    credentials), or None when OpenRouter accepts it as a management key.

    The program asks this before it registers anything, on every run: a `check` runs only for a
    resource that changes, and none for a deleted one, so without it a regular key or an
    unreachable API in the slot would pass a run that changes nothing (issue 19).
    """
    if not is_header_safe(credentials.management_key):
        return provider_error("management-key-unsendable", source=credentials.source)
    try:
        with asking(credentials):
            pass
    except ProviderError as err:
        return err
    return None


def management_key_problem(credentials: Credentials) -> str | None:
    """`management_key_error` as one line with its kind (a `check` failure's text)."""
    err = management_key_error(credentials)
    return None if err is None else one_line(str(err), err.kind)
