"""The operator's RBAC is least privilege in both install modes (operator.manifests.permissions): every
request the running operator makes is allowed by the generated manifests, and every rule in them is used (or
is listed below as needed only on a real cluster). The check evaluates Roles and ClusterRoles with
their bindings, namespaces and resourceNames, as the API server's RBAC authorizer does.

cluster-wide, Functions on:  a Function (children, status, scaling), StatefulSet and CloudNativePG targets
namespaced, Functions off:   Deployment, StatefulSet and CloudNativePG targets; nothing about Functions
Both run with the Lease in another namespace (the operator's own) than the policies.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaleplane.operator.manifests import functions, permissions
from tests.support import operating, rbac_checks
from tests.support.operating import DEPLOYMENT, FUNCTION, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
RBAC = Path(__file__).resolve().parents[2] / "operator" / "rbac.yaml"
OPERATOR_NS = "scaleplane-system"
# Needed on a real cluster, not exercised against the emulator (kopf scans namespaces and CRDs there;
# the tests disable namespace scanning because kmock cannot serve the cluster-wide namespace list).
REAL_CLUSTER_ONLY = {
    ("", "namespaces", "list"),
    ("", "namespaces", "watch"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
}
# Needed by RDS read-replica policies only (the read Service and its EndpointSlice); exercised by
# tests/e2e/test_operator_rds.py, which runs no other target.
RDS_ONLY = {
    ("", "services", "create"),
    ("discovery.k8s.io", "endpointslices", "create"),
    ("discovery.k8s.io", "endpointslices", "patch"),
}


def check(cluster: Any, docs: list[dict[str, Any]]) -> None:
    needs = rbac_checks.needs(cluster)
    given = rbac_checks.grants(docs)
    refused = rbac_checks.refused(needs, given)
    assert refused == set(), f"requests the RBAC would refuse: {sorted(map(str, refused))}"
    unused = {g for g in given if not any(g.allows(n) for n in needs)}
    unused = {g for g in unused if (g.group, g.resource, g.verb) not in REAL_CLUSTER_ONLY | RDS_ONLY}
    assert unused == set(), f"rules nothing used (not least privilege): {sorted(map(str, unused))}"


def add_failing_policy(cluster: Any, ns: str, query: str) -> None:
    """A policy whose Deployment does not exist: ScalingFailed every tick, so the repeat patches the
    one Event's count (operator.records.posting) and the `patch` on events is used."""
    spec = {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ghost"},
        "maxReplicas": 5,
        "metrics": [{"name": "rps", "query": query, "target": {"value": 10}}],
    }
    cluster.put_object(POLICY, operating.policy("ghost", ns, spec))


def add_scaled_targets(cluster: Any, ns: str, query: str, *, web: bool = False) -> None:
    """A StatefulSet `cache` and a CloudNativePG Cluster `db`, each with a ScalingPolicy on `query`, and
    with `web` one on the Deployment `web` the caller made: every kind of target whose verbs the RBAC
    must grant."""
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
    targets = [("cache", "StatefulSet", "apps/v1"), ("db", "Cluster", "postgresql.cnpg.io/v1")]
    if web:
        targets.insert(0, ("web", "Deployment", "apps/v1"))
    for name, kind, api_version in targets:
        spec = {
            "targetRef": {"apiVersion": api_version, "kind": kind, "name": name},
            "maxReplicas": 5,
            "metrics": [{"name": "rps", "query": query, "target": {"value": 10}}],
            "behavior": operating.fast_behavior(),
        }
        cluster.put_object(POLICY, operating.policy(name, ns, spec))


def an_event_counted_twice(cluster: Any) -> bool:
    return any(
        res.plural == "events" and not o.deleted and (o.raw.get("count") or 0) >= 2
        for (res, _, _), o in cluster.objects.items()
    )


