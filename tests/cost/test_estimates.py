"""Estimates of the example stacks: what is priced, free or unpriced, usage, ranges, Kubernetes stacks."""

from __future__ import annotations

import pytest

from scaleplane.cost import catalogs, estimates, estimating, infracost, shares, usages
from tests.support import planned_stacks

HOURS = 730


def _estimate(stack: str, overrides: dict[str, object] | None = None, **given: object) -> estimates.Estimate:
    plan = planned_stacks.planned(stack, overrides)
    items = [estimates.Item(r.type, r.name, r.inputs) for r in plan.resources]
    inputs = estimating.Inputs(plan.project, plan.stack, "us-east-1", catalogs.bundled(), **given)  # type: ignore[arg-type]
    return estimating.estimate(items, inputs)


def _resource(estimate: estimates.Estimate, type_: str, name: str) -> estimates.ResourceCost:
    return next(r for r in estimate.resources if r.resource_type == type_ and r.name == name)


def test_prod_prices_each_kind_of_resource_from_the_catalog() -> None:
    estimate = _estimate("aws-prod")
    primary = _resource(estimate, "aws:rds/instance:Instance", "scaleplane-prod-db-primary")
    # db.r6g.large Multi-AZ 0.45 USD/h * 730 h + 200 GB gp3 Multi-AZ at 0.23 USD/GB-month
    assert primary.monthly_cost == pytest.approx(0.45 * HOURS + 200 * 0.23)
    replica = _resource(estimate, "aws:rds/instance:Instance", "scaleplane-prod-db-replica-1")
    assert replica.monthly_cost == pytest.approx(0.225 * HOURS + 200 * 0.115)  # the primary's storage
    cache = _resource(
        estimate, "aws:elasticache/replicationGroup:ReplicationGroup", "scaleplane-prod-cache-redis"
    )
    assert cache.monthly_cost == pytest.approx(3 * 0.206 * HOURS)
    nat = [r for r in estimate.resources if r.resource_type == "aws:ec2/natGateway:NatGateway"]
    assert len(nat) == 3 and all(r.monthly_cost == pytest.approx(0.045 * HOURS) for r in nat)
    eks = _resource(estimate, "aws:eks/cluster:Cluster", "scaleplane-prod-cluster")
    assert eks.monthly_cost == pytest.approx(73.0)
    keys = [r for r in estimate.resources if r.resource_type == "aws:kms/key:Key"]
    assert [r.monthly_cost for r in keys] == [1.0, 1.0]
    assert estimate.with_status("unpriced") == []
    assert estimate.monthly_cost == pytest.approx(sum(r.monthly_cost for r in estimate.resources))


def test_usage_based_parts_are_left_out_until_the_usage_file_gives_them() -> None:
    without = _estimate("aws-prod")
    nat = _resource(without, "aws:ec2/natGateway:NatGateway", "scaleplane-prod-cluster-nat-us-east-1a")
    assert [c.usage_key for c in nat.usage_missing] == ["monthly_data_processed_gb"]
    usage = usages.parse(
        {
            "version": 0.1,
            "resource_usage": {
                "scaleplane-prod-db-primary": {"storage_gb": 400, "additional_backup_storage_gb": 100}
            },
            "resource_type_default_usage": {
                "aws:ec2/natGateway:NatGateway": {"monthly_data_processed_gb": 1000}
            },
        },
        "usage.yml",
    )
    withed = _estimate("aws-prod", usage=usage)
    nat = _resource(withed, "aws:ec2/natGateway:NatGateway", "scaleplane-prod-cluster-nat-us-east-1a")
    assert nat.monthly_cost == pytest.approx(0.045 * HOURS + 1000 * 0.045)
    primary = _resource(withed, "aws:rds/instance:Instance", "scaleplane-prod-db-primary")
    assert primary.monthly_cost == pytest.approx(0.45 * HOURS + 400 * 0.23 + 100 * 0.095)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"resource_usage": {"db": {"storage_gb": -5}}},
            "resource_usage.db.storage_gb: must be a number >= 0, was -5",
        ),
        ({"resource_usage": {"db": {"storage": 5}}}, "resource_usage.db.storage: unknown usage key"),
        ({"resources": {}}, "unknown top-level key 'resources'"),
    ],
)
def test_a_bad_usage_file_names_the_resource_and_the_key(data: object, message: str) -> None:
    with pytest.raises(usages.UsageError) as raised:
        usages.parse(data, "usage.yml")
    assert str(raised.value).startswith("usage.yml: " + message)


def test_a_resource_the_catalog_does_not_know_is_unpriced_never_zero() -> None:
    catalog = catalogs.bundled()
    items = [
        estimates.Item(
            "aws:rds/instance:Instance", "odd", {"engine": "oracle-ee", "instanceClass": "db.r6g.large"}
        ),
        estimates.Item("aws:dynamodb/table:Table", "table", {}),
    ]
    estimate = estimating.estimate(items, estimating.Inputs("p", "s", "eu-north-1", catalog))
    assert [r.status for r in estimate.resources] == ["unpriced", "unpriced"]
    assert (
        "no AmazonRDS price for oracle-ee:db.r6g.large:single-az in eu-north-1" in estimate.resources[0].note
    )
    assert "does not price aws:dynamodb/table:Table" in estimate.resources[1].note
    document = infracost.output(estimate, "2026-12-01T00:00:00Z")
    assert document["projects"][0]["breakdown"]["resources"] == []
    assert document["summary"]["totalUnsupportedResources"] == 2
    assert len(document["projects"][0]["metadata"]["scaleplane"]["unpriced"]) == 2


