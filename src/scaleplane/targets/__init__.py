"""Adapters behind one small Protocol: read current/ready replicas, request N.

Rule: one module per target kind (Kubernetes /scale, CloudNativePG, RDS/Aurora, local processes);
no decision logic here, the engine in scaling decides.
"""
