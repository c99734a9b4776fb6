"""Adapter: reads Prometheus. Batches and deduplicates every policy's queries per tick.

Rule: talks to Prometheus only; knows nothing of Kubernetes or targets. Returns scaling.decisions values.
"""
