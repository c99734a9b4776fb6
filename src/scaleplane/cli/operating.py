"""`scaleplane operator run | crds`: the Kubernetes operator and its CustomResourceDefinitions.

`run` is `kopf run -m scaleplane.operator` with scaleplane's defaults (JSON logs, a liveness endpoint)
and kopf's own options passed through; the operator's settings are environment variables
(`scaleplane.operator.settings`, also listed in docs/operator.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli.app import app, fail

operator_app = typer.Typer(
    name="operator",
    help="The Kubernetes operator: run it against the current kubeconfig, or write its CRDs.",
    no_args_is_help=True,
)
app.add_typer(operator_app)


@operator_app.command("run")
def run(
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="Serve only these namespaces (repeatable; globs allowed)."),
    ] = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Serve every namespace.")
    ] = False,
    standalone: Annotated[
        bool, typer.Option("--standalone", help="kopf: no peering (the Lease still decides who actuates).")
    ] = False,
    peering: Annotated[str | None, typer.Option("--peering", help="kopf: the peering object's name.")] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", help="kopf: this replica's peering priority.")
    ] = None,
    liveness: Annotated[
        str, typer.Option("--liveness", help="kopf's liveness endpoint ('' for none).")
    ] = "http://0.0.0.0:8080/healthz",
    log_format: Annotated[str, typer.Option("--log-format", help="json, full, plain")] = "json",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the operator against the current kubeconfig (or the in-cluster service account)."""
    if namespace and all_namespaces:
        raise fail("--namespace and --all-namespaces exclude each other")
    if not namespace and not all_namespaces:
        raise fail("say which namespaces to serve: --namespace NAME (repeatable) or --all-namespaces")
    if log_format not in ("json", "full", "plain"):
        raise fail(f"--log-format: must be json, full or plain, was {log_format!r}")
    from scaleplane.operator import settings

    try:
        settings.from_env()  # fail here, clearly, rather than inside kopf's start-up retries
    except settings.SettingsError as exc:
        raise fail(str(exc)) from None
    from scaleplane.kube import credentials

    try:
        credentials.locate()  # no API server to reach: say where we looked, once, and stop
    except credentials.NoCredentials as exc:
        raise fail(str(exc)) from None

    import kopf.cli

    args = ["run", "-m", "scaleplane.operator", f"--log-format={log_format}"]
    args += ["--all-namespaces"] if all_namespaces else [f"--namespace={n}" for n in namespace or []]
    if standalone:
        args.append("--standalone")
    if peering:
        args.append(f"--peering={peering}")
    if priority is not None:
        args.append(f"--priority={priority}")
    if liveness:
        args.append(f"--liveness={liveness}")
    if verbose:
        args.append("--verbose")
    kopf.cli.main(args=args, prog_name="scaleplane operator", standalone_mode=True)


@operator_app.command("crds")
def crds(
    directory: Annotated[Path, typer.Argument(help="Where to write the CRD files.", file_okay=False)] = Path(
        "operator/crds"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the files match the models.")
    ] = False,
) -> None:
    """Write the ScalingPolicy and Function CRDs generated from the spec models (or check them)."""
    from scaleplane.operator import crds as crd_files

    if check:
        if not directory.is_dir():
            raise fail(f"{directory}: no such folder; write the CRDs first with `scaleplane operator crds`")
        stale = crd_files.drift(directory)
        if stale:
            raise fail(
                f"{', '.join(str(directory / n) for n in stale)} differ from the spec models; "
                "run `scaleplane operator crds`",
                code=1,
            )
        typer.echo(f"{directory}: up to date")
        return
    for path in crd_files.write(directory):
        typer.echo(f"wrote {path}")


@operator_app.command("rbac")
def rbac(
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="A watched namespace: namespaced mode, one Role each."),
    ] = None,
    operator_namespace: Annotated[
        str, typer.Option("--operator-namespace", help="Where the operator and its Lease live.")
    ] = "scaleplane-system",
    lease_name: Annotated[
        str, typer.Option("--lease-name", help="SCALEPLANE_LEASE_NAME.")
    ] = "scaleplane-operator",
    functions: Annotated[
        bool, typer.Option("--functions/--no-functions", help="Rights for Functions (SCALEPLANE_FUNCTIONS).")
    ] = True,
    check: Annotated[
        Path | None, typer.Option("--check", help="Only check that this file matches what would be printed.")
    ] = None,
) -> None:
    """Print the operator's least-privilege RBAC: cluster-wide, or namespaced with --namespace.

    kubectl apply it: `scaleplane operator rbac -n team-a -n team-b | kubectl apply -f -`, then run the
    operator with the same namespaces (`scaleplane operator run -n team-a -n team-b`).
    """
    from scaleplane.operator import permissions

    mode: permissions.Mode = "namespaced" if namespace else "cluster-wide"
    docs = permissions.manifests(
        mode,
        watched=tuple(namespace or ()),
        operator_namespace=operator_namespace,
        lease_name=lease_name,
        functions=functions,
    )
    text = permissions.to_yaml(docs, permissions.header(mode, functions))
    if check is not None:
        if not check.is_file() or check.read_text() != text:
            raise fail(
                f"{check} differs from the generated RBAC; run `scaleplane operator rbac > {check}`", code=1
            )
        typer.echo(f"{check}: up to date")
        return
    typer.echo(text, nl=False)
