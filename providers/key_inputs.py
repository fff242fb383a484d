"""The declarative input table of `ApiKey`, and the pure check and diff over it.

Every rule about an input (its type and pattern, whether a change is applied in place or needs
a new key, what omitting it means, which API field carries it) is declared once, as a field of
`KeyInputs` with its `Row`: `check` validates with that model (the one rule beside it, an
expiry in the future, needs the clock and the old inputs), and `INPUTS`, which `diff`, `create`
and `update` read, is derived from its rows, so none of them can disagree. Nothing here does
I/O or reads the clock: callers pass `now`, which keeps every function a pure function the
property tests can hammer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError

from providers.base.fields import CONFIG_PATH as CONFIG_PATH  # noqa: PLC0414 (re-exported
from providers.base.fields import DiffPlan, Kind, OnChange, Row
from providers.base.values import is_unknown, normal_timestamp, normal_value
from providers.base.values import shown as shown  # noqa: PLC0414 (re-exported)
from providers.http.formats import KEY_HASH, RFC3339_UTC, UUID, parse_instant
from providers.key_settings import KeySettings, setting_rows

DECLARED = "declared"
"""Output holding the names of the inputs the program declared, so removal can be diffed."""


@dataclass(frozen=True)
class InputSpec:
    """One input of `ApiKey`: its name, its name in a stack file, and its row."""

    name: str
    setting: str
    """Its name in a stack file (`keys.<id>.<setting>`), which messages use."""
    row: Row
    required: bool = False
    compare_with: str | None = None
    """Output to compare against, when it is not the output of the same name."""

    @property
    def kind(self) -> Kind:
        return self.row.kind

    @property
    def on_change(self) -> OnChange:
        return self.row.on_change

    @property
    def api_field(self) -> str | None:
        return self.row.api_field

    @property
    def default(self) -> object:
        return self.row.default

    @property
    def removal_diffs(self) -> bool:
        return self.row.removal_diffs


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


class KeyInputs(KeySettings):
    """Every input of `ApiKey` with its rule and its row: the settings, then what the key is
    called, where it lives and what it is (inputs of their own, since they may name other
    resources of the stack, whose ids are known only once those exist). `check` validates the
    inputs with this model; `INPUTS` is derived from its rows."""

    name: Annotated[
        str | None,
        AfterValidator(_not_blank),
        Row(
            Kind.TEXT,
            OnChange.UPDATE,
            "name",
            "a non-empty string",
            "write the OpenRouter display name, or remove `name` for '<stack>-<id>'.",
        ),
    ] = None
    # The server puts every key in a workspace; an omitted workspace_id must never diff against it.
    workspace_id: Annotated[
        str | None,
        Field(default=None, pattern=UUID.pattern),
        Row(
            Kind.UUID,
            OnChange.REPLACE,
            "workspace_id",
            "a workspace UUID, e.g. '3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b'",
            "copy the workspace id from OpenRouter, or remove `workspaceId` for the default"
            " workspace.",
            removal_diffs=False,
        ),
    ] = None
    # Dropping `adopt` after the adoption is bookkeeping: the key stays the same key.
    adopt: Annotated[
        str | None,
        Field(default=None, pattern=KEY_HASH.pattern),
        Row(
            Kind.KEY_HASH,
            OnChange.REPLACE,
            None,
            "the hash of an existing key, 64 lowercase hex characters",
            "copy the key's hash from the OpenRouter key list (the hash, never the key itself).",
            removal_diffs=False,
        ),
    ] = None
    # The secret of an adopted key is compared with the `key` output, never stored elsewhere.
    adopt_secret: Annotated[
        str | None,
        Field(default=None, alias="adoptedSecrets"),
        AfterValidator(_not_blank),
        Row(
            Kind.SECRET,
            OnChange.UPDATE,
            None,
            "the adopted key's secret",
            "run `pulumi config set --secret --path 'adoptedSecrets.<id>' <the key's secret>`.",
            removal_diffs=False,
        ),
    ] = None


_NAME_OF: Mapping[str, str] = {
    info.alias or name: name for name, info in KeyInputs.model_fields.items()
}
"""An input's name by its stack-file name, as a validation error may locate it."""
_ROWS: Mapping[str, tuple[str, Row]] = {
    name: (setting, row) for name, setting, row in setting_rows(KeyInputs)
}
INPUTS: tuple[InputSpec, ...] = tuple(
    InputSpec(
        name,
        *_ROWS[name],
        required=name == "name",
        compare_with="key" if name == "adopt_secret" else None,
    )
    # The name first, as a message lists the inputs; then the settings and the rest.
    for name in ("name", *KeySettings.model_fields, "workspace_id", "adopt", "adopt_secret")
)
INPUTS_BY_NAME: Mapping[str, InputSpec] = {spec.name: spec for spec in INPUTS}
REPLACE_FIELDS: frozenset[str] = frozenset(
    spec.name for spec in INPUTS if spec.on_change is OnChange.REPLACE
)
CREATE_FIELDS: tuple[str, ...] = tuple(
    spec.name for spec in INPUTS if spec.api_field is not None and spec.row.on_create
)
"""Inputs `POST /keys` accepts (`disabled` is not one: it needs a PATCH after the create)."""
PATCH_FIELDS: frozenset[str] = frozenset(
    spec.name
    for spec in INPUTS
    if spec.on_change is OnChange.UPDATE and spec.api_field is not None
)


