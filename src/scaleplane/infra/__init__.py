"""Pulumi ComponentResources (Cluster, Database, Cache, Monitoring, ScalingOperator, Platform) and the
offline plan (the program under Pulumi's mocks).

Rule: one backend per target (aws/, kubernetes/) behind `backends.Backend`; stack config validated
once into `config.PlatformConfig`, errors naming the key; children parented to their component and
named after it; plain provider resources only, so the plan and the guardrails see every child.
"""
