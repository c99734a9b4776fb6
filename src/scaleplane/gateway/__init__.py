"""The gateway process: `python -m scaleplane.gateway --config gateway.yaml` (or `scaleplane fn gateway`).

Rule: entry point, on the operator's layer. It reads the settings, builds
`functions.gateway.application.Gateway` and serves it until SIGTERM, then drains; every decision about a
call lives in `scaleplane.functions.gateway`. The gateway is stateless (the route table is re-read from
its source, the async-call journal lives in Redis), so several can run behind one Service.
"""
