"""End-to-end harness: the Pulumi engine built from source, the emulator, a project copy.

Everything runs offline and leaves nothing behind: a temporary `PULUMI_HOME`, a `file://` backend
in a temporary folder, the throwaway sandbox passphrase, plugin downloads and update checks off,
`bin/` first on PATH, and the emulator as its own process on a free loopback port. The project is
copied to a temporary folder (with `.venv` linked back, as Pulumi.yaml names it) so that editing
config never touches the committed stack file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "bin"
ENGINE_UNAVAILABLE = BIN / "ENGINE-UNAVAILABLE.txt"
ENGINE_FILES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
)
# The throwaway passphrase that encrypts stacks/Pulumi.sandbox.yaml (see docs/engine.md).
SANDBOX_PASSPHRASE = "sandbox"
STACK = "sandbox"
PROJECT = "openrouter-keys"
# What the Pulumi program needs to run; the rest of the repository stays behind.
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt")
PROJECT_PACKAGES = ("providers", "topology")
COMMAND_TIMEOUT = 180.0
API_KEY_TYPE = "pulumi-python:dynamic/openrouter:ApiKey"
EMULATOR_START_TIMEOUT = 15.0


def cli_on_path() -> Path | None:
    """A `pulumi` installed the usual way (a release, e.g. by pulumi/actions in GitHub)."""
    found = shutil.which("pulumi")
    return Path(found) if found else None


def find_engine() -> Path | None:
    """The CLI the tests drive: bin/pulumi when scripts/build-engine.sh built it, else PATH's."""
    if all(os.access(BIN / name, os.X_OK) for name in ENGINE_FILES):
        return BIN / "pulumi"
    return cli_on_path()


