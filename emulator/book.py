"""The book every API area keeps its objects in, and the routes every area serves the same way.

OpenRouter's newer management areas (`/byok`, `/observability/destinations`) share one shape: a
collection (a paged list of one workspace, a create answering 201) and its items (GET, PATCH,
DELETE answering `{deleted: true}`), a soft delete (the record is kept, marked deleted, and
answers 404 from then on), lists newest first. `Book` holds that shape once; an area's book
derives from it and says only its own rules: what a body must be (`problems`), what a create
stores (`new_record`), how a PATCH applies (`update`), how the request log masks a body
(`logged`), and what narrows a list beyond its workspace (`listed`). Callers hold the store's
lock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from emulator.wire import (
    MSG_INVALID,
    MSG_NOT_FOUND,
    Account,
    ApiError,
    Area,
    Request,
    Response,
    create_workspace,
    json_object,
    list_workspace,
    method_not_allowed,
    page_params,
    paged,
    refuse_naming,
)


class Record(Protocol):
    """What a book needs of a stored object; the rest is the area's."""

    id: str
    workspace_id: str
    sequence: int
    deleted: bool

    def to_object(self) -> dict[str, Any]:
        """The object as the API shows it."""
        ...


R = TypeVar("R", bound=Record)


class Book(ABC, Generic[R]):
    """Every object of one area, deleted ones kept (a soft delete); implements `AreaBook`."""

    path: ClassVar[tuple[str, ...]]
    """The collection's segments after `/api/v1`; an item is one segment more (its id)."""
    seeded_as: ClassVar[str]
    """What one object is called in a seed's error, e.g. "a BYOK credential"."""

    def __init__(self) -> None:
        self._records: dict[str, R] = {}
        self._sequence = 0

    # --- the area's own rules ---------------------------------------------------------------

    @abstractmethod
    def problems(self, account: Account, body: Mapping[str, Any], *, creating: bool
                 ) -> list[str]:
        """Every way a create (or PATCH) body breaks the area's request schema."""

    @abstractmethod
    def new_record(self, body: Mapping[str, Any], workspace_id: str, sequence: int) -> R:
        """The record a checked create body makes, or the ApiError the API answers instead."""

    @abstractmethod
    def update(self, stored: R, body: Mapping[str, Any]) -> None:
        """Apply a checked PATCH body, or raise the ApiError the API answers (nothing applied)."""

    @abstractmethod
    def logged(self, body: Any) -> Any:
        """A request body with every secret masked (abstract: each area names its secrets)."""

    # --- the shared book --------------------------------------------------------------------

    def live(self) -> list[R]:
        """Newest first (inferred, as the other lists)."""
        found = [r for r in self._records.values() if not r.deleted]
        return sorted(found, key=lambda r: r.sequence, reverse=True)

    def get(self, record_id: str) -> R:
        stored = self._records.get(record_id)
        if stored is None or stored.deleted:
            raise ApiError(404, MSG_NOT_FOUND)
        return stored

    def create(self, account: Account, body: Mapping[str, Any]) -> R:
        """Store a create body, or raise what the API answers; nothing is stored then."""
        refuse_naming(self.problems(account, body, creating=True))
        workspace_id = create_workspace(body, account)
        stored = self.new_record(body, workspace_id, self._sequence + 1)
        self._sequence = stored.sequence
        self._records[stored.id] = stored
        return stored

    def listed(self, account: Account, query: Mapping[str, list[str]]) -> list[R]:
        """A list's records: those of the query's workspace (the default one unless named)."""
        workspace_id = list_workspace(query, account)
        return [r for r in self.live() if r.workspace_id == workspace_id]

    # --- AreaBook ---------------------------------------------------------------------------

    def answer(self, account: Account, request: Request, parts: list[str]) -> Response:
        if len(parts) == len(self.path):
            if request.method == "GET":
                listed = [r.to_object() for r in self.listed(account, request.query)]
                return Response(200, paged(listed, page_params(request.query)))
            if request.method == "POST":
                created = self.create(account, json_object(request.body))
                return Response(201, {"data": created.to_object()})
            raise method_not_allowed()
        if request.method not in ("GET", "PATCH", "DELETE"):
            raise method_not_allowed()
        body = json_object(request.body) if request.method == "PATCH" else None
        if body is not None:
            refuse_naming(self.problems(account, body, creating=False))
        stored = self.get(parts[len(self.path)])
        if body is not None:
            self.update(stored, body)
        if request.method == "DELETE":
            stored.deleted = True
            return Response(200, {"deleted": True})
        return Response(200, {"data": stored.to_object()})

    def seed(self, account: Account, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.create(account, body).to_object()
        except ApiError as error:
            problems = error.message.removeprefix(f"{MSG_INVALID}: ")
            raise ValueError(f"cannot seed {self.seeded_as}: {problems}") from error

    def objects(self) -> list[dict[str, Any]]:
        return [r.to_object() for r in self.live()]

    @classmethod
    def is_route(cls, parts: list[str]) -> bool:
        """The collection and its items (`/<path>` and `/<path>/{id}`)."""
        depth = len(cls.path)
        return parts[:depth] == list(cls.path) and len(parts) <= depth + 1 and all(parts)

    @classmethod
    def area(cls) -> Area:
        """The area this book serves, named by its first path segment (emulator/areas.py)."""
        return Area(cls.path[0], cls.is_route, cls)
