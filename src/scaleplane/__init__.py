"""scaleplane: autoscaling and infrastructure-as-code for platform teams.

Layers, outermost first (checked by import-linter, see pyproject.toml):
  cli                      the `scaleplane` command: one entry for every user-facing job
  operator, local          entry points: the kopf operator; the embedded single-machine platform
  gateway                  entry point: the function gateway process (its logic is in `functions.gateway`)
  metrics, targets, infra, guardrails, observability, drills, cost, functions
                           adapters and builders around the core
  scaling                  PURE: specs, the decision engine, forecasting, simulation. No I/O, no clock.
  inputs, images           PURE: the strict input layer; the operator's image, named once
"""

__version__ = "0.1.0"
