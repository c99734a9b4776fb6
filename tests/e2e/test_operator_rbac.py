"""operator/rbac.yaml is least privilege: every request the running operator makes is allowed by it,
and every rule in it is used (or is listed below as needed only on a real cluster).

The operator runs against the API emulator with every kind of work it does: a Function (children,
status, scaling), a Deployment, a StatefulSet and a CloudNativePG Cluster target, Events and the Lease.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaleplane.operator import functions
from tests.support import operating
from tests.support.operating import DEPLOYMENT, FUNCTION, POLICY, eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
TEST_AGENT = "scaleplane-rbac-test"
RBAC = Path(__file__).resolve().parents[2] / "operator" / "rbac.yaml"
# Needed on a real cluster, not exercised against the emulator (kopf scans namespaces and CRDs there;
# the tests disable namespace scanning because kmock cannot serve the cluster-wide namespace list).
REAL_CLUSTER_ONLY = {
    ("", "namespaces", "list"),
    ("", "namespaces", "watch"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
}


def allowed() -> set[tuple[str, str, str]]:
    docs = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def verb_of(request: Any) -> tuple[str, str, str] | None:
    """The RBAC (group, resource[/subresource], verb) an API request needs; None for discovery."""
    if request.resource is None or request.resource.plural is None:
        return None
    method = str(request.method.value).upper()
    resource = request.resource.plural + (f"/{request.subresource}" if request.subresource else "")
    if method == "GET":
        verb = "watch" if request.params.get("watch") == "true" else ("get" if request.name else "list")
    else:
        verb = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}[method]
    return (request.resource.group or "", resource, verb)


def test_rbac_manifest_binds_the_role_to_the_deployments_service_account() -> None:
    docs = {d["kind"]: d for d in yaml.safe_load_all(RBAC.read_text()) if d}
    deployment = yaml.safe_load((RBAC.parent / "deployment.yaml").read_text())
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert docs["ServiceAccount"]["metadata"]["name"] == account
    assert docs["ClusterRoleBinding"]["subjects"][0]["name"] == account
    assert docs["ClusterRoleBinding"]["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"] and container["readinessProbe"]
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    assert not any(verb in ("*",) for *_, verb in allowed())


async def test_every_request_is_allowed_and_every_rule_is_used(prometheus: Any) -> None:
    ns, fn = "team-rbac", "thumbnail"
    exp = operating.Exporter(functions.INFLIGHT_METRIC, ("namespace", "function"))
    job = "op-rbac"
    prometheus.add_target(job, exp.address)
    try:
        exp.set(25, namespace=ns, function=fn)
        query = f'sum({functions.INFLIGHT_METRIC}{{namespace="{ns}",function="{fn}"}})'
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 25)
        async with operating.cluster_api() as (cluster, url):
            cluster.put_object(
                FUNCTION,
                {
                    "apiVersion": "scaleplane.io/v1alpha1",
                    "kind": "Function",
                    "metadata": {"name": fn, "namespace": ns},
                    "spec": {"image": "ghcr.io/acme/thumb:1", "concurrency": 10, "minReplicas": 1},
                },
            )
            statefulset = operating.deployment("cache", ns, replicas=1)
            statefulset["kind"] = "StatefulSet"
            cluster.put_object("apps/v1/statefulsets", statefulset)
            cluster.put_object(
                "postgresql.cnpg.io/v1/clusters",
                {
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "Cluster",
                    "metadata": {"name": "db", "namespace": ns},
                    "spec": {"instances": 1},
                },
            )
            for name, kind, api_version in (
                ("cache", "StatefulSet", "apps/v1"),
                ("db", "Cluster", "postgresql.cnpg.io/v1"),
            ):
                spec = {
                    "targetRef": {"apiVersion": api_version, "kind": kind, "name": name},
                    "maxReplicas": 5,
                    "metrics": [{"name": "rps", "query": query, "target": {"value": 10}}],
                    "behavior": operating.fast_behavior(),
                }
                cluster.put_object(POLICY, operating.policy(name, ns, spec))
            async with operating.running_operator(url, prometheus.url, namespace=ns):
                await eventually(
                    lambda: (
                        (cluster.read_object(DEPLOYMENT, ns, fn) or {}).get("spec", {}).get("replicas") == 3
                    )
                )
                await eventually(
                    lambda: cluster.read_object("apps/v1/statefulsets", ns, "cache")["spec"]["replicas"] == 3
                )
                await eventually(
                    lambda: (
                        cluster.read_object("postgresql.cnpg.io/v1/clusters", ns, "db")["spec"]["instances"]
                        == 3
                    )
                )
                # A Function update: its children are patched, not re-created.
                body = cluster.read_object(FUNCTION, ns, fn)
                body["spec"]["image"] = "ghcr.io/acme/thumb:2"
                body["metadata"]["generation"] += 1
                cluster.objects[FUNCTION, ns, fn] = body
                await cluster._buses[
                    next(iter(k for k in cluster.objects if k[0].plural == "functions"))[0]
                ].put({"type": "MODIFIED", "object": body})
                await eventually(
                    lambda: (
                        cluster.read_object(DEPLOYMENT, ns, fn)["spec"]["template"]["spec"]["containers"][0][
                            "image"
                        ]
                        == "ghcr.io/acme/thumb:2"
                    )
                )
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()

    # Requests from the operator only: the test seeds around the HTTP API, and marks its one PATCH.
    mine = [r for r in cluster if r.headers.get("User-Agent") != TEST_AGENT]
    used = {v for request in mine if (v := verb_of(request)) is not None}
    rules = allowed()
    assert used - rules == set(), f"requests the RBAC manifest would refuse: {sorted(used - rules)}"
    unused = rules - used - REAL_CLUSTER_ONLY
    assert unused == set(), f"rules nothing used (not least privilege): {sorted(unused)}"
