"""bench/bench_engine.py runs end to end at a tiny size, and its helpers count what they claim.

A smoke test of the benchmark, not a timed test: nothing here asserts a time or a ratio. The run
through the engine needs bin/pulumi and skips with the reason otherwise, as tests/e2e does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import bench_engine, engine_whatif, state_bytes
from tests.e2e.e2e_harness import REPO, engine_skip_reason

SKIP_REASON = engine_skip_reason()
ROW = re.compile(r"^\| (?P<cells>.+) \|$")


def rows(report: str, heading: str) -> list[list[str]]:
    """The body rows of the Markdown table under the first heading that starts with `heading`."""
    section = report.split(f"### {heading}", 1)[1].split("###", 1)[0]
    table = [ROW.match(line) for line in section.splitlines()]
    cells = [match["cells"].split(" | ") for match in table if match]
    return cells[1:]  # the header (the rule never matches ROW)


@pytest.mark.e2e
@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
def test_two_keys_through_the_engine_print_both_sides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    samples = tmp_path / "samples.json"
    code = bench_engine.main([
        "--sizes", "2", "--repetitions", "1", "--latency-ms", "0",
        "--operations", "preview", "update", "--json", str(samples),
    ])
    report = capsys.readouterr().out

    assert code == 0, report
    seconds = rows(report, "Seconds per command")
    assert [row[:2] for row in seconds] == [["2", "preview"], ["2", "update"]]
    header = report.split("### Seconds per command", 1)[1].splitlines()[2]
    assert "floor s" in header
    assert "project s" in header
    [state] = rows(report, "State after the first `up`")
    assert state[0] == "2"
    assert int(state[1].replace(",", "")) > 0
    assert int(state[2].replace(",", "")) > 0
    calls = {tuple(row[:2]): row[2:] for row in rows(report, "HTTP calls per command")}
    # The floor makes exactly the calls it is specified to make; the project makes the same
    # writes (plus its key-type guard, GET /key).
    assert calls["2", "preview"][0] == "none"
    assert calls["2", "update"][0] == "PATCH /keys/{hash} x1"
    assert "PATCH /keys/{hash} x1" in calls["2", "update"][1]
    recorded = json.loads(samples.read_text())
    assert {s["side"] for s in recorded["samples"]} == {"floor", "project"}


def test_state_bytes_parts_add_up_to_the_printed_resource() -> None:
    resource = {
        "urn": "urn:pulumi:s::p::t::a",
        "type": "t",
        "inputs": {"name": "a", "limit": 10},
        "outputs": {"name": "a", "nested": {"list": [1, 2], "empty": []}},
        "stackTrace": [{"sourcePosition": "project:///main.py#3"}, {}],
    }
    sizes = state_bytes.attribute([resource])

    assert sum(sizes.values()) == state_bytes.pretty_len(resource)
    assert sizes["t", "stackTrace"] > sizes["t", "type"] > 0
    assert sizes["t", "outputs.nested"] > sizes["t", "outputs.name"] > 0
    printed = json.dumps({"deployment": {"resources": [resource]}}, indent=4)
    assert state_bytes.pretty_len(resource) < len(printed)


def test_a_what_if_edit_whose_text_moved_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("print('the code moved on')\n")

    with pytest.raises(bench_engine.BenchError, match=r"stale: __main__\.py"):
        engine_whatif.apply_edits(tmp_path, engine_whatif.EDITS["no-outputs"])



@pytest.mark.parametrize("variant", sorted(engine_whatif.EDITS))
def test_every_what_if_variant_still_applies_to_the_project(tmp_path: Path, variant: str) -> None:
    edits = engine_whatif.EDITS[variant]
    for relative in {relative for relative, _, _ in edits}:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((REPO / relative).read_text(encoding="utf-8"), encoding="utf-8")

    engine_whatif.apply_edits(tmp_path, edits)

    for relative, _, new in edits:
        edited = (tmp_path / relative).read_text(encoding="utf-8")
        assert new in edited
        compile(edited, relative, "exec")  # a variant that applies must still be Python
