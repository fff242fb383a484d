"""Stack config -> validated model -> resources: the key topology of one stack.

`__main__.py` makes three calls: `load()` (read and validate the whole config, or raise
`TopologyConfigError` with every problem before anything is registered), `build()` (register the
keys and their sinks) and `stack_outputs()` (the `keys` and `inventory` outputs).
"""

from topology.build import Built, build
from topology.load import Topology, load
from topology.outputs import INVENTORY_OUTPUT, KEYS_OUTPUT, stack_outputs
from topology.rules import Problem, TopologyConfigError

__all__ = [
    "INVENTORY_OUTPUT",
    "KEYS_OUTPUT",
    "Built",
    "Problem",
    "Topology",
    "TopologyConfigError",
    "build",
    "load",
    "stack_outputs",
]
