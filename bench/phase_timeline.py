"""Where a command's seconds go, per phase and per process (issue 21, "fixed costs per phase").

Run by hand (never a test): `.venv/bin/python -m bench.phase_timeline [--keys N] [--latency-ms L]
[--runs R] [--operations preview preview-refresh]`. It sets up the project side of
bench/bench_engine.py (a copy of the program, N keys, its own emulator, `up` first), then times
each operation R times and prints, per phase, the median and every run's seconds.

How it sees inside the processes the engine starts: every Python process of the command (the
language host's probes, the program, each provider process) gets a `sitecustomize` on
`PYTHONPATH` that appends wall-clock marks to one log: when the process was exec'd (from
`/proc`, to 10 ms), when some modules finished importing, and when it exits. The copy (never
the project) is also edited: its `__main__.py` marks each step of the program, and
`providers/base/provider_process.py` marks the start and end of every provider call. The marks cost
microseconds; the phases are differences between them.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.bench_engine import (
    PROJECT_SIDE,
    BenchError,
    Side,
    Workspace,
    emulator_process,
    make_workspace,
)
from tests.e2e.e2e_harness import engine_skip_reason, find_engine

COMMANDS: Mapping[str, tuple[str, ...]] = {
    "preview": ("preview", "--expect-no-changes"),
    "preview-refresh": ("preview", "--refresh", "--expect-no-changes"),
    "refresh": ("refresh", "--yes"),
    "update-skip-preview": ("up", "--yes", "--skip-preview"),
}

HOOK = '''
import os, sys, threading, time, builtins, atexit
_LOG = os.environ.get("PHASE_LOG")
if _LOG:
    _pid = os.getpid()
    _lock = threading.Lock()
    def mark(what):
        with _lock, open(_LOG, "a") as f:
            f.write(f"{time.time():.4f} {_pid} {what}\\n")
    def _exec_time():
        with open(f"/proc/{_pid}/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))
    with _lock, open(_LOG, "a") as f:
        f.write(f"{_exec_time():.4f} {_pid} exec {sys.argv[:2]}\\n")
    _WATCH = {"pulumi", "providers.key", "topology.config", "pydantic", "httpx"}
    _orig = builtins.__import__
    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        first = level == 0 and name in _WATCH and name not in sys.modules
        started = time.time()
        module = _orig(name, globals, locals, fromlist, level)
        if first:
            mark(f"imported {name} {time.time() - started:.4f}")
        return module
    builtins.__import__ = _import
    atexit.register(lambda: mark("exit"))
    _mod = type(sys)("phase_mark")
    _mod.mark = mark
    sys.modules["phase_mark"] = _mod
'''

MAIN = """import phase_mark
phase_mark.mark("program main")
import pulumi

import topology

topology.install_engine_stop()
import topology.outputs
import topology.preflight
import topology.resources

phase_mark.mark("program imported")
config = topology.load()
phase_mark.mark("program loaded")
built = topology.build(config)
phase_mark.mark("program built")
for output_name, value in topology.stack_outputs(built).items():
    pulumi.export(output_name, value)
phase_mark.mark("program done")
"""

_CALL = "            with provider_call(), marks:\n"
_CALL_MARKED = (
    "            import phase_mark, time as _time\n"
    "            phase_mark.mark(f'call {operation}')\n"
    "            _started = _time.perf_counter()\n"
    "            try:\n"
    "                with provider_call(), marks:\n"
    "                    return _call(*args, **kwargs)\n"
    "            finally:\n"
    "                phase_mark.mark(f'end {operation} {_time.perf_counter() - _started:.4f}')\n"
    "\n"
    "        def _call(*args: _P.args, **kwargs: _P.kwargs) -> _R:\n"
    "            with contextlib.nullcontext():\n"
)


def instrument(root: Path, hook_dir: Path) -> None:
    """Mark the copy's program steps and provider calls; refuse if the code moved on."""
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    (root / "__main__.py").write_text(MAIN, encoding="utf-8")
    process = root / "providers" / "base" / "provider_process.py"
    text = process.read_text(encoding="utf-8")
    if text.count(_CALL) != 1:
        raise BenchError("providers/base/provider_process.py changed: update _CALL in this script")
    process.write_text(text.replace(_CALL, _CALL_MARKED), encoding="utf-8")


Event = tuple[float, str, str]


def read_events(log: Path, started: float) -> list[Event]:
    events = []
    for line in log.read_text(encoding="utf-8").splitlines():
        at, pid, what = line.split(" ", 2)
        events.append((float(at) - started, pid, what))
    return sorted(events)


Marks = dict[str, list[tuple[float, str]]]


def _first(by_pid: Marks, pid: str, prefix: str) -> float | None:
    return next((at for at, what in by_pid[pid] if what.startswith(prefix)), None)


def _marks(by_pid: Marks, pid: str, prefix: str) -> list[float]:
    return [at for at, what in by_pid[pid] if what.startswith(prefix)]


PROGRAM_STEPS = (
    ("program: Python start, `import pulumi`", "program main"),
    ("program: imports of topology/ and providers/", "program imported"),
    ("program: load (validate, slot check GET /key, guard)", "program loaded"),
    ("program: build (register every resource)", "program built"),
    ("program: stack outputs", "program done"),
)


