"""The project beside the engine's own floor, through the real Pulumi CLI (`bin/pulumi`).

Run by hand (never a timed test): `.venv/bin/python -m bench.bench_engine [options]`.

Two sides run the same five operations on N keys, each against its own emulator process
(`python -m emulator`), offline as tests/e2e runs the engine (temporary `PULUMI_HOME`, `file://`
backend, a throwaway passphrase, no plugin downloads or update checks, `bin/` first on PATH):

- floor: a minimal program and stateless dynamic provider making the same HTTP calls
  (bench/engine_floor.py);
- project: this project's own program (`Pulumi.yaml`, `__main__.py`, `providers/`, `topology/`
  copied to a temporary folder, `.venv` linked) with a generated `stacks/Pulumi.bench.yaml`:
  `protectKeys: false`, the emulator as `apiBaseUrl`, N keys with `limit` and `limitReset`, no
  consumers; the management key from `OPENROUTER_MANAGEMENT_KEY`, generated at run time.

Operations, in this order on a fresh stack per repetition: `up` creating every key, `preview`
with no changes (`--expect-no-changes`), `preview --refresh` (what the PR workflow runs), `up`
changing one key's limit, `refresh`, `destroy`.
The two sides alternate command by command (and which goes first alternates per repetition), so
the noise of a shared machine hits both alike. Every command is timed with `perf_counter` around
`subprocess.run`; a non-zero exit stops the benchmark with the command's output.

With `--latency-ms`, every emulator API response waits that long (an emulator latency fault on
the `/api/v1/` prefix): the real API is not instant, and the engine runs `--parallel` steps at
once (issue 21: the provider process follows it; bench/latency_model.py compares the figures
with `fixed start-up + (calls / P) x latency`).

Printed (Markdown): seconds per operation (median, min-max) and the ratio project/floor; state
bytes per key (`pulumi stack export` after the first `up`); the bytes `pulumi up` prints for the
one-key change; the HTTP calls of each operation, from the emulator's request log; and the growth
from 250 to 500 keys when both sizes ran.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.engine_floor import FLOOR_BASE_URL_ENV, FLOOR_PROJECT, floor_files
from tests.e2e.e2e_harness import (
    EMULATOR_START_TIMEOUT,
    PROJECT,
    PROJECT_FILES,
    PROJECT_PACKAGES,
    REPO,
    Emulator,
    engine_skip_reason,
    find_engine,
    free_port,
)

OPERATIONS = ("up", "preview", "preview-refresh", "update", "refresh", "destroy")
COMMANDS: Mapping[str, tuple[str, ...]] = {
    "up": ("up", "--yes"),
    "preview": ("preview", "--expect-no-changes"),
    "preview-refresh": ("preview", "--refresh", "--expect-no-changes"),  # the PR workflow's
    "update": ("up", "--yes"),
    "refresh": ("refresh", "--yes"),
    "destroy": ("destroy", "--yes"),
}
FLOOR = "floor"
PROJECT_SIDE = "project"
STACK = "bench"
PASSPHRASE = "bench-throwaway"  # noqa: S105 - encrypts a temporary stack of fake keys
MANAGEMENT_KEY_ENV = "OPENROUTER_MANAGEMENT_KEY"
EMULATOR_KEY_ENV = "BENCH_EMULATOR_MANAGEMENT_KEY"
LIMIT = 10
CHANGED_LIMIT = 11
LIMIT_RESET = "monthly"
GROWTH_SIZES = (250, 500)
RATIO_TARGET = 1.25
GROWTH_TARGET = 2.1
COMMAND_TIMEOUT_S = 3600.0
LATENCY_TIMES = 1_000_000_000
_KEY_PATH = re.compile(r"^/keys/[^/]+$")


class BenchError(RuntimeError):
    """A command failed or the setup is wrong: the benchmark stops and says which and why."""


@dataclass(frozen=True)
class Side:
    """One program under test: the floor, the project, or a variant of the project's copy.

    `patch` edits the copied project folder before anything runs (bench/engine_whatif.py).
    """

    name: str
    kind: str
    patch: Callable[[Path], None] | None = None

    @property
    def is_floor(self) -> bool:
        return self.kind == FLOOR


SIDES = (Side(FLOOR, FLOOR), Side(PROJECT_SIDE, PROJECT_SIDE))


# --- config of the two sides ---------------------------------------------------------------------


def key_id(index: int) -> str:
    return f"key-{index:04d}"


def key_name(index: int) -> str:
    """The OpenRouter name: what the project derives (`<stack>-<id>`), so both send the same."""
    return f"{STACK}-{key_id(index)}"


def limit_of(index: int, changed: bool) -> int:
    return CHANGED_LIMIT if changed and index == 0 else LIMIT


def floor_config(size: int, changed: bool) -> dict[str, Any]:
    keys = {
        key_id(i): {"name": key_name(i), "limit": limit_of(i, changed), "limitReset": LIMIT_RESET}
        for i in range(size)
    }
    return {f"{FLOOR_PROJECT}:keys": keys}


def project_config(size: int, changed: bool, api_base_url: str) -> dict[str, Any]:
    keys = {
        key_id(i): {"limit": limit_of(i, changed), "limitReset": LIMIT_RESET} for i in range(size)
    }
    return {
        f"{PROJECT}:protectKeys": False,
        f"{PROJECT}:apiBaseUrl": api_base_url,
        f"{PROJECT}:keys": keys,
    }


# --- the emulator, as its own process ------------------------------------------------------------


class BenchEmulator(Emulator):
    """The e2e harness's admin client, plus reset and a latency on every API response."""

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})

    def add_latency(self, seconds: float) -> None:
        fault = {"path": "/api/v1/", "prefix": True, "latency": seconds, "times": LATENCY_TIMES}
        self._call("POST", "/_emulator/faults", fault)

    def call_counts(self) -> Counter[str]:
        """`METHOD /path` -> calls since the last clear, key hashes folded into `{hash}`."""
        return Counter(f"{r['method']} {api_path(r['path'])}" for r in self.requests())


