"""Pulumi ComponentResources (Cluster, Database, Cache, Monitoring, ScalingOperator).

Rule: one backend per cloud behind a shared interface; config validated once into pydantic models.
"""
