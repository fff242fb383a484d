"""Issue 20 through the real engine (bin/pulumi) and the emulator, with a program of its own: a
key, a BYOK credential and an observability destination restricted to it. A new BYOK key and a
new destination secret are each one PATCH of the same object, no POST and no DELETE; no secret
is in the exported state in plain text; a preview after each step and after a refresh shows no
change; destroy deletes exactly the two. The stack file's `byok:` / `observability:` wiring is
the topology's (its own e2e)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from e2e_harness import STACK, Emulator, PulumiProject, engine_skip_reason

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

PROGRAM = '''\
import pulumi

from providers import (
    ApiKey,
    ApiKeyArgs,
    ByokCredential,
    ByokCredentialArgs,
    ByokSettings,
    DestinationSettings,
    ObservabilityDestination,
    ObservabilityDestinationArgs,
)

config = pulumi.Config()
api = ApiKey("api", ApiKeyArgs(name="e2e-api"))
credential = ByokCredential(
    "openai",
    ByokCredentialArgs(
        settings=ByokSettings(provider="openai"),
        key=config.require("e2eByokKey"),  # a plain str: the resource makes it secret
        name="e2e-openai",
        allowed_key_hashes=[api.id],
        config_path="byok.openai",
    ),
)
destination = ObservabilityDestination(
    "langfuse",
    ObservabilityDestinationArgs(
        settings=DestinationSettings(type="langfuse", privacy_mode=True),
        config={"publicKey": "pk-e2e", "secretKey": config.require("e2eLangfuseSecret")},
        name="e2e-langfuse",
        allowed_key_hashes=[api.id],
        config_path="observability.langfuse",
    ),
)
pulumi.export("credential", credential.credential_id)
pulumi.export("destination", destination.destination_id)
'''


def provider_secret() -> str:
    """A stand-in for a provider's secret, made at run time; never starts with `-`, which the
    CLI would read as a flag (`secrets.token_urlsafe` does, one time in 64)."""
    return f"test-provider-secret-{secrets.token_hex(12)}"


def objects(emulator: Emulator, area: str) -> list[dict[str, Any]]:
    return list(emulator._call("GET", f"/_emulator/areas/{area}")["data"])


def set_secret_inputs(project: PulumiProject, byok_key: str, langfuse_secret: str) -> None:
    """Secret config, read by the program with `require` (a plain string): the resources alone
    must keep them secret in state."""
    project.pulumi("config", "set", "--secret", "e2eByokKey", byok_key)
    project.pulumi("config", "set", "--secret", "e2eLangfuseSecret", langfuse_secret)


def up(project: PulumiProject) -> str:
    output = project.pulumi("up", "--yes").output
    project.pulumi("preview", "--expect-no-changes")
    return output


def test_a_key_scoped_credential_and_destination_live_patch_and_go(
    project: PulumiProject, emulator: Emulator
) -> None:
    (project.root / "__main__.py").write_text(PROGRAM, encoding="utf-8")
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    first_key, first_secret = provider_secret(), provider_secret()
    set_secret_inputs(project, first_key, first_secret)

    outputs = [up(project)]

    [credential] = objects(emulator, "byok")
    [destination] = objects(emulator, "observability")
    [api] = [k for k in emulator.list_keys() if k["name"] == "e2e-api"]
    assert credential["allowed_api_key_hashes"] == [api["hash"]]
    assert destination["api_key_hashes"] == [api["hash"]]
    assert destination["privacy_mode"] is True

    # A new BYOK key: one PATCH of the same credential, the key alone.
    emulator.clear_requests()
    second_key = provider_secret()
    set_secret_inputs(project, second_key, first_secret)
    outputs.append(up(project))
    assert emulator.writes() == [("PATCH", f"/api/v1/byok/{credential['id']}")]
    [rotated] = objects(emulator, "byok")
    assert rotated["id"] == credential["id"]
    assert rotated["label"] != credential["label"]

    # A new destination secret: one PATCH of the same destination.
    emulator.clear_requests()
    second_secret = provider_secret()
    set_secret_inputs(project, second_key, second_secret)
    outputs.append(up(project))
    assert emulator.writes() == [
        ("PATCH", f"/api/v1/observability/destinations/{destination['id']}")
    ]

    # A refresh reads both back: no drift, no change.
    emulator.clear_requests()
    project.pulumi("refresh", "--yes")
    project.pulumi("preview", "--expect-no-changes")
    assert emulator.writes() == []

    exported = project.export_state()
    resources = json.loads(exported)["deployment"]["resources"]
    for secret in (first_key, second_key, first_secret, second_secret):
        assert secret not in exported
        assert all(secret not in text for text in outputs)
    by_type = {r["type"].rsplit(":", 1)[1]: r for r in resources if "openrouter" in r["type"]}
    assert "ciphertext" in json.dumps(by_type["ByokCredential"]["outputs"]["key"])
    assert "ciphertext" in json.dumps(by_type["ObservabilityDestination"]["outputs"]["config"])

    # Destroy deletes exactly the two (and the key).
    emulator.clear_requests()
    project.pulumi("destroy", "--yes")
    deletes = sorted(path for method, path in emulator.writes() if method == "DELETE")
    assert deletes == sorted(
        [
            f"/api/v1/byok/{credential['id']}",
            f"/api/v1/keys/{api['hash']}",
            f"/api/v1/observability/destinations/{destination['id']}",
        ]
    )
    assert objects(emulator, "byok") == []
    assert objects(emulator, "observability") == []
