"""`GET /models` and `GET /providers`: public, text models by default, whole or in pages, and
holding every name the project's test stacks and the sandbox write in a guardrail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emulator import catalogue as served
from tests.emulator.envelope import error_of

ROOT = Path(__file__).resolve().parents[2]


def ids(answer) -> list[str]:
    return [model["id"] for model in answer.json()["data"]]


def test_both_lists_answer_without_a_key(client_for):
    public = client_for(None)
    assert public.get("/models").status_code == 200
    assert public.get("/providers").status_code == 200
    assert public.post("/models", json={}).status_code == 405


def test_models_are_text_models_unless_asked_for_every_kind(api):
    text = api.get("/models")
    every = api.get("/models", params={"output_modalities": "all"})
    images = api.get("/models", params={"output_modalities": "image,embeddings"})

    assert "google/gemini-2.5-flash-image" not in ids(text)
    assert ids(every) == [m.id for m in served.MODELS]
    assert set(ids(images)) == {"google/gemini-2.5-flash-image", "openai/text-embedding-3-small"}
    assert text.json()["total_count"] == len(ids(text))


@pytest.mark.parametrize(
    "params", [{"output_modalities": "smell"}, {"offset": "-1"}, {"limit": "1001"}]
)
def test_a_bad_query_is_a_400(api, params):
    assert error_of(api.get("/models", params=params)) == (400, "Invalid request parameters")


def test_models_page_with_offset_and_limit_and_link_the_next_page(api):
    first = api.get("/models", params={"output_modalities": "all", "limit": 10}).json()
    rest = api.get("/models", params={"output_modalities": "all", "offset": 10}).json()

    assert len(first["data"]) == 10
    assert first["links"]["next"] == "/api/v1/models?offset=10&limit=10"
    assert [m["id"] for m in first["data"] + rest["data"]] == [m.id for m in served.MODELS]
    assert rest["links"]["next"] is None
    assert first["total_count"] == rest["total_count"] == len(served.MODELS)


def written_lists(config: dict) -> list[tuple[str, str]]:
    """Every (setting, name) of the four lists in a stack file's guardrails."""
    policies = list((config.get("openrouter-keys:guardrails") or {}).values())
    policies += [
        w["defaultGuardrail"]
        for w in (config.get("openrouter-keys:workspaces") or {}).values()
        if w.get("defaultGuardrail")
    ]
    return [
        (setting, name)
        for policy in policies
        for setting in ("allowedModels", "ignoredModels", "allowedProviders", "ignoredProviders")
        for name in policy.get(setting) or ()
    ]


@pytest.mark.parametrize("stack", sorted(p.name for p in (ROOT / "stacks").glob("Pulumi.*.yaml")))
def test_every_name_a_stack_file_writes_is_in_the_catalogue(stack):
    config = yaml.safe_load((ROOT / "stacks" / stack).read_text(encoding="utf-8"))["config"]
    listed = {m.id for m in served.MODELS} | {m.canonical_slug for m in served.MODELS}
    slugs = {p.slug for p in served.PROVIDERS}
    for setting, name in written_lists(config):
        assert name in (listed if "Models" in setting else slugs), (stack, setting, name)


def test_the_sandbox_declares_a_list_so_the_walk_exercises_the_check():
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.sandbox.yaml").read_text(encoding="utf-8"))
    assert written_lists(config["config"]) == [("allowedModels", "openai/gpt-4o-mini")]
