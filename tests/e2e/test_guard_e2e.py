"""Issue 9 through the real engine (bin/pulumi) and the emulator: no live key is deleted by
mistake, with and without `--skip-preview` (docs/adr/0008-topology-guard.md).

Each case is one of the issue's reproduced mistakes. The sandbox stack has no GitHub or Vercel
consumers (their plugins cannot be had here), so what holds a key in these walks is protection;
refusals for consumers are proven under mocks (tests/topology/test_guard*.py).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from e2e_harness import (
    PROJECT,
    REPO,
    STACK,
    Emulator,
    PulumiProject,
    engine_skip_reason,
    hashes,
    refused,
    start,
)

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

FIRST, SECOND = "2026-11-01", "2026-12-01"
EXPIRY, LATER = "2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"
UP_VARIANTS = [("up", "--yes"), ("up", "--yes", "--skip-preview")]
VARIANT_IDS = ["up", "up-skip-preview"]


# --- case 1: a misspelt setting ---------------------------------------------------------------


def test_a_misspelt_or_emptied_keys_setting_deletes_nothing(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    live = hashes(emulator)
    original = project.read_stack_config()
    mistakes = {
        f"{PROJECT}:key": "unknown setting 'key' in the `openrouter-keys` namespace",
        "openrouter-key:keys": "looks like a misspelling of `openrouter-keys`",
    }
    for written, said in mistakes.items():
        document = json.loads(json.dumps(original))
        document["config"][written] = document["config"].pop(f"{PROJECT}:keys")
        project.write_stack_config(document)
        for command in (("preview",), ("up", "--yes", "--skip-preview")):
            result = refused(project, emulator, *command)
            assert said in result.output
            assert "Fix: rename it to `openrouter-keys:keys`" in result.output
    project.write_stack_config(original)
    project.edit_config("keys", {})
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        result = refused(project, emulator, *command)
        assert "the stack config declares no keys, but this stack manages 3" in result.output
        assert "docs/runbooks.md#retire-every-key" in result.output
    assert hashes(emulator) == live


# --- case 2: a failed rotation ----------------------------------------------------------------


@pytest.mark.parametrize("command", UP_VARIANTS, ids=VARIANT_IDS)
def test_a_failed_rotation_leaves_the_only_live_key_protected(
    project: PulumiProject, emulator: Emulator, command: tuple[str, ...]
) -> None:
    keys = start(project, emulator, production={"rotations": [FIRST]})
    assert project.protected()[f"production@{FIRST}"] is True
    keys["production"]["rotations"] = [FIRST, SECOND]
    project.edit_config("keys", keys)
    emulator.inject({"path": "/api/v1/keys", "method": "POST", "status": 400})

    failed = project.pulumi(*command, check=False)

    assert failed.returncode != 0
    assert "Traceback" not in failed.output, failed.output
    # The old generation is registered only once its successor holds the consumers: it was
    # never touched, so it is still protected (before: protection dropped first).
    assert project.protected() == {f"production@{FIRST}": True, "ci": False, "preview": False}
    held = key_hash(project, "production")

    keys["production"]["rotations"] = [SECOND]  # "the rotation happened": it did not
    project.edit_config("keys", keys)
    result = refused(project, emulator, "up", "--yes", "--skip-preview")
    assert f"the change deletes generation '{FIRST}' of keys.production" in result.output
    assert "docs/runbooks.md#rotate-a-key" in result.output
    # `destroy` runs no program: the engine's protection keeps the protected key (it deletes
    # only the unprotected ones, which is what a destroy is for).
    destroy = project.pulumi("destroy", "--yes", "--skip-preview", check=False)
    assert destroy.returncode != 0
    assert "cannot be deleted" in destroy.output
    assert held in hashes(emulator)


def key_hash(project: PulumiProject, key_id: str) -> str:
    return str(project.stack_outputs()["keys"][key_id]["hash"])


# --- case 3: a replace-forcing setting --------------------------------------------------------


def test_a_new_expiry_goes_to_a_new_generation_and_never_replaces_a_key(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = start(project, emulator, production={"rotations": [FIRST], "expiresAt": EXPIRY})
    first = key_hash(project, "production")
    live = hashes(emulator)

    keys["production"]["expiresAt"] = LATER  # what `audit` used to advise for an expiring key
    project.edit_config("keys", keys)
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        result = refused(project, emulator, *command)
        assert "keys.production.expiresAt: OpenRouter cannot change expiresAt in place" in (
            result.output
        )
    keys["preview"] = {**keys["preview"], "expiresAt": LATER}  # a plain, unprotected key too
    keys["production"]["expiresAt"] = EXPIRY
    project.edit_config("keys", keys)
    assert "keys.preview.expiresAt" in refused(project, emulator, "preview").output
    del keys["preview"]["expiresAt"]

    keys["production"].update(rotations=[FIRST, SECOND], expiresAt=LATER)
    project.edit_config("keys", keys)
    project.pulumi("up", "--yes")

    expiries = {key["hash"]: key.get("expires_at") for key in emulator.list_keys()}
    second = key_hash(project, "production")
    assert live < hashes(emulator)  # one key created, none deleted
    assert expiries[first].startswith("2030-01-01")  # the older generation kept its own
    assert expiries[second].startswith("2031-01-01")
    project.pulumi("preview", "--expect-no-changes")


# --- case 4: adopting another stack's key -----------------------------------------------------


def deploy_another_stack(
    project: PulumiProject, emulator: Emulator, stack: str, key_id: str, **env: str
) -> str:
    """`stack` deployed beside this one with one protected key `key_id`; returns its hash."""
    (project.root / "stacks" / f"Pulumi.{stack}.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    f"{PROJECT}:apiBaseUrl": emulator.api_base_url,
                    f"{PROJECT}:protectKeys": True,
                    f"{PROJECT}:keys": {key_id: {"limit": 1}},
                }
            }
        ),
        encoding="utf-8",
    )
    env = {"OPENROUTER_MANAGEMENT_KEY": sandbox_management_key(), **env}
    project.pulumi("stack", "init", stack, env=env)
    project.pulumi("up", "--yes", "--stack", stack, env=env)
    outputs = project.pulumi(
        "stack", "output", "--json", "--show-secrets", "--stack", stack, env=env
    ).stdout
    project.pulumi("stack", "select", STACK)
    return str(json.loads(outputs)["keys"][key_id]["hash"])


def adoption_refusals(project: PulumiProject, emulator: Emulator, hash_: str) -> list[str]:
    """Adopt `hash_` as keys.taken: preview and `up --skip-preview` are both refused."""
    keys = project.keys_config()
    keys["taken"] = {"adopt": hash_}
    project.edit_config("keys", keys)
    said = [
        refused(project, emulator, *command).output
        for command in (("preview",), ("up", "--yes", "--skip-preview"))
    ]
    assert hash_ in hashes(emulator)
    return said


def test_adopting_a_key_another_stack_manages_is_refused_naming_it(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    shared = deploy_another_stack(project, emulator, "other", "shared")
    for output in adoption_refusals(project, emulator, shared):
        assert "keys.taken.adopt" in output
        assert "is already managed by stack 'other' as keys.shared" in output


def test_adopting_while_another_stack_cannot_be_read_is_refused_naming_it(
    project: PulumiProject, emulator: Emulator
) -> None:
    # The `keys` output is a secret: with another passphrase the engine hands this stack `{}`
    # for it and only logs an info line. Read as "manages nothing", it let a stack adopt (and
    # later delete) the other stack's key.
    start(project, emulator)
    passphrase = f"another-{secrets.token_hex(8)}"
    theirs = deploy_another_stack(
        project, emulator, "elsewhere", "theirs", PULUMI_CONFIG_PASSPHRASE=passphrase
    )
    for output in adoption_refusals(project, emulator, theirs):
        assert "keys.taken.adopt: cannot tell whether stack 'elsewhere' manages hash" in output
        assert "cannot use" in output
    assert "taken" not in project.stack_outputs()["keys"]


def sandbox_management_key() -> str:
    sys.path.insert(0, str(REPO))
    from emulator import SANDBOX_MANAGEMENT_KEY  # noqa: PLC0415 - the test's own emulator

    return SANDBOX_MANAGEMENT_KEY


# --- case 5: an interrupted update ------------------------------------------------------------


def processes_in(root: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "cwd") == str(root):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


KEY_CREATE = ("POST", "/api/v1/keys")


def kill_up_while_creating(project: PulumiProject, emulator: Emulator, *, everything: bool) -> None:
    """`pulumi up` with slow creates, killed (SIGKILL) once every create is in flight."""
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    emulator.inject(
        {"path": "/api/v1/keys", "method": "POST", "latency_after_commit": 3.0, "times": 3}
    )
    emulator.clear_requests()
    up = subprocess.Popen(
        [str(project.cli), "up", "--yes", "--skip-preview", "--non-interactive"],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    # Only key creates count: the sandbox's workspace and guardrail are POSTed too, and killing
    # on three of any POST could catch a single key in flight.
    while sum(1 for r in emulator.requests() if (r["method"], r["path"]) == KEY_CREATE) < 3 or (
        not governance_recorded(project)
    ):
        assert time.monotonic() < deadline, "the creates never started"
        time.sleep(0.05)
    victims = processes_in(project.root) if everything else [up.pid]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    up.wait(timeout=30)
    remove_cut_sidecar(project)  # the runbook's first step: a no-op unless the kill cut it


GOVERNANCE_TYPES = {
    f"pulumi-python:dynamic/openrouter:{kind}" for kind in ("Workspace", "Guardrail")
}


def governance_recorded(project: PulumiProject) -> bool:
    """Whether the checkpoint records the sandbox's workspace and guardrail as made: the kill
    then catches the keys alone in flight (a guardrail or workspace made but not yet recorded
    is the case of test_governance_e2e.py's interrupted-up test)."""
    try:
        latest = json.loads(checkpoint(project).read_text(encoding="utf-8"))["checkpoint"]
        latest = latest["latest"] or {}
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not written yet, or read while the engine rewrites it
    made = {r["type"] for r in latest.get("resources") or ()}
    pending = {op["resource"]["type"] for op in latest.get("pending_operations") or ()}
    return made >= GOVERNANCE_TYPES and not pending & GOVERNANCE_TYPES


def checkpoint(project: PulumiProject) -> Path:
    """Where the file backend keeps the stack's checkpoint."""
    return project.state_dir / ".pulumi" / "stacks" / PROJECT / f"{STACK}.json"


def checkpoint_sidecar(project: PulumiProject) -> Path:
    """Its metadata sidecar, which the backend rewrites in place (docs/runbooks.md)."""
    path = checkpoint(project)
    return path.with_name(f"{path.name}.attrs")


def remove_cut_sidecar(project: PulumiProject) -> bool:
    """docs/runbooks.md, An interrupted update: remove the checkpoint's metadata sidecar when a
    killed CLI left it empty or cut (the file backend rewrites it in place); True if it did."""
    sidecar = checkpoint_sidecar(project)
    try:
        json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except ValueError:
        sidecar.unlink()
        return True
    return False


def wait_for_no_process(root: Path, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_in(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def declared_names(emulator: Emulator) -> list[str]:
    return sorted(key["name"] for key in emulator.list_keys())


SANDBOX_NAMES = ["sandbox-ci", "sandbox-preview-deployments", "sandbox-production"]


def test_a_killed_cli_leaves_no_orphan_and_its_provider_exits(
    project: PulumiProject, emulator: Emulator
) -> None:
    kill_up_while_creating(project, emulator, everything=False)

    assert wait_for_no_process(project.root, 20) == []  # the provider left with its engine
    assert emulator.list_keys() == []  # each key minted for the dead engine was deleted again
    project.pulumi("cancel", "--yes")
    project.pulumi("up", "--yes", "--skip-preview")
    assert declared_names(emulator) == SANDBOX_NAMES


def test_a_killed_cli_and_provider_are_recovered_with_the_runbook(
    project: PulumiProject, emulator: Emulator
) -> None:
    kill_up_while_creating(project, emulator, everything=True)
    assert declared_names(emulator) == SANDBOX_NAMES  # minted, and in no state
    project.pulumi("cancel", "--yes")

    result = refused(project, emulator, "up", "--yes", "--skip-preview")
    assert "[key-name-taken]" in result.output
    assert "python -m cli recover --stack" in result.output

    # No OPENROUTER_API_BASE_URL: recover asks the API the stack's own `apiBaseUrl` names.
    env = {**project.env, "OPENROUTER_MANAGEMENT_KEY": sandbox_management_key(),
           "PYTHONPATH": str(REPO)}
    recover = subprocess.run(
        [sys.executable, "-m", "cli", "recover", "--stack", STACK, "--yes"],
        cwd=project.root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert recover.returncode == 0, recover.stdout + recover.stderr
    assert "3 leftover key(s) deleted" in recover.stdout
    assert emulator.list_keys() == []
    project.pulumi("refresh", "--clear-pending-creates", "--yes")
    project.pulumi("up", "--yes", "--skip-preview")
    assert declared_names(emulator) == SANDBOX_NAMES  # exactly the declared keys, no twin


def test_a_sidecar_cut_by_a_killed_cli_is_repaired_with_the_runbook(
    project: PulumiProject, emulator: Emulator
) -> None:
    # What a SIGKILL in the middle of a checkpoint write leaves on a file backend (seen under
    # load in the kill tests above): the checkpoint whole, its `.attrs` sidecar empty.
    start(project, emulator)
    checkpoint_sidecar(project).write_bytes(b"")

    broken = project.pulumi("cancel", "--yes", check=False)
    assert broken.returncode != 0
    assert "failed to load checkpoint: EOF" in broken.output

    assert remove_cut_sidecar(project)
    assert not remove_cut_sidecar(project)  # a whole or absent sidecar is left alone
    project.pulumi("preview", "--expect-no-changes")
    project.pulumi("up", "--yes")
    json.loads(checkpoint_sidecar(project).read_text(encoding="utf-8"))  # written whole again


# --- case 7: a faithful preview ---------------------------------------------------------------


def closed_port_url() -> str:
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/api/v1"


def test_a_preview_fails_whenever_the_up_would_fail_before_any_write(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = start(project, emulator)
    keys["ci"]["limit"] = 9  # a change that writes
    project.edit_config("keys", keys)

    project.pulumi("config", "set", "apiBaseUrl", closed_port_url())
    assert "[api-unavailable]" in refused(project, emulator, "preview").output
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)

    emulator.inject({"path": "/api/v1/key", "method": "GET", "status": 503, "times": 20,
                     "retry_after": 0})
    assert "[api-unavailable]" in refused(project, emulator, "preview").output
    emulator._call("DELETE", "/_emulator/faults")

    project.pulumi("config", "set", "--secret", "managementKey", "sk-or-mgmt-pasted with a space")
    result = refused(project, emulator, "preview")
    assert "[management-key-unsendable]" in result.output
    assert "pasted" not in result.output
    project.pulumi("config", "set", "--secret", "managementKey", sandbox_management_key())

    adopted, other = emulator.seed_key("by-hand"), emulator.seed_key("someone-else")
    keys["legacy"] = {"adopt": adopted["hash"]}
    project.edit_config("keys", keys)
    project.pulumi("config", "set", "--secret", "--path", "adoptedSecrets.legacy", other["key"])
    result = refused(project, emulator, "preview")
    assert "[adopt-secret-mismatch]" in result.output
    assert "adoptedSecrets.legacy" in result.output
    assert other["key"] not in result.output


def test_a_preview_that_only_deletes_checks_the_management_key(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = start(project, emulator)
    del keys["ci"]  # unprotected, nothing holds it: a deliberate retirement
    project.edit_config("keys", keys)
    regular = emulator.create_regular_key(sandbox_management_key(), "not-a-management-key")
    project.pulumi("config", "set", "--secret", "managementKey", regular)

    result = refused(project, emulator, "preview")

    # Asked on every run (issue 19; tests/e2e/test_management_slot_e2e.py), a deletion included.
    assert "managementKey: OpenRouter, asked before anything is registered" in result.output
    assert "[management-key-not-management]" in result.output
    assert regular not in result.output
    project.pulumi("config", "set", "--secret", "managementKey", sandbox_management_key())
    project.pulumi("up", "--yes")  # the same retirement, with the right key
    assert "sandbox-ci" not in declared_names(emulator)


# --- case 6: the project's own words, no traceback --------------------------------------------


def test_a_failed_create_reads_as_one_line_with_its_kind(
    project: PulumiProject, emulator: Emulator
) -> None:
    start(project, emulator)
    keys = project.keys_config()
    keys[f"new-{secrets.token_hex(2)}"] = {"limit": 1}
    project.edit_config("keys", keys)
    emulator.inject({"path": "/api/v1/keys", "method": "POST", "status": 400})

    failed = project.pulumi("up", "--yes", check=False)

    assert failed.returncode != 0
    assert "Traceback" not in failed.output
    assert "[api]" in failed.output