def api_path(path: str) -> str:
    path = path.removeprefix("/api/v1")
    return "/keys/{hash}" if _KEY_PATH.match(path) else path


@contextmanager
def emulator_process(workdir: Path, management_key: str) -> Iterator[BenchEmulator]:
    """`python -m emulator` on a free loopback port, knowing only the generated management key."""
    port = free_port()
    log_path = workdir / f"emulator-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "OPENROUTER_"))}
    env[EMULATOR_KEY_ENV] = management_key
    command = [sys.executable, "-m", "emulator", "--port", str(port)]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--management-key-env", EMULATOR_KEY_ENV],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        try:
            emulator = BenchEmulator(port)
            deadline = time.monotonic() + EMULATOR_START_TIMEOUT
            while not emulator.answers():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(f"the emulator did not start: {log_path.read_text()}")
                time.sleep(0.1)
            yield emulator
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# --- one side's stack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One pulumi command: its wall time, exit code and what it printed."""

    args: tuple[str, ...]
    seconds: float
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Workspace:
    """A project folder with its own backend, and the stack file that configures it."""

    side: Side
    root: Path
    env: dict[str, str]
    stack_file: Path
    size: int
    api_base_url: str
    cli: Path
    timeout: float = COMMAND_TIMEOUT_S

    def pulumi(self, *args: str) -> Run:
        """Run `pulumi ARGS`, timed; a non-zero exit raises `BenchError` with the output."""
        command = [str(self.cli), *args, "--non-interactive", "--color", "never"]
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=self.root, env=self.env, capture_output=True, text=True,
            timeout=self.timeout, check=False,
        )
        run = Run(tuple(args), time.perf_counter() - started, done.returncode, done.stdout,
                  done.stderr)
        if run.returncode != 0:
            raise BenchError(
                f"{self.side.name}: `pulumi {' '.join(args)}` at {self.size} keys exited"
                f" {run.returncode}:\n{(run.stdout + run.stderr)[-6000:]}"
            )
        return run

    def write_config(self, *, changed: bool) -> None:
        """Write (or rewrite, keeping the encryption salt `stack init` added) the key specs."""
        document: dict[str, Any] = {}
        if self.stack_file.exists():
            document = yaml.safe_load(self.stack_file.read_text(encoding="utf-8")) or {}
        if self.side.is_floor:
            config = floor_config(self.size, changed)
        else:
            config = project_config(self.size, changed, self.api_base_url)
        document["config"] = config
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def pulumi_env(cli: Path, workdir: Path, management_key: str) -> dict[str, str]:
    """Offline, as tests/e2e runs the engine; the management key from the environment."""
    home, state = workdir / "pulumi-home", workdir / "state"
    home.mkdir(parents=True)
    state.mkdir()
    return {
        "PATH": f"{cli.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PULUMI_HOME": str(home),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "1",
        "PULUMI_DISABLE_REGISTRY_RESOLVE": "1",
        MANAGEMENT_KEY_ENV: management_key,
    }


