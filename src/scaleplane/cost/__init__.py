"""Price tables, estimates, attribution of autoscaling spend, reports.

Rule: `catalogs`, `estimates`, `estimating`, `aws_pricing`, `shares`, `usages`, `ranges`, `infracost`,
`unitprices` and the comparison in `actuals` are pure (values in, values out; no network, no clock:
dates are parameters; `catalogs.bundled` reads only the package's own prices.json), so the guardrails
and tests price a plan without a server. Only `refreshing` (the AWS Price List API), `actuals.spend`
(Cost Explorer) and `attributing.fetch` (Prometheus) talk to a server, each through a client it is
handed; `reports` and `savings_reports` write Markdown and PNG files through `scaleplane.reporting`.
Nothing here prices by guessing: a resource the catalog does not know is *unpriced*, never 0.
"""
