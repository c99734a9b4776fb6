"""What a function's author writes, generates, tests and deploys on one machine.

    definitions   a `kind: Function` document and the ScalingPolicy that scales it on the gateway's series
    templates     what `fn new` writes: a handler, its function.yaml and mock cases that pass as written
    testing       the local harness behind `fn test` (mock cases, run as the runtime would)
    generating    `fn generate`: a chat endpoint's handler and its tests, run in a sandbox first
    catalog       the functions and their versions on one machine, in Redis (`fn deploy`, `fn rollback`)

Rule: it never imports `functions.gateway` (import-linter checks it): a function reaches the gateway
through the route table and the series (functions.routes, functions.instruments), never through the
gateway's code, so the CLI's authoring commands load no server. Only `catalog` talks to a store (Redis);
`testing` and `templates` need nothing beyond what a handler does.
"""
