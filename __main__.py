"""The openrouter-keys program: this stack's keys and the secrets that hold them (topology/)."""

import pulumi

import topology

topology.install_engine_stop()
for output_name, value in topology.stack_outputs(topology.build(topology.load())).items():
    pulumi.export(output_name, value)
