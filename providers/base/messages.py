"""Every message the provider raises, and the one error type that carries it to `pulumi up`.

Messages are written for the person running `pulumi up`: the setting as written in the stack
file, what is wrong, and the fix. They are built only here (`provider_error`), always through
`redact`, because the engine shows what a provider raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from providers.http.credentials import (
    BASE_URL_FIX,
    ENV_MANAGEMENT_KEY,
    ENV_PROVISIONING_KEY,
    KEYS_PAGE,
    MANAGEMENT_KEY_SETTING,
    MANAGEMENT_KEYS_PAGE,
    config_key,
)
from providers.http.redaction import redact

KEY_TYPES = (
    "A management key creates, lists, updates and deletes other keys and cannot call models."
    " A regular key calls models and cannot manage keys."
)
_SET_KEY = (
    f"set it with `pulumi config set --secret {MANAGEMENT_KEY_SETTING}` (it prompts, so the key"
    f" stays out of your shell history) or export {ENV_MANAGEMENT_KEY}"
)


class FailureKind(StrEnum):
    """The failures both the provider and the CLI report, one kind each: a user who meets one in
    `pulumi up` and in `python -m cli audit` reads the same `[kind]` and one runbook entry."""

    MANAGEMENT_KEY_NOT_MANAGEMENT = "management-key-not-management"
    """A regular key where the management key belongs (`GET /key`: `is_management_key` false)."""
    MANAGEMENT_KEY_INVALID = "management-key-invalid"
    """The management key answered 401: invalid, disabled or deleted."""


MESSAGES: Mapping[str, str] = {
    "management-key-missing": (
        f"No OpenRouter management key: neither stack config `{config_key(MANAGEMENT_KEY_SETTING)}`"
        f" nor {ENV_MANAGEMENT_KEY} (or its old name {ENV_PROVISIONING_KEY}) is set. Create one at"
        f" {MANAGEMENT_KEYS_PAGE}, then {_SET_KEY}."
    ),
    FailureKind.MANAGEMENT_KEY_NOT_MANAGEMENT: (
        "The key in the management-key slot ({source}, {label}) is a regular key, not a"
        f" management key. {KEY_TYPES} Create a management key at {MANAGEMENT_KEYS_PAGE}, then"
        f" {_SET_KEY}."
    ),
    FailureKind.MANAGEMENT_KEY_INVALID: (
        "OpenRouter rejected the management key ({source}) with 401: it is invalid, disabled or"
        f" deleted. Check it at {MANAGEMENT_KEYS_PAGE} (or create a new one), then {_SET_KEY}."
    ),
    "management-key-unsendable": (
        "The management key ({source}) holds characters an HTTP header cannot carry (spaces, line"
        " breaks, control characters or non-ASCII), so no request could send it; the value is not"
        f" shown. Nothing was sent. Copy the key again, one line, then {_SET_KEY}."
    ),
    "refresh-stale-settings": (
        "This refresh would read with the settings the last `pulumi up` recorded, not the stack"
        " file's: {changes}. Nothing was read. Fix: run `pulumi preview`, then `pulumi up` (they"
        " check the stack file's management key and URL with OpenRouter before anything, and"
        " record them), then refresh; or refresh with `--run-program`, which does the same check"
        " and reads with the stack file's settings."
    ),
    "api-unavailable": (
        "OpenRouter could not be asked before the first write ({cause}), so the update would"
        " fail part way. Nothing was changed. Check the network, the API base URL ({url}) and"
        " https://status.openrouter.ai, then run the preview again."
    ),
    "api-base-url-unsafe": (
        "{setting} is {url!r}, which cannot carry the management key: {problem}. Nothing was sent."
        f" Fix: {BASE_URL_FIX}."
    ),
    "adopt-not-found": (
        "`{where}`: no key with hash {hash} exists (GET /keys/{hash} answered 404), so there is"
        " nothing to adopt. Nothing was changed. Copy the hash from the OpenRouter key list, or"
        " remove `{where}` to mint a new key."
    ),
    "adopt-fixed-field": (
        "`{where}`: the adopted key {hash} has {current}, which OpenRouter cannot change in"
        " place; declare {current}, or remove `{where}`. Nothing was changed."
    ),
    "adopt-secret-invalid": (
        "`{where}`: OpenRouter rejected the secret with 401 (invalid, disabled or deleted), so it"
        " cannot belong to key {hash}. Nothing was changed. Set the secret of key {label}, or"
        " remove `{where}` (the key's secret then stays unknown to Pulumi)."
    ),
    "adopt-secret-is-management": (
        "`{where}`: the secret given is a management key, not the regular key {hash}."
        " Nothing was changed. Set the secret of key {label}, or remove `{where}`."
    ),
    "adopt-secret-mismatch": (
        "`{where}`: the secret given belongs to another key ({other_label}), not to the adopted"
        " key {hash} ({label}). Nothing was changed. Set the secret of key {label}, or remove"
        " `{where}` (the key's secret then stays unknown to Pulumi)."
    ),
    "create-disable-failed": (
        "Created key {hash} but could not disable it ({cause}); the new key was deleted again,"
        " so nothing is left behind. Run `pulumi up` again."
    ),
    "create-disable-orphan": (
        "Created key {hash} but could not disable it ({cause}), and deleting it failed too"
        " ({delete_cause}). The key is live and not in state: delete it at"
        f" {KEYS_PAGE} (hash {{hash}}), then run `pulumi up` again."
    ),
    "create-undeliverable": (
        "Created key {hash}, but the engine that asked for it was gone (the CLI was killed or"
        " cancelled), so nothing could record it: the key was deleted again and nothing is left"
        " behind. Run `pulumi up` again (docs/runbooks.md#an-interrupted-update)."
    ),
    "create-undeliverable-orphan": (
        "Created key {hash}, but the engine that asked for it was gone, and deleting the key"
        " failed ({cause}). It is live and in no state: run `python -m cli recover` for the"
        f" stack, or delete it at {KEYS_PAGE} (docs/runbooks.md#an-interrupted-update)."
    ),
    "key-name-taken": (
        "`{where}`: OpenRouter already has a key named {name!r} that no resource of this stack"
        " holds (hash {hash}, created {created}, {used}), so a new one would be its twin. A"
        " `pulumi up` interrupted while creating keys leaves exactly this behind. Nothing was"
        " changed. Fix: if it is such a leftover, run `python -m cli recover --stack <stack>`"
        " (docs/runbooks.md#an-interrupted-update); if it is a key of yours, adopt it (`adopt:"
        " {hash}`) or give this key another `name`."
    ),
    "guardrail-name-taken": (
        "`{where}`: OpenRouter already has a guardrail named {name!r} in this workspace that no"
        " resource of this stack holds (id {id}, created {created}), so a new one would be its"
        " twin. A `pulumi up` interrupted while creating guardrails leaves exactly this behind."
        " Nothing was changed. Fix: take it over with `adopt: {id}` under `{where}` (the declared"
        " policy is then applied to it), delete it in the dashboard, or give this guardrail"
        " another name (docs/runbooks.md#an-interrupted-update)."
    ),
    "workspace-slug-taken": (
        "`{where}`: OpenRouter already has a workspace with slug {slug!r} that no resource of"
        " this stack holds (id {id}, created {created}), and a slug names one workspace, so the"
        " create would fail. A `pulumi up` interrupted while creating workspaces leaves exactly"
        " this behind. Nothing was changed. Fix: take it over with `adopt: {slug}` under"
        " `{where}`, delete it in the dashboard, or give this workspace another `slug`"
        " (docs/runbooks.md#an-interrupted-update)."
    ),
    "workspace-not-found": (
        "`{where}`: OpenRouter has no workspace {id} in this account (GET /workspaces/{id}"
        " answered 404), so the create would fail. Nothing was changed. Fix: copy the"
        " workspace's id from the dashboard, declare the workspace under `workspaces` and name"
        " its id, or remove `{where}` for the default workspace."
    ),
    "workspace-not-empty": (
        "`{where}` (slug {slug}) cannot be deleted: OpenRouter said {said!r}. Keys this stack"
        " manages are deleted before their workspace, so a key it does not manage still lives"
        " there. Fix: find it with `python -m cli audit`, delete it or move it to another"
        " workspace, then run `pulumi up` again (docs/runbooks.md#delete-a-workspace)."
    ),
    "assignment-refused": (
        "`{where}`: guardrail {guardrail} was not assigned to key {hash}: OpenRouter counted"
        " {count} keys assigned. The key is gone or lives in another workspace than the"
        " guardrail. Fix: give the key and the guardrail the same `workspace`, then run"
        " `pulumi up` again."
    ),
    "object-name-taken": (
        "`{where}`: OpenRouter already has {a_noun} named {name!r} in this workspace that no"
        " resource of this stack holds (id {id}, created {created}), so a new one would be its"
        " twin. A `pulumi up` interrupted while creating one leaves exactly this behind. Nothing"
        " was changed. Fix: take it over with `adopt: {id}` under `{where}`, delete it in the"
        " dashboard, or give this one another `name` (docs/runbooks.md#an-interrupted-update)."
    ),
    "object-adopt-not-found": (
        "`{where}.adopt`: OpenRouter has no {noun} {id} (it answered 404), so there is nothing"
        " to adopt. Nothing was changed. Fix: copy the id from the dashboard, or remove `adopt`"
        " to create a new one."
    ),
    "object-adopt-fixed": (
        "`{where}.adopt`: the {noun} {id} has {field} {found!r}, which OpenRouter cannot change"
        " in place, and the stack file declares {declared!r}. Nothing was changed. Fix: declare"
        " {found!r}, or remove `adopt` to create a new one."
    ),
    "object-refused": (
        "`{where}`: OpenRouter refused to {verb} the {noun} (HTTP {status}): {said!r}. Nothing"
        " was changed by this request. Fix: correct `{where}` as OpenRouter says, then run"
        " `pulumi up` again."
    ),
    "destination-type-full": (
        "`{where}.type`: the workspace already holds {cap} {type} observability destinations"
        " ({ids}), the most OpenRouter allows of one type, so the create would fail. Nothing was"
        " changed. Fix: give `{where}.workspace` another workspace, or remove one of them (from"
        " the stack file that declares it, or in the dashboard), or send to another type."
    ),
    "destination-type-full-at-create": (
        "`{where}.type`: OpenRouter refused to create the {type} observability destination (HTTP"
        " 409): {said!r}. A workspace holds at most {cap} destinations of one type, and those"
        " this same `pulumi up` created count too. Nothing was changed by this request. Fix: give"
        " `{where}.workspace` another workspace, or remove one of the {type} destinations of that"
        " workspace (from the stack file, or in the dashboard), then run `pulumi up` again."
    ),
    "api": "{operation}: {cause}",
    "internal": "{operation} failed unexpectedly: {cause}",
}


class ProviderError(Exception):
    """A provider failure whose text is written for the person running `pulumi up`.

    The text always goes through `redact`, because the engine shows what a provider raises.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(redact(message))


def a_or_an(word: str) -> str:
    """`word` with its indefinite article, by how it is said (`an observability destination`,
    `an s3 destination`, `a langfuse destination`)."""
    spoken_vowel = word[:1].lower() in "aeio" or word.lower().startswith("s3")
    return f"{'an' if spoken_vowel else 'a'} {word}"


def one_line(message: str, kind: str) -> str:
    """How a provider message reaches the person running pulumi: one line, its kind last."""
    return f"{' '.join(message.split())} [{kind}]"


def provider_error(kind: str, **fields: object) -> ProviderError:
    """The one place provider messages are built, from `MESSAGES`."""
    return ProviderError(kind, MESSAGES[kind].format(**fields))
