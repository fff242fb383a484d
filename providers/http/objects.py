"""One object at a REST path, as every management resource but the key reads and writes it:
its record parsed leniently, a create sent once (a lost answer settled by
`providers.http.lost_create`), a PATCH, a DELETE where 404 counts as done; and the workspace,
the scope every object may be filed in. Facts: docs/reference/openrouter-governance-api.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

from providers.http.client import OpenRouterClient
from providers.http.errors import ForbiddenError, InvalidResponseError, NotFoundError
from providers.http.lost_create import LostCreate, settle_create

_R = TypeVar("_R", bound=BaseModel)


class ApiRecord(BaseModel):
    """Lenient where the API is: unknown fields kept (the fingerprint of drift reads them)."""

    model_config = ConfigDict(extra="allow", frozen=True)


def parse_record(model: type[_R], value: Any, method: str, path: str) -> _R:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        places = "; ".join(
            ".".join(str(p) for p in item["loc"]) or "body"
            for item in error.errors(include_input=False, include_url=False)
        )
        raise InvalidResponseError(
            f"{method} {path}: the response lacks what it must hold ({places}). OpenRouter's API"
            " may have changed; run again and report it if it persists.",
            method=method,
            path=path,
        ) from None


def data_of(payload: Any) -> Any:
    return payload.get("data") if isinstance(payload, Mapping) else None


def path_segment(value: str) -> str:
    """One path segment; an id never changes the path it is put in."""
    return quote(value, safe="")


def workspace_path(workspace: str) -> str:
    """A workspace by its id or its slug (the API accepts both)."""
    return f"/workspaces/{path_segment(workspace)}"


def workspace_missing(client: OpenRouterClient, workspace_id: str) -> bool:
    """Whether OpenRouter says no such workspace exists (404), before a create files something
    in it: the create would fail with a bare 400. Any other answer leaves the create to judge
    (a key that may not read workspaces can still create in one)."""
    try:
        client.get_json(workspace_path(workspace_id))
    except NotFoundError:
        return True
    except ForbiddenError:
        return False
    return False


def create_once(  # noqa: PLR0917 - one create's whole description
    client: OpenRouterClient,
    path: str,
    body: Mapping[str, object],
    model: type[_R],
    what: str,
    made: Callable[[datetime], list[str]],
    object_path: Callable[[str], str],
) -> _R:
    """`POST path`, sent once. A lost answer is settled (`providers.http.lost_create`): whatever
    `made(since)` finds created since the request is deleted, and the error raised."""
    created = settle_create(
        LostCreate(
            path=path,
            what=what,
            key_name=what,
            send=lambda: client.post_json(path, body),
            made=lambda window: made(window.since()),
            delete=lambda object_id: client.send_json("DELETE", object_path(object_id)),
            clock=time.monotonic,
        )
    )
    return parse_record(model, data_of(created), "POST", path)


def patch_record(
    client: OpenRouterClient, path: str, body: Mapping[str, object], model: type[_R]
) -> _R:
    return parse_record(model, data_of(client.send_json("PATCH", path, body)), "PATCH", path)


def delete_object(client: OpenRouterClient, path: str) -> None:
    """`DELETE`, where a 404 counts as done: the object is gone either way."""
    try:
        client.send_json("DELETE", path)
    except NotFoundError:
        return