def program_phases(by_pid: Marks, pid: str, out: dict[str, float]) -> float | None:
    """The program's steps into `out`; returns when it finished its body."""
    before = _first(by_pid, pid, "exec")
    for name, mark in PROGRAM_STEPS:
        at = _first(by_pid, pid, mark)
        if at is None or before is None:
            return None
        out[name] = at - before
        before = at
    return before


def provider_phases(
    by_pid: Marks, pid: str, out: dict[str, float], program_exec: float | None,
    done: float | None,
) -> None:
    start = _first(by_pid, pid, "exec") or 0.0
    refresh = program_exec is not None and start < program_exec
    tag = "refresh provider" if refresh else "provider"
    sdk = _first(by_pid, pid, "imported pulumi ")
    ours = _first(by_pid, pid, "imported providers.key")
    if not refresh and done is not None:
        out[f"{tag}: program done -> provider exec"] = start - done
    if sdk is not None:
        out[f"{tag}: Python start, SDK imports"] = sdk - start
        if ours is not None:
            out[f"{tag}: `import providers.key` (first unpickle)"] = ours - sdk
    read_calls, read_ends = _marks(by_pid, pid, "call read"), _marks(by_pid, pid, "end read")
    if read_calls and read_ends:
        out[f"{tag}: first read (guard GET /key, listing)"] = read_ends[0] - read_calls[0]
        out[f"{tag}: the other reads"] = read_ends[-1] - read_ends[0]
        if program_exec is not None:
            out[f"{tag}: last read -> program exec"] = program_exec - read_ends[-1]
    checks = [at for at, what in by_pid[pid] if what.startswith(("call check", "call diff"))]
    if checks:
        out[f"{tag}: {len(checks)} checks and diffs, first to last"] = checks[-1] - checks[0]
    spent = [float(what.rsplit(" ", 1)[1]) for _, what in by_pid[pid] if what.startswith("end ")]
    if spent:
        out[f"{tag}: inside one provider call, mean ms"] = 1000 * statistics.mean(spent)


def phases(events: Sequence[Event], seconds: float) -> dict[str, float]:
    """Named phases of one command, in seconds; absent phases are left out."""
    by_pid: Marks = defaultdict(list)
    for at, pid, what in events:
        by_pid[pid].append((at, what))
    out: dict[str, float] = {"CLI start -> first Python process": events[0][0]}
    program = next(
        (p for p, marks in by_pid.items() if any("language-python-exec" in w for _, w in marks)),
        None,
    )
    program_exec = _first(by_pid, program, "exec") if program else None
    done = None
    if program is not None and program_exec is not None:
        out["first Python process -> program exec"] = program_exec - events[0][0]
        done = program_phases(by_pid, program, out)
    providers = sorted(
        (p for p, marks in by_pid.items()
         if any(w.startswith("exec ['-m', '127.0.0.1") for _, w in marks)),
        key=lambda p: by_pid[p][0][0],
    )
    for pid in providers:
        provider_phases(by_pid, pid, out, program_exec, done)
    if done is not None:
        out["program done -> CLI exit"] = seconds - done
    out["total"] = seconds
    return out


def measure(keys: int, latency_ms: int, runs: int, operations: Sequence[str]) -> dict[str, Any]:
    cli = find_engine()
    if cli is None:
        raise BenchError(engine_skip_reason() or "no Pulumi CLI")
    management_key = f"sk-or-mgmt-bench-{secrets.token_hex(12)}"
    found: dict[str, list[dict[str, float]]] = defaultdict(list)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        emulator = stack.enter_context(emulator_process(workdir, management_key))
        side = Side(PROJECT_SIDE, PROJECT_SIDE)
        workspace: Workspace = make_workspace(
            side, workdir / "project", size=keys, emulator=emulator,
            management_key=management_key, cli=cli,
        )
        hook_dir = workdir / "hook"
        hook_dir.mkdir()
        instrument(workspace.root, hook_dir)
        log = workdir / "phases.log"
        workspace.env["PYTHONPATH"] = str(hook_dir)
        workspace.env["PHASE_LOG"] = str(log)
        workspace.pulumi("up", "--yes")
        if latency_ms:
            emulator.add_latency(latency_ms / 1000)
        for operation in operations:
            for _ in range(runs):
                log.write_text("", encoding="utf-8")
                started = time.time()
                run = workspace.pulumi(*COMMANDS[operation])
                found[operation].append(phases(read_events(log, started), run.seconds))
    return found


def report(found: Mapping[str, list[dict[str, float]]], keys: int, latency_ms: int) -> str:
    lines = []
    for operation, runs in found.items():
        lines += [f"### `{operation}`, {keys} keys, {latency_ms} ms ({len(runs)} runs)", "",
                  "| phase | median s | runs |", "|---|---|---|"]
        names = list(dict.fromkeys(name for run in runs for name in run))
        for name in names:
            values = [run[name] for run in runs if name in run]
            cells = ", ".join(f"{v:.2f}" for v in values)
            lines.append(f"| {name} | {statistics.median(values):.3f} | {cells} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--operations", nargs="+", choices=sorted(COMMANDS),
                        default=["preview", "preview-refresh"])
    parser.add_argument("--json", type=Path, help="also write every run's phases here")
    args = parser.parse_args(argv)
    try:
        found = measure(args.keys, args.latency_ms, args.runs, args.operations)
    except BenchError as error:
        print(error, file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(found, indent=1), encoding="utf-8")
    print(report(found, args.keys, args.latency_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
