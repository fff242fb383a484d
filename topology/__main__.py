"""`python -m topology inventory --stack NAME [--outputs FILE]`: the inventory as Markdown.

Reads the stack file (the keys and consumers it declares; in a pull request, what the merge will
deploy) and, when given, the stack's `pulumi stack output --json --show-secrets` (names, masked
values, status as the provider last saw them), and prints the table and the Mermaid diagram
(topology/inventory.py). It needs no credential: the stack file's secrets are never read, and the
outputs hold no key. The workflows post it to the pull request and the deploy job's summary.

Exit status: 0 printed; 1 the stack file has config problems (listed on stderr, as the preview
lists them); 2 usage (an unreadable file, outputs that are not JSON).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from topology.config import (
    NAMESPACE,
    RawConfig,
    parse_keys,
    parse_management_targets,
    parse_scoped,
)
from topology.inventory import deployed_from_outputs, render_markdown
from topology.keys_output import KEYS_OUTPUT, parse_keys_output
from topology.plan import Plan, make_plan
from topology.rules import Facts, Problem, all_problems
from topology.scoped import KINDS

STACKS_DIR = Path("stacks")


def yaml_plain(value: Any) -> Any:
    """As Pulumi reads YAML: dates stay text (PyYAML would make them `date`s)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): yaml_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_plain(v) for v in value]
    return value


def _unsealed(value: Any) -> Any:
    """Every encrypted (`secure:`) value as a placeholder: the inventory never needs one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return "[secret]"
        return {k: _unsealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsealed(v) for v in value]
    return value


def _text(value: Any) -> str | None:
    """A config value as the program receives it: objects and lists as JSON text."""
    if value is None:
        return None
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def plan_from_stack_file(
    document: Mapping[str, Any], stack: str
) -> tuple[Plan | None, list[Problem]]:
    """The plan the program would build from this stack file, or the problems it would report.

    Secrets are taken as present (the management key, the secret of every adopted key): the file
    may hold them encrypted, or CI may pass the management key in the environment; the inventory
    never needs a value.
    """
    config = yaml_plain(document.get("config") or {})
    keys, _, problems = parse_keys(_text(config.get(f"{NAMESPACE}:keys")))
    targets, target_problems = parse_management_targets(
        _text(config.get(f"{NAMESPACE}:managementKeyTargets"))
    )
    owner = (str(config.get("github:owner") or "")).strip() or None
    adopted = {key_id: "present" for key_id, spec in keys.items() if spec.adopt is not None}
    facts = Facts(
        stack=stack,
        github_owner=owner,
        adopted_secret_fingerprints=adopted,
        vercel_team_set="vercel:team" in config,
    )
    problems += target_problems + all_problems(keys, targets, facts)
    workspaces = config.get(f"{NAMESPACE}:workspaces") or {}
    raw = RawConfig(
        scoped={
            kind.setting: _text(_unsealed(config.get(f"{NAMESPACE}:{kind.setting}")))
            for kind in KINDS
        },
        scoped_secret=frozenset(kind.setting for kind in KINDS),
    )
    scoped, scoped_problems = parse_scoped(raw, keys, set(), set(workspaces))
    problems += scoped_problems
    if problems or targets is None:
        return None, problems
    plan = make_plan(
        stack,
        keys=keys,
        management_targets=targets,
        protect_keys=True,
        github_owner=owner,
        scoped=scoped,
    )
    return plan, []


def _read_outputs(path: str | None) -> Mapping[str, Any]:
    if path is None:
        return {}
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    value = json.loads(text) if text.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("not a JSON object; expected `pulumi stack output --json --show-secrets`")
    # The one schema (a KeysOutputError is a ValueError): outputs read without --show-secrets
    # must not render every key as "new".
    parse_keys_output(value.get(KEYS_OUTPUT))
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m topology")
    commands = parser.add_subparsers(dest="command", required=True)
    inventory = commands.add_parser("inventory", help="print the key inventory as Markdown")
    inventory.add_argument("--stack", required=True, help="the stack name, e.g. prod")
    inventory.add_argument(
        "--stack-file", help="default: stacks/Pulumi.<stack>.yaml (Pulumi.yaml's stackConfigDir)"
    )
    inventory.add_argument(
        "--outputs", help="`pulumi stack output --json --show-secrets` of the stack, or - for stdin"
    )
    args = parser.parse_args(argv)
    stack_file = Path(args.stack_file or STACKS_DIR / f"Pulumi.{args.stack}.yaml")
    try:
        document = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
        outputs = _read_outputs(args.outputs)
    except (OSError, ValueError, yaml.YAMLError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    plan, problems = plan_from_stack_file(document, args.stack)
    if plan is None:
        sys.stdout.write(
            f"### Key inventory: stack `{args.stack}`\n\nNot rendered: the stack file has"
            f" {len(problems)} config problem(s); the preview lists them.\n"
        )
        sys.stderr.write("".join(f"{problem.render()}\n" for problem in problems))
        return 1
    now = dt.datetime.now(dt.UTC)
    sys.stdout.write(render_markdown(plan, deployed_from_outputs(outputs), now))
    return 0


if __name__ == "__main__":
    sys.exit(main())
