"""`scaleplane operator run | crds`: the Kubernetes operator and its CustomResourceDefinitions.

`run` runs what `kopf run -m scaleplane.operator` runs (through kopf.run) with scaleplane's defaults
(JSON logs, a liveness endpoint) and kopf's own options passed through, plus `--kubeconfig` and
`--context` (read as the `fn` commands read them: cli.clusters); the operator's settings are
environment variables (`scaleplane.operator.wiring.settings`, also listed in docs/operator.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli import clusters
from scaleplane.cli.app import app, fail, report_drift

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
    kubeconfig: Annotated[
        Path | None,
        clusters.kubeconfig_option(
            "Run against the cluster of this kubeconfig (its current context, or --context), "
            "not the service account or $KUBECONFIG."
        ),
    ] = None,
    context: Annotated[
        str | None,
        clusters.context_option(
            "The kubeconfig context to use (of --kubeconfig, else of $KUBECONFIG or ~/.kube/config)."
        ),
    ] = None,
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
    """Run the operator against the current kubeconfig (or the in-cluster service account).

    From a laptop or a CI job, --kubeconfig FILE and/or --context NAME pick the cluster; both kopf's
    watches and the operator's own requests (/scale, status, Events, the Lease) then go there.
    """
    if namespace and all_namespaces:
        raise fail("--namespace and --all-namespaces exclude each other")
    if not namespace and not all_namespaces:
        raise fail("say which namespaces to serve: --namespace NAME (repeatable) or --all-namespaces")
    if log_format not in ("json", "full", "plain"):
        raise fail(f"--log-format: must be json, full or plain, was {log_format!r}")
    from scaleplane.operator.wiring import settings

    try:
        settings.from_env()  # fail here, clearly, rather than inside kopf's start-up retries
    except settings.SettingsError as exc:
        raise fail(str(exc)) from None
    # No API server to reach: say where we looked (or what is wrong with the chosen file), once, and stop.
    found = clusters.credentials_for(kubeconfig, context)

    import kopf

    import scaleplane.operator  # noqa: F401  (registers the handlers on kopf's default registry)
    from scaleplane.operator.wiring import connecting

    # kopf.run rather than `kopf run -m scaleplane.operator`: only kopf.run takes a memo, the one way
    # to hand the handlers (login and start-up) the cluster these options chose. Without them the
    # memo stays empty and the handlers locate the credentials themselves, as in a pod.
    memo = kopf.Memo()
    if kubeconfig is not None or context is not None:
        memo[connecting.MEMO_KEY] = found
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat[log_format.upper()], log_prefix=None)
    kopf.run(
        standalone=standalone or None,
        namespaces=tuple(namespace or ()),
        clusterwide=all_namespaces,
        priority=priority,
        peering_name=peering,
        liveness_endpoint=liveness or None,
        memo=memo,
    )


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
    from scaleplane.operator.manifests import crds as crd_files

    if check:
        if not directory.is_dir():
            raise fail(f"{directory}: no such folder; write the CRDs first with `scaleplane operator crds`")
        report_drift(directory, crd_files.drift(directory), "the spec models", "scaleplane operator crds")
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
    from scaleplane import generated
    from scaleplane.operator.manifests import permissions

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
        if not generated.holds(check, text):
            raise fail(
                f"{check} differs from the generated RBAC; run `scaleplane operator rbac > {check}`", code=1
            )
        typer.echo(f"{check}: up to date")
        return
    typer.echo(text, nl=False)
