"""A workspace's settings and budgets, declared once, and the order that changes budgets safely.

The stack config's workspace spec inherits `WorkspaceSettings` and carries `BudgetLimits`
(topology/model.py); the `Workspace` and `WorkspaceBudgets` resources validate them again in
`check`. Facts: docs/reference/openrouter-governance-api.md §3.2, §3.5.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Final

from pydantic import Field, model_validator

from providers.base.fields import FIX_SEPARATOR
from providers.governance_api import BUDGET_INTERVALS, BudgetInterval
from providers.guardrail_settings import PolicyModel

WORKSPACE_SLUG: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
"""A workspace slug: lowercase words joined by single hyphens, 1-50 characters."""


class WorkspaceSettings(PolicyModel):
    """What a workspace is called and how it is addressed."""

    name: str = Field(min_length=1, max_length=100)
    slug: str = Field(min_length=1, max_length=50, pattern=WORKSPACE_SLUG.pattern)
    description: str | None = Field(default=None, max_length=500)

    def body(self) -> dict[str, object]:
        """The create and update body (the settings this project manages, nothing else)."""
        return {"name": self.name, "slug": self.slug, "description": self.description}


class BudgetLimits(PolicyModel):
    """`budgets: {monthly: 500, weekly: 150}`: US dollars per interval, each > 0."""

    lifetime: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    monthly: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    weekly: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    daily: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _strictly_decreasing(self) -> BudgetLimits:
        problem = ordering_problem(self.limits())
        if problem is not None:
            raise ValueError(problem)
        return self

    def limits(self) -> dict[BudgetInterval, float]:
        """The set budgets, broadest first."""
        return {
            interval: value
            for interval in BUDGET_INTERVALS
            if (value := getattr(self, interval)) is not None
        }


def ordering_problem(limits: Mapping[BudgetInterval, float]) -> str | None:
    """Why these budgets break OpenRouter's rule (each set limit strictly greater than the next
    narrower set one), or None."""
    ordered = [(i, limits[i]) for i in BUDGET_INTERVALS if i in limits]
    for (broad, wide), (narrow, small) in pairwise(ordered):
        if small >= wide:
            return (
                f"the {narrow} budget ({small:g}) must be less than the {broad} budget"
                f" ({wide:g}): OpenRouter requires lifetime > monthly > weekly > daily"
                f"{FIX_SEPARATOR}lower the {narrow} budget or raise the {broad} one"
            )
    return None


BudgetStep = tuple[BudgetInterval, float | None]
"""One request: set the interval's budget to the limit, or delete it (None)."""


def budget_steps(
    current: Mapping[BudgetInterval, float], desired: Mapping[BudgetInterval, float]
) -> list[BudgetStep]:
    """The requests that take `current` to `desired`, ordered so that OpenRouter accepts each.

    Both ends obey the ordering rule; every state in between does too: deletions first (fewer
    budgets never break it), then lowered limits narrowest first, then raised ones broadest
    first, then new intervals (each then meets only final values).
    """
    deletions: list[BudgetStep] = [
        (i, None) for i in BUDGET_INTERVALS if i in current and i not in desired
    ]
    changed = [
        i for i in BUDGET_INTERVALS if i in current and i in desired and current[i] != desired[i]
    ]
    lowered = [i for i in reversed(changed) if desired[i] < current[i]]
    raised = [i for i in changed if desired[i] > current[i]]
    added = [i for i in BUDGET_INTERVALS if i in desired and i not in current]
    return deletions + [(i, desired[i]) for i in lowered + raised + added]
