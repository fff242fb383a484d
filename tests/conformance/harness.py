"""The SDK side of the conformance suite: a client pointed at the emulator, and its raw answers.

OpenRouter's official Python SDK (`openrouter`, pinned in requirements.txt as a test dependency)
is generated from OpenRouter's published OpenAPI spec, so an answer that parses into its models is
shaped as the published API says; one that does not raises `ResponseValidationError` naming the
missing field. Nothing in it was written by the people who wrote the emulator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from openrouter import OpenRouter
from openrouter.utils import BackoffStrategy, RetryConfig

NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), retry_connection_errors=False)
"""Every call is sent once: a failure is the emulator's answer, never hidden by a second try."""
TIMEOUT_MS = 5_000


@dataclass
class Sdk:
    """One SDK client and the raw answers it received, oldest first."""

    client: OpenRouter
    answers: list[httpx.Response] = field(default_factory=list)

    @property
    def api_keys(self) -> Any:
        return self.client.api_keys

    @property
    def guardrails(self) -> Any:
        return self.client.guardrails

    @property
    def workspaces(self) -> Any:
        return self.client.workspaces

    @property
    def byok(self) -> Any:
        return self.client.byok

    @property
    def observability(self) -> Any:
        return self.client.observability

    @property
    def models(self) -> Any:
        return self.client.models

    @property
    def providers(self) -> Any:
        return self.client.providers

    def last_json(self) -> Any:
        """The JSON body of the last answer, as the emulator sent it."""
        return json.loads(self.answers[-1].content)


SdkFactory = Callable[..., Sdk]
