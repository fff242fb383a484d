"""What the topology layer costs: the real program beside one registering the same resources.

Run by hand (never a test): `.venv/bin/python -m bench.bench_topology [--rounds N]`. Under Pulumi
mocks (no engine, no network), for N keys with C consumers each (half GitHub repository secrets,
half Vercel project variables with one target, so C sinks per key):

- program: `__main__.py` itself: read and validate the whole config, plan, register one component,
  one `ApiKey` and C sinks per key, and compute the `keys` and `inventory` outputs;
- baseline: the same components, keys and sinks, with the same names and options, registered
  directly from a loop (no validation, no plan, no outputs).

One run of this script measures both, interleaved, each run in a fresh interpreter (as
`pulumi up` runs a program once per process; in one long-lived process the SDK's leftovers make
later runs slower, which measures the harness, not the program). Reported: the median wall time
of each, the ratio program / baseline at the largest size (target <= 1.5), and the growth of the
program from the smallest to the largest size (target <= 2.2 for 250 -> 500). The pure part
(`validate()`: parse, rules, plan) is timed on its own as well.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_github as github
import pulumiverse_vercel as vercel

from providers import ApiKey, ApiKeyArgs, KeySettings
from tests.support.sentinel import make_sentinel
from tests.topology.harness import namespaced, run_callable, run_program
from topology.config import RawConfig, validate
from topology.plan import COMPONENT_TYPE

OWNER = "f8ai"
SECRET = "OPENROUTER_API_KEY"  # noqa: S105 - a variable name, not a secret
RATIO_TARGET = 1.5
GROWTH_TARGET = 2.2
PROGRAM = "program"
BASELINE = "baseline"
ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT_S = 900


def key_id(index: int) -> str:
    return f"service-{index:04d}"


def repositories(index: int, count: int) -> list[str]:
    return [f"repo-{index:04d}-{n:02d}" for n in range(count)]


def projects(index: int, count: int) -> list[str]:
    return [f"prj_{index:04d}x{n:02d}" for n in range(count)]


def keys_config(size: int, consumers: int) -> dict[str, dict[str, object]]:
    github_count = consumers // 2
    return {
        key_id(i): {
            "limit": 25,
            "limitReset": "monthly",
            "github": [{"repository": repo} for repo in repositories(i, github_count)],
            "vercel": [
                {"project": project, "targets": ["production"]}
                for project in projects(i, consumers - github_count)
            ],
        }
        for i in range(size)
    }


def program_config(size: int, consumers: int, management_key: str) -> dict[str, str]:
    config = namespaced(
        {"keys": json.dumps(keys_config(size, consumers)), "managementKey": management_key}
    )
    config["github:owner"] = OWNER
    return config


def baseline_program(size: int, consumers: int, stack: str) -> Callable[[], None]:
    """The same resources, names and options as the program registers, straight from a loop."""
    github_count = consumers // 2

    def program() -> None:
        for i in range(size):
            name = key_id(i)
            component = pulumi.ComponentResource(COMPONENT_TYPE, name)
            key = ApiKey(
                name,
                ApiKeyArgs(
                    name=f"{stack}-{name}",
                    settings=KeySettings(limit=25, limit_reset="monthly"),
                ),
                pulumi.ResourceOptions(parent=component, protect=True),
            )
            value = pulumi.Output.secret(key.key)
            opts = pulumi.ResourceOptions(parent=component, delete_before_replace=True)
            for repo in repositories(i, github_count):
                github.ActionsSecret(
                    f"{OWNER}/{repo}/{SECRET}",
                    repository=repo,
                    secret_name=SECRET,
                    value=value,
                    opts=opts,
                )
            for project in projects(i, consumers - github_count):
                vercel.ProjectEnvironmentVariable(
                    f"{project}/{SECRET}/production",
                    project_id=project,
                    key=SECRET,
                    value=value,
                    sensitive=True,
                    targets=["production"],
                    opts=opts,
                )
            component.register_outputs({})

    return program


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_once(kind: str, size: int, consumers: int) -> float:
    """One program run in this process (the child): seconds from the first line to the outputs."""
    management_key = make_sentinel()
    config = program_config(size, consumers, management_key)
    secret_keys = ["openrouter-keys:managementKey"]

    def run_real() -> None:
        run = run_program(config, secret_keys, stack="bench", record=False)
        if run.error is not None or len(run.outputs["keys"]) != size:
            raise RuntimeError(f"the program failed: {run.error}") from run.error

    def run_baseline() -> None:
        run = run_callable(
            baseline_program(size, consumers, "bench"), config, secret_keys, "bench", False
        )
        if run.error is not None:
            raise RuntimeError(f"the baseline failed: {run.error}") from run.error

    return timed(run_real if kind == PROGRAM else run_baseline)


def run_child(kind: str, size: int, consumers: int) -> float:
    """Each run in a fresh interpreter, as `pulumi up` runs a program: nothing carries over."""
    command = [
        sys.executable, "-m", "bench.bench_topology",
        "--child", kind, "--sizes", str(size), str(size), "--consumers", str(consumers),
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=CHILD_TIMEOUT_S
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} at {size} keys failed:\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def validate_seconds(size: int, consumers: int) -> float:
    raw = RawConfig(
        keys=json.dumps(keys_config(size, consumers)),
        management_key=make_sentinel(),
        management_key_is_secret=True,
        github_owner=OWNER,
    )
    return statistics.median(timed(lambda: validate(raw, "bench", {})) for _ in range(3))


def measure(sizes: tuple[int, int], consumers: int, rounds: int) -> dict[int, dict[str, float]]:
    times: dict[tuple[int, str], list[float]] = {}
    for number in range(rounds):
        # Alternate which goes first, so drift over the run hits both alike.
        kinds = (PROGRAM, BASELINE) if number % 2 == 0 else (BASELINE, PROGRAM)
        for size in sizes:
            for kind in kinds:
                times.setdefault((size, kind), []).append(run_child(kind, size, consumers))
    return {
        size: {
            "resources": float(size * (consumers + 2)),
            PROGRAM: statistics.median(times[size, PROGRAM]),
            BASELINE: statistics.median(times[size, BASELINE]),
            "validate": validate_seconds(size, consumers),
        }
        for size in sizes
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs of each program per size")
    parser.add_argument("--consumers", type=int, default=20, help="consumers per key")
    parser.add_argument(
        "--sizes", type=int, nargs=2, default=[250, 500], metavar=("SMALL", "LARGE")
    )
    parser.add_argument("--child", choices=(PROGRAM, BASELINE), help=argparse.SUPPRESS)
    args = parser.parse_args()
    small, large = args.sizes
    if args.child:
        print(json.dumps({"seconds": run_once(args.child, small, args.consumers)}))
        return
    results = measure((small, large), args.consumers, args.rounds)

    print(f"median of {args.rounds} run(s) each, every run in a fresh interpreter")
    print("keys x consumers | resources | program s | baseline s | ratio | validate+plan s")
    for size, r in results.items():
        print(
            f"{size:>4} x {args.consumers:<10} | {r['resources']:>9.0f} | {r[PROGRAM]:>9.2f} |"
            f" {r[BASELINE]:>10.2f} | {r[PROGRAM] / r[BASELINE]:>5.2f} |"
            f" {r['validate']:>15.3f}"
        )
    ratio = results[large][PROGRAM] / results[large][BASELINE]
    growth = results[large][PROGRAM] / results[small][PROGRAM]
    baseline_growth = results[large][BASELINE] / results[small][BASELINE]
    print(f"ratio at {large} keys: {ratio:.2f} (target <= {RATIO_TARGET})")
    print(
        f"growth {small} -> {large} keys: {growth:.2f}x (target <= {GROWTH_TARGET}x);"
        f" baseline {baseline_growth:.2f}x"
    )


if __name__ == "__main__":
    main()
