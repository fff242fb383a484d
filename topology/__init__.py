"""Stack config -> validated model -> resources: the key topology of one stack.

`__main__.py` makes three calls, after `install_engine_stop()` (the engine ending the program
is one line, not a traceback): `load()` (read and validate the whole config and compare it with
what the stack last deployed, or raise with every problem before anything is registered),
`build()` (register the keys and their sinks) and `stack_outputs()` (the `keys` and `inventory`
outputs).

The names are imported lazily, so that `cli` can read a stack's record
(`topology.keys_output`) without loading the Pulumi SDK and the GitHub and Vercel SDKs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from topology.config import StackConfig
    from topology.engine_stop import install_engine_stop
    from topology.outputs import INVENTORY_OUTPUT, stack_outputs
    from topology.preflight import load
    from topology.problem import Problem
    from topology.resources import Built, build
    from topology.rules import TopologyConfigError

_HOMES: dict[str, str] = {
    "Built": "topology.resources",
    "INVENTORY_OUTPUT": "topology.outputs",
    "Problem": "topology.problem",
    "StackConfig": "topology.config",
    "TopologyConfigError": "topology.rules",
    "build": "topology.resources",
    "install_engine_stop": "topology.engine_stop",
    "load": "topology.preflight",
    "stack_outputs": "topology.outputs",
}

__all__ = [
    "INVENTORY_OUTPUT",
    "Built",
    "Problem",
    "StackConfig",
    "TopologyConfigError",
    "build",
    "install_engine_stop",
    "load",
    "stack_outputs",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'topology' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
