"""Seconds per command against the model `fixed start-up + (calls / P) x latency` (issue 21).

Run by hand on the JSON files `bench/bench_engine.py --json` writes, one per run (a run must
hold the 0 ms latency, which gives the fixed start-up, and at least one other latency):

    .venv/bin/python -m bench.latency_model before=/tmp/before.json after=/tmp/after.json

For every latency L > 0, size, operation and side: the fixed start-up is the median of the same
command at 0 ms in the same run, calls the HTTP calls it made (emulator request log), P the
engine's `--parallel` (by default what the engine takes without the flag on this machine:
`PULUMI_PARALLEL`, else 4 x the CPUs), and the ratio measured / model (target at most 1.2).
Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from providers.base.provider_process import engine_parallelism, usable_cpus

MODEL_TARGET = 1.2

Key = tuple[int, int, str, str]


def samples_of(document: Mapping[str, Any]) -> dict[Key, dict[str, Any]]:
    return {
        (s["latency_ms"], s["keys"], s["operation"], s["side"]): s for s in document["samples"]
    }


def model_seconds(fixed: float, calls: int, parallel: int, latency_ms: int) -> float:
    """The least a command can take: its start-up, then its calls P at a time."""
    return fixed + calls / parallel * latency_ms / 1000


def rows(label: str, document: Mapping[str, Any], parallel: int) -> list[list[str]]:
    samples = samples_of(document)
    out: list[list[str]] = []
    for (latency, size, operation, side), sample in sorted(samples.items()):
        base = samples.get((0, size, operation, side))
        if latency == 0 or base is None:
            continue
        fixed = statistics.median(base["seconds"])
        calls = sum(sample["calls"][0].values())
        measured = statistics.median(sample["seconds"])
        model = model_seconds(fixed, calls, parallel, latency)
        out.append([
            label, str(latency), str(size), operation, side, f"{fixed:.2f}", str(calls),
            f"{model:.2f}", f"{measured:.2f}", f"{measured / model:.2f}",
        ])
    return out


def report(runs: Sequence[tuple[str, Mapping[str, Any]]], parallel: int) -> str:
    columns = ["run", "latency ms", "keys", "operation", "side", "fixed s (0 ms)", "calls",
               "model s", "measured s", f"ratio (target <= {MODEL_TARGET})"]
    lines = [
        f"### Against `fixed + (calls / P) x latency`, P = {parallel}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for label, document in runs:
        lines += ["| " + " | ".join(row) + " |" for row in rows(label, document, parallel)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("runs", nargs="+", help="LABEL=PATH of a bench_engine --json file")
    parser.add_argument("--parallel", type=int,
                        default=engine_parallelism(os.environ, usable_cpus()),
                        help="the engine's --parallel during the runs (default: its default here)")
    args = parser.parse_args(argv)
    runs = []
    for item in args.runs:
        label, _, path = item.partition("=")
        if not path:
            parser.error(f"{item}: expected LABEL=PATH")
        runs.append((label, json.loads(Path(path).read_text(encoding="utf-8"))))
    print(report(runs, args.parallel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
