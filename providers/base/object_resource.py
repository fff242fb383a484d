"""The template of a resource that is one OpenRouter object at one REST path: `ObjectProvider`.

A BYOK credential (`/byok`) and an observability destination (`/observability/destinations`)
are each one object that is created once (`POST`), read (`GET`, or the workspace's listing),
changed in place (`PATCH`) and deleted (`DELETE`). What differs between them is data: where the
object lives and what its record holds (`ObjectApi`), which inputs the request carries
(`ObjectProvider.body`), and which record fields the drift fingerprint covers. Everything else
is written here once: the twin check before a create, the send-once-then-settle of a create whose
answer was lost (`governance_api.create_once`), adoption, drift by fingerprint, a PATCH of what
changed and nothing else, secret inputs kept from state (the API never returns them), and the
API's 400/409 answers in the project's words. A new resource of this shape is one module: its
settings, an `ObjectApi`, a subclass setting the class variables below, and its resource class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import Field

from providers.base.before_write import is_new
from providers.base.fields import CONFIG_PATH, FIX_SEPARATOR
from providers.base.management_resource import OBSERVED, ManagementProvider, fingerprint, outputs
from providers.base.messages import ProviderError, a_or_an, provider_error
from providers.base.provider_process import engine_listening, redacted_errors
from providers.base.sdk_pickle import PickleSafeResource
from providers.base.values import normal_value
from providers.http.client import OpenRouterClient
from providers.http.credentials import Credentials
from providers.http.errors import BadRequestError, NotFoundError
from providers.http.formats import KEY_HASH
from providers.http.listing import listed
from providers.http.lost_create import made_since
from providers.http.objects import (
    ApiRecord,
    create_once,
    data_of,
    delete_object,
    parse_record,
    patch_record,
    path_segment,
    workspace_missing,
)


def key_hashes(hashes: list[str] | None) -> list[str] | None:
    """The rule of an allowlist of OpenRouter keys (`allowed_key_hashes`): hashes, not secrets."""
    bad = [h for h in hashes or () if not KEY_HASH.match(h)]
    if bad:
        raise ValueError(
            f"{len(bad)} of them are not key hashes (64 lowercase hex characters)"
            f"{FIX_SEPARATOR}list the hashes of OpenRouter keys, never their secrets"
        )
    return hashes


class ObjectRecord(ApiRecord):
    """What every object of this shape carries; the rest is kept as the API sent it."""

    id: str = Field(min_length=1)
    name: str | None = None
    workspace_id: str | None = None
    created_at: str = ""

    def fields(self) -> dict[str, Any]:
        """Every field the API returned, as it returned it."""
        return self.model_dump()


_R = TypeVar("_R", bound=ObjectRecord)


@dataclass(frozen=True)
class ObjectApi(Generic[_R]):
    """One kind of object at `collection`: its CRUD calls, its listing per workspace, and how
    a create whose answer was lost is found (same name, in the same workspace, created since)."""

    collection: str
    """`/byok`: `POST` creates, `GET` lists (`workspace_id` filters), `/{id}` is one object."""
    record: type[_R]
    noun: str
    """What a message calls one object: `BYOK credential`."""

    def path(self, object_id: str) -> str:
        return f"{self.collection}/{path_segment(object_id)}"

    def get(self, client: OpenRouterClient, object_id: str) -> _R:
        """`NotFoundError` when it does not exist (or was deleted)."""
        path = self.path(object_id)
        return parse_record(self.record, data_of(client.get_json(path)), "GET", path)

    def list(self, client: OpenRouterClient, workspace_id: str | None) -> list[_R]:
        params = {"workspace_id": workspace_id} if workspace_id else None
        items = client.list_json(self.collection, params)
        return [parse_record(self.record, item, "GET", self.collection) for item in items]

    def read(
        self, client: OpenRouterClient, reader: str, object_id: str, workspace_id: str | None
    ) -> _R | None:
        """The object as its GET returns it, from its workspace's listing when that holds it;
        None only when the GET says 404 (providers/http/listing.py)."""

        def fetch() -> dict[str, _R]:
            return {record.id: record for record in self.list(client, workspace_id)}

        def confirm() -> _R | None:
            try:
                return self.get(client, object_id)
            except NotFoundError:
                return None

        return listed((reader, self.collection, workspace_id), fetch, object_id, confirm)

    def create(self, client: OpenRouterClient, body: Mapping[str, object]) -> _R:
        """`POST`, sent once; a lost answer is settled by name and creation time."""
        name = body.get("name")
        workspace = body.get("workspace_id")

        def made(started: datetime) -> list[str]:
            return [
                record.id
                for record in self.list(client, str(workspace) if workspace else None)
                if record.name == name and made_since(record.created_at, started)
            ]

        what = f"{self.noun} {name!r}"
        return create_once(client, self.collection, body, self.record, what, made, self.path)

    def update(self, client: OpenRouterClient, object_id: str, body: Mapping[str, object]) -> _R:
        return patch_record(client, self.path(object_id), body, self.record)

    def delete(self, client: OpenRouterClient, object_id: str) -> None:
        """A 404 counts as done: the object is gone either way."""
        delete_object(client, self.path(object_id))


class ObjectProvider(ManagementProvider):
    """Creates, adopts, reads, updates and deletes one object of `API`; stateless.

    A subclass sets `API`, `ID_OUTPUT`, `WATCHED` and the base's `INPUTS`/`REPLACE_ON`, and
    writes `body` (what create and update send) and `seen` (the inputs as the server holds them,
    for drift). `REPLACE_ON` inputs are sent on create only: the API cannot change them.
    """

    FAILURE_INPUTS: ClassVar[Mapping[str, str]] = {
        "object-adopt-not-found": "adopt",
        "object-adopt-fixed": "adopt",
    }
    API: ClassVar[ObjectApi[Any]]
    ID_OUTPUT: ClassVar[str]
    """The output that repeats the object's id (`credential_id`), for the program to wire."""
    WATCHED: ClassVar[tuple[str, ...]]
    """The record fields the drift fingerprint covers (module docstring of management_resource)."""

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The request fields of these inputs, every updatable one (a PATCH sends what differs)."""
        raise NotImplementedError

    def create_only(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The request fields a create adds and an update never sends (`REPLACE_ON`)."""
        workspace = props.get("workspace_id")
        return {"workspace_id": workspace} if isinstance(workspace, str) else {}

    def seen(self, props: Mapping[str, Any], record: ObjectRecord) -> dict[str, Any]:
        """The inputs as the server holds them (`props` where the API does not say)."""
        raise NotImplementedError

    def shown(self, record: Any) -> dict[str, Any]:
        """Outputs read from the record beyond the id (a credential's masked label); none here."""
        return {}

    def where(self, props: Mapping[str, Any]) -> str:
        return str(props.get(CONFIG_PATH) or type(self).__name__.removesuffix("Provider"))

    # --- preview --------------------------------------------------------------------------------

    def taken(self, client: OpenRouterClient, news: Mapping[str, Any]) -> ProviderError | None:
        """An object of the same name in the same workspace that no resource holds (most often
        the leftover of an interrupted `up`): a create would make its twin. A workspace that
        does not exist: the create would fail.

        A leftover of this entry holds what it declares fixed at creation (`provider`, `type`);
        the object a replacement replaces holds another (the engine `check`s a replacement
        with no old inputs, as a create): it has the same name but is no twin."""
        name, workspace = news.get("name"), news.get("workspace_id")
        if not isinstance(name, str) or not isinstance(workspace, str | None):
            return None  # a workspace made in this same update holds nothing yet
        if workspace is not None and workspace_missing(client, workspace):
            where = f"{self.where(news)}.workspace"
            return provider_error("workspace-not-found", where=where, id=workspace)
        siblings = self.API.list(client, workspace)
        twin = next(
            (r for r in siblings if r.name == name and self.fixed_otherwise(r, news) is None),
            None,
        )
        if twin is not None:
            return self.twin_error(
                "object-name-taken",
                news,
                twin.id,
                twin.created_at,
                name=name,
                noun=self.API.noun,
                a_noun=a_or_an(self.API.noun),
            )
        return self.full(news, siblings)

    def fixed_otherwise(
        self, record: ObjectRecord, props: Mapping[str, Any]
    ) -> tuple[str, object, object] | None:
        """The first input fixed at creation that `record` holds otherwise than `props`
        declare, as (request field, held, declared); None when it holds every one."""
        held = record.fields()
        for name, declared in self.create_only(props).items():
            if normal_value(held.get(name)) != normal_value(declared):
                return name, held.get(name), declared
        return None

    def preview(
        self,
        client: OpenRouterClient,
        credentials: Credentials,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
    ) -> None:
        """Before a create: the twin check, or, for `adopt`, what the adoption would refuse."""
        adopt = news.get("adopt")
        if is_new(olds) and isinstance(adopt, str):
            self.adoptable(client, adopt, news)
            return
        super().preview(client, credentials, olds, news)

    def full(
        self, news: Mapping[str, Any], siblings: Sequence[ObjectRecord]
    ) -> ProviderError | None:
        """A cap on how many objects a workspace holds that this create would pass; None here."""
        return None

    # --- lifecycle ------------------------------------------------------------------------------

    @redacted_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client() as client:
            adopt = props.get("adopt")
            if isinstance(adopt, str):
                record = self._adopt(client, adopt, props)
            else:
                body = {**self.body(props), **self.create_only(props)}
                record = self._refused("create", props, lambda: self.API.create(client, body))
                if not engine_listening():
                    # Killed `pulumi up`: nothing would record it; the next run makes it again.
                    self.API.delete(client, record.id)
        return CreateResult(record.id, self.state(props, record))

    def _adopt(self, client: OpenRouterClient, adopt: str, props: Mapping[str, Any]) -> Any:
        """Take over an existing object: it must exist and hold what cannot change in place."""
        self.adoptable(client, adopt, props)
        body = self.body(props)
        return self._refused("update", props, lambda: self.API.update(client, adopt, body))

    def adoptable(self, client: OpenRouterClient, adopt: str, props: Mapping[str, Any]) -> None:
        """Raise what adopting `adopt` would fail with: no such object, or one holding another
        value of an input fixed at creation. The preview asks it too (`preview`)."""
        try:
            current = self.API.get(client, adopt)
        except NotFoundError:
            raise provider_error(
                "object-adopt-not-found", where=self.where(props), noun=self.API.noun, id=adopt
            ) from None
        otherwise = self.fixed_otherwise(current, props)
        if otherwise is not None:
            field, found, declared = otherwise
            raise provider_error(
                "object-adopt-fixed",
                where=self.where(props),
                noun=self.API.noun,
                id=adopt,
                field=field,
                found=found,
                declared=declared,
            )

    @redacted_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        workspace = props.get("workspace_id")
        with self.reader() as (client, reader):
            record = self.API.read(
                client, reader, id_, workspace if isinstance(workspace, str) else None
            )
        if record is None:
            return ReadResult(None, {})
        if not props or props.get(OBSERVED) == fingerprint(record.fields(), self.WATCHED):
            outs = self.state(props, record) if not props else dict(props)
            return ReadResult(id_, outs, self._inputs(outs) if props else None)
        # Changed outside this stack: show the server's values, so the next preview restores.
        drifted = self.state(self.seen(props, record), record)
        return ReadResult(id_, drifted, self._inputs(drifted))

    @redacted_errors("update")
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        body = patch_body(self.body(olds), self.body(news))
        with self.client() as client:
            record = self._refused("update", news, lambda: self.API.update(client, id_, body))
        return UpdateResult(self.state(news, record))

    @redacted_errors("delete")
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self.client() as client:
            self.API.delete(client, id_)

    # --- helpers --------------------------------------------------------------------------------

    def state(self, props: Mapping[str, Any], record: ObjectRecord) -> dict[str, Any]:
        """The inputs as applied, the id output and the fingerprint of what the server holds."""
        return outputs(
            props,
            **self.shown(record),
            **{self.ID_OUTPUT: record.id, OBSERVED: fingerprint(record.fields(), self.WATCHED)},
        )

    def _inputs(self, outs: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in outs.items() if k in self.INPUTS.model_fields}

    def _refused(self, verb: str, props: Mapping[str, Any], call: Callable[[], _R]) -> _R:
        """A 400 or 409 (OpenRouter refused what it was sent) in the project's words."""
        try:
            return call()
        except BadRequestError as error:
            raise self.refusal(verb, props, error) from None

    def refusal(self, verb: str, props: Mapping[str, Any], error: BadRequestError) -> ProviderError:
        """The message of a 400 or 409: OpenRouter's words, where the stack file declares it."""
        return provider_error(
            "object-refused",
            where=self.where(props),
            verb=verb,
            noun=self.API.noun,
            status=error.status,
            said=error.api_message or error.message,
        )


