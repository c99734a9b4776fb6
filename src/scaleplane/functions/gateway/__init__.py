"""The gateway's request path: every call to a function, from its token check to its answer.

    settings      its YAML settings, validated once
    routetable    the functions and their routes, kept fresh from the route directory (functions.routes)
                  or, in a cluster, from EndpointSlices (cluster)
    balancing     least in-flight choice, the bounded queue at zero, rests
    routing       one function's route: its balancer, cold starts, forwarding a call and its errors
    waking        the wake signal (HTTP to the local platform); cluster: annotate the Function
    cluster       the cluster home: routes from EndpointSlices, wakes by annotating the Function
    journaling    asynchronous calls kept in Redis (what "acknowledged" means)
    calling       a call's edges: the token, the door of async calls, what every answer counts
    application   the aiohttp application that ties them together (`application.Gateway`)

Rule: the gateway's logic, not its process (that is `scaleplane.gateway`, which builds
`application.Gateway` and serves it). It uses the shared modules of `scaleplane.functions` (routes,
instruments, announcing) and never `functions.authoring`: what a user writes reaches the gateway only as
the route table and the series, never as imports. Only `cluster` imports the Kubernetes client, and only
when the settings name a cluster.
"""
