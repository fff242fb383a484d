"""The project's client against OpenRouter's official SDK: import time, cost per operation, size.

Run by hand (never a test): `.venv/bin/python -m bench.bench_sdk_client [--rounds N]`. It starts
the emulator as its own process (so the client under test has the interpreter to itself) and
prints Markdown for docs/adr/0006-client-stays-on-httpx.md:

- import time, each in a fresh interpreter (median of N): bare `python -c pass`, the project's
  client, the SDK, and each one's cold start up to its first answer (`GET /key`);
- cost per operation, median of N, with a fresh client per call (what the provider does: one
  client per operation) and with one client reused: the project's `OpenRouterClient`, the SDK as
  it comes (retries off), and the SDK riding on the project's own httpx client (the one way an
  SDK-backed seam could keep the shared TLS context and the no-redirect rule);
- the installed size of the SDK and of the project's client code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from openrouter import OpenRouter
from openrouter.utils import BackoffStrategy, RetryConfig

from providers.http.client import ClientSettings, CreateKeyRequest, OpenRouterClient

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), retry_connection_errors=False)
KEY_VARIABLE = "BENCH_MANAGEMENT_KEY"

Operation = Callable[..., Any]
Opened = tuple[Any, Callable[[], None]]
"""A client and the function that closes it."""


# --- the emulator, as its own process -----------------------------------------------------------


@contextlib.contextmanager
def emulator_process(management_key: str) -> Iterator[str]:
    """`python -m emulator` on a free port; yields its API base URL, stops it on exit."""
    env = {**os.environ, KEY_VARIABLE: management_key}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--management-key-env", KEY_VARIABLE],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("OpenRouter emulator: "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.removeprefix("OpenRouter emulator: ")
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- import time ---------------------------------------------------------------------------------

IMPORTS = {
    "python -c pass": "pass",
    "providers.http.client": "import providers.http.client",
    "openrouter (SDK)": "import openrouter",
    "openrouter + api_keys and its models": (
        "from openrouter import OpenRouter, operations\n"
        "operations.GetCurrentKeyResponse; OpenRouter(api_key='x').api_keys"
    ),
    "cold start to first GET /key: providers.http.client": (
        "import os\nfrom providers.http.client import ClientSettings, OpenRouterClient\n"
        "with OpenRouterClient(ClientSettings(api_key=os.environ['K'], base_url=os.environ['U']))"
        " as c:\n    c.current_key()"
    ),
    "cold start to first GET /key: SDK": (
        "import os\nfrom openrouter import OpenRouter\n"
        "with OpenRouter(api_key=os.environ['K'], server_url=os.environ['U']) as c:\n"
        "    c.api_keys.get_current_key_metadata()"
    ),
}


def import_seconds(code: str, env: dict[str, str]) -> float:
    """Wall time of one fresh interpreter running `code` (startup included)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], cwd=PROJECT_ROOT, env=env, check=True
    )
    return time.perf_counter() - started


def import_times(rounds: int, url: str, management_key: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "K": management_key, "U": url}
    samples: dict[str, list[float]] = {label: [] for label in IMPORTS}
    for _ in range(rounds):  # interleaved, so load on the machine hits every variant alike
        for label, code in IMPORTS.items():
            samples[label].append(import_seconds(code, env))
    return {label: statistics.median(values) for label, values in samples.items()}


# --- cost per operation --------------------------------------------------------------------------

LISTED_KEYS = 60
"""Keys in the account while measuring, so `GET /keys` parses a realistic page."""


def clients(url: str, management_key: str) -> dict[str, Callable[[], Opened]]:
    """Each way of talking to the API: a factory of (client, close)."""
    settings = ClientSettings(api_key=management_key, base_url=url)

    def ours() -> Opened:
        client = OpenRouterClient(settings)
        return client, client.close

    def sdk() -> Opened:
        client = OpenRouter(api_key=management_key, server_url=url, retry_config=NO_RETRIES)
        return client, lambda: client.__exit__(None, None, None)

    def sdk_on_ours() -> Opened:
        # The project's httpx client (shared TLS context, redirects off) under the SDK: the
        # one way an SDK-backed client could keep providers/http/client.py's rules.
        seam = OpenRouterClient(settings)
        client = OpenRouter(
            api_key=management_key, server_url=url, retry_config=NO_RETRIES, client=seam._http
        )
        return client, seam.close

    return {
        "providers.http.client": ours,
        "SDK as it comes": sdk,
        "SDK on the project's httpx": sdk_on_ours,
    }


