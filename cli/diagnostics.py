"""One shape for everything the CLI reports, errors and audit findings alike (pip's shape).

A diagnostic has a stable `kind` (machines match on it; docs/cli.md lists every one), a
`message` saying what is wrong, a `context` naming the thing it is about (a file, a JSON path,
an environment variable, a key's masked label) and a `hint` saying what to do. All user-facing
wording of errors lives in this module, so docs/cli.md and the tests can check it in one place.
No constructor here ever receives a key: only variable names, masked labels and hashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from providers import BASE_URL_FIX, MANAGEMENT_KEYS_PAGE, FailureKind

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

Severity = Literal["error", "warning"]

CREATE_MANAGEMENT_KEY_URL = MANAGEMENT_KEYS_PAGE


@dataclass(frozen=True)
class Diagnostic:
    """A problem to report: an error that stops a command, or an audit finding."""

    kind: str
    message: str
    hint: str
    context: Mapping[str, str] = field(default_factory=dict)
    severity: Severity = "error"

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "context": dict(self.context),
            "hint": self.hint,
        }


class CliError(Exception):
    """Bad input or an unusable environment: one line on stderr and exit status 2."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _error(kind: str, message: str, hint: str, **context: str) -> CliError:
    return CliError(Diagnostic(kind=kind, message=message, hint=hint, context=context))


# --- command line ------------------------------------------------------------------------------


def usage_error(command: str, problem: str) -> CliError:
    where = f"python -m cli {command}".rstrip()
    return _error("usage", f"{problem}.", f"see `{where} --help`.")


def no_stacks_given() -> CliError:
    return _error(
        "usage",
        "audit needs at least one stack to join the keys with.",
        "add `--stack NAME` (reads `pulumi stack output --json --show-secrets`) or `--outputs"
        " FILE`, once per stack that uses this OpenRouter account.",
    )


def stack_named_twice(stack: str) -> CliError:
    return _error(
        "usage",
        f"stack {stack!r} is given twice.",
        "give each stack once; name an outputs file after its stack (dev.json) or write "
        "`--outputs NAME=FILE`.",
        stack=stack,
    )


def api_base_url_invalid(source: str, value: str, problem: str) -> CliError:
    return _error(
        "api-base-url-invalid",
        f"{source} cannot be used as the API root ({value!r}): {problem}. Nothing was sent.",
        f"{BASE_URL_FIX}.",
        source=source,
    )


def stack_setting_secret(stack: str, setting: str) -> CliError:
    return _error(
        "stack-setting-secret",
        f"stack {stack} sets {setting} as a secret, and `pulumi config --json` does not show"
        " it, so the CLI cannot tell which API the stack uses. Nothing was sent.",
        f"pass it with --api-base-url, or set it in plain text (`pulumi config set {setting}`).",
        stack=stack,
    )


def stacks_on_different_apis(urls: Mapping[str, str]) -> CliError:
    listed = ", ".join(f"{stack} -> {url}" for stack, url in urls.items())
    return _error(
        "stacks-on-different-apis",
        f"the stacks given do not use the same API ({listed}), and one run asks one API."
        " Nothing was sent.",
        "run the command once per API, each time with the stacks that use it.",
        stacks=", ".join(urls),
    )


# --- where the key comes from ------------------------------------------------------------------


def key_env_missing(variables: tuple[str, ...], command: str) -> CliError:
    names = " or ".join(variables)
    return _error(
        "key-env-missing",
        f"no key: {names} is not set.",
        f"export {variables[0]} (from your secret store), name another variable with "
        f"`--from-env VAR`, or pipe the key in with `python -m cli {command} --stdin`.",
        variable=variables[0],
    )


def key_env_empty(variable: str) -> CliError:
    return _error(
        "key-env-empty",
        f"no key: {variable} is set but empty.",
        f"check that the secret behind {variable} exists and is exposed to this job or shell.",
        variable=variable,
    )


def key_stdin_empty() -> CliError:
    return _error(
        "key-stdin-empty",
        "no key: standard input was empty.",
        "pipe the key in, e.g. `printenv OPENROUTER_API_KEY | python -m cli doctor --stdin`.",
    )


def key_malformed(source: str, problem: str) -> CliError:
    return _error(
        "key-malformed",
        f"the value from {source} is not an OpenRouter key: {problem}.",
        # The prefix itself is not quoted: redaction masks anything that starts like a key.
        "store only the key, as the dashboard shows it: one line, no quotes, no spaces, "
        "no `NAME=` in front.",
        source=source,
    )


# --- the API -----------------------------------------------------------------------------------


def api_unreachable(base_url: str, cause: str) -> CliError:
    return _error(
        "api-unreachable",
        f"cannot reach the OpenRouter API at {base_url}: {cause}.",
        "check the network and the URL (`--api-base-url` or OPENROUTER_API_BASE_URL); for the "
        "local emulator, start it first with `python -m emulator`.",
        base_url=base_url,
    )


