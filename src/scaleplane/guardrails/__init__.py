"""Policy rules as plain validator functions, plus an offline runner over a recorded plan.

Rule: rules are pure functions of resource inputs (engine names) and thresholds; no I/O, no Pulumi
runtime (one exception, `alerting`: whether a runbook file exists, under a root given as a threshold).
`pack` wraps them for pulumi_policy; only policies/__main__.py builds the PolicyPack.
"""
