"""`scaleplane observability generate`: the Grafana dashboards and Prometheus rules of dashboards/.

The files are generated from `scaleplane.observability` (dashboards with grafana-foundation-sdk, rules
from the alert and SLO definitions) and checked in; `--check` fails when they drift, as CI does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli import options
from scaleplane.cli.app import app, fail, report_drift

observability_app = typer.Typer(
    name="observability",
    help="Dashboards and alert rules as code: (re)generate dashboards/ or check it is up to date.",
    no_args_is_help=True,
)
app.add_typer(observability_app)


@observability_app.command("generate")
def generate(
    directory: Annotated[
        Path, typer.Argument(help="Where to write the dashboards (JSON) and rules/ (YAML).")
    ] = Path("dashboards"),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the files match the builders (exit 1 if not).")
    ] = False,
) -> None:
    """Write the Grafana dashboards and Prometheus rule files (or check them).

    The SLO rules use the objectives documented as the default of `monitoring.slos` in Pulumi.yaml; a
    stack with other objectives gets its own rules at deploy time (infra.monitoring).
    """
    from scaleplane.observability import generating

    if directory.exists() and not directory.is_dir():
        raise fail(f"{directory}: not a directory")
    if check:
        stale = generating.drift(directory)
        report_drift(directory, stale, "scaleplane.observability", "scaleplane observability generate")
        return
    for path in generating.write(directory):
        typer.echo(f"wrote {path}")


@observability_app.command("render")
def render(
    prometheus: Annotated[str, typer.Option("--prometheus", help="The Prometheus to query (its base URL).")],
    out: Annotated[Path, typer.Option("--out", help="The PNG to write.")],
    dashboard: Annotated[
        str, typer.Option("--dashboard", help="A dashboard uid (file name under dashboards/).")
    ] = "scaleplane-overview",
    minutes: Annotated[float, typer.Option("--minutes", min=1, help="How far back to draw.")] = 5.0,
    step: Annotated[float, typer.Option("--step", min=1, help="Seconds between two points.")] = 2.0,
    rate_interval: Annotated[
        str, typer.Option("--rate-interval", help="Grafana's $__rate_interval (4 scrape intervals).")
    ] = "1m",
) -> None:
    """Draw a dashboard's time-series panels from a live Prometheus into a PNG (no Grafana needed).

    Variables are taken as "All"; e.g. a running `scaleplane local up` or demo:
    `scaleplane observability render --prometheus http://127.0.0.1:PORT --out overview.png`.
    """
    import time

    import requests

    from scaleplane.observability import generating
    from scaleplane.reporting import dashboards as drawn

    options.positive_finite("--minutes", minutes, unit="minutes")
    options.positive_finite("--step", step)
    models = {name.removesuffix(".json"): model for name, model in generating.dashboards().items()}
    if dashboard not in models:
        raise fail(f"--dashboard: no dashboard {dashboard!r} (known: {', '.join(sorted(models))})")
    if minutes * 60 / step > 11_000:  # Prometheus' own limit on the points of one range query
        raise fail(f"--minutes {minutes} over --step {step}: more than 11,000 points; raise --step")
    end = time.time()
    start = end - minutes * 60
    grid = [start + i * step for i in range(int((end - start) // step) + 1)]

    def fetch(expr: str) -> drawn.Fetched:
        params: dict[str, str | float] = {"query": expr, "start": grid[0], "end": grid[-1], "step": step}
        try:
            body = requests.get(
                f"{prometheus.rstrip('/')}/api/v1/query_range", params=params, timeout=15
            ).json()
        except (requests.RequestException, ValueError) as exc:
            raise fail(f"--prometheus {prometheus}: {exc}") from None
        if body.get("status") != "success":
            raise fail(f"{expr!r}: {body.get('error')}")
        found: drawn.Fetched = []
        for item in body["data"]["result"]:
            points = {round((float(t) - grid[0]) / step): float(v) for t, v in item["values"]}
            found.append((item["metric"], [points.get(i, float("nan")) for i in range(len(grid))]))
        return found

    def substitute(expr: str) -> str:
        for name, value in (
            ("$__rate_interval", rate_interval),
            ("$__range", f"{int(minutes)}m"),
            ("$namespace", ".*"),
            ("$policy", ".*"),
        ):
            expr = expr.replace(name, value)
        return expr.replace("$service", ".*")

    options.http_url("--prometheus", prometheus)
    out.parent.mkdir(parents=True, exist_ok=True)
    at = [t - grid[0] for t in grid]
    try:
        drawn.draw(models[dashboard], at, fetch, out, substitute=substitute)
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {out}")