def test_autoscaled_parts_are_ranges_between_their_bounds() -> None:
    estimate = _estimate("aws-prod")
    parts = {resource.name: part for resource, part in estimate.ranges}
    workers = parts["scaleplane-prod-cluster-workers"]
    assert (workers.min_replicas, workers.expected_replicas, workers.max_replicas) == (2, 3, 30)
    assert workers.unit_monthly_usd == pytest.approx(0.17 * HOURS + 50 * 0.10)
    replicas = parts["scaleplane-prod-operator-read-replicas"]
    assert (replicas.min_replicas, replicas.max_replicas, replicas.planned_replicas) == (2, 5, 2)
    assert replicas.unit_monthly_usd == pytest.approx(0.225 * HOURS + 200 * 0.115)
    pods = parts["scaleplane-prod-operator-workers"]
    assert not pods.in_total  # worker pods run on the priced nodes: a share, never added twice
    low, expected, high = estimate.total_range()
    assert expected == pytest.approx(estimate.monthly_cost)
    assert high - estimate.monthly_cost == pytest.approx(
        (12 - 3) * parts["scaleplane-prod-cluster-general"].unit_monthly_usd
        + (30 - 3) * workers.unit_monthly_usd
        + (5 - 2) * replicas.unit_monthly_usd
    )
    assert low < expected < high


def test_kubernetes_stacks_are_priced_by_node_share_only_when_a_node_price_is_given() -> None:
    unpriced = _estimate("k8s-dev")  # the node price comes from Inputs here, not from the stack file
    workloads = [
        r for r in unpriced.resources if r.resource_type == "kubernetes:postgresql.cnpg.io/v1:Cluster"
    ]
    assert workloads and all(r.status == "unpriced" and "nodePrice" in r.note for r in workloads)
    node = shares.NodePrice(hourly_usd=0.096, vcpu=2, memory_gib=8)
    priced = _estimate("k8s-dev", node_price=node)
    postgres = next(
        r for r in priced.resources if r.resource_type == "kubernetes:postgresql.cnpg.io/v1:Cluster"
    )
    # 2 instances requesting 250m and 512Mi each, at the node's CPU and RAM rates (OpenCost's split)
    assert postgres.monthly_cost == pytest.approx(
        2 * HOURS * (0.25 * node.cpu_hourly + 0.5 * node.ram_hourly)
    )
    assert node.cpu_hourly * 2 + node.ram_hourly * 8 == pytest.approx(0.096)


def test_opencost_split_charges_cpu_and_memory_separately() -> None:
    node = shares.NodePrice(hourly_usd=1.0, vcpu=4, memory_gib=16)
    assert node.pod_hourly(4, 16) == pytest.approx(1.0)
    assert node.pod_hourly(4, 0) / node.pod_hourly(0, 16) == pytest.approx(0.031611 * 4 / (0.004237 * 16))
    assert shares.quantity("250m") == 0.25 and shares.quantity("256Mi") == 256 * 2**20


@pytest.mark.parametrize(("pods", "nodes"), [(100.0, 7), (1.0, 2), (1000.0, 30)])
def test_a_dedicated_node_group_expects_the_nodes_its_expected_pods_request(pods: float, nodes: int) -> None:
    # prod's `workers` node group (c6i.xlarge: 4 vCPU, 8 GiB) hosts the workers (250m, 256Mi each):
    # 100 pods ask 25 cores = 6.25 nodes -> 7; the count stays within minSize 2 .. maxSize 30.
    estimate = _estimate("aws-prod", expected={"scaleplane-prod-operator-workers": (pods, "trace")})
    part = next(p for r, p in estimate.ranges if r.name == "scaleplane-prod-cluster-workers")
    assert part.expected_replicas == nodes and part.basis == f"{pods:.1f} workers pods: trace"
    general = next(p for r, p in estimate.ranges if r.name == "scaleplane-prod-cluster-general")
    assert general.basis == "desiredSize"  # shared with everything else: left at what the plan runs


def test_load_balancers_volumes_and_secrets_are_priced_with_their_usage() -> None:
    items = [
        estimates.Item("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application"}),
        estimates.Item("aws:lb/loadBalancer:LoadBalancer", "nlb", {"loadBalancerType": "network"}),
        estimates.Item("aws:ebs/volume:Volume", "data", {"type": "gp3", "size": 500}),
        estimates.Item("aws:secretsmanager/secret:Secret", "token", {}),
    ]
    usage = usages.parse({"resource_usage": {"alb": {"capacity_units": 2}}}, "u.yml")
    estimate = estimating.estimate(
        items, estimating.Inputs("p", "s", "us-west-2", catalogs.bundled(), usage=usage)
    )
    alb, nlb, volume, token = estimate.resources
    assert alb.monthly_cost == pytest.approx(0.0225 * HOURS + 2 * HOURS * 0.008)
    assert nlb.monthly_cost == pytest.approx(0.0225 * HOURS) and len(nlb.usage_missing) == 1
    assert volume.monthly_cost == pytest.approx(500 * 0.08)
    assert token.monthly_cost == pytest.approx(0.40)
