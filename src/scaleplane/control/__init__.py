"""The one tick the operator and the local platform share: fetch every metric once, decide, actuate.

Rule: composes the adapters (metrics, targets) around the pure engine (scaling); owns no Kubernetes,
kopf or process wiring, and keeps no state between ticks: the caller holds each policy's ScalingState
and gets the new one back in the tick's outcomes. One bad policy never stops the others.
"""
