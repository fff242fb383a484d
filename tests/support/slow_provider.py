"""A dynamic provider whose `create` only waits, for proving how many calls the provider
process serves at once (tests/boundary/test_calls_in_flight.py). It sets up its process as the
project's providers do: `configure()` calls `provider_process.install()`."""

from __future__ import annotations

import time
from typing import Any

from pulumi.dynamic import ConfigureRequest, CreateResult, ResourceProvider

from providers.base.provider_process import install


class SlowProvider(ResourceProvider):
    """`create({"seconds": s, "name": n})` waits s seconds and says when it ran."""

    def configure(self, req: ConfigureRequest) -> None:
        install()

    def create(self, props: dict[str, Any]) -> CreateResult:
        started = time.monotonic()
        time.sleep(float(props["seconds"]))
        return CreateResult(
            str(props["name"]), {"started": started, "ended": time.monotonic()}
        )