def engine_skip_reason() -> str | None:
    """Why the e2e tests cannot run here, or None when a CLI, the program and .venv exist."""
    if find_engine() is None:
        if ENGINE_UNAVAILABLE.exists():
            built = ENGINE_UNAVAILABLE.read_text(encoding="utf-8").strip()
        else:
            missing = [name for name in ENGINE_FILES if not os.access(BIN / name, os.X_OK)]
            listed = ", ".join(f"bin/{name}" for name in missing)
            built = f"the engine is not built (missing {listed}): run scripts/build-engine.sh"
        return f"{built}; and no `pulumi` CLI is on PATH"
    absent = [name for name in (*PROJECT_FILES, *PROJECT_PACKAGES) if not (REPO / name).exists()]
    if absent:
        return f"the Pulumi program is not in the repository yet (missing {', '.join(absent)})"
    if not (REPO / ".venv" / "bin" / "python").exists():
        return "no .venv in the project root (Pulumi.yaml runs the program with .venv/bin/python)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """The local OpenRouter, run as `python -m emulator`, inspected through its admin routes."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.api_base_url = f"{self.url}/api/v1"

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback URL built above
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw else None

    def list_keys(self) -> list[dict[str, Any]]:
        """Every regular key the emulator holds (admin view)."""
        payload = self._call("GET", "/_emulator/keys")
        return payload["data"] if isinstance(payload, dict) else payload

    def workspaces(self) -> list[dict[str, Any]]:
        """Every workspace (admin view), the default one included."""
        return list(self._call("GET", "/_emulator/workspaces")["data"])

    def guardrails(self) -> list[dict[str, Any]]:
        """Every guardrail of every workspace (admin view)."""
        return list(self._call("GET", "/_emulator/guardrails")["data"])

    def assignments(self) -> dict[str, str]:
        """Key hash -> the guardrail it holds."""
        held = self._call("GET", "/_emulator/assignments")["data"]
        return {item["key_hash"]: item["guardrail_id"] for item in held}

    def area(self, name: str) -> list[dict[str, Any]]:
        """Every live object of an API area (`byok`, `observability`), as the API shows it."""
        return list(self._call("GET", f"/_emulator/areas/{name}")["data"])

    def seed(self, area: str, **record: Any) -> dict[str, Any]:
        """An object of an API area made outside any stack (checked by the create rules)."""
        return dict(self._call("POST", f"/_emulator/areas/{area}", record)["data"])

    def seed_workspace(self, name: str, slug: str) -> dict[str, Any]:
        """A workspace made outside any stack; its record as the API shows it."""
        made = self._call("POST", "/_emulator/workspaces", {"name": name, "slug": slug})
        return dict(made["data"])

    def update_key_behind_pulumis_back(self, key_hash: str, **changes: Any) -> dict[str, Any]:
        """Change a key as only OpenRouter can (`last_used_at`, `usage`, ...): its record."""
        return dict(self._call("PATCH", f"/_emulator/keys/{key_hash}", changes)["data"])

    def complete(self, key: str, model: str = "openai/gpt-4o-mini") -> None:
        """One chat completion with a regular key, as a consumer calls: stamps `last_used_at`."""
        request = urllib.request.Request(  # noqa: S310 - loopback URL
            f"{self.api_base_url}/chat/completions",
            data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})
            .encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()

    def delete_key_behind_pulumis_back(self, key_hash: str) -> None:
        self._call("DELETE", f"/_emulator/keys/{key_hash}")

    def requests(self) -> list[dict[str, Any]]:
        """The emulator's request log (method, path), oldest first."""
        payload = self._call("GET", "/_emulator/requests")
        return payload["data"] if isinstance(payload, dict) else payload

    def clear_requests(self) -> None:
        self._call("DELETE", "/_emulator/requests")

    def writes(self) -> list[tuple[str, str]]:
        """The non-GET requests of the log: what changed OpenRouter."""
        return [(r["method"], r["path"]) for r in self.requests() if r["method"] != "GET"]

    def inject(self, *faults: Mapping[str, Any]) -> None:
        """Scripted faults (emulator/faults.py), e.g. {"path": "/api/v1/keys", "method": "POST",
        "status": 400}."""
        self._call("POST", "/_emulator/faults", list(faults))

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emulator/faults")

    def seed_key(self, name: str, **settings: Any) -> dict[str, str]:
        """A key made by hand in the dashboard: {"hash", "key"}."""
        return dict(self._call("POST", "/_emulator/seed-key", {"name": name, **settings}))

    def add_management_key(self, key: str) -> str:
        """Seed another management key (generated by the test at run time)."""
        return str(self._call("POST", "/_emulator/management-keys", {"key": key})["key"])

    def create_regular_key(self, management_key: str, name: str) -> str:
        """Mint a regular key over the public API, as a user would in the dashboard."""
        request = urllib.request.Request(  # noqa: S310 - loopback URL
            f"{self.api_base_url}/keys",
            data=json.dumps({"name": name}).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {management_key}",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return str(json.loads(response.read())["key"])

    def answers(self) -> bool:
        try:
            self.list_keys()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return True


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


SCOPED_SETTINGS = ("byok", "observability")
"""The sandbox's sections that hold a BYOK credential and an observability destination."""


class PulumiProject:
    """A copy of the project with its own backend, PULUMI_HOME and stack config."""

    def __init__(self, root: Path, workdir: Path) -> None:
        cli = find_engine()
        if cli is None:
            pytest.skip(engine_skip_reason() or "no Pulumi CLI")
        self.cli = cli
        self.root = root
        self.stack_file = root / "stacks" / f"Pulumi.{STACK}.yaml"
        home = workdir / "pulumi-home"
        state = workdir / "state"
        home.mkdir()
        state.mkdir()
        self.env = {
            # The language host and the dynamic-provider launcher sit beside the CLI.
            "PATH": f"{self.cli.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "PULUMI_HOME": str(home),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": SANDBOX_PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "1",
            "PULUMI_DISABLE_REGISTRY_RESOLVE": "1",
        }
        self.state_dir = state

    def pulumi(
        self, *args: str, check: bool = True, env: Mapping[str, str] | None = None
    ) -> Result:
        """Run `pulumi ARGS` in the project copy; with check, a non-zero exit fails the test."""
        completed = subprocess.run(
            [str(self.cli), *args, "--non-interactive", "--color", "never"],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        result = Result(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        if check and result.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} exited {result.returncode}:\n{result.output}")
        return result

    def read_stack_config(self) -> dict[str, Any]:
        return yaml.safe_load(self.stack_file.read_text(encoding="utf-8"))

    def write_stack_config(self, document: Mapping[str, Any]) -> None:
        self.stack_file.write_text(
            yaml.safe_dump(dict(document), sort_keys=False), encoding="utf-8"
        )

    def project_config(self) -> dict[str, Any]:
        """The `openrouter-keys:*` block of the stack file, for in-place edits."""
        document = self.read_stack_config()
        return document["config"]

    def edit_config(self, key: str, value: Any) -> None:
        """Set `openrouter-keys:<key>` in the copy's stack file, as a user edits the YAML."""
        document = self.read_stack_config()
        document["config"][f"{PROJECT}:{key}"] = value
        self.write_stack_config(document)

    def set_sandbox_scoped(self, *, present: bool) -> None:
        """Put in (or leave out) the sandbox's BYOK credential and destination, as the repo's
        stack file declares them (their secrets encrypted with its salt). Most tests leave them
        out: they name keys those tests remove, which the stack file's own rules would refuse
        before the behaviour under test speaks."""
        sandbox = yaml.safe_load((REPO / "stacks" / f"Pulumi.{STACK}.yaml").read_text("utf-8"))
        document = self.read_stack_config()
        for setting in SCOPED_SETTINGS:
            name = f"{PROJECT}:{setting}"
            if present:
                document["config"][name] = sandbox["config"][name]
            else:
                document["config"].pop(name, None)
        self.write_stack_config(document)

    def add_sandbox_scoped(self) -> None:
        self.set_sandbox_scoped(present=True)

    def keys_config(self) -> dict[str, Any]:
        return dict(self.project_config()[f"{PROJECT}:keys"])

    def state(self) -> dict[str, Any]:
        """The deployment of `pulumi stack export` (secrets stay encrypted)."""
        return dict(json.loads(self.export_state())["deployment"])

    def protected(self) -> dict[str, bool]:
        """ApiKey resource name -> its `protect` flag in state."""
        return {
            r["urn"].rsplit("::", 1)[1]: bool(r.get("protect"))
            for r in self.state().get("resources", [])
            if r["type"] == API_KEY_TYPE
        }

    def stack_outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--show-secrets").stdout)

    def export_state(self, *, show_secrets: bool = False) -> str:
        args = ["stack", "export"] + (["--show-secrets"] if show_secrets else [])
        return self.pulumi(*args).stdout


# --- what many e2e tests do -------------------------------------------------------------------


def start(
    project: PulumiProject,
    emulator: Emulator,
    *,
    keep_scoped: bool = False,
    **edits: dict[str, Any],
) -> dict[str, Any]:
    """`stack init` on this emulator, `edits` applied to the sandbox's keys, `up`: the keys;
    with the sandbox's BYOK credential and destination when `keep_scoped`."""
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    if keep_scoped:
        project.add_sandbox_scoped()
    keys = project.keys_config()
    for key_id, settings in edits.items():
        keys[key_id] = {**keys.get(key_id, {}), **settings}
    project.edit_config("keys", keys)
    project.pulumi("up", "--yes")
    return keys


def hashes(emulator: Emulator) -> set[str]:
    return {key["hash"] for key in emulator.list_keys()}


def refused(
    project: PulumiProject, emulator: Emulator, *args: str, env: Mapping[str, str] | None = None
) -> Result:
    """Run a command that must be refused: non-zero, not one write reached OpenRouter, and no
    Python traceback."""
    emulator.clear_requests()
    result = project.pulumi(*args, check=False, env=env)
    assert result.returncode != 0, result.output
    assert emulator.writes() == [], result.output
    assert "Traceback" not in result.output, result.output
    return result
