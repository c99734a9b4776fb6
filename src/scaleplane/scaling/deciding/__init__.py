"""The decision engine: `engine.decide(spec, observation, state, now)` and the rules it runs, in order.

Rule: pure, like all of `scaling` (no I/O, no clock, no asyncio: `now` is a parameter); it reads the
policy language and the values (`scaling.specs`, `scaling.decisions`) and never imports the simulator.
The operator, the local platform and the simulator all call the same `engine.decide`.
"""
