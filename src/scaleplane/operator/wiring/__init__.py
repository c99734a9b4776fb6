"""How the operator starts, what kopf calls, and what it connects to.

Rule: the top of the operator. Builds and starts loop/ and records/ and hands kopf's events to them;
decides nothing itself (that is control's one tick). Nothing below imports it, except records.hooking,
which builds its dispatcher from the settings (the one exception the import contract names).

    handlers     the kopf handlers: start and stop the runtime, feed the policy registry, own Functions
    waking       the raw event handler that wakes a Function at zero the moment the gateway asks
    runtime      everything one running operator owns (registry, loop, Lease, hooks, /metrics), in kopf's memo
    settings     the SCALEPLANE_* environment, validated once at start-up
    connecting   one set of API server credentials for kopf and for our own client
"""
