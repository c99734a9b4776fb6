"""Price an offline plan: every resource priced, free or unpriced, and the autoscaled parts as ranges.

Pure: the plan's resources, a catalog, a usage file's values and (for Kubernetes-only stacks) a node
price in; an `Estimate` out. Which resources cost what is `aws_pricing`'s table; Kubernetes objects cost
nothing of their own on AWS (their pods run on the node groups, which are priced) and, on a cluster you
already run, the share of a node their requests take (`shares`, as OpenCost allocates) when a node
price is given, else they are unpriced.

Ranges: a node group between minSize and maxSize (expected: desiredSize); a ScalingPolicy between its
minReplicas and maxReplicas, priced per replica of its target (an RDS read replica, or a worker pod's
node share), expected from a trace replay (`ranges`) when one is given, else what the plan runs. A
node group named after the workload a replayed policy scales (prod's `workers`) is dedicated to it:
its expected node count becomes the nodes the expected pods request, within minSize..maxSize.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scaleplane.cost import aws_pricing, catalogs, estimates, shares, usages

POLICY_TYPE = "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"
RDS_TYPE = "aws:rds/instance:Instance"
NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
WORKLOAD_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
CNPG_TYPE = "kubernetes:postgresql.cnpg.io/v1:Cluster"
HELM_TYPE = "kubernetes:helm.sh/v3:Release"
# Allocatable size of the instance types the catalog prices (vCPU, GiB), from the EC2 instance types page.
INSTANCE_SIZES: dict[str, tuple[float, float]] = {
    "t3.medium": (2, 4),
    "t3.large": (2, 8),
    "t3.xlarge": (4, 16),
    "m5.large": (2, 8),
    "m6i.large": (2, 8),
    "m6i.xlarge": (4, 16),
    "m6i.2xlarge": (8, 32),
    "m6g.large": (2, 8),
    "m7i.large": (2, 8),
    "c6i.large": (2, 4),
    "c6i.xlarge": (4, 8),
    "c6a.xlarge": (4, 8),
    "r6i.large": (2, 16),
}


Costs = Mapping[tuple[str, str], estimates.ResourceCost]  # (type, name): names repeat across types


@dataclass(frozen=True)
class Inputs:
    project: str
    stack: str
    region: str
    catalog: catalogs.Catalog
    usage: usages.Usage = field(default_factory=usages.Usage)
    node_price: shares.NodePrice | None = None  # Kubernetes-only stacks: what one node costs
    expected: Mapping[str, tuple[float, str]] = field(default_factory=dict)  # policy -> (replicas, basis)


def estimate(items: Sequence[estimates.Item], given: Inputs) -> estimates.Estimate:
    sources = {str(i.inputs.get("identifier") or i.name): i.inputs for i in items if i.type == RDS_TYPE}
    pricer = aws_pricing.Pricer(given.region, given.catalog, given.usage, sources)
    on_aws = any(i.type.startswith("aws:") for i in items)
    costs = {(i.type, i.name): _cost(i, pricer, given, on_aws) for i in items}
    costs.update(_policy_ranges(items, costs, given, on_aws))
    costs.update(_dedicated_nodes(items, costs, given))
    priced = [c for r in costs.values() for c in r.components if c.price is not None]
    used = {(p.region, p.service, p.product): p for p in (c.price for c in priced) if p is not None}
    return estimates.Estimate(
        project=given.project,
        stack=given.stack,
        region=given.region,
        resources=tuple(costs[(i.type, i.name)] for i in items),
        catalog_note=given.catalog.note,
        usage_file=given.usage.source,
        sources=tuple(used[key] for key in sorted(used)),
    )


def _cost(
    item: estimates.Item, pricer: aws_pricing.Pricer, given: Inputs, on_aws: bool
) -> estimates.ResourceCost:
    rule = aws_pricing.RULES.get(item.type)
    if rule is not None:
        try:
            components = tuple(rule(item, pricer))
        except aws_pricing.Unpriced as exc:
            return estimates.ResourceCost(item.name, item.type, "unpriced", note=str(exc))
        resource = estimates.ResourceCost(item.name, item.type, "priced", components)
        return _with_node_range(item, resource) if item.type == NODE_GROUP_TYPE else resource
    if item.type in aws_pricing.FREE or item.type.split(":", 1)[0] in ("scaleplane", "pulumi", "random"):
        return estimates.ResourceCost(item.name, item.type, "free", note="not billed on its own")
    if item.type.startswith("kubernetes:"):
        return _kubernetes(item, given, on_aws)
    return estimates.ResourceCost(
        item.name, item.type, "unpriced", note=f"scaleplane does not price {item.type}"
    )


def _with_node_range(item: estimates.Item, resource: estimates.ResourceCost) -> estimates.ResourceCost:
    scaling = item.inputs.get("scalingConfig") or {}
    desired = float(scaling.get("desiredSize", 1))
    part = estimates.Range(
        what="nodes",
        min_replicas=int(scaling.get("minSize", desired)),
        max_replicas=int(scaling.get("maxSize", desired)),
        expected_replicas=desired,
        planned_replicas=desired,
        unit_monthly_usd=resource.monthly_cost / desired if desired else 0.0,
        basis="desiredSize",
    )
    return estimates.ResourceCost(item.name, item.type, "priced", resource.components, ranges=(part,))


def _pod_request(item: estimates.Item) -> tuple[float, float, float] | None:
    """(pods, cores, GiB per pod) a workload requests, or None when the plan does not say."""
    spec = item.inputs.get("spec") or {}
    if item.type == CNPG_TYPE:
        requests = shares.requests_of({"containers": [{"resources": spec.get("resources") or {}}]})
        return None if requests is None else (float(spec.get("instances") or 1), *requests)
    template = (spec.get("template") or {}).get("spec") or {}
    requests = shares.requests_of(template)
    return None if requests is None else (float(spec.get("replicas", 1)), *requests)


def _kubernetes(item: estimates.Item, given: Inputs, on_aws: bool) -> estimates.ResourceCost:
    workload = item.type in (*WORKLOAD_TYPES, CNPG_TYPE, HELM_TYPE)
    if on_aws or not workload:
        note = "runs on the node groups, which are priced" if workload else "not billed on its own"
        return estimates.ResourceCost(item.name, item.type, "free", note=note)
    if given.node_price is None:
        return estimates.ResourceCost(
            item.name, item.type, "unpriced", note="no node price: set scaleplane:cost.nodePrice"
        )
    request = None if item.type == HELM_TYPE else _pod_request(item)
    if request is None:
        return estimates.ResourceCost(item.name, item.type, "unpriced", note="the plan shows no pod requests")
    pods, cores, gib = request
    node = given.node_price
    price = catalogs.Price(
        given.region,
        "kubernetes",
        "node-share",
        "pod-hours",
        node.pod_hourly(cores, gib),
        f"scaleplane:cost.nodePrice ({node.hourly_usd} USD/h for {node.vcpu} vCPU, {node.memory_gib} GiB)",
        "stack config",
    )
    component = estimates.Component(
        f"Node share ({cores:g} vCPU, {gib:g} GiB requested per pod)",
        "hours",
        pods * catalogs.HOURS_PER_MONTH,
        price,
    )
    return estimates.ResourceCost(item.name, item.type, "priced", (component,))


def _policy_ranges(
    items: Sequence[estimates.Item], costs: Costs, given: Inputs, on_aws: bool
) -> dict[tuple[str, str], estimates.ResourceCost]:
    found = {}
    for item in items:
        if item.type != POLICY_TYPE:
            continue
        part = _policy_range(item, items, costs, given, on_aws)
        if part is not None:
            note = costs[(item.type, item.name)].note
            found[(item.type, item.name)] = estimates.ResourceCost(
                item.name, item.type, "free", note=note, ranges=(part,)
            )
    return found


def _policy_range(
    policy: estimates.Item,
    items: Sequence[estimates.Item],
    costs: Costs,
    given: Inputs,
    on_aws: bool,
) -> estimates.Range | None:
    spec = policy.inputs.get("spec") or {}
    target = spec.get("targetRef") or {}
    low, high = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
    if target.get("kind") == "RDSReadReplicas":
        replicas = [
            i for i in items if i.type == RDS_TYPE and i.inputs.get("replicateSourceDb") == target.get("name")
        ]
        priced = [costs[(RDS_TYPE, i.name)] for i in replicas if costs[(RDS_TYPE, i.name)].status == "priced"]
        if not priced:
            return None
        unit, planned, what, in_total = priced[0].monthly_cost, float(len(replicas)), "read replicas", True
    else:
        workload = next(
            (i for i in items if i.type in WORKLOAD_TYPES and _named(i) == target.get("name")), None
        )
        if workload is None or (pod := _pod_monthly(workload, items, costs, given, on_aws)) is None:
            return None
        unit, planned = pod
        what, in_total = "worker pods (node share)", not on_aws
    expected, basis = given.expected.get(policy.name, (planned, "the plan"))
    return estimates.Range(what, low, high, expected, planned if in_total else 0.0, unit, basis, in_total)


def _named(item: estimates.Item) -> Any:
    return (item.inputs.get("metadata") or {}).get("name")


def _pod_monthly(
    workload: estimates.Item,
    items: Sequence[estimates.Item],
    costs: Costs,
    given: Inputs,
    on_aws: bool,
) -> tuple[float, float] | None:
    """(one pod's monthly node share, the pods the plan runs) for the workload a policy scales."""
    request = _pod_request(workload)
    if request is None:
        return None
    pods, cores, gib = request
    if not on_aws:
        cost = costs[(workload.type, workload.name)]
        return (cost.monthly_cost / pods, pods) if cost.status == "priced" and pods else None
    groups = [i for i in items if i.type == NODE_GROUP_TYPE]
    # The pods land on the node group named after them if there is one (prod's `workers`), else the first.
    named = [g for g in groups if str(g.inputs.get("nodeGroupName", g.name)).endswith(str(_named(workload)))]
    if (
        not (named or groups)
        or costs[(NODE_GROUP_TYPE, (group := (named or groups)[0]).name)].status != "priced"
    ):
        return None
    instance = (group.inputs.get("instanceTypes") or ["t3.medium"])[0]
    size = INSTANCE_SIZES.get(instance)
    price = given.catalog.get(given.region, "AmazonEC2", f"instance:{instance}")
    if size is None or price is None:
        return None
    node = shares.NodePrice(price.usd, *size)
    return node.pod_hourly(cores, gib) * catalogs.HOURS_PER_MONTH, pods


def _dedicated_nodes(
    items: Sequence[estimates.Item], costs: Costs, given: Inputs
) -> dict[tuple[str, str], estimates.ResourceCost]:
    found = {}
    for policy in (i for i in items if i.type == POLICY_TYPE and i.name in given.expected):
        target = ((policy.inputs.get("spec") or {}).get("targetRef") or {}).get("name")
        workload = next((i for i in items if i.type in WORKLOAD_TYPES and _named(i) == target), None)
        request = _pod_request(workload) if workload is not None else None
        groups = [
            i
            for i in items
            if i.type == NODE_GROUP_TYPE and str(i.inputs.get("nodeGroupName", i.name)).endswith(f"-{target}")
        ]
        if request is None or len(groups) != 1:
            continue
        group = costs[(NODE_GROUP_TYPE, groups[0].name)]
        size = INSTANCE_SIZES.get((groups[0].inputs.get("instanceTypes") or ["t3.medium"])[0])
        if not group.ranges or size is None:
            continue
        pods, basis = given.expected[policy.name]
        _, cores, gib = request
        needed = math.ceil(pods * max(cores / size[0], gib / size[1]) - 1e-9)
        part = group.ranges[0]
        nodes = float(min(part.max_replicas, max(part.min_replicas, needed)))
        part = dataclasses.replace(part, expected_replicas=nodes, basis=f"{pods:.1f} {target} pods: {basis}")
        found[(NODE_GROUP_TYPE, group.name)] = dataclasses.replace(group, ranges=(part,))
    return found
