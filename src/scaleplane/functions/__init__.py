"""Functions that scale from zero: the handler contract, the runtime that hosts a handler, the gateway's
logic, the catalog, and the client SDK.

Rule: adapter layer. Nothing here imports an entry point (operator, local, cli), the control loop, or
another adapter package; the gateway *process* is `scaleplane.gateway` (an entry package, like the
operator), which only composes what is here. What a function's author or caller needs stays light
(pydantic, aiohttp, requests, tenacity; no Kubernetes, Redis or Pulumi imports):

    handlers      the handler contract: typed parameters, results as JSON, FunctionError
    hosting       the runtime server around one handler (health, readiness, drain, per-replica series)
    client        `call("namespace/name", **params)`, sync and async, retries only what never ran
    testing       the local harness behind `fn test` (mock cases)

The gateway's parts:

    settings      its YAML settings, validated once
    routes        the route table from a directory (local); cluster: from EndpointSlices
    balancing     least in-flight choice, the bounded queue at zero, rests
    routing       one function's route: its balancer, cold starts, forwarding a call and its errors
    waking        the wake signal (HTTP to the local platform); cluster: annotate the Function
    instruments   its scaleplane_gateway_* series, per function, present at zero
    journaling    asynchronous calls kept in Redis (what "acknowledged" means)
    announcing    CloudEvents of function events to hooks
    gateway       the aiohttp application that ties them together

and for one machine's catalog: templates (what `fn new` writes), definitions (a `kind: Function`
document and its policy), catalog (versions in Redis), generating (`fn generate`: a chat endpoint's
handler, tested in a sandbox).
"""
