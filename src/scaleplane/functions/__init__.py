"""Functions that scale from zero: the handler contract, the runtime that hosts a handler, the client SDK,
and, by role, the gateway's request path (`gateway/`) and what a function's author writes (`authoring/`).

Rule: adapter layer. Nothing here imports an entry point (operator, local, cli), the control loop, or
another adapter package; the gateway *process* is `scaleplane.gateway` (an entry package, like the
operator), which only composes `functions.gateway`. What a function's author or caller needs stays light
(pydantic, aiohttp, requests, tenacity; no Kubernetes, Redis or Pulumi imports). The modules at this level
are shared by both sub-packages and import neither; the two sub-packages do not import each other
(import-linter checks both):

    handlers      the handler contract: typed parameters, results as JSON, FunctionError
    hosting       the runtime server around one handler (health, readiness, drain, per-replica series);
                  `python -m scaleplane.functions.hosting` is what every instance runs (manifests name it)
    client        `call("namespace/name", **params)`, sync and async, retries only what never ran
    routes        a function's key, and the route table on disk (written by whoever runs the instances,
                  read by the gateway)
    instruments   the gateway's scaleplane_gateway_* series and the concurrency query a policy holds on
                  them (the gateway writes them; authoring.definitions and operator.functions read them)
    announcing    CloudEvents of function events to hooks (the gateway's failed calls, the local
                  platform's deploys, rollbacks and scaling)

    gateway/      the request path: settings, the route table, balancing, routing, waking, journaling,
                  the cluster home, and the aiohttp application that ties them together
    authoring/    what a user writes, generates, tests and deploys: definitions, templates, testing,
                  generating, catalog
"""