def operations_for(label: str, target: str) -> dict[str, Operation]:
    """The same requests through either API; POST returns the new key's hash for the DELETE."""
    if label == "providers.http.client":
        return {
            "GET /key": lambda c: c.current_key(),
            "GET /keys (1 page)": lambda c: c.list_keys(),
            "GET /keys/{hash}": lambda c: c.get_key(target),
            "PATCH /keys/{hash}": lambda c: c.update_key(target, {"limit": 5.0}),
            "POST /keys": lambda c: c.create_key(CreateKeyRequest(name="made")).record.hash,
            "DELETE /keys/{hash}": lambda c, made: c.delete_key(made),
        }
    return {
        "GET /key": lambda c: c.api_keys.get_current_key_metadata(),
        "GET /keys (1 page)": lambda c: c.api_keys.list(
            include_disabled=True, include_expired=True, offset=0
        ),
        "GET /keys/{hash}": lambda c: c.api_keys.get(hash=target),
        "PATCH /keys/{hash}": lambda c: c.api_keys.update(hash=target, limit=5.0),
        "POST /keys": lambda c: c.api_keys.create(name="made").data.hash,
        "DELETE /keys/{hash}": lambda c, made: c.api_keys.delete(hash=made),
    }


def fill_account(url: str, management_key: str) -> str:
    """`LISTED_KEYS` keys (one page); returns the hash of the one every call reads and patches."""
    with OpenRouterClient(ClientSettings(api_key=management_key, base_url=url)) as setup:
        target = setup.create_key(CreateKeyRequest(name="bench-target")).record.hash
        for index in range(LISTED_KEYS - 1):
            setup.create_key(CreateKeyRequest(name=f"bench-{index:02d}"))
    return target


def per_operation(
    url: str, management_key: str, target: str, rounds: int, *, fresh: bool
) -> dict[str, dict[str, float]]:
    """Median milliseconds per operation and client; `fresh`: a new client for every call.

    Clients take turns within each round, so load on the machine hits all of them alike; each
    round deletes the key it created, so every list sees the same page.
    """
    factories = clients(url, management_key)
    shared = {label: None if fresh else factory() for label, factory in factories.items()}
    samples: dict[str, dict[str, list[float]]] = {label: {} for label in factories}
    for _ in range(rounds):
        for label, factory in factories.items():
            made = None
            for name, operation in operations_for(label, target).items():
                started = time.perf_counter()
                client, close = factory() if fresh else shared[label]  # type: ignore[misc]
                result = operation(client, made) if name.startswith("DELETE") else operation(client)
                if fresh:
                    close()
                elapsed = (time.perf_counter() - started) * 1000
                samples[label].setdefault(name, []).append(elapsed)
                made = result if name == "POST /keys" else made
    for opened in shared.values():
        if opened is not None:
            opened[1]()
    return {
        label: {name: statistics.median(values) for name, values in by_name.items()}
        for label, by_name in samples.items()
    }


# --- size ----------------------------------------------------------------------------------------


def installed_bytes(distribution: str) -> tuple[int, int, int]:
    """(all files on disk under the package, of which .py, number of .py files)."""
    dist = metadata.distribution(distribution)
    package = Path(str(dist.locate_file(distribution)))
    files = [path for path in package.rglob("*") if path.is_file()]
    sources = [path for path in files if path.suffix == ".py"]
    return (
        sum(path.stat().st_size for path in files),
        sum(path.stat().st_size for path in sources),
        len(sources),
    )


def project_client_bytes() -> int:
    return sum(path.stat().st_size for path in (PROJECT_ROOT / "providers").rglob("*.py"))


# --- report --------------------------------------------------------------------------------------


def table(results: dict[str, dict[str, float]]) -> list[str]:
    labels = list(results)
    names = list(next(iter(results.values())))
    lines = ["| operation | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name in names:
        cells = " | ".join(f"{results[label][name]:.2f}" for label in labels)
        lines.append(f"| {name} | {cells} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_sdk_client")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--import-rounds", type=int, default=15)
    args = parser.parse_args()
    management_key = "sk-or-mgmt-" + secrets.token_hex(32)
    lines = [f"Python {sys.version.split()[0]}, openrouter {metadata.version('openrouter')}", ""]
    with emulator_process(management_key) as url:
        imports = import_times(args.import_rounds, url, management_key)
        target = fill_account(url, management_key)
        fresh = per_operation(url, management_key, target, args.rounds, fresh=True)
        reused = per_operation(url, management_key, target, args.rounds, fresh=False)
    lines += [f"### Import time, fresh interpreter (median of {args.import_rounds}, ms)", ""]
    lines += ["| what | ms |", "|---|---|"]
    lines += [f"| {label} | {seconds * 1000:.0f} |" for label, seconds in imports.items()]
    lines += ["", f"### Fresh client per call (median of {args.rounds}, ms)", ""]
    lines += table(fresh)
    lines += ["", f"### One reused client (median of {args.rounds}, ms)", ""]
    lines += table(reused)
    total, sources, count = installed_bytes("openrouter")
    lines += [
        "",
        "### Size",
        "",
        f"- openrouter installed: {total / 1e6:.1f} MB on disk ({sources / 1e6:.1f} MB of .py in "
        f"{count} files, the rest bytecode)",
        f"- providers/*.py: {project_client_bytes() / 1e3:.0f} kB",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
