"""What fills a checkpoint: bytes of a `pulumi stack export` per resource type and field.

Run by hand: `.venv/bin/python -m bench.state_bytes EXPORT.json [--keys N]`. The export is the
JSON `pulumi stack export` prints (four-space indents, as the `file://` backend also writes its
checkpoint); each resource's bytes are attributed to its top-level fields (`outputs`, `stackTrace`,
...) and, for `inputs` and `outputs`, to each property. With `--keys N` every figure is also
divided by N, the number of keys in the stack. Prints Markdown, largest first.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

INDENT = 4
ITEM_DEPTH = 3
"""`{"deployment": {"resources": [<here>]}}`: each resource is printed three levels in."""


def pretty_len(value: Any, depth: int = ITEM_DEPTH) -> int:
    """Bytes of `value` pretty-printed with four-space indents, starting `depth` levels in."""
    text = json.dumps(value, indent=INDENT, ensure_ascii=False)
    return len(text.encode()) + text.count("\n") * INDENT * depth


def without(mapping: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key != name}


def short_type(resource: Mapping[str, Any]) -> str:
    return str(resource.get("type", "?")).rsplit(":", 1)[-1]


def attribute(resources: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str]]:
    """(resource type, field or `inputs.x` / `outputs.x`) -> bytes, summed over resources.

    A field's bytes are what the printed resource loses without it, so the parts add up to the
    whole (the rest, braces and commas, is counted as `(braces)`).
    """
    sizes: Counter[tuple[str, str]] = Counter()
    for resource in resources:
        kind = short_type(resource)
        whole = pretty_len(resource)
        attributed = 0
        for name, value in resource.items():
            if name in ("inputs", "outputs") and isinstance(value, dict) and value:
                for prop in value:
                    shrunk = {**resource, name: without(value, prop)}
                    size = whole - pretty_len(shrunk)
                    sizes[kind, f"{name}.{prop}"] += size
                    attributed += size
                size = pretty_len({**resource, name: {}}) - pretty_len(without(resource, name))
            else:
                size = whole - pretty_len(without(resource, name))
            sizes[kind, name] += size
            attributed += size
        sizes[kind, "(braces)"] += whole - attributed
    return sizes


def report(export: Mapping[str, Any], total_bytes: int, keys: int | None) -> str:
    resources: Sequence[Mapping[str, Any]] = export["deployment"]["resources"]
    sizes = attribute(resources)
    counts = Counter(short_type(r) for r in resources)
    per = keys or 1
    unit = "B/key" if keys else "bytes"
    lines = [
        f"export: {total_bytes:,} bytes, {len(resources)} resources"
        + (f", {total_bytes / per:,.0f} B/key" if keys else ""),
        "",
        "| resource type | count | bytes | " + unit + " |",
        "|---|---|---|---|",
    ]
    by_type: Counter[str] = Counter()
    for (kind, _), size in sizes.items():
        by_type[kind] += size
    for kind, size in by_type.most_common():
        lines.append(f"| {kind} | {counts[kind]} | {size:,} | {size / per:,.0f} |")
    lines += ["", f"| resource type | field | bytes | {unit} | share |", "|---|---|---|---|---|"]
    for (kind, name), size in sizes.most_common():
        if size / per < 1:
            continue
        lines.append(
            f"| {kind} | {name} | {size:,} | {size / per:,.0f} | {size / total_bytes:.1%} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("export", type=Path, help="a `pulumi stack export` JSON file")
    parser.add_argument("--keys", type=int, help="keys in the stack, for bytes per key")
    args = parser.parse_args(argv)
    raw = args.export.read_bytes()
    print(report(json.loads(raw), len(raw), args.keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