@dataclass(frozen=True)
class Failure:
    """One invalid input: the property and a reason naming the bad value and what is allowed."""

    property: str
    reason: str
    kind: str = "invalid-input"


def present(props: Mapping[str, Any], name: str) -> bool:
    """Declared by the program: present and not None (the wire drops None anyway)."""
    return props.get(name) is not None


def declared_inputs(news: Mapping[str, Any]) -> list[str]:
    """The names of the inputs the program set, stored as the `declared` output."""
    return sorted(spec.name for spec in INPUTS if present(news, spec.name))


# --- check -------------------------------------------------------------------------------------


def refused_inputs(known: Mapping[str, Any]) -> frozenset[str]:
    """The inputs among `known` (by name; no None, no unknown) that `KeyInputs` refuses."""
    try:
        KeyInputs.model_validate(known)
    except ValidationError as error:
        return frozenset(
            _NAME_OF.get(str(item["loc"][0]), str(item["loc"][0]))
            for item in error.errors()
            if item["loc"]
        )
    return frozenset()


def _check_refusal(spec: InputSpec, value: object) -> str:
    """Why `KeyInputs` refused the value, in the input's row's words (a timestamp's more
    precise ones; a secret is never quoted)."""
    if spec.kind is Kind.TIMESTAMP:
        return _check_timestamp_format(value)
    if spec.kind is Kind.SECRET:
        return (
            "the value given is not allowed: expected the secret of the adopted key as a"
            " non-empty string, passed as a Pulumi secret (pulumi.Output.secret(...))."
        )
    return f"{shown(value)} is not allowed; allowed: {spec.row.expected}. Fix: {spec.row.fix}"


_EXAMPLE_INSTANT = "e.g. '2027-06-30T00:00:00Z'"


def _check_timestamp_format(value: object) -> str:
    if not isinstance(value, str):
        return (
            f"{shown(value)} is not allowed: expected an RFC 3339 UTC timestamp string,"
            f" {_EXAMPLE_INSTANT}."
        )
    match = RFC3339_UTC.match(value)
    if match is None or parse_instant(value, naive_is_utc=False) is None:
        return (
            f"{shown(value)} is not allowed: expected an RFC 3339 timestamp with seconds"
            f" and a UTC zone, {_EXAMPLE_INSTANT}."
        )
    return (
        f"{shown(value)} is not allowed: OpenRouter accepts only UTC; write the same instant"
        f" with 'Z', {_EXAMPLE_INSTANT}."
    )


