"""Issue 21, "read in pages", through the real engine (bin/pulumi) and the emulator: a refresh of
a stack with several keys lists each workspace's keys instead of one `GET /keys/{hash}` per key,
and drift (a key changed or deleted behind Pulumi's back) is still reported exactly
(docs/adr/0014-reads-in-pages.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from e2e_harness import API_KEY_TYPE, STACK, Emulator, PulumiProject, engine_skip_reason

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

EXTRA_KEYS = 8
KEYS_PATH = "/api/v1/keys"


def deploy_many(project: PulumiProject, emulator: Emulator) -> dict[str, dict[str, Any]]:
    """The sandbox stack with eight more keys, deployed; key id -> its outputs in state."""
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    entries = project.keys_config()
    entries.update({f"bulk{i}": {"limit": i + 1} for i in range(EXTRA_KEYS)})
    project.edit_config("keys", entries)
    project.pulumi("up", "--yes")
    return keys_in_state(project)


def keys_in_state(project: PulumiProject) -> dict[str, dict[str, Any]]:
    return {
        r["urn"].rsplit("::", 1)[1]: r["outputs"]
        for r in project.state().get("resources", [])
        if r["type"] == API_KEY_TYPE
    }


def key_reads(emulator: Emulator) -> tuple[list[str], int]:
    """The keys asked for one by one (`GET /keys/{hash}`), and how many listings of the keys'
    workspace the reads took (a preview's check that a new key's name is free lists the account
    once more, without `workspace_id`: providers/base/session.py `account_keys`)."""
    gets = [r for r in emulator.requests() if r["method"] == "GET"]
    one_by_one = [
        r["path"].rsplit("/", 1)[1] for r in gets if r["path"].startswith(f"{KEYS_PATH}/")
    ]
    listings = [r for r in gets if r["path"] == KEYS_PATH and "workspace_id=" in r["query"]]
    return one_by_one, len(listings)


def test_a_refresh_lists_keys_and_reports_drift_exactly(
    project: PulumiProject, emulator: Emulator
) -> None:
    keys = deploy_many(project, emulator)
    assert len(keys) == EXTRA_KEYS + 3
    changed, deleted = keys["bulk1"]["hash"], keys["bulk2"]["hash"]
    emulator.update_key_behind_pulumis_back(changed, limit=99, disabled=True)
    emulator.delete_key_behind_pulumis_back(deleted)

    # preview --refresh (what the PR workflow runs): the drift shows, nothing is written.
    emulator.clear_requests()
    preview = project.pulumi("preview", "--refresh", "--diff")
    one_by_one, listings = key_reads(emulator)
    assert one_by_one == [deleted], preview.output  # only the key the listing lacks
    assert listings == 1, (listings, preview.output)  # the refresh's one listing
    assert emulator.writes() == []
    assert re.search(r"\+ .*ApiKey: \(create\)\n.*::bulk2\]", preview.output), preview.output
    assert re.search(r"~ limit *: 99 => 2", preview.output), preview.output

    # refresh: the state takes the server's values, and the deleted key leaves it.
    emulator.clear_requests()
    project.pulumi("refresh", "--yes")
    one_by_one, listings = key_reads(emulator)
    # `refresh --yes` previews, then refreshes: two provider processes, one listing each.
    processes = [r["path"] for r in emulator.requests()].count("/api/v1/key")
    assert processes == 2
    assert (one_by_one, listings) == ([deleted] * processes, processes)
    assert emulator.writes() == []
    after = keys_in_state(project)
    assert "bulk2" not in after
    assert (after["bulk1"]["limit"], after["bulk1"]["disabled"]) == (99, True)
    unchanged = {k: v for k, v in keys.items() if k not in {"bulk1", "bulk2"}}
    assert {k: after[k]["limit"] for k in unchanged} == {
        k: v["limit"] for k, v in unchanged.items()
    }

    # the next up puts back what the stack declares (`disabled` is not declared: left alone).
    project.pulumi("up", "--yes")
    restored = keys_in_state(project)
    assert (restored["bulk1"]["limit"], restored["bulk1"]["disabled"]) == (2, True)
    assert restored["bulk2"]["hash"] != deleted


def plain_inputs(project: PulumiProject) -> dict[str, dict[str, Any]]:
    """Key id -> its recorded inputs, secrets left out (re-encrypted, so never equal twice)."""
    return {
        r["urn"].rsplit("::", 1)[1]: {
            name: value
            for name, value in r["inputs"].items()
            if not (isinstance(value, dict) and "ciphertext" in value)
        }
        for r in project.state().get("resources", [])
        if r["type"] == API_KEY_TYPE
    }


def test_a_refresh_without_drift_keeps_every_recorded_input(
    project: PulumiProject, emulator: Emulator
) -> None:
    """A read rebuilding the inputs dropped `config_path`, so after a refresh every key's next
    registration differed from state and the engine rewrote the whole snapshot once per key
    (quadratic: bench/README.md, "Fixed costs per phase")."""
    deploy_many(project, emulator)
    before = plain_inputs(project)
    assert all(inputs["config_path"] == f"keys.{key}" for key, inputs in before.items())
    project.pulumi("refresh", "--yes")
    assert plain_inputs(project) == before
    project.pulumi("preview", "--refresh", "--expect-no-changes")
    assert plain_inputs(project) == before