def test_the_shipped_rbac_is_the_generated_cluster_wide_mode_and_binds_the_deployments_account() -> None:
    assert RBAC.read_text() == permissions.to_yaml(
        permissions.manifests("cluster-wide"), permissions.header("cluster-wide", True)
    ), "run `scaleplane operator rbac > operator/rbac.yaml`"
    docs = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    deployment = yaml.safe_load((RBAC.parent / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    account = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert account["metadata"] == {
        "name": pod["serviceAccountName"],
        "namespace": deployment["metadata"]["namespace"],
    }
    container = pod["containers"][0]
    assert container["livenessProbe"] and container["readinessProbe"]
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    assert not any(
        "*" in rule["verbs"] or "*" in rule["resources"] for d in docs for rule in d.get("rules", [])
    )
    lease = next(d for d in docs if d["kind"] == "Role")  # Lease rights: only here, only by name
    assert lease["metadata"]["namespace"] == OPERATOR_NS
    assert [r.get("resourceNames") for r in lease["rules"]] == [["scaleplane-operator"], None]
    assert all("leases" not in r["resources"] for d in docs if d["kind"] == "ClusterRole" for r in d["rules"])


def test_without_functions_no_rule_mentions_them_or_creates_anything_but_events_and_the_lease() -> None:
    docs = permissions.manifests("namespaced", watched=("team-a", "team-b"), functions=False)
    rules = [r for d in docs for r in d.get("rules", [])]
    assert not any("functions" in res for r in rules for res in r["resources"])
    assert not any("services" in r["resources"] and r["verbs"] != ["create"] for r in rules)  # RDS's only
    creates = {res for r in rules if "create" in r["verbs"] for res in r["resources"]}
    assert creates == {"events", "leases", "services", "endpointslices"}  # the last two: RDS read Service
    assert sorted(d["metadata"].get("namespace") or "" for d in docs if d["kind"] == "Role") == [
        OPERATOR_NS,
        "team-a",
        "team-b",
    ]


async def test_cluster_wide_with_functions_every_request_is_allowed_and_every_rule_is_used(
    prometheus: Any,
) -> None:
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
            add_scaled_targets(cluster, ns, query)
            add_failing_policy(cluster, ns, query)
            lease_elsewhere = {
                "SCALEPLANE_LEASE_NAMESPACE": OPERATOR_NS,
                "SCALEPLANE_STATUS_HEARTBEAT_SECONDS": "0",
            }
            async with operating.running_operator(url, prometheus.url, namespace=ns, env=lease_elsewhere):
                await eventually(lambda: an_event_counted_twice(cluster))
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

    check(cluster, permissions.manifests("cluster-wide"))


async def test_namespaced_without_functions_every_request_is_allowed_and_every_rule_is_used(
    prometheus: Any,
) -> None:
    ns = "team-rbac-ns"
    exp = operating.Exporter("rbac_load")
    job = "op-rbac-ns"
    prometheus.add_target(job, exp.address)
    try:
        exp.set(25)
        query = f'sum(rbac_load{{job="{job}"}})'
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 25)
        async with operating.cluster_api() as (cluster, url):
            cluster.put_object(DEPLOYMENT, operating.deployment("web", ns, replicas=1))
            add_scaled_targets(cluster, ns, query, web=True)
            add_failing_policy(cluster, ns, query)
            env = {
                "SCALEPLANE_LEASE_NAMESPACE": OPERATOR_NS,
                "SCALEPLANE_FUNCTIONS": "false",
                "SCALEPLANE_STATUS_HEARTBEAT_SECONDS": "0",
            }
            async with operating.running_operator(
                url, prometheus.url, namespace=ns, env=env, functions=False
            ):
                await eventually(lambda: an_event_counted_twice(cluster))
                for resource, name, field in (
                    (DEPLOYMENT, "web", "replicas"),
                    ("apps/v1/statefulsets", "cache", "replicas"),
                    ("postgresql.cnpg.io/v1/clusters", "db", "instances"),
                ):
                    await eventually(
                        lambda r=resource, n=name, f=field: cluster.read_object(r, ns, n)["spec"][f] == 3
                    )
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()
    check(cluster, permissions.manifests("namespaced", watched=(ns,), functions=False))
