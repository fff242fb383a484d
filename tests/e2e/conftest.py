"""Fixtures of the end-to-end tests; the harness itself is in e2e_harness.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_harness import (
    EMULATOR_START_TIMEOUT,
    PROJECT_FILES,
    PROJECT_PACKAGES,
    REPO,
    STACK,
    Emulator,
    PulumiProject,
    free_port,
)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A fresh emulator process per test, seeded with the sandbox management key."""
    port = free_port()
    log = (tmp_path / "emulator.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PULUMI_", "OPENROUTER_"))
        },
    )
    try:
        emu = Emulator(port)
        deadline = time.monotonic() + EMULATOR_START_TIMEOUT
        while not emu.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"the emulator did not start: {(tmp_path / 'emulator.log').read_text()}"
                )
            time.sleep(0.1)
        yield emu
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def project(tmp_path: Path) -> PulumiProject:
    """The Pulumi project copied to a temp folder, with only the sandbox stack file."""
    root = tmp_path / "project"
    root.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, root / name)
    for package in PROJECT_PACKAGES:
        shutil.copytree(
            REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (root / "stacks").mkdir()
    shutil.copy2(REPO / "stacks" / f"Pulumi.{STACK}.yaml", root / "stacks" / f"Pulumi.{STACK}.yaml")
    # Pulumi.yaml says `virtualenv: .venv`: the program and the provider run from the real one.
    (root / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    made = PulumiProject(root, tmp_path)
    made.set_sandbox_scoped(present=False)  # a test that needs them adds them back
    return made
