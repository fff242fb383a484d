"""`python -m cli audit --stack` over a stack deployed through the real engine (bin/pulumi): the
`governance` output the program writes is the one the audit joins BYOK credentials and
observability destinations with, and the fix it gives for a restriction to a deleted key,
`pulumi up --refresh`, does fix it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from e2e_harness import PROJECT, REPO, STACK, Emulator, PulumiProject, engine_skip_reason, start

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]
SCOPED_FINDINGS = {
    "scoped-to-deleted-key",
    "unmanaged-byok-credential",
    "unmanaged-observability-destination",
}


def audit(project: PulumiProject) -> tuple[dict[str, Any], str]:
    """The audit's JSON document for the stack (its outputs read with the engine), and all it
    printed."""
    from emulator import SANDBOX_MANAGEMENT_KEY  # noqa: PLC0415 - the test's own emulator

    env = {**project.env, "OPENROUTER_MANAGEMENT_KEY": SANDBOX_MANAGEMENT_KEY,
           "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "cli", "audit", "--stack", STACK, "--json"],
        cwd=project.root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return json.loads(run.stdout), run.stdout + run.stderr


def scoped_findings(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f["kind"], f["context"]["name"])
        for f in document["findings"]
        if f["kind"] in SCOPED_FINDINGS
    ]


def test_the_audit_joins_what_the_program_deployed_and_its_fix_works(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator, keep_scoped=True)
    [credential] = emulator.area("byok")
    [destination] = emulator.area("observability")

    document, printed = audit(project)
    assert scoped_findings(document) == []
    [listed] = document["byok"]
    assert (listed["id"], listed["managed_by"]) == (
        credential["id"], [{"stack": STACK, "entry": "byok.openai-sandbox"}]
    )
    assert document["observability"][0]["id"] == destination["id"]
    secret = project.pulumi(
        "config", "get", "--path", f"{PROJECT}:byok.openai-sandbox.key"
    ).stdout.strip()
    assert secret
    assert secret not in printed

    # ci, the one key the credential is restricted to, is deleted behind Pulumi's back.
    ci = project.stack_outputs()["keys"]["ci"]["hash"]
    emulator.delete_key_behind_pulumis_back(ci)
    document, _ = audit(project)
    assert scoped_findings(document) == [("scoped-to-deleted-key", credential["name"])]
    [finding] = [f for f in document["findings"] if f["kind"] == "scoped-to-deleted-key"]
    assert finding["severity"] == "error"
    assert f"({ci[:12]}... (sandbox/ci))" in finding["message"]
    assert f"`{PROJECT}:byok.openai-sandbox.keys`" in finding["hint"]
    assert "`pulumi up --refresh --stack sandbox`" in finding["hint"]

    # The fix the finding gives.
    project.pulumi("up", "--refresh", "--yes")
    document, _ = audit(project)
    assert scoped_findings(document) == []
    [credential] = emulator.area("byok")
    assert credential["allowed_api_key_hashes"] == [project.stack_outputs()["keys"]["ci"]["hash"]]
