"""Grafana dashboards and Prometheus rules as values, built from one Python source.

Rule: pure builders. Nothing here reads a clock, a socket or a file: every function returns a value
(a dashboard's JSON model, a rule group as a dict, a file's text) and `generating` is the only module
that turns them into files, under the caller's directory. Every expression reads a series that the
loop (`scaleplane.control.meters`), the operator, the function gateway (`scaleplane_gateway_*`), the
platform exporter's queue series (`scaleplane_local_*`), or a deployed exporter publishes: CloudNativePG's
instance exporter (`cnpg_*`), redis_exporter (`redis_*`) or the service whose objectives are declared
(`objectives`). The tests evaluate each one against a real Prometheus scraping those.
"""
