"""Each policy's record: what the loop ticks over, what a tick writes back, and how it is read back.

Rule: never imports loop/ (the loop calls the recorder, not the other way round); statuses and
restoring stay pure (bodies in, bodies out).

    registering   the in-memory registry of ScalingPolicies, fed by kopf's watch events
    restoring     reads a policy's `status` back, trusting nothing (pure)
    statuses      the `status` a tick writes: conditions, last decision, engine state (pure)
    recording     after each tick: status patches, Events, metrics, hooks, logs
    posting       Kubernetes Events, aggregated as client-go does
    instruments   the operator's Prometheus metrics and the /metrics server
    hooking       outbound CloudEvents to the configured HTTP endpoints
"""
