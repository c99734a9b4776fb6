"""`scaleplane fn call | logs | gateway`: a deployed function at work: call it through a gateway,
read its instances' logs (the local platform's files, or a cluster's pods), run a gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli.app import fail
from scaleplane.cli.functions.group import DEFAULT_STATE, StateDir, fn, parse_key, platform_info
from scaleplane.cli.functions.releases import Cluster, Context, Kubeconfig


@fn.command(
    "call",
    help="Call a function through a gateway and print its JSON result: the local platform's, or any "
    "gateway at --gateway URL (in a cluster: `kubectl -n scaleplane-system port-forward "
    "svc/scaleplane-gateway 8080:80`, then --gateway http://127.0.0.1:8080).",
)
def call(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    params: Annotated[str, typer.Option("--params", help="The parameters, a JSON object.")] = "{}",
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds for the whole call.", min=0.1, max=3600)
    ] = 30.0,
    token: Annotated[
        str | None, typer.Option("--token", envvar="SCALEPLANE_TOKEN", help="The namespace's token.")
    ] = None,
    gateway_url: Annotated[
        str | None,
        typer.Option(
            "--gateway",
            envvar="SCALEPLANE_GATEWAY_URL",
            help="The gateway's base URL (http[s]://HOST:PORT) instead of the local platform's.",
        ),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    import requests

    from scaleplane.functions import client

    try:
        parsed = json.loads(params)
    except ValueError as exc:
        raise fail(f"--params: not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise fail(f"--params: must be a JSON object, was {type(parsed).__name__}")
    if gateway_url is not None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(gateway_url)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port out of range, a broken IPv6 literal
            usable = False
        if not usable:
            raise fail(f"--gateway: must be an http(s)://HOST[:PORT] URL, was {gateway_url!r}")
    gateway = gateway_url or str(platform_info(state_dir)["gateway"])
    try:
        result = client.Client(gateway, token=token, timeout=timeout).call(str(parse_key(function)), **parsed)
    except client.CallError as exc:
        raise fail(str(exc), code=1) from None
    except (
        requests.RequestException
    ) as exc:  # timed out, reset: the client retries those only when idempotent
        raise fail(
            f"{function}: no answer from the gateway {gateway}: {type(exc).__name__}", code=1
        ) from None
    typer.echo(json.dumps(result, indent=2))


@fn.command(
    "logs",
    help="The last lines of each instance's log (running and stopped ones), newest first; in a cluster "
    "(--cluster, --context, --kubeconfig) each instance pod's log, every line prefixed [POD].",
)
def logs(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    lines: Annotated[
        int, typer.Option("--lines", "-n", help="Lines per instance.", min=1, max=1_000_000)
    ] = 20,
    since: Annotated[
        int | None,
        typer.Option("--since", help="In a cluster: only lines of the last SECONDS.", min=1, max=31_536_000),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="In a cluster: stream the lines as they come (Ctrl-C ends)."),
    ] = False,
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli.functions import releases
    from scaleplane.local import runfiles

    key = parse_key(function)
    if releases.wanted(kubeconfig, context, cluster):
        releases.logs_cluster(kubeconfig, context, key, lines, since, follow)
        return
    if since is not None or follow:
        raise fail("--since and --follow read a cluster's pod logs: add --cluster, --context or --kubeconfig")
    folder = runfiles.servers_dir(state_dir.resolve()) / f"{key.namespace}.{key.name}"
    found = (
        sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    )
    if not found:
        raise fail(f"no instance of {function} has run from {state_dir} (nothing under {folder})", code=1)
    for path in found:
        typer.echo(f"==> {path.stem} ({path})")
        typer.echo("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


@fn.command(
    "gateway",
    help="Run a function gateway in the foreground from a settings file (functions.gateway.settings).",
)
def gateway(config: Annotated[Path, typer.Option("--config", help="The gateway's YAML settings.")]) -> None:
    from scaleplane.gateway import __main__ as gateway_main

    code = gateway_main.main(["--config", str(config)])
    if code:
        raise typer.Exit(code)
