"""Observability ("Broadcast") destinations (`/observability/destinations`), as OpenRouter's
management API serves them.

docs/emulator.md lists each rule with its public source and marks "(inferred)" what the sources
leave open. The rules that shape a client: `config` has the keys its `type` requires, and its
secrets come back masked; a PATCH changes only what it sends, a masked value sent back is ignored
and config keys it leaves out are kept; at most five destinations of a type per workspace (409);
`type` and `workspace_id` are fixed at create; a DELETE is soft. The store never holds a secret
of a config: only its mask.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.book import Book
from emulator.wire import (
    Account,
    ApiError,
    flag_problems,
    is_number,
    is_uuid,
    key_hash_list_problems,
    mask_secret,
    now_iso,
    refuse_naming,
    text_problems,
    unknown_field_problems,
)

TEXT, URL, HEADERS, FLAG = "text", "url", "headers", "flag"
Kind = str | tuple[str, ...]  # one of the four above, or the values an enum allows


@dataclass(frozen=True)
class DestinationType:
    """The config of one destination type (the SDK's `Observability<Type>DestinationConfig`):
    the keys it requires and the kind of every key it takes."""

    required: tuple[str, ...]
    kinds: Mapping[str, Kind]


def kinds(**named: Kind) -> dict[str, Kind]:
    return {"headers": HEADERS, **named}


# The 17 documented types and their configs (openrouter 1.3.84), a table of our own (ADR 0005).
DESTINATION_TYPES: dict[str, DestinationType] = {
    "arize": DestinationType(("apiKey", "spaceKey", "modelId"), kinds(
        apiKey=TEXT, spaceKey=TEXT, modelId=TEXT, baseUrl=URL)),
    "braintrust": DestinationType(("apiKey", "projectId"), kinds(
        apiKey=TEXT, projectId=TEXT, baseUrl=URL)),
    "clickhouse": DestinationType(("host", "database", "username", "password"), kinds(
        host=TEXT, database=TEXT, username=TEXT, password=TEXT, table=TEXT,
        shouldIncludeCacheWriteTokens=FLAG)),
    "datadog": DestinationType(("apiKey", "mlApp"), kinds(apiKey=TEXT, mlApp=TEXT, url=URL)),
    "grafana": DestinationType(("apiKey", "instanceId"), kinds(
        apiKey=TEXT, instanceId=TEXT, baseUrl=URL)),
    "langfuse": DestinationType(("publicKey", "secretKey"), kinds(
        publicKey=TEXT, secretKey=TEXT, baseUrl=URL)),
    "langsmith": DestinationType(("apiKey",), kinds(
        apiKey=TEXT, endpoint=URL, project=TEXT, workspaceId=TEXT)),
    "newrelic": DestinationType(("licenseKey",), kinds(licenseKey=TEXT, region=("us", "eu"))),
    "opik": DestinationType(("apiKey", "workspace", "projectName"), kinds(
        apiKey=TEXT, workspace=TEXT, projectName=TEXT)),
    "otel-collector": DestinationType(("endpoint",), kinds(endpoint=URL)),
    "posthog": DestinationType(("apiKey",), kinds(apiKey=TEXT, endpoint=URL)),
    "ramp": DestinationType(("apiKey",), kinds(apiKey=TEXT, baseUrl=URL)),
    "s3": DestinationType(("bucketName",), kinds(
        bucketName=TEXT, authMode=("access_keys", "iam_role"), accessKeyId=TEXT,
        secretAccessKey=TEXT, sessionToken=TEXT, roleArn=TEXT, externalId=TEXT, region=TEXT,
        endpoint=URL, prefix=TEXT, pathTemplate=TEXT,
        provider=("aws", "cloudflare_r2", "gcs", "other"))),
    "sentry": DestinationType(("dsn", "otlpEndpoint"), kinds(dsn=TEXT, otlpEndpoint=URL)),
    "snowflake": DestinationType(("account", "token"), kinds(
        account=TEXT, token=TEXT, database=TEXT, schema=TEXT, table=TEXT, warehouse=TEXT,
        shouldIncludeCacheWriteTokens=FLAG)),
    "weave": DestinationType(("apiKey", "entity", "project"), kinds(
        apiKey=TEXT, entity=TEXT, project=TEXT, baseUrl=URL)),
    "webhook": DestinationType(("url",), kinds(url=URL, method=("POST", "PUT"))),
}
# What comes back masked, whatever the type (inferred from the SDK's field names: every key,
# password and token but Langfuse's public key; S3's access key id is an identifier).
SECRET_CONFIG_KEYS = frozenset({"apiKey", "spaceKey", "secretKey", "password", "licenseKey",
                                "secretAccessKey", "sessionToken", "token"})
# S3 signs with access keys unless `authMode` is `iam_role`, which needs a role (inferred).
S3_AUTH_NEEDS = {"access_keys": ("accessKeyId", "secretAccessKey"), "iam_role": ("roleArn",)}

BROADCAST_FLAGS = ("broadcast_generation_cost", "broadcast_generation_cost_allocation",
                   "broadcast_generation_identity", "broadcast_generation_request_context")
FLAGS = ("enabled", "privacy_mode", *BROADCAST_FLAGS)
UPDATE_FIELDS = frozenset({"name", "config", *FLAGS, "sampling_rate", "api_key_hashes",
                           "filter_rules", "regions"})
CREATE_FIELDS = UPDATE_FIELDS | {"type", "workspace_id"}
REGIONS = ("global", "europe", "us")
REGION_ALIASES = {"eu": "europe"}
RULE_FIELDS = ("model", "provider", "session_id", "user_id", "api_key_name", "finish_reason",
               "input", "output", "total_cost", "total_tokens", "prompt_tokens",
               "completion_tokens")
OPERATORS = ("equals", "not_equals", "contains", "not_contains", "regex", "starts_with",
             "ends_with", "gt", "lt", "gte", "lte", "exists", "not_exists")
VALUELESS = ("exists", "not_exists")
NUMERIC = ("gt", "lt", "gte", "lte")
LOGICS = ("and", "or")
SAMPLING_LEAST = 0.0001
NAME_LONGEST = 255
MOST_PER_TYPE = 5
URL_PATTERN = re.compile(r"^https?://[^\s/]+")

MSG_TOO_MANY = "At most {most} observability destinations of type {type} per workspace"


# --- validation -----------------------------------------------------------------------------------


def value_problem(name: str, value: object, kind: Kind) -> str | None:
    """Why a config value is not of its kind (the message names the key, never the value)."""
    where = f"config.{name}"
    if isinstance(kind, tuple):
        return None if value in kind else f"{where} must be one of {kind}"
    if kind == FLAG:
        return None if isinstance(value, bool) else f"{where} must be a boolean"
    if kind == HEADERS:
        fine = isinstance(value, dict) and all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
        )
        return None if fine else f"{where} must be an object of header names to strings"
    if not isinstance(value, str) or not value:
        return f"{where} must be a non-empty string"
    if kind == URL and not URL_PATTERN.match(value):
        return f"{where} must be an http or https URL"
    return None


def config_problems(kind: str, config: object) -> list[str]:
    """Every way a whole config breaks its type's schema: a missing required key is named."""
    if not isinstance(config, dict):
        return ["config must be an object"]
    spec = DESTINATION_TYPES[kind]
    problems = [f"unknown field 'config.{name}' for type {kind}"
                for name in sorted(set(config) - set(spec.kinds))]
    required = list(spec.required)
    if kind == "s3":
        required += S3_AUTH_NEEDS.get(config.get("authMode", "access_keys"), ())
    problems += [f"config.{name} is required for type {kind}"
                 for name in required if config.get(name) is None]
    problems += [problem for name, value in config.items()
                 if name in spec.kinds and value is not None
                 and (problem := value_problem(name, value, spec.kinds[name])) is not None]
    return problems


def rule_problems(rule: object) -> list[str]:
    if not isinstance(rule, dict):
        return ["filter_rules rules must be objects"]
    problems = unknown_field_problems(rule, ("field", "operator", "value"))
    if rule.get("field") not in RULE_FIELDS:
        problems.append(f"a rule's field must be one of {RULE_FIELDS}")
    operator = rule.get("operator")
    if operator not in OPERATORS:
        problems.append(f"a rule's operator must be one of {OPERATORS}")
    value = rule.get("value")
    if operator in VALUELESS:
        if value is not None:
            problems.append(f"a rule with operator {operator} takes no value (inferred)")
    elif operator in NUMERIC:
        if not is_number(value):
            problems.append(f"a rule with operator {operator} needs a number value (inferred)")
    elif operator in OPERATORS and not (isinstance(value, str) or is_number(value)):
        problems.append(f"a rule with operator {operator} needs a string or number value")
    return problems


def group_problems(group: object) -> list[str]:
    if not isinstance(group, dict):
        return ["filter_rules groups must be objects"]
    problems = unknown_field_problems(group, ("logic", "rules"))
    if group.get("logic") not in (None, *LOGICS):
        problems.append(f"a group's logic must be one of {LOGICS}")
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        return [*problems, "a group's rules must be a non-empty list (inferred)"]
    return problems + [problem for rule in rules for problem in rule_problems(rule)]


def filter_rules_problems(body: Mapping[str, Any]) -> list[str]:
    """`filter_rules`: null, or `{enabled?, groups: [{logic?, rules: [{field, operator,
    value?}]}]}` with the published enums."""
    value = body.get("filter_rules")
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["filter_rules must be an object or null"]
    problems = unknown_field_problems(value, ("enabled", "groups"))
    problems += flag_problems(value, ("enabled",), nullable=False)
    groups = value.get("groups")
    if not isinstance(groups, list):
        return [*problems, "filter_rules.groups must be a list"]
    return problems + [problem for group in groups for problem in group_problems(group)]


def destination_problems(account: Account, body: Mapping[str, Any], *, creating: bool
                         ) -> list[str]:
    """Every way a create (or update) body breaks the request schema, `config` aside when the
    type is unknown (an update's config is checked once merged with the stored one)."""
    problems = unknown_field_problems(body, CREATE_FIELDS if creating else UPDATE_FIELDS)
    if creating:
        problems += [f"{name} is required" for name in ("type", "name", "config")
                     if name not in body]
        if "type" in body and not (isinstance(body["type"], str)
                                   and body["type"] in DESTINATION_TYPES):
            problems.append(f"type must be one of {tuple(DESTINATION_TYPES)}")
        elif "type" in body and "config" in body:
            problems += config_problems(body["type"], body["config"])
        if "workspace_id" in body and not is_uuid(body["workspace_id"]):
            problems.append("workspace_id must be a uuid")
    elif "config" in body and not isinstance(body["config"], dict):
        problems.append("config must be an object")
    problems += text_problems(body, "name", longest=NAME_LONGEST)
    problems += flag_problems(body, FLAGS, nullable=False)
    rate = body.get("sampling_rate")
    if "sampling_rate" in body and (not is_number(rate) or not SAMPLING_LEAST <= rate <= 1):
        problems.append(f"sampling_rate must be a number from {SAMPLING_LEAST} to 1")
    problems += key_hash_list_problems(account, body, "api_key_hashes")
    problems += filter_rules_problems(body)
    regions = body.get("regions")
    if "regions" in body and (
        not isinstance(regions, list) or not regions
        or not all(r in (*REGIONS, *REGION_ALIASES) for r in regions)
    ):
        problems.append(f"regions must be a non-empty list of {(*REGIONS, *REGION_ALIASES)}")
    return problems


# --- what is stored -------------------------------------------------------------------------------


def masked_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config as sent, as it is stored and shown: secrets masked, nothing else changed."""
    return {
        name: mask_secret(value) if name in SECRET_CONFIG_KEYS and isinstance(value, str)
        else value
        for name, value in copied_config(config).items()
    }


def merged_config(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH's config over the stored (masked) one, new secrets masked in turn: keys not sent
    are kept, a secret sent back as its mask is ignored, a null removes a key (inferred)."""
    merged = copied_config(stored)
    for name, value in sent.items():
        if name in SECRET_CONFIG_KEYS and value == stored.get(name):
            continue
        if value is None:
            merged.pop(name, None)
        else:
            merged.update(masked_config({name: value}))
    return merged


def copied_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy no answer can alias the store through (headers are the one nested value)."""
    return {name: dict(value) if isinstance(value, dict) else value
            for name, value in config.items()}


def stored_filter_rules(value: Any) -> dict[str, Any] | None:
    """Filter rules with the published defaults filled in (`enabled` true, `logic` and)."""
    if value is None:
        return None
    return {
        "enabled": value.get("enabled", True),
        "groups": [
            {"logic": group.get("logic") or "and",
             "rules": [dict(rule) for rule in group["rules"]]}
            for group in value["groups"]
        ],
    }


def stored_regions(regions: list[str]) -> list[str]:
    """`eu` is an alias of `europe` (SDK); each region once, in the order sent."""
    return list(dict.fromkeys(REGION_ALIASES.get(region, region) for region in regions))


@dataclass
class StoredDestination:
    """A destination as the server knows it: its config with every secret masked."""

    id: str
    type: str
    workspace_id: str
    name: str
    config: dict[str, Any]
    sequence: int
    enabled: bool = True
    privacy_mode: bool = False
    broadcast_generation_cost: bool = False
    broadcast_generation_cost_allocation: bool = False
    broadcast_generation_identity: bool = False
    broadcast_generation_request_context: bool = False
    sampling_rate: float = 1.0
    api_key_hashes: list[str] | None = None
    filter_rules: dict[str, Any] | None = None
    regions: list[str] = field(default_factory=lambda: ["global"])
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    deleted: bool = False

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    def apply(self, body: Mapping[str, Any]) -> None:
        """Write a checked body; `config` must already be the merged, checked one."""
        for name in ("name", *FLAGS, "sampling_rate"):
            if name in body:
                setattr(self, name, body[name])
        if "config" in body:
            self.config = masked_config(body["config"])  # the raw config of a create
        if "api_key_hashes" in body:
            hashes = body["api_key_hashes"]
            self.api_key_hashes = None if hashes is None else list(dict.fromkeys(hashes))
        if "filter_rules" in body:
            self.filter_rules = stored_filter_rules(body["filter_rules"])
        if "regions" in body:
            self.regions = stored_regions(body["regions"])

    def to_object(self) -> dict[str, Any]:
        """The ObservabilityDestination object of its type, every field the SDK requires."""
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "workspace_id": self.workspace_id,
            "config": copied_config(self.config),
            "enabled": self.enabled,
            "privacy_mode": self.privacy_mode,
            **{name: getattr(self, name) for name in BROADCAST_FLAGS},
            "sampling_rate": self.sampling_rate,
            "api_key_hashes": None if self.api_key_hashes is None else list(self.api_key_hashes),
            "filter_rules": stored_filter_rules(self.filter_rules),
            "regions": list(self.regions),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class DestinationBook(Book[StoredDestination]):
    """Every destination: the shared book with the destinations' rules."""

    path = ("observability", "destinations")
    seeded_as = "an observability destination"

    def problems(self, account: Account, body: Mapping[str, Any], *, creating: bool
                 ) -> list[str]:
        return destination_problems(account, body, creating=creating)

    def new_record(self, body: Mapping[str, Any], workspace_id: str, sequence: int
                   ) -> StoredDestination:
        """The 409 of a sixth destination of a type in a workspace, or the new destination."""
        kind = body["type"]
        if sum(d.type == kind and d.workspace_id == workspace_id for d in self.live()) >= (
            MOST_PER_TYPE
        ):
            raise ApiError(409, MSG_TOO_MANY.format(most=MOST_PER_TYPE, type=kind))
        stored = StoredDestination(
            id=str(uuid.uuid4()), type=kind, workspace_id=workspace_id, name=body["name"],
            config={}, sequence=sequence,
        )
        stored.apply(body)
        return stored

    def update(self, stored: StoredDestination, body: Mapping[str, Any]) -> None:
        """Apply a checked PATCH body: its config merged with the stored one, then checked."""
        config = None if "config" not in body else merged_config(stored.config, body["config"])
        if config is not None:
            refuse_naming(config_problems(stored.type, config))
        stored.apply({name: value for name, value in body.items() if name != "config"})
        if config is not None:
            stored.config = config
        stored.updated_at = now_iso()

    def logged(self, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("config"), dict):
            return {**body, "config": masked_config(body["config"])}
        return body


AREA = DestinationBook.area()
