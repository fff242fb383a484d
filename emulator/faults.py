"""Scripted faults: what the real API or the network does on a bad day, on demand and counted.

A fault matches requests by method and path and is consumed one matching request at a time, so a
test can say "the next POST /keys is committed but its response is lost" and nothing else changes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DropMode = Literal["before", "after_commit", "mid_body"]
DROP_MODES: tuple[str, ...] = ("before", "after_commit", "mid_body")


@dataclass
class Fault:
    """One scripted misbehaviour.

    - `status`: answer this status instead of handling the request (the store is not touched),
      with an optional `Retry-After` header value (seconds or an HTTP date) and body; the default
      body is OpenRouter's error envelope.
    - `latency`: seconds to wait before handling (a client read timeout fires while the server
      still goes on to do the work, as a slow server does).
    - `latency_after_commit`: seconds to wait after handling, before answering.
    - `drop="before"`: close the connection without handling; nothing is written to the store.
    - `drop="after_commit"`: handle the request (a create is stored), then close the connection
      without writing a byte: the ambiguous outcome a create must survive.
    - `drop="mid_body"`: handle, then send the headers and half the body and close.

    `path` matches the request path exactly, or as a prefix when `prefix` is true; `method` None
    matches any method. `times` is how many matching requests the fault applies to.
    """

    path: str
    method: str | None = None
    prefix: bool = False
    times: int = 1
    status: int | None = None
    retry_after: str | int | None = None
    body: Any = None
    latency: float = 0.0
    latency_after_commit: float = 0.0
    drop: DropMode | None = None
    remaining: int = field(default=-1, repr=False)

    def __post_init__(self) -> None:
        problems = fault_problems(self)
        if problems:
            raise ValueError(f"invalid Fault: {'; '.join(problems)}")
        if self.method is not None:
            self.method = self.method.upper()
        if self.remaining < 0:
            self.remaining = self.times

    def matches(self, method: str, path: str) -> bool:
        """Method and path match; a trailing slash does not matter (the API accepts both)."""
        if self.method is not None and self.method != method.upper():
            return False
        if self.prefix:
            return path.startswith(self.path)
        return path.rstrip("/") == self.path.rstrip("/")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Fault:
        """Build from JSON (the admin route), refusing unknown fields so typos do not pass."""
        allowed = set(cls.__dataclass_fields__) - {"remaining"}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ValueError(f"unknown fault fields {unknown}; allowed: {sorted(allowed)}")
        if "path" not in raw:
            raise ValueError("a fault needs a `path` (e.g. /api/v1/keys)")
        return cls(**dict(raw))


def fault_problems(fault: Fault) -> list[str]:
    """Every reason this fault cannot be applied; empty when it is well formed."""
    problems: list[str] = []
    if not isinstance(fault.path, str) or not fault.path.startswith("/"):
        problems.append(f"path must start with '/', got {fault.path!r}")
    if not isinstance(fault.times, int) or isinstance(fault.times, bool) or fault.times < 1:
        problems.append(f"times must be an integer >= 1, got {fault.times!r}")
    if fault.drop is not None and fault.drop not in DROP_MODES:
        problems.append(f"drop must be one of {list(DROP_MODES)}, got {fault.drop!r}")
    if fault.status is not None and (
        not isinstance(fault.status, int) or not 100 <= fault.status <= 599
    ):
        problems.append(f"status must be an HTTP status code, got {fault.status!r}")
    if fault.status is not None and fault.drop is not None:
        problems.append("status and drop cannot be combined: a dropped request has no status")
    for name in ("latency", "latency_after_commit"):
        value = getattr(fault, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"{name} must be a number of seconds >= 0, got {value!r}")
    if (fault.retry_after is not None or fault.body is not None) and fault.status is None:
        problems.append("retry_after and body need a status")
    if (
        fault.status is None
        and fault.drop is None
        and not fault.latency
        and not fault.latency_after_commit
    ):
        problems.append("a fault needs a status, a drop or a latency")
    return problems


class FaultBook:
    """The pending faults, consumed first-in first-out per matching request (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first pending fault for this request, counted as used once."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
