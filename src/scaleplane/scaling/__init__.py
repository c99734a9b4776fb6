"""The pure core: the ScalingPolicy spec, the decision engine, forecasting and simulation.

Rule: no I/O, no clock, no network client, no kopf, no pulumi. Time (`now`) is a parameter and every
result is a frozen value. Everything here is a function of its explicit inputs, so the operator, the
local platform and the simulator run the very same decisions. Checked by import-linter.

Here: the policy language (`specs/`, one module per part of the policy, and `manifests`) and the values
that flow through a decision (`decisions`, `reasons`, `records`, `facts`); `deciding/` is the engine,
`simulating/` the offline replay.
"""
