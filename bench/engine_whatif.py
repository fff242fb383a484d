"""What each candidate change would save: variants of the project beside the project and floor.

Run by hand: `.venv/bin/python -m bench.engine_whatif [bench_engine options] [--variants ...]`.
Each variant is the project's copy with one change applied as a text edit (the repository is never
touched), measured through the real engine exactly as `bench_engine.py` measures the project, in
the same run and alternating with it:

- `no-outputs`: no `keys` / `inventory` stack outputs;
- `no-stack-traces`: the SDK sends no registration stack trace (a monkeypatch of
  `pulumi.runtime.resource._get_stack_trace`; shows what traces cost, not a recommendation);
- `sdk-pool`: the provider process keeps the SDK's pool of four threads (issue 21's "before"),
  so the same run shows what following the engine's parallelism changes;
- `keys-as-text`: the `keys` output exported as one JSON string instead of an object (what the
  engine's per-step checkpoint pays for a large secret object; measured, not made: see
  bench/README.md). Only `up` and `destroy` run on it: the program cannot read its own record
  back in this form, so a later `up` would be refused.

The variants measured on 2026-12-01 and since made in the code (`lazy-sdks`, `no-components`,
`no-register-outputs`, `tls-once`, and `all`) were removed from this file once their change
landed; bench/README.md keeps their figures, and git history their edits.

The edits are written against the tree this file was committed with; when the code they edit has
moved, a variant fails loudly naming the file and the text it could not find.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bench.bench_engine import (
    PROJECT_SIDE,
    SIDES,
    BenchError,
    Side,
    argument_parser,
    options_from,
    run_and_report,
)

Edit = tuple[str, str, str]
"""(file relative to the project root, text to find, replacement)."""

NO_STACK_TRACES = '''\
import pulumi.runtime.resource
from pulumi.runtime.proto import source_pb2

pulumi.runtime.resource._get_stack_trace = source_pb2.StackTrace  # what-if: no stack traces
'''

MAIN_EXPORTS = (
    "for output_name, value in topology.stack_outputs(topology.build(topology.load())).items():\n"
    "    pulumi.export(output_name, value)\n"
)

KEYS_VALUE = "sinks_done.apply(lambda _: observed.apply(keys_value))"
KEYS_AS_TEXT = (
    "sinks_done.apply(lambda _: observed.apply("
    "lambda seen: json.dumps(keys_value(seen), separators=(',', ':'))))"
)

EDITS: Mapping[str, tuple[Edit, ...]] = {
    "keys-as-text": (
        ("topology/outputs.py", KEYS_VALUE, KEYS_AS_TEXT),
        ("topology/outputs.py", "\nimport pulumi\n", "\nimport json\n\nimport pulumi\n"),
    ),
    "no-outputs": (("__main__.py", MAIN_EXPORTS, "topology.build(topology.load())\n"),),
    "no-stack-traces": (
        ("__main__.py", "import topology\n", "import topology\n" + NO_STACK_TRACES),
    ),
    "sdk-pool": (
        (
            "providers/base/provider_process.py",
            "    pool = serving_pool()\n",
            "    pool = None  # what-if: the SDK's pool of four\n",
        ),
    ),
}


def apply_edits(root: Path, edits: Sequence[Edit]) -> None:
    """Apply each edit once to the copied project; a missing text is a stale variant."""
    for relative, old, new in edits:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise BenchError(
                f"what-if edit is stale: {relative} does not contain exactly one {old!r};"
                " update bench/engine_whatif.py to the current code"
            )
        path.write_text(text.replace(old, new), encoding="utf-8")


def patcher(edits: Sequence[Edit]) -> Callable[[Path], None]:
    return lambda root: apply_edits(root, edits)


def variant_sides(names: Sequence[str]) -> tuple[Side, ...]:
    return (*SIDES, *(Side(name, PROJECT_SIDE, patcher(EDITS[name])) for name in names))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser((__doc__ or "").split("\n")[0])
    parser.add_argument("--variants", nargs="+", choices=sorted(EDITS), default=sorted(EDITS),
                        help="variants to measure beside the floor and the project")
    args = parser.parse_args(argv)
    return run_and_report(options_from(parser, args, variant_sides(args.variants)), args.json)


if __name__ == "__main__":
    sys.exit(main())
