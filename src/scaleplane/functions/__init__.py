"""Functions that scale from zero: the handler contract, the runtime that hosts a handler, the gateway's
logic (routing, queueing at zero, waking, its Prometheus series) and the client SDK.

Rule: adapter layer. Nothing here imports an entry point (operator, local, cli) or the control loop;
the gateway *process* is `scaleplane.gateway` (an entry package, like the operator), which only
composes what is here. The modules a function's author or caller needs stay light:

    handlers    the handler contract (typed parameters, results, errors): pydantic and the stdlib only
    hosting     the runtime server around one handler (aiohttp, prometheus_client)
    client      `call("namespace/name", **params)`, sync and async (aiohttp, stdlib)
"""
