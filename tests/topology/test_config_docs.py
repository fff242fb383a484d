"""docs/config.md and the example stacks stay true to the code.

Every setting the models accept is documented, the reference's full example validates, the
validation example is the program's real message, and the committed example stacks hold no
secret: only comments saying how to set them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.support.sentinel import make_sentinel
from tests.topology.harness import ROOT, config_from
from topology.config import NAMESPACE, RawConfig, validate
from topology.model import SETTING_NAMES, setting_names
from topology.rules import TopologyConfigError
from topology.scoped import KINDS
from topology.settings import PROJECT_SETTINGS

DOC = ROOT / "docs" / "config.md"
TOP_LEVEL = PROJECT_SETTINGS
EXAMPLE_STACKS = ("dev", "staging", "prod")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", doc_text(), flags=re.DOTALL)


def raw_from(config: dict[str, str], management_key: str) -> RawConfig:
    def setting(name: str) -> str | None:
        return config.get(f"{NAMESPACE}:{name}")

    return RawConfig(
        keys=setting("keys"),
        management_key_targets=setting("managementKeyTargets"),
        protect_keys=setting("protectKeys"),
        api_base_url=setting("apiBaseUrl"),
        management_key=management_key,
        management_key_is_secret=True,
        github_owner=config.get("github:owner"),
    )


@pytest.mark.parametrize(
    "name",
    sorted(
        {
            *TOP_LEVEL,
            *(n for names in SETTING_NAMES.values() for n in names),
            *(n for kind in KINDS for n in setting_names(kind.spec)),
        }
    ),
)
def test_every_setting_is_documented(name):
    assert f"`{name}`" in doc_text()


def test_every_optional_setting_is_declared_with_a_default_in_pulumi_yaml():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    declared = project["config"]
    # managementKey stays undeclared: a declared secret has no default, so the CLI would refuse
    # every stack that takes the key from OPENROUTER_MANAGEMENT_KEY instead (ADR 0001).
    assert set(declared) == set(TOP_LEVEL) - {"managementKey"}
    assert all("default" in spec for spec in declared.values())
    assert project["stackConfigDir"] == "stacks"
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": ".venv"}


def test_the_reference_example_validates():
    documents = [yaml.safe_load(block) for block in fenced("yaml")]
    full = [d for d in documents if isinstance(d, dict) and "config" in d]
    assert full, "docs/config.md lost its full example"
    for document in full:
        loaded = config_from(document)
        validate(raw_from(loaded.config, make_sentinel()), "dev", {})


def test_the_validation_example_is_the_programs_own_message():
    keys = {
        "ci": {"limitReset": "hourly"},
        "production": {
            "vercel": [{"project": "agent-chat"}, {"project": "web", "targets": ["prod"]}]
        },
    }
    raw = RawConfig(keys=json.dumps(keys), management_key=make_sentinel(),
                    management_key_is_secret=True)
    with pytest.raises(TopologyConfigError) as caught:
        validate(raw, "dev", {})
    (shown,) = fenced("text")
    assert str(caught.value) + "\n" == shown


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_hold_no_secret_and_say_how_to_set_them(stack):
    text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    assert config_from(yaml.safe_load(text)).secret_keys == ()  # no `secure:` value
    assert "sk-or-" not in text
    assert "encryptionsalt" not in text
    assert "pulumi config set --secret managementKey" in text


def test_prod_says_how_to_set_the_adopted_secret():
    text = Path(ROOT / "stacks" / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    assert "pulumi config set --secret --path 'adoptedSecrets.legacy-backend'" in text