def _check_expiry(value: str, now: datetime, was: object) -> str | None:
    """The rule a well-formed expiry still has to pass, which needs the clock and the old
    inputs: a new expiry lies in the future, while an existing key keeps its past one
    (re-checking it would fail every later preview)."""
    parsed = parse_instant(value, naive_is_utc=False)
    if parsed is None:
        return _check_timestamp_format(value)  # a date the pattern lets through, e.g. month 13
    unchanged = isinstance(was, str) and normal_timestamp(was) == normal_timestamp(value)
    if parsed <= now and not unchanged:
        return (
            f"{shown(value)} is in the past (now is {now.strftime('%Y-%m-%dT%H:%M:%SZ')}):"
            " expected a future UTC timestamp; omit it for a key that never expires."
        )
    return None


def setting_path(spec: InputSpec, news: Mapping[str, Any]) -> str:
    """Where the input is written in the stack file: `keys.ci.expiresAt`, `adoptedSecrets.ci`.

    Without a `config_path` (an `ApiKey` registered by a program of one's own), the input name.
    """
    path = news.get(CONFIG_PATH)
    if not isinstance(path, str) or not path:
        return spec.name
    if spec.name == "adopt_secret":
        return f"{spec.setting}.{path.rpartition('.')[2]}"
    return f"{path}.{spec.setting}"


def check_inputs(
    olds: Mapping[str, Any], news: Mapping[str, Any], now: datetime
) -> list[Failure]:
    """Every invalid input at once, in table order; unknown (preview) values are skipped.

    `olds` are the old inputs (empty for a new key): a past `expires_at` kept as it was is
    allowed, and any change that would replace the key is refused (`replace_failure`).
    """
    failures: list[Failure] = []
    known = {
        spec.name: news[spec.name]
        for spec in INPUTS
        if present(news, spec.name) and not is_unknown(news[spec.name])
    }
    refused = refused_inputs(known)
    for spec in INPUTS:
        value = news.get(spec.name)
        if is_unknown(value):
            continue
        where = setting_path(spec, news)
        if value is None:
            if spec.required:
                missing = f"`{where}` is required: give the key a name, e.g. 'ci-deploy'."
                failures.append(Failure(spec.name, missing))
            continue
        if spec.name in refused:
            reason: str | None = _check_refusal(spec, value)
        elif spec.kind is Kind.TIMESTAMP:
            reason = _check_expiry(value, now, olds.get(spec.name))
        else:
            reason = None
        if reason is not None:
            failures.append(Failure(spec.name, f"`{where}`: {reason}"))
    if present(news, "adopt_secret") and not present(news, "adopt"):
        secret_at = setting_path(INPUTS_BY_NAME["adopt_secret"], news)
        adopt_at = setting_path(INPUTS_BY_NAME["adopt"], news)
        failures.append(
            Failure(
                "adopt_secret",
                f"`{secret_at}` is only allowed for an adopted key: set `{adopt_at}` to the hash"
                f" of the key the secret belongs to, or remove `{secret_at}`.",
            )
        )
    if not failures and (replacing := replace_failure(olds, news)) is not None:
        failures.append(replacing)
    return failures


def replaced_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[str, ...]:
    """The inputs whose change would replace an existing key, judged from its old inputs.

    `olds` are the old inputs (what `check` gets; empty for a key not created yet); what they
    declared stands in for the `declared` output that `diff` compares against.
    """
    if not {name for name in olds if not name.startswith("__")}:
        return ()
    return replacing_changes(olds, news)