def copy_project(root: Path) -> Path:
    """The project's program as tests/e2e copies it (no `__pycache__`, as in a fresh CI
    checkout); returns its stack file path."""
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, root / name)
    for package in PROJECT_PACKAGES:
        shutil.copytree(REPO / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (root / "stacks").mkdir()
    return root / "stacks" / f"Pulumi.{STACK}.yaml"


def write_floor(root: Path) -> Path:
    for name, text in floor_files().items():
        (root / name).write_text(text, encoding="utf-8")
    return root / f"Pulumi.{STACK}.yaml"


def make_workspace(
    side: Side, workdir: Path, *, size: int, emulator: BenchEmulator, management_key: str,
    cli: Path,
) -> Workspace:
    """A fresh folder, backend and stack for one side at one size (not timed)."""
    root = workdir / "project"
    root.mkdir(parents=True)
    stack_file = write_floor(root) if side.is_floor else copy_project(root)
    if side.patch is not None:
        side.patch(root)
    # Pulumi.yaml says `virtualenv: .venv` on both sides: the program and provider share it.
    (root / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    env = pulumi_env(cli, workdir, management_key)
    if side.is_floor:
        env[FLOOR_BASE_URL_ENV] = emulator.api_base_url
    workspace = Workspace(side, root, env, stack_file, size, emulator.api_base_url, cli)
    workspace.write_config(changed=False)
    workspace.pulumi("stack", "init", STACK)
    return workspace


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Options:
    sizes: tuple[int, ...]
    repetitions: int
    latencies_ms: tuple[int, ...]
    operations: tuple[str, ...]
    keep: Path | None = None
    timeout: float = COMMAND_TIMEOUT_S
    sides: tuple[Side, ...] = SIDES


@dataclass
class Sample:
    """What one side's operation took at one size and latency, over the repetitions."""

    seconds: list[float] = field(default_factory=list)
    calls: list[dict[str, int]] = field(default_factory=list)
    printed_bytes: list[int] = field(default_factory=list)


@dataclass
class Results:
    options: Options
    samples: dict[tuple[int, int, str, str], Sample] = field(default_factory=dict)
    state_bytes: dict[tuple[int, str], list[int]] = field(default_factory=dict)

    def sample(self, latency: int, size: int, operation: str, side: str) -> Sample:
        return self.samples.setdefault((latency, size, operation, side), Sample())

    def median_seconds(self, latency: int, size: int, operation: str, side: str) -> float:
        return statistics.median(self.sample(latency, size, operation, side).seconds)


def steps(operations: Sequence[str]) -> list[str]:
    """What must run for the chosen operations: a stack has keys only after the first `up`."""
    return ["up", *(op for op in OPERATIONS[1:] if op in operations)]


def run_step(
    workspace: Workspace, emulator: BenchEmulator, operation: str
) -> tuple[Run, Counter[str]]:
    if operation == "update":
        workspace.write_config(changed=True)
    emulator.clear_requests()
    run = workspace.pulumi(*COMMANDS[operation])
    return run, emulator.call_counts()


def turn_order(sides: Sequence[Side], rep: int) -> list[Side]:
    """Who goes first rotates with the repetition (two sides: alternate)."""
    shift = rep % len(sides)
    return [*sides[shift:], *sides[:shift]]


def record(results: Results, key: tuple[int, int, str, str], run: Run, calls: Counter[str]) -> None:
    sample = results.sample(*key)
    sample.seconds.append(run.seconds)
    sample.calls.append(dict(calls))
    sample.printed_bytes.append(len(run.stdout.encode()))


@dataclass(frozen=True)
class Bench:
    """What every repetition shares: the CLI, one emulator per side, the key, the work folder."""

    cli: Path
    emulators: Mapping[str, BenchEmulator]
    management_key: str
    workdir: Path


def one_repetition(results: Results, bench: Bench, latency: int, size: int, rep: int) -> None:
    """Every side through the steps on fresh stacks, alternating command by command."""
    order = turn_order(results.options.sides, rep)
    workspaces: dict[str, Workspace] = {}
    for side in order:
        emulator = bench.emulators[side.name]
        emulator.reset()
        if latency:
            emulator.add_latency(latency / 1000)
        workspaces[side.name] = make_workspace(
            side, bench.workdir / f"{side.name}-{latency}ms-{size}-r{rep}", size=size,
            emulator=emulator, management_key=bench.management_key, cli=bench.cli,
        )
        workspaces[side.name].timeout = results.options.timeout
    for operation in steps(results.options.operations):
        for side in order:
            workspace = workspaces[side.name]
            run, calls = run_step(workspace, bench.emulators[side.name], operation)
            log(f"{latency:>4} ms {size:>4} keys r{rep} {side.name:>15} {operation:<8}"
                f" {run.seconds:8.2f} s  {dict(calls)}")
            if operation in results.options.operations:
                record(results, (latency, size, operation, side.name), run, calls)
            if operation == "up":
                exported = workspace.pulumi("stack", "export").stdout
                results.state_bytes.setdefault((size, side.name), []).append(
                    len(exported.encode())
                )
                if results.options.keep is not None:
                    target = results.options.keep / f"export-{side.name}-{size}.json"
                    target.write_text(exported, encoding="utf-8")
    if results.options.keep is None:
        for workspace in workspaces.values():
            shutil.rmtree(workspace.root.parent, ignore_errors=True)


def measure(options: Options) -> Results:
    cli = find_engine()
    if cli is None:
        raise BenchError(engine_skip_reason() or "no Pulumi CLI")
    results = Results(options)
    management_key = f"sk-or-mgmt-bench-{secrets.token_hex(12)}"
    with ExitStack() as stack:
        workdir = options.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workdir.mkdir(parents=True, exist_ok=True)
        emulators = {
            side.name: stack.enter_context(emulator_process(workdir, management_key))
            for side in options.sides
        }
        bench = Bench(cli, emulators, management_key, workdir)
        for latency in options.latencies_ms:
            for size in options.sizes:
                for rep in range(options.repetitions):
                    one_repetition(results, bench, latency, size, rep)
    return results


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the report ----------------------------------------------------------------------------------


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}" if floor > 0 else "-"


def calls_cell(calls: Sequence[Mapping[str, int]]) -> str:
    """The calls of the first repetition; `(!varies)` marks repetitions that made others."""
    first = calls[0]
    text = ", ".join(f"{name} x{count}" for name, count in sorted(first.items())) or "none"
    return text if all(c == first for c in calls) else f"{text} (!varies)"


def others(results: Results) -> list[str]:
    """Every side but the floor, in the order given."""
    return [side.name for side in results.options.sides if not side.is_floor]


def names(results: Results) -> list[str]:
    return [side.name for side in results.options.sides]


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table under a `###` heading."""
    return [
        f"### {title}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def compared_columns(first: Sequence[str], results: Results, unit: str) -> list[str]:
    """`first... | floor unit | side unit | ratio | ...`."""
    columns = [*first, f"{FLOOR} {unit}"]
    for name in others(results):
        columns += [f"{name} {unit}", "ratio"]
    return columns


def compared(values: Mapping[str, float], text: Callable[[float], str]) -> list[str]:
    """`floor | side | ratio | side | ratio ...` cells, ratios of the values to the floor's."""
    floor = values[FLOOR]
    cells = [text(floor)]
    for name, value in values.items():
        if name != FLOOR:
            cells += [text(value), ratio(value, floor)]
    return cells


def whole(value: float) -> str:
    return f"{value:,.0f}"


def time_table(results: Results, latency: int) -> list[str]:
    def row(size: int, op: str) -> list[str]:
        samples = {name: results.sample(latency, size, op, name).seconds
                   for name in names(results)}
        cells = [str(size), op, spread(samples[FLOOR])]
        for name in others(results):
            cells += [spread(samples[name]), ratio(statistics.median(samples[name]),
                                                   statistics.median(samples[FLOOR]))]
        return cells

    return table(
        f"Seconds per command, emulator latency {latency} ms"
        f" (median and min-max of {results.options.repetitions})",
        compared_columns(("keys", "operation"), results, "s"),
        (row(size, op) for size in results.options.sizes for op in results.options.operations),
    )


def state_table(results: Results) -> list[str]:
    def row(size: int) -> list[str]:
        per_key = {name: statistics.median(results.state_bytes[size, name]) / size
                   for name in names(results)}
        return [str(size), *compared(per_key, whole)]

    return table(
        "State after the first `up` (`pulumi stack export`, bytes per key)",
        compared_columns(("keys",), results, "B/key"),
        (row(size) for size in results.options.sizes),
    )


def printed_table(results: Results) -> list[str]:
    def row(latency: int, size: int) -> list[str]:
        printed = {
            name: statistics.median(results.sample(latency, size, "update", name).printed_bytes)
            for name in names(results)
        }
        return [str(latency), str(size), *compared(printed, whole)]

    return table(
        "Bytes `pulumi up` prints for the one-key change (median)",
        compared_columns(("latency ms", "keys"), results, "bytes"),
        (row(latency, size)
         for latency in results.options.latencies_ms for size in results.options.sizes),
    )


def calls_table(results: Results) -> list[str]:
    latency = results.options.latencies_ms[0]

    def row(size: int, op: str) -> list[str]:
        calls = (results.sample(latency, size, op, name).calls for name in names(results))
        return [str(size), op, *map(calls_cell, calls)]

    return table(
        "HTTP calls per command (emulator request log)",
        ["keys", "operation", *names(results)],
        (row(size, op) for size in results.options.sizes for op in results.options.operations),
    )


def growth(results: Results, latency: int, operation: str, side: str) -> float:
    small, large = GROWTH_SIZES
    return (results.median_seconds(latency, large, operation, side)
            / results.median_seconds(latency, small, operation, side))


def growth_table(results: Results) -> list[str]:
    small, large = GROWTH_SIZES
    return table(
        f"Growth from {small} to {large} keys (median {large} / median {small};"
        f" target <= {GROWTH_TARGET}x)",
        ["latency ms", "operation", *names(results)],
        (
            [str(latency), op,
             *(f"{growth(results, latency, op, name):.2f}x" for name in names(results))]
            for latency in results.options.latencies_ms for op in results.options.operations
        ),
    )


def report(results: Results) -> str:
    sections = [time_table(results, latency) for latency in results.options.latencies_ms]
    sections.append(state_table(results))
    if "update" in results.options.operations:
        sections.append(printed_table(results))
    sections.append(calls_table(results))
    if all(size in results.options.sizes for size in GROWTH_SIZES):
        sections.append(growth_table(results))
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def raw_results(results: Results) -> dict[str, Any]:
    """Every sample, for `--json`: nothing is lost to the medians."""
    options = results.options
    return {
        "options": {
            "sizes": options.sizes,
            "repetitions": options.repetitions,
            "latencies_ms": options.latencies_ms,
            "operations": options.operations,
            "sides": [side.name for side in options.sides],
        },
        "samples": [
            {"latency_ms": latency, "keys": size, "operation": op, "side": side, **vars(sample)}
            for (latency, size, op, side), sample in results.samples.items()
        ],
        "state_bytes": [
            {"keys": size, "side": side, "bytes": values}
            for (size, side), values in results.state_bytes.items()
        ],
    }


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The options every engine benchmark takes (this one and bench/engine_whatif.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100, 250, 500],
                        help="numbers of keys (default 20 100 250 500)")
    parser.add_argument("--repetitions", "-r", type=int, default=3,
                        help="fresh stacks per size and latency; the median is reported")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 200],
                        help="emulator response latencies to run, in ms (default 0 200)")
    parser.add_argument("--operations", nargs="+", choices=OPERATIONS, default=list(OPERATIONS),
                        help="operations to time (the first `up` always runs)")
    parser.add_argument("--keep", type=Path,
                        help="keep the work folders (projects, state, exports) here")
    parser.add_argument("--json", type=Path, help="also write every sample to this JSON file")
    parser.add_argument("--timeout", type=float, default=COMMAND_TIMEOUT_S,
                        help="seconds one pulumi command may take")
    return parser


def options_from(
    parser: argparse.ArgumentParser, args: argparse.Namespace, sides: tuple[Side, ...] = SIDES
) -> Options:
    if min(args.sizes) < 1 or args.repetitions < 1 or min(args.latency_ms) < 0:
        parser.error("--sizes and --repetitions must be >= 1, --latency-ms >= 0")
    operations = tuple(op for op in OPERATIONS if op in args.operations)
    return Options(tuple(args.sizes), args.repetitions, tuple(args.latency_ms), operations,
                   args.keep, args.timeout, sides)


def run_and_report(options: Options, json_path: Path | None) -> int:
    """Measure, print the Markdown report (and the JSON file); 1 when a command failed."""
    started = time.perf_counter()
    try:
        results = measure(options)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    print(report(results))
    print(f"total {time.perf_counter() - started:.0f} s")
    if json_path is not None:
        json_path.write_text(json.dumps(raw_results(results), indent=1), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser((__doc__ or "").split("\n")[0])
    args = parser.parse_args(argv)
    return run_and_report(options_from(parser, args), args.json)


if __name__ == "__main__":
    sys.exit(main())
