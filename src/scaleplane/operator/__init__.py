"""The kopf operator: handlers, status, events, hooks. Wiring only.

Rule: calls scaling + metrics + targets; no decision logic of its own. Run with
`kopf run -m scaleplane.operator` or `scaleplane operator run`.
"""