def replacing_changes(declared: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[str, ...]:
    """The inputs that would replace an existing key that declared exactly `declared`."""
    return diff_inputs(as_declared(declared), news).replaces


def as_declared(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A key's inputs as the state `diff` compares against: what they set stands in for the
    `declared` output (`check` gets the old inputs, which have none)."""
    return {**inputs, DECLARED: [name for name in INPUTS_BY_NAME if present(inputs, name)]}


def replace_failure(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Failure | None:
    """An `ApiKey` is never replaced: the old key would be deleted at the end of the update
    while deployments may still hold it. A new value of a setting OpenRouter cannot change in
    place belongs to a new generation (docs/adr/0008-topology-guard.md); this refusal in `check`
    stops the whole update at preview."""
    replaced = replaced_inputs(olds, news)
    if not replaced:
        return None
    spec = INPUTS_BY_NAME[replaced[0]]
    where = setting_path(spec, news)
    name = news.get("name") if isinstance(news.get("name"), str) else "this key"
    if spec.name == "adopt":
        fix = (
            "declare the key to adopt under a new key id, and retire this one in two steps"
            " (docs/runbooks.md#retire-a-key)"
        )
    else:
        fix = (
            "give the new value to a new generation: in the same edit, add `rotations` with the"
            " current generation first and a new one last (docs/config.md#rotation); the new"
            " key is created with it, consumers move to it, and the old one keeps its value"
            " until you retire it"
        )
    return Failure(
        spec.name,
        f"`{where}`: OpenRouter cannot change it in place, so the change would replace key"
        f" {name!r}: a new key created and this one deleted at the end of the update, while"
        f" deployments may still hold it. Nothing was changed. Fix: {fix}.",
        kind="key-replace-refused",
    )


# --- diff --------------------------------------------------------------------------------------


def _wanted(
    spec: InputSpec, news: Mapping[str, Any], declared_before: frozenset[str]
) -> tuple[bool, object]:
    """(whether the program has a say on this input, the value it asks for)."""
    if present(news, spec.name):
        return True, news[spec.name]
    if spec.removal_diffs and spec.name in declared_before:
        return True, spec.default
    return False, None


def previously_declared(olds: Mapping[str, Any]) -> frozenset[str]:
    """The inputs the last create/update was given, from the `declared` output."""
    declared = olds.get(DECLARED)
    if not isinstance(declared, list | tuple):
        return frozenset()
    return frozenset(name for name in declared if isinstance(name, str))


def diff_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffPlan:
    """Compare the old OUTPUTS with the new inputs, input by input, as the table says.

    Only declared inputs count: computed usage, `__provider` and values the server filled in for
    an omitted input never produce a diff, so a fresh key never shows a perpetual change.
    """
    declared_before = previously_declared(olds)
    changed: list[str] = []
    replaces: list[str] = []
    for spec in INPUTS:
        has_say, wanted = _wanted(spec, news, declared_before)
        if not has_say:
            continue
        if is_unknown(wanted):
            # It may turn out equal: report a change, but never a replace on a guess.
            changed.append(spec.name)
            continue
        current = olds.get(spec.compare_with or spec.name)
        if normal_value(wanted, spec.kind) != normal_value(current, spec.kind):
            changed.append(spec.name)
            if spec.on_change is OnChange.REPLACE:
                replaces.append(spec.name)
    return DiffPlan(tuple(changed), tuple(replaces))


def patch_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, object]:
    """The in-place API fields to PATCH so the key matches `news`: the changed ones only."""
    declared_before = previously_declared(olds)
    plan = diff_inputs(olds, news)
    changes: dict[str, object] = {}
    for name in plan.changed:
        spec = INPUTS_BY_NAME[name]
        if name not in PATCH_FIELDS or spec.api_field is None:
            continue
        _, wanted = _wanted(spec, news, declared_before)
        changes[spec.api_field] = wanted
    return changes


def create_fields(news: Mapping[str, Any]) -> dict[str, object]:
    """The declared inputs `POST /keys` takes, by API field name."""
    fields: dict[str, object] = {}
    for name in CREATE_FIELDS:
        spec = INPUTS_BY_NAME[name]
        if present(news, name) and spec.api_field is not None:
            fields[spec.api_field] = news[name]
    return fields
