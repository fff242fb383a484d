"""Whether a refresh would read with settings the stack file no longer holds.

`pulumi refresh`, `preview --refresh` and `up --refresh` (without `--run-program`) do not run the
program: the engine configures this provider with the stack config recorded with the default
provider by the last `pulumi up`, not with the stack file (pulumi/pulumi
`pkg/resource/deploy/deployment.go` `EnsureProvider`, which configures it from the old state). So
after `pulumi config set apiBaseUrl ...` a refresh still talked to the old URL, and after a new
`managementKey` it still authenticated with the old key (issue 19). The program's own check
(`topology.preflight.verify_management_slot`) runs only after such a refresh.

This module compares what `configure()` was handed with the stack file on disk, before the
first request: a changed `apiBaseUrl`, or a `managementKey` added to or removed from the file,
refuses the refresh. A new encrypted `managementKey` value cannot be told apart from the old
one here (the provider cannot decrypt the file), so it is not seen; the key the refresh uses is
the one the last `pulumi up` verified, and it is asked about again (GET /key) before reading.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final

import yaml

from providers.base.messages import provider_error
from providers.http.credentials import (
    API_BASE_URL_SETTING,
    CONFIG_API_BASE_URL,
    CONFIG_MANAGEMENT_KEY,
    MANAGEMENT_KEY_SETTING,
    normal_base_url,
)

PROJECT_FILE: Final = "Pulumi.yaml"
URN_PREFIX: Final = "urn:pulumi:"


@dataclass(frozen=True)
class Recorded:
    """What `configure()` was handed for the two settings (the management key only as present)."""

    api_base_url: str | None
    has_management_key: bool


def recorded_url(value: object) -> str | None:
    """A base URL as compared here: normalised, and "" (Pulumi.yaml's default) as not set."""
    return (normal_base_url(value) or None) if isinstance(value, str) else None


def stale_settings(recorded: Recorded, document: Mapping[str, Any] | None) -> list[str]:
    """Each setting the stack file now holds differently, as one phrase; [] when they agree or
    the file cannot tell (no file, an encrypted URL, or a value it may take from a Pulumi ESC
    `environment`)."""
    if document is None:
        return []
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        return []
    from_environment = bool(document.get("environment"))
    changes = []
    written = config.get(CONFIG_API_BASE_URL)
    readable = written is None or isinstance(written, str)  # not a `secure:` value
    if readable and (written is not None or not from_environment):
        now = recorded_url(written)
        if now != recorded.api_base_url:
            changes.append(
                f"`{API_BASE_URL_SETTING}` was {recorded.api_base_url or 'not set'} at the last"
                f" `pulumi up` and is {now or 'not set'} in the stack file now"
            )
    if CONFIG_MANAGEMENT_KEY in config or not from_environment:
        now_has = config.get(CONFIG_MANAGEMENT_KEY) is not None
        if now_has != recorded.has_management_key:
            state = "added to" if now_has else "removed from"
            changes.append(f"`{MANAGEMENT_KEY_SETTING}` was {state} the stack file since then")
    return changes


def stack_of(urn: str) -> str | None:
    """`urn:pulumi:<stack>::<project>::...` -> the stack's name."""
    if not urn.startswith(URN_PREFIX) or "::" not in urn:
        return None
    return urn.removeprefix(URN_PREFIX).split("::", 1)[0] or None


def serving_urn() -> str | None:
    """The URN of the `Read` the SDK's servicer is serving on this thread, if any.

    The servicer passes `read` the id and the old outputs only; the request (with its URN) is a
    local of its `Read` frame further up this thread's stack.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "Read":
            urn = getattr(frame.f_locals.get("request"), "urn", None)
            if isinstance(urn, str) and urn:
                return urn
        frame = frame.f_back
    return None


def stack_file(stack: str, project_dir: Path) -> Mapping[str, Any] | None:
    """The stack file `Pulumi.yaml` points at (`stackConfigDir`), parsed; None if absent or
    unreadable."""
    try:
        project = _parsed(project_dir / PROJECT_FILE)
        folder = (project.get("stackConfigDir") or ".") if isinstance(project, dict) else "."
        path = project_dir / str(folder) / f"Pulumi.{stack}.yaml"
        # No file: its config may live elsewhere (a service-side stack config), so no verdict.
        document = _parsed(path)
    except (OSError, yaml.YAMLError):
        return None
    return document if isinstance(document, dict) else None


_PARSED_LOCK: Final = threading.Lock()
_PARSED: dict[Path, tuple[tuple[int, int], Any]] = {}


def _parsed(path: Path) -> Any:
    """A YAML file, parsed once per process while it stays the same file (modification time
    and size): every `Read` of a refresh compares with the stack file, and parsing a stack of
    100 keys took 30-60 ms of the GIL per read (bench/README.md)."""
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    with _PARSED_LOCK:
        cached = _PARSED.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    with _PARSED_LOCK:
        _PARSED[path] = (version, document)
    return document


def refuse_stale_refresh(recorded: Recorded, urn: str, project_dir: Path | None = None) -> None:
    """Raise `refresh-stale-settings` before the first request of a refresh (a `Read` of `urn`)
    if the stack file now says otherwise; nothing when it cannot tell."""
    stack = stack_of(urn)
    if stack is None:
        return
    changes = stale_settings(recorded, stack_file(stack, project_dir or Path.cwd()))
    if changes:
        raise provider_error("refresh-stale-settings", changes="; ".join(changes))