def api_failed(base_url: str, what: str, cause: str) -> CliError:
    return _error(
        "api-error",
        f"the OpenRouter API at {base_url} failed while {what}: {cause}.",
        "nothing was changed; run the command again later, and check "
        "https://status.openrouter.ai if it keeps failing.",
        base_url=base_url,
    )


def management_key_rejected(label: str, source: str) -> CliError:
    return _error(
        FailureKind.MANAGEMENT_KEY_INVALID,
        f"the API rejected the management key {label} (from {source}): it is invalid, "
        "disabled or deleted.",
        f"create a management key at {CREATE_MANAGEMENT_KEY_URL} and store it in {source}.",
        key=label,
        source=source,
    )


def not_a_management_key(label: str, source: str) -> CliError:
    return _error(
        FailureKind.MANAGEMENT_KEY_NOT_MANAGEMENT,
        f"{label} (from {source}) is a regular key; audit needs the management key, which "
        "lists the account's keys.",
        f"put the management key in {source} (create one at {CREATE_MANAGEMENT_KEY_URL}); "
        "check which key you have with `python -m cli doctor`.",
        key=label,
        source=source,
    )


def key_list_incomplete(base_url: str, cause: str) -> CliError:
    return _error(
        "key-list-incomplete",
        f"listing the keys at {base_url} failed part way ({cause}); the audit does not judge "
        "from a partial list.",
        "nothing was changed; run the audit again.",
        base_url=base_url,
    )


# --- stack outputs -----------------------------------------------------------------------------


def outputs_file_missing(path: str) -> CliError:
    return _error(
        "outputs-file-missing",
        f"stack outputs file {path} does not exist.",
        "write it with `pulumi stack output --json --show-secrets --stack STACK > FILE`, or use"
        " `--stack STACK`.",
        file=path,
    )


def outputs_file_unreadable(path: str, cause: str) -> CliError:
    return _error(
        "outputs-file-unreadable",
        f"cannot read stack outputs file {path}: {cause}.",
        "check the path and its permissions.",
        file=path,
    )


def outputs_invalid(source: str, json_path: str, problem: str) -> CliError:
    return _error(
        "outputs-invalid",
        f"{source}: {json_path} {problem}.",
        "the file must be exactly what `pulumi stack output --json --show-secrets --stack STACK`"
        " prints for a stack of this project; write it again with that command.",
        source=source,
        path=json_path,
    )


def pulumi_not_found(stack: str) -> CliError:
    return _error(
        "pulumi-not-found",
        f"`--stack {stack}` needs the pulumi CLI, and `pulumi` is not on PATH.",
        "install it (https://www.pulumi.com/docs/install/ or `bash scripts/build-engine.sh`), "
        "or pass the outputs as a file: `pulumi stack output --json --show-secrets --stack "
        f"{stack} > {stack}.json` then `--outputs {stack}.json`.",
        stack=stack,
    )


CUT_SIDECAR = "failed to load checkpoint: EOF"
"""What every command says on a file backend whose checkpoint sidecar a killed CLI cut short."""


def stack_output_failed(stack: str, cause: str, command: str | None = None) -> CliError:
    shown = command or f"`pulumi stack output --json --show-secrets --stack {stack}`"
    hint = (
        "on a file:// backend a killed `pulumi up` can cut the checkpoint's `.attrs` sidecar: "
        "remove it if it is empty or not JSON (docs/runbooks.md#an-interrupted-update)."
        if CUT_SIDECAR in cause
        else "check the stack name (`pulumi stack ls`) and that you are logged in to its backend "
        "(`pulumi login`), in the project directory."
    )
    return _error("stack-output-failed", f"{shown} failed: {cause}.", hint, stack=stack)


# --- output ------------------------------------------------------------------------------------


def summary_not_written(path: str, cause: str) -> Diagnostic:
    return Diagnostic(
        kind="summary-not-written",
        message=f"could not append the report to $GITHUB_STEP_SUMMARY ({path}): {cause}.",
        hint="the report is still on standard output; check the runner's step summary file.",
        context={"file": path},
        severity="warning",
    )


def recover_incomplete(stack: str, problems: list[str]) -> CliError:
    return _error(
        "recover-incomplete",
        f"{len(problems)} leftover key(s) of stack {stack} could not be deleted: "
        + "; ".join(problems)
        + ".",
        "run `python -m cli recover --stack STACK --yes` again; if it persists, delete them at "
        "https://openrouter.ai/settings/keys by hash.",
        stack=stack,
    )


def internal_error(cause: str) -> CliError:
    return _error(
        "internal-error",
        f"unexpected failure: {cause}.",
        "this is a bug in openrouter-keys; rerun with OPENROUTER_KEYS_DEBUG=1 for the "
        "traceback and report it.",
    )
