"""`audit` reports a retiring generation still in use after its successor took over its
consumers, with those consumers (cli/audit.py `retiring_in_use`; docs/cli.md)."""

from __future__ import annotations

from datetime import timedelta

from cli.audit import compare
from cli.stack_outputs import ManagedKey, parse_stack_outputs
from tests.cli.test_compare import DEFAULTS, NOW, key
from topology.keys_output import DeployedGeneration, DeployedKey, keys_output

CONSUMERS = ("vercel:shop:OPENROUTER_API_KEY", "github:acme/shop:OPENROUTER_API_KEY")
TAKEOVER = NOW - timedelta(days=2)


def rotation(old_used: timedelta | None) -> tuple[list[ManagedKey], list[object]]:
    """prod/shop rotated two days ago: '2026-10-01' retiring, '2026-11-16' wired."""
    old = key(1, name="prod-shop", last_used_at=None if old_used is None else NOW - old_used,
              usage=3.0)
    new = key(2, name="prod-shop", created_at=TAKEOVER, last_used_at=NOW)
    record = {
        "shop": DeployedKey(
            hash=new.hash, label=new.label, name=new.name, rotation="2026-11-16",
            generation=2, consumers=CONSUMERS, protect=True,
            retiring=(DeployedGeneration(hash=old.hash, label=old.label, name=old.name,
                                         rotation="2026-10-01"),),
        )
    }
    managed = parse_stack_outputs({"keys": keys_output(record)}, "prod.json", "prod")
    return managed, [old, new]


def test_the_successor_of_a_retiring_generation_is_read_from_the_record():
    managed, (old, new) = rotation(None)
    assert [(m.hash, m.successor) for m in managed] == [(new.hash, None), (old.hash, new.hash)]


def test_a_retiring_generation_used_after_the_takeover_is_reported_with_the_consumers():
    managed, observed = rotation(timedelta(hours=3))
    report = compare(managed, observed, NOW, DEFAULTS)  # type: ignore[arg-type]
    [finding] = [f for f in report.findings if f.kind == "retiring-key-in-use"]
    assert finding.severity == "warning"
    assert finding.message == (
        "sk-or-v1-001...001 (prod/shop@2026-10-01 (retiring)) was last used"
        " 2026-11-18T06:30:00Z, after its successor sk-or-v1-002...002 took over its consumers"
        f" ({', '.join(CONSUMERS)}) on 2026-11-16T09:30:00Z: something still holds the old key"
        " (a Vercel deployment built before the rotation, a workflow in flight or a .env)."
    )
    assert "unless `shop@2026-10-01` is listed in `openrouter-keys:retireInUse`" in finding.hint
    assert finding.context["consumers"] == ", ".join(CONSUMERS)


def test_a_retiring_generation_quiet_since_the_takeover_is_not_reported():
    for used in (None, timedelta(days=3)):
        managed, observed = rotation(used)
        report = compare(managed, observed, NOW, DEFAULTS)  # type: ignore[arg-type]
        assert "retiring-key-in-use" not in [f.kind for f in report.findings]