def patch_body(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `new` that differ from `old`: a PATCH changes what changed and nothing
    else (a secret sent again would rotate it for nothing)."""
    return {
        name: value
        for name, value in new.items()
        if name not in old or normal_value(old[name]) != normal_value(value)
    }


@dataclass(kw_only=True)
class ObjectArgs:
    """What every resource of this template takes beside its settings and its secret."""

    name: pulumi.Input[str]
    """OpenRouter's name for it (a stack file's default: `<stack>-<id>`)."""
    workspace_id: pulumi.Input[str] | None = None
    """The workspace it serves (fixed at creation); None: the default workspace."""
    allowed_key_hashes: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Only these OpenRouter keys may use it (order does not matter); None: every key."""
    adopt: str | None = None
    """The id of an existing one to take over instead of creating one."""
    config_path: str | None = None
    """Where it is declared in the stack file (`byok.<id>`, ...), for messages only."""

    def inputs(self) -> dict[str, Any]:
        """Every input by name: the resource's settings and secret, then `shared_inputs`."""
        raise NotImplementedError

    def shared_inputs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "workspace_id": self.workspace_id,
            "allowed_key_hashes": self.allowed_key_hashes,
            "adopt": self.adopt,
            CONFIG_PATH: self.config_path,
        }


class ObjectResource(PickleSafeResource):
    """The resource class of this template; each subclass names its type token (`module=`,
    `name=`), its provider and the outputs that are not inputs; the provider's `SECRETS` stay
    secret as outputs too."""

    PROVIDER: ClassVar[type[ObjectProvider]]
    OUTPUT_ONLY: ClassVar[tuple[str, ...]]

    def __init__(
        self, resource_name: str, args: ObjectArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {**dict.fromkeys(self.OUTPUT_ONLY), OBSERVED: None, **args.inputs()}
        secret = pulumi.ResourceOptions(additional_secret_outputs=sorted(self.PROVIDER.SECRETS))
        super().__init__(
            self.PROVIDER(), resource_name, props, pulumi.ResourceOptions.merge(secret, opts)
        )
