"""Price tables, estimates, attribution of autoscaling spend, reports.

Rule: an adapter package. `catalogs`, `estimates`, `estimating`, `shares`, `ranges` and `diffs` are
pure (values in, values out: no I/O, no clock), so the guardrails and tests price a plan without a
network. Only `refreshing` (the AWS Price List API), `actuals` (Cost Explorer) and `attributing`
(Prometheus) talk to a server, each through one client it is handed or builds from an endpoint; files
are read by the caller (the CLI) and handed in as text or values. Nothing here prices by guessing: a
resource the catalog does not know is *unpriced*, never 0.
"""
