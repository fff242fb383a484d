"""The CLI's test world: in-process runs with captured streams, and a realistic account."""

from __future__ import annotations

import io
import json
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_harness import FILLER_KEYS, Account, Run, RunCli, stamp

from cli.__main__ import main
from emulator import Emulator


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under GitHub Actions the runner sets this; no test may write to the real summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """`python -m cli ARGS`, in process; `stdin=` feeds standard input."""

    def run(*argv: str, stdin: str | None = None) -> Run:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def closed_port_url() -> str:
    """An API base URL on loopback where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


@pytest.fixture
def account(emulator: Emulator, management_key: str, sentinel: str, tmp_path: Path) -> Account:
    """Two stacks (dev, prod) managing most keys; the rest is what an audit exists to find.

    - dev: dev-web (healthy), dev-worker (90% of its limit)
    - prod: prod-web (holds the sentinel as its secret), prod-batch (expires in 5 days),
      prod-cron (last used 45 days ago), prod-old (disabled), prod-gone (deleted by hand),
      and service-000..103 (healthy filler that pushes the list past one page)
    - unmanaged: hand-made (used last week) and left-over (last used 300 days ago)
    """
    now = datetime.now(UTC)
    recently = now - timedelta(days=1)
    seeds: dict[str, dict[str, object]] = {
        "dev-web": {"limit": 50.0, "limit_reset": "monthly", "usage": 5.0},
        "dev-worker": {"limit": 10.0, "usage": 9.0, "last_used_at": now - timedelta(days=2)},
        "prod-web": {"usage": 120.0, "secret": sentinel},
        "prod-batch": {"usage": 3.0, "expires_at": stamp(now + timedelta(days=5))},
        "prod-cron": {"usage": 30.0, "last_used_at": now - timedelta(days=45)},
        "prod-old": {"usage": 1.0, "disabled": True},
        "prod-gone": {"usage": 2.0},
        "hand-made": {"usage": 4.0, "created_at": now - timedelta(days=200),
                      "last_used_at": now - timedelta(days=7)},
        "left-over": {"usage": 0.5, "created_at": now - timedelta(days=400),
                      "last_used_at": now - timedelta(days=300)},
        **{f"service-{n:03d}": {"usage": 1.0 + n} for n in range(FILLER_KEYS)},
    }
    for settings in seeds.values():
        settings.setdefault("last_used_at", recently)
    world = Account(
        emulator=emulator,
        management_key=management_key,
        outputs={},
        secrets=[management_key, sentinel],
    )
    for name, settings in seeds.items():
        seeded = emulator.seed_key(name, **settings)  # type: ignore[arg-type]
        world.hashes[name] = seeded.hash
        world.secrets.append(seeded.secret)
    emulator.update_key(world.hashes["prod-cron"], usage_monthly=0.0)

    stacks = {
        "dev": ["dev-web", "dev-worker"],
        "prod": [
            "prod-web",
            "prod-batch",
            "prod-cron",
            "prod-old",
            "prod-gone",
            *(f"service-{n:03d}" for n in range(FILLER_KEYS)),
        ],
    }
    for stack, names in stacks.items():
        document = {
            "keys": {
                name.removeprefix(f"{stack}-"): {
                    "hash": world.hashes[name],
                    "label": world.label(name),
                    "name": name,
                    "generation": 1,
                    "consumers": [f"github:acme/{name}:OPENROUTER_API_KEY"],
                }
                for name in names
            },
            "inventory": "| key | masked | type | consumers |",
        }
        path = tmp_path / f"{stack}.json"
        path.write_text(json.dumps(document, indent=2))
        world.outputs[stack] = path

    emulator.delete_key(world.hashes["prod-gone"])
    emulator.clear_requests()
    return world
