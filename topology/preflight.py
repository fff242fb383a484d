"""Before anything is registered: what the program checks that the stack file alone cannot show.

`load()` validates the stack file (topology/config.py), then asks, in this order, each check
raising with every problem it finds and nothing registered, so each holds with `--skip-preview`:

1. the management slot: OpenRouter takes the key and URL (`GET /key`, every run);
2. the catalogue: every model and provider name a guardrail lists exists (topology/catalogue.py);
3. the guard: against the stack's record and the other stacks', no live key is lost, retired
   while still in use, or taken from another stack (topology/guard.py, retirement.py,
   ownership.py, governance_guard.py).

What each question costs in requests is in docs/adr/0013-the-guard-asks-openrouter.md; the
requests themselves are made in topology/openrouter.py, the one place the program asks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pulumi
import pulumi.runtime.config

from providers import (
    API_BASE_URL_SETTING,
    ENV_API_BASE_URL,
    MANAGEMENT_KEY_SETTING,
    OpenRouterError,
    ProviderError,
    one_line,
)
from topology import openrouter
from topology.catalogue import (
    Catalogue,
    Kind,
    catalogue_problems,
    declared_lists,
    kinds_needed,
)
from topology.config import CONFIG_SOURCE, STACK_DIR, StackConfig, read_raw_config, validate
from topology.deployed import (
    Deployment,
    DeploymentUnreadableError,
    OutputsReader,
    deployment_of,
    other_deployments,
    read_outputs,
    stack_names,
    unreadable_problem,
)
from topology.governance_guard import (
    LiveKey,
    removed_workspaces,
    restriction_losses,
    workspace_removal_problems,
)
from topology.guard import TopologyGuardError, deletions, guard_problems
from topology.ownership import Answers, Question, needs_other_stacks, questions
from topology.plan import MANAGEMENT_SOURCE
from topology.retirement import (
    Seen,
    retirement_problems,
    stale_overrides,
    to_ask,
)
from topology.rules import Problem, TopologyConfigError, record_problems
from topology.scoped import destination_cap_problems, new_destinations


def load() -> StackConfig:
    """Validate this stack's config, plan it, and compare the plan with what the stack last
    deployed; `TopologyConfigError` or `TopologyGuardError` lists every problem, and nothing
    is registered."""
    config = validate(read_raw_config(), pulumi.get_stack(), os.environ)
    verify_management_slot(config)
    check_catalogue(config)
    guard(config)
    return config


CatalogueReader = Callable[[StackConfig, frozenset[Kind]], Mapping[Kind, Catalogue | str]]


def check_catalogue(config: StackConfig, read: CatalogueReader | None = None) -> None:
    """Refuse a model or provider name OpenRouter does not list (topology/catalogue.py), before
    anything is registered, so it holds with `--skip-preview`. Asks each list at most once, and
    only when the plan declares a list that needs it."""
    lists = declared_lists(config.plan)
    kinds = kinds_needed(lists)
    if not kinds:
        return
    problems = catalogue_problems(lists, (read or openrouter.read_catalogues)(config, kinds))
    if problems:
        raise TopologyConfigError(problems)


def verify_management_slot(
    config: StackConfig,
    ask: Callable[[StackConfig], ProviderError | None] | None = None,
) -> None:
    """Ask OpenRouter (one `GET /key`) whether the configured management key and base URL work,
    on every run and before anything is registered; raise `TopologyConfigError` if not.

    A provider `check` asks only before a write, so a run that changes nothing would otherwise
    pass with a regular key in the slot, and `pulumi up` would then record it (with the rest of
    the stack config) as the default provider's inputs, for `refresh` and `destroy` to use
    (issue 19). Refusing here keeps every recorded key and URL one that was verified.
    """
    refused = (ask or openrouter.management_key_refusal)(config)
    if refused is not None:
        raise TopologyConfigError([management_slot_problem(config, refused)])


def management_slot_problem(config: StackConfig, refused: ProviderError) -> Problem:
    """The refusal as a problem of the setting it came from, as the user wrote or exported it."""
    if refused.kind.startswith("management-key"):
        source = config.management_key_source
        path = MANAGEMENT_KEY_SETTING if source in (None, CONFIG_SOURCE) else str(source)
        what = "management key"
    else:
        from_env = config.api_base_url_setting == ENV_API_BASE_URL
        path = ENV_API_BASE_URL if from_env else API_BASE_URL_SETTING
        what = "API base URL"
    return Problem(
        path,
        f"OpenRouter, asked before anything is registered (GET /key on {config.api_base_url}),"
        f" does not accept this {what}: {one_line(str(refused), refused.kind)}",
        "do what the message says, then run the command again; nothing was registered, so"
        " the stack still holds the settings of its last `pulumi up`.",
    )


def guard(
    config: StackConfig,
    read: OutputsReader = read_outputs,
    stack_dir: Path = STACK_DIR,
    *,
    list_keys: Callable[[StackConfig, Sequence[str]], Mapping[str, Sequence[LiveKey]]]
    | None = None,
    ask_owner: Callable[[StackConfig, Sequence[Question]], Answers] | None = None,
    ask_usage: Callable[[StackConfig, Sequence[str]], Mapping[str, Seen]] | None = None,
    clock: Callable[[], datetime] | None = None,
    list_destinations: DestinationsReader | None = None,
) -> None:
    """Refuse a change that would delete a live key by mistake (topology/guard.py), or a
    workspace that would still hold a key (topology/governance_guard.py); first, the config
    rules that need the record (topology/rules.py `record_problems`: rotation labels, consumers
    of a disabled key), as a `TopologyConfigError`.

    Reads this stack's record, and the other stacks' only when the plan adopts something anew
    or creates a workspace or guardrail (topology/ownership.py); asks OpenRouter which workspace
    has a slug, or what a guardrail is called, only where a record makes it matter. When the
    change deletes a key, asks OpenRouter when each deleted generation was last used
    (topology/retirement.py); when it deletes a workspace, which keys live there. Whether the
    management key may delete at all was asked before (`verify_management_slot`, every run).
    When it creates observability destinations, which ones each workspace holds
    (`destination_caps`).
    """
    plan = config.plan
    try:
        deployment = deployment_of(plan.stack, read)
    except DeploymentUnreadableError as error:
        raise TopologyGuardError([unreadable_problem(plan.stack, str(error))]) from None
    previous = deployment.keys
    in_config = record_problems(previous, plan, datetime.now(UTC).date())
    if in_config:
        raise TopologyConfigError(in_config)
    for warning in restriction_losses(previous, deployment.governance, plan):
        pulumi.log.warn(warning)
    others: list[Deployment] = []
    if needs_other_stacks(deployment, plan):
        names = [name for name in stack_names(stack_dir) if name != plan.stack]
        others = other_deployments(names, read)
    asked = questions(deployment, plan, others)
    answers = (ask_owner or openrouter.answer_questions)(config, asked) if asked else {}
    problems = guard_problems(
        previous, plan, others, governance=deployment.governance, answers=answers
    )
    removed_keys = deletions(previous, plan)
    for warning in stale_overrides(removed_keys, plan, config.retirement.in_use):
        pulumi.log.warn(warning)
    if not problems and removed_keys:
        hashes = to_ask(removed_keys, plan, config.retirement)
        seen = (ask_usage or openrouter.last_uses)(config, hashes) if hashes else {}
        now = (clock or openrouter.utc_now)()
        problems += retirement_problems(removed_keys, plan, seen, config.retirement, now)
    removed = removed_workspaces(deployment.governance, plan)
    if not problems and removed:
        try:
            ids = [w.id for w in removed.values()]
            living = (list_keys or openrouter.keys_in_workspaces)(config, ids)
        except OpenRouterError as error:
            problems.append(
                Problem(
                    MANAGEMENT_SOURCE,
                    f"the change deletes a workspace, and which keys live in it could not be"
                    f" read: {error.message}",
                    "fix the management key or the API as the message says, then run the"
                    " preview again.",
                )
            )
        else:
            going = [d.generation.hash for d in deletions(previous, plan)]
            problems += workspace_removal_problems(removed, living, going)
    if not problems:
        problems += destination_caps(config, deployment, list_destinations)
    if problems:
        raise TopologyGuardError(problems)


DestinationsReader = Callable[
    [StackConfig, Sequence[str | None]], Mapping[str | None, Sequence[tuple[str, str]] | str]
]


def destination_caps(
    config: StackConfig, deployment: Deployment, read: DestinationsReader | None = None
) -> list[Problem]:
    """New observability destinations within OpenRouter's cap per type and workspace, counting
    what OpenRouter lists there (topology/scoped.py `destination_cap_problems`): one listing
    per workspace that gains one, none otherwise."""
    governance = deployment.governance
    new = new_destinations(
        config.plan.scoped,
        governance.scoped.get("observability", {}),
        {ws_id: ws.id for ws_id, ws in governance.workspaces.items()},
    )
    if not new:
        return []
    return destination_cap_problems(new, (read or openrouter.destinations_in)(config, list(new)))
