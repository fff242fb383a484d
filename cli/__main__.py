"""`python -m cli doctor`, `audit` and `recover`: parse, run, render, map errors to exit codes.

Exit status: 0 all good; 1 the answer is "no" (doctor: not the expected key type, or a rejected
key; audit: a finding failed it; recover: leftovers found and not deleted); 2 the command could
not answer (bad input, unreachable API, unreadable stack outputs). Errors are one line on stderr,
never a traceback, unless OPENROUTER_KEYS_DEBUG=1 asks for one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from cli import (
    api,
    audit,
    audit_report,
    diagnostics,
    governance,
    keysource,
    render,
    scoped,
    stack_outputs,
)
from cli import recover as recovery
from cli.diagnostics import CliError
from providers import (
    CONFIG_API_BASE_URL,
    DEFAULT_BASE_URL,
    ENV_API_BASE_URL,
    MANAGEMENT_KEY_VARIABLES,
    redact,
)

PROG = "python -m cli"
DOCTOR_KEY_VARIABLE = keysource.REGULAR_KEY_VARIABLE
AUDIT_KEY_VARIABLES = MANAGEMENT_KEY_VARIABLES
SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
DEBUG_VARIABLE = "OPENROUTER_KEYS_DEBUG"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is a diagnostic like any other error (exit 2, one line)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        raise diagnostics.usage_error(command, message)


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative; give 0 or more days")
    return number


def _positive_int(value: str) -> int:
    number = _non_negative_int(value)
    if number == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is zero; give 1 or more days")
    return number


def _percent(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 100:
        raise argparse.ArgumentTypeError(f"{value!r} is not between 0 (excluded) and 100")
    return number


def _add_common(parser: argparse.ArgumentParser, default_variables: tuple[str, ...]) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from-env",
        metavar="VAR",
        help="read the key from this environment variable "
        f"(default: {' then '.join(default_variables)})",
    )
    source.add_argument(
        "--stdin",
        action="store_true",
        help="read the key from standard input (a pipe, or a prompt)",
    )
    parser.add_argument(
        "--api-base-url",
        metavar="URL",
        help=f"OpenRouter API root (default: ${ENV_API_BASE_URL}, then {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead of text"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Checks of OpenRouter keys (doctor and audit only read; recover deletes only "
        "with --yes). Keys are never taken from the command "
        "line: use an environment variable or standard input. See docs/cli.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    doctor_parser = commands.add_parser(
        "doctor",
        help="tell what one key is: management, regular, or rejected",
        description="Tell what one key is (GET /key only): a management key, a regular key with "
        "its limit, usage and expiry, or a key the API rejects. Exit 0 when it is the --expect "
        "type (or, without --expect, a working key), 1 otherwise, 2 on errors.",
    )
    _add_common(doctor_parser, (DOCTOR_KEY_VARIABLE,))
    doctor_parser.add_argument(
        "--expect",
        choices=["management", "regular"],
        help="exit 1 unless the key is of this type",
    )
    doctor_parser.add_argument(
        "--stack",
        metavar="NAME",
        help="ask the API this stack uses (its apiBaseUrl, read with `pulumi config --json`)",
    )

    audit_parser = commands.add_parser(
        "audit",
        help="join every key of the account with the stacks and report problems",
        description="List every key of the account with the management key, join it with the "
        "`keys` output of each stack, and report unmanaged, missing, disabled, expiring, "
        "near-limit and unused keys; with the stacks' `governance` output, also keys without "
        "a guardrail, guardrails no stack manages, guardrail caps and workspace budgets "
        "near their limit, and BYOK credentials and observability destinations that no stack "
        "manages or that are restricted to deleted keys. Exit 1 when a finding fails the audit, "
        "2 on errors.",
    )
    _add_common(audit_parser, AUDIT_KEY_VARIABLES)
    audit_parser.add_argument(
        "--stack",
        dest="sources",
        action="append",
        default=[],
        metavar="NAME",
        type=lambda value: stack_outputs.stack_source(value, from_file=False),
        help="read this stack's outputs with `pulumi stack output --json --show-secrets`"
        " (repeatable)",
    )
    audit_parser.add_argument(
        "--outputs",
        dest="sources",
        action="append",
        metavar="[NAME=]FILE",
        type=lambda value: stack_outputs.stack_source(value, from_file=True),
        help="read a stack's outputs from a file written by `pulumi stack output --json"
        " --show-secrets`; the stack is NAME, or the file name without extension (repeatable)",
    )
    audit_parser.add_argument(
        "--workspace",
        dest="workspaces",
        action="append",
        default=[],
        metavar="ID",
        help="also list the keys, BYOK credentials and observability destinations of this "
        "workspace (repeatable; every workspace is listed when the workspaces can be read, else "
        "the default one)",
    )
    audit_parser.add_argument(
        "--expiring-days",
        type=_non_negative_int,
        default=audit_report.Thresholds.expiring_days,
        metavar="N",
        help="report keys that expire within N days (default: %(default)s)",
    )
    audit_parser.add_argument(
        "--limit-percent",
        type=_percent,
        default=audit_report.Thresholds.limit_percent,
        metavar="P",
        help="report keys at or above P percent of their limit (default: %(default)g)",
    )
    audit_parser.add_argument(
        "--unused-days",
        type=_positive_int,
        default=audit_report.Thresholds.unused_days,
        metavar="N",
        help="report keys not used for N days, by their last use (never-used keys count from "
        "their creation) (default: %(default)s)",
    )
    audit_parser.add_argument(
        "--fail-on-unused",
        action="store_true",
        help="make unused keys fail the audit (default: a warning)",
    )
    recover_parser = commands.add_parser(
        "recover",
        help="find (and with --yes delete) the keys an interrupted pulumi up left behind",
        description="After a `pulumi up` killed while creating keys: read the stack's pending "
        "creates (`pulumi stack export`), list the account's keys with the management key, and "
        "report every key a pending create named that the state does not hold and that was "
        "never used. With --yes, delete them. Exit 0 when nothing is left, 1 when leftovers "
        "were found but not deleted, 2 on errors (docs/runbooks.md#an-interrupted-update).",
    )
    _add_common(recover_parser, AUDIT_KEY_VARIABLES)
    recover_parser.add_argument(
        "--stack", required=True, metavar="NAME", help="the stack of the interrupted update"
    )
    recover_parser.add_argument(
        "--yes", action="store_true", help="delete the leftovers found (default: only list them)"
    )
    return parser


def _key(
    args: argparse.Namespace, env: Mapping[str, str], default: tuple[str, ...]
) -> keysource.KeyInput:
    if args.stdin:
        return keysource.from_stdin(sys.stdin)
    variables = (args.from_env,) if args.from_env else default
    return keysource.from_env(env, variables, args.command)


def _base_url(args: argparse.Namespace, env: Mapping[str, str], stacks: Sequence[str]) -> str:
    """The API a command asks: `--api-base-url`, else the `apiBaseUrl` of the stacks it is about
    (they must agree), else $OPENROUTER_API_BASE_URL, else the real API: the provider's order.

    So a sandbox stack is asked in its emulator, and a key is never sent to another API than
    the one its stack uses; a stack's config is read only when the flag is absent.
    """
    if args.api_base_url or not stacks:
        return api.base_url(args.api_base_url, env)
    urls = {
        stack: api.base_url(
            None, env, stack_outputs.plain_stack_setting(stack, CONFIG_API_BASE_URL, env)
        )
        for stack in stacks
    }
    if len(set(urls.values())) > 1:
        raise diagnostics.stacks_on_different_apis(urls)
    return next(iter(urls.values()))


def run_doctor(args: argparse.Namespace, out: render.Output, env: Mapping[str, str]) -> int:
    key = _key(args, env, (DOCTOR_KEY_VARIABLE,))
    base_url = _base_url(args, env, [args.stack] if args.stack else [])
    report = api.doctor(key, base_url, args.expect, audit.utc_now())
    if out.json_mode:
        out.document(render.doctor_json(report))
    else:
        out.result(render.doctor_text(report))
        for finding in report.findings:
            out.diagnostic(finding)
    return report.exit_code


def run_audit(args: argparse.Namespace, out: render.Output, env: Mapping[str, str]) -> int:
    sources: list[stack_outputs.StackSource] = args.sources
    if not sources:
        raise diagnostics.no_stacks_given()
    seen: set[str] = set()
    for source in sources:
        if source.stack in seen:
            raise diagnostics.stack_named_twice(source.stack)
        seen.add(source.stack)
    thresholds = audit_report.Thresholds(
        expiring_days=args.expiring_days,
        limit_percent=args.limit_percent,
        fail_on_unused=args.fail_on_unused,
        unused_days=args.unused_days,
    )
    key = _key(args, env, AUDIT_KEY_VARIABLES)
    # Local input first: a bad outputs file fails before any request is made.
    managed = stack_outputs.load_managed(sources, env)
    base_url = _base_url(args, env, [s.stack for s in sources if s.file is None])
    observed, account = api.observe(key, base_url, managed.keys, tuple(args.workspaces))
    report = audit.compare(managed.keys, observed, audit.utc_now(), thresholds)
    report = governance.judge(report, account, managed.governance)
    report = scoped.judge(report, account, managed.governance)

    markdown = render.audit_markdown(report)
    if out.json_mode:
        out.document(render.audit_json(report))
    else:
        out.result(markdown)
    _append_summary(env.get(SUMMARY_VARIABLE), markdown, out)
    return report.exit_code


def run_recover(args: argparse.Namespace, out: render.Output, env: Mapping[str, str]) -> int:
    export = stack_outputs.pulumi_stack_json(("stack", "export"), args.stack, env)
    interrupted = recovery.interrupted_creates(export, args.stack)
    pending = len(interrupted.pending_names)
    found: list[recovery.Leftover] = []
    if pending:
        key = _key(args, env, AUDIT_KEY_VARIABLES)
        base_url = _base_url(args, env, [args.stack])
        found, problems = api.recover(key, base_url, interrupted, delete=args.yes)
        if problems:
            raise diagnostics.recover_incomplete(args.stack, problems)
    deleted = bool(args.yes and found)
    if out.json_mode:
        out.document(render.recover_json(args.stack, found, deleted=deleted, pending=pending))
    else:
        out.result(render.recover_text(args.stack, found, deleted=deleted, pending=pending))
    return 1 if found and not args.yes else 0


def _append_summary(path: str | None, markdown: str, out: render.Output) -> None:
    """GitHub shows this file on the run's page; a failure to write it is only a warning."""
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(redact(markdown) + "\n")
    except OSError as error:
        out.diagnostic(diagnostics.summary_not_written(path, str(error.strerror or error).lower()))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    out = render.Output(sys.stdout, sys.stderr, json_mode="--json" in arguments)
    try:
        try:
            args = build_parser().parse_args(arguments)
        except SystemExit as done:  # --help and --version print and exit 0
            return int(done.code or 0)
        out.json_mode = args.json
        handler = {"doctor": run_doctor, "audit": run_audit, "recover": run_recover}[args.command]
        return handler(args, out, env)
    except CliError as error:
        out.diagnostic(error.diagnostic)
        return diagnostics.EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if env.get(DEBUG_VARIABLE) == "1":
            raise
        cause = f"{type(error).__name__}: {error}"
        out.diagnostic(diagnostics.internal_error(cause).diagnostic)
        return diagnostics.EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
