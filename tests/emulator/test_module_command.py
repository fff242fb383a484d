"""`python -m emulator` as its own process: what the sandbox stack and the e2e tests start."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from emulator import SANDBOX_MANAGEMENT_KEY

REPO = Path(__file__).resolve().parents[2]
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - the address the command must refuse
ANNOUNCEMENT = re.compile(r"^OpenRouter emulator: (http://127\.0\.0\.1:\d+/api/v1)$")


@contextmanager
def emulator_process(
    *args: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        match = ANNOUNCEMENT.match(line)
        assert match, f"unexpected first line {line!r}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_module_serves_the_sandbox_key_and_stops_cleanly_on_a_signal(stop_signal):
    with emulator_process() as (process, api_base_url):
        response = httpx.get(
            f"{api_base_url}/key",
            headers={"Authorization": f"Bearer {SANDBOX_MANAGEMENT_KEY}"},
            timeout=5,
        )
        assert response.status_code == 200
        assert response.json()["data"]["is_management_key"] is True
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0


def test_module_seeds_the_key_named_by_the_environment_instead():
    chosen = "throwaway-from-env-" + os.urandom(4).hex()
    with emulator_process(
        "--management-key-env", "EMULATOR_TEST_KEY", env={"EMULATOR_TEST_KEY": chosen}
    ) as (_, api_base_url):
        def status_with(key: str) -> int:
            headers = {"Authorization": f"Bearer {key}"}
            return httpx.get(f"{api_base_url}/keys", headers=headers, timeout=5).status_code

        assert status_with(chosen) == 200
        assert status_with(SANDBOX_MANAGEMENT_KEY) == 401


def test_module_refuses_a_non_loopback_host():
    completed = subprocess.run(
        [sys.executable, "-m", "emulator", "--host", EVERY_INTERFACE, "--port", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=30, check=False,
    )

    assert completed.returncode == 2
    assert EVERY_INTERFACE in completed.stderr
    assert "loopback" in completed.stderr
    assert completed.stdout == ""


def test_module_says_when_its_port_is_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", str(port)],
            cwd=REPO, capture_output=True, text=True, timeout=30, check=False,
        )

    assert completed.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_module_refuses_an_unset_key_variable():
    completed = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--management-key-env", "NOT_SET_HERE"],
        cwd=REPO, capture_output=True, text=True, timeout=30, check=False,
        env={k: v for k, v in os.environ.items() if k != "NOT_SET_HERE"},
    )

    assert completed.returncode == 2
    assert "NOT_SET_HERE" in completed.stderr


def test_sandbox_key_is_obviously_fake():
    assert "throwaway" in SANDBOX_MANAGEMENT_KEY
    assert not re.search(r"sk-or-(v1|mgmt)-[0-9a-f]{48,}", SANDBOX_MANAGEMENT_KEY)
