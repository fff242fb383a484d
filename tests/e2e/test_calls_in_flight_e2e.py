"""Issue 21, through the real engine (bin/pulumi) and the emulator: the provider process serves
as many calls at once as the engine's parallelism, not the SDK's four.

Every `POST /keys` is answered 3 s late (an emulator latency fault: the key is created after
the wait). Created together, the keys' creation times lie within a fraction of that; four at a
time, they would lie at least one wait apart.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from e2e_harness import PROJECT, STACK, Emulator, PulumiProject, engine_skip_reason

SKIP_REASON = engine_skip_reason()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
]

KEYS = 8
LATENCY_S = 3.0


def test_up_creates_as_many_keys_at_once_as_the_engines_parallelism(
    project: PulumiProject, emulator: Emulator
) -> None:
    project.pulumi("stack", "init", STACK)
    project.pulumi("config", "set", "apiBaseUrl", emulator.api_base_url)
    document = project.read_stack_config()
    config = document["config"]
    config.pop(f"{PROJECT}:guardrails")
    config.pop(f"{PROJECT}:workspaces")
    config[f"{PROJECT}:keys"] = {
        f"k{index}": {"limit": 1, "limitReset": "monthly"} for index in range(KEYS)
    }
    project.write_stack_config(document)
    emulator.inject(
        {"path": "/api/v1/keys", "method": "POST", "latency": LATENCY_S, "times": KEYS}
    )

    project.pulumi("up", "--yes", env={"PULUMI_PARALLEL": str(KEYS)})

    created = sorted(datetime.fromisoformat(key["created_at"]) for key in emulator.list_keys())
    assert len(created) == KEYS
    spread = (created[-1] - created[0]).total_seconds()
    # Four at a time (the SDK's pool), the last wave lands at least LATENCY_S after the first.
    assert spread < LATENCY_S / 2, f"creates spread over {spread:.2f} s"
    posts = [r for r in emulator.requests() if r["method"] == "POST"]
    assert len(posts) == KEYS
