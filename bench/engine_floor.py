"""The floor of `bench_engine.py`: the smallest Pulumi program that does the project's HTTP work.

`floor_files()` returns the files of a throwaway Pulumi project: `Pulumi.yaml` (same runtime
options as the project's), `__main__.py` (one dynamic resource per configured key, nothing else)
and `floor_provider.py`, an importable module (so the pickle in state is a class reference, as
the project's is) holding a stateless dynamic provider:

- create: one `POST /keys`; update: one `PATCH /keys/{hash}` with the changed fields; delete: one
  `DELETE /keys/{hash}`; read (refresh): one `GET /keys/{hash}`; check and diff: no HTTP (diff
  compares the three inputs);
- the management key and base URL are read from the environment in every method;
- HTTP through the standard library's `urllib.request`, not httpx: the floor is the least any
  program must pay for these calls, and urllib costs neither an import of httpx nor a client (and
  its TLS context) per operation. Like the project (one client per operation), it opens one
  connection per request, so against the real API both pay one handshake per call.

The outputs are what a wiring program needs and no more: the three inputs, `hash`, and `key` as a
Pulumi secret.
"""

from __future__ import annotations

FLOOR_PROJECT = "floor"
FLOOR_BASE_URL_ENV = "FLOOR_API_BASE_URL"

PULUMI_YAML = f"""\
name: {FLOOR_PROJECT}
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: .venv
"""

MAIN_PY = '''\
"""The floor: one dynamic resource per configured key, nothing else."""

import pulumi

from floor_provider import FloorKey

for key_id, spec in pulumi.Config().require_object("keys").items():
    FloorKey(key_id, spec["name"], spec["limit"], spec["limitReset"])
'''

PROVIDER_PY = '''\
"""A stateless dynamic provider: one HTTP call per write or read, none for check or diff."""

import json
import os
import urllib.request

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

FIELDS = ("name", "limit", "limit_reset")


def call(method, path, body=None):
    request = urllib.request.Request(
        os.environ["FLOOR_API_BASE_URL"] + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": "Bearer " + os.environ["OPENROUTER_MANAGEMENT_KEY"],
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


class FloorKeyProvider(ResourceProvider):
    def create(self, props):
        created = call("POST", "/keys", {f: props[f] for f in FIELDS})
        hash_ = created["data"]["hash"]
        return CreateResult(hash_, {**{f: props[f] for f in FIELDS}, "hash": hash_,
                                    "key": created["key"]})

    def diff(self, _id, olds, news):
        return DiffResult(changes=any(olds.get(f) != news.get(f) for f in FIELDS))

    def update(self, id_, olds, news):
        changes = {f: news[f] for f in FIELDS if olds.get(f) != news.get(f)}
        data = call("PATCH", "/keys/" + id_, changes)["data"]
        return UpdateResult({**{f: data[f] for f in FIELDS}, "hash": id_, "key": olds.get("key")})

    def read(self, id_, props):
        data = call("GET", "/keys/" + id_)["data"]
        return ReadResult(id_, {**props, **{f: data[f] for f in FIELDS}})

    def delete(self, id_, _props):
        call("DELETE", "/keys/" + id_)


class FloorKey(Resource, module="floor", name="Key"):
    def __init__(self, resource_name, name, limit, limit_reset):
        props = {"name": name, "limit": limit, "limit_reset": limit_reset,
                 "hash": None, "key": None}
        super().__init__(FloorKeyProvider(), resource_name, props,
                         pulumi.ResourceOptions(additional_secret_outputs=["key"]))
'''


def floor_files() -> dict[str, str]:
    """File name -> text of the floor project (the stack file is written per run)."""
    return {"Pulumi.yaml": PULUMI_YAML, "__main__.py": MAIN_PY, "floor_provider.py": PROVIDER_PY}
