"""The AWS example stacks planned under mocks: what must hold for the platform to be right and safe."""

from __future__ import annotations

import json

import pytest

from scaleplane.infra import mocking, planning
from tests.support import planned_stacks

RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
EKS = "aws:eks/cluster:Cluster"


@pytest.fixture(scope="module")
def prod() -> planning.Plan:
    return planned_stacks.planned("aws-prod")


@pytest.fixture(scope="module")
def dev() -> planning.Plan:
    return planned_stacks.planned("aws-dev")


def _primary_and_replicas(
    plan: planning.Plan,
) -> tuple[mocking.PlannedResource, list[mocking.PlannedResource]]:
    instances = plan.by_type(RDS)
    primaries = [db for db in instances if "replicateSourceDb" not in db.inputs]
    assert len(primaries) == 1
    return primaries[0], [db for db in instances if "replicateSourceDb" in db.inputs]


def test_prod_has_two_read_replicas_of_the_primary_in_the_other_zones(prod: planning.Plan) -> None:
    primary, replicas = _primary_and_replicas(prod)
    assert len(replicas) == 2
    assert {r.inputs["replicateSourceDb"] for r in replicas} == {primary.inputs["identifier"]}
    assert primary.inputs["multiAz"] is True and "availabilityZone" not in primary.inputs
    assert sorted(r.inputs["availabilityZone"] for r in replicas) == ["us-east-1b", "us-east-1c"]


def test_replica_count_and_spread_follow_config() -> None:
    plan = planned_stacks.planned("aws-dev", {"database": {"readReplicas": 4}})
    primary, replicas = _primary_and_replicas(plan)
    assert len(replicas) == 4
    zones = [primary.inputs["availabilityZone"]] + [r.inputs["availabilityZone"] for r in replicas]
    assert sorted(set(zones)) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert max(zones.count(zone) for zone in set(zones)) - min(zones.count(zone) for zone in set(zones)) <= 1


def test_every_database_is_encrypted_private_and_backed_up(prod: planning.Plan) -> None:
    primary, replicas = _primary_and_replicas(prod)
    for db in [primary, *replicas]:
        assert db.inputs["storageEncrypted"] is True
        assert db.inputs["kmsKeyId"].startswith("arn:aws:kms:")
        assert db.inputs["publiclyAccessible"] is False
        assert db.inputs["deletionProtection"] is True
    assert primary.inputs["backupRetentionPeriod"] == 14
    assert primary.inputs["manageMasterUserPassword"] is True and "password" not in primary.inputs
    assert primary.inputs["tags"]["scaleplane.io/namespace"] == "scaleplane-system"
    params = {
        p["name"]: p["value"]
        for p in prod.by_type("aws:rds/parameterGroup:ParameterGroup")[0].inputs["parameters"]
    }
    assert params["rds.force_ssl"] == "1" and params["hot_standby_feedback"] == "1"


def test_dev_is_single_az_and_disposable(dev: planning.Plan) -> None:
    primary, replicas = _primary_and_replicas(dev)
    assert primary.inputs["multiAz"] is False and primary.inputs["deletionProtection"] is False
    assert len(replicas) == 1
    assert len(dev.by_type("aws:ec2/natGateway:NatGateway")) == 1
    assert primary.inputs["storageEncrypted"] is True  # encryption does not depend on the environment


def test_vpc_spans_three_zones_with_private_subnets_and_a_nat_per_zone_in_prod(prod: planning.Plan) -> None:
    subnets = prod.by_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if "private" in s.name]
    assert sorted(s.inputs["availabilityZone"] for s in private) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets if "public" in s.name)
    assert len(prod.by_type("aws:ec2/natGateway:NatGateway")) == 3


def test_eks_endpoint_is_private_with_encrypted_secrets_and_all_logs(prod: planning.Plan) -> None:
    (cluster,) = prod.by_type(EKS)
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert cluster.inputs["vpcConfig"]["endpointPrivateAccess"] is True
    assert len(cluster.inputs["vpcConfig"]["subnetIds"]) == 3
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.inputs["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert set(cluster.inputs["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    groups = {g.name: g.inputs["scalingConfig"] for g in prod.by_type("aws:eks/nodeGroup:NodeGroup")}
    assert groups["scaleplane-prod-cluster-workers"] == {"minSize": 2, "desiredSize": 3, "maxSize": 30}


def test_public_endpoint_only_to_the_listed_networks() -> None:
    plan = planned_stacks.planned(
        "aws-dev", {"cluster": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}
    )
    (cluster,) = plan.by_type(EKS)
    assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_redis_is_encrypted_authenticated_replicated_and_backed_up(prod: planning.Plan) -> None:
    (group,) = prod.by_type(REDIS)
    inputs = group.inputs
    assert inputs["atRestEncryptionEnabled"] is True and inputs["transitEncryptionEnabled"] is True
    assert "authToken" in group.secrets and inputs["authToken"]
    assert inputs["automaticFailoverEnabled"] is True and inputs["multiAzEnabled"] is True
    assert inputs["numCacheClusters"] == 3
    assert sorted(inputs["preferredCacheClusterAzs"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert inputs["snapshotRetentionLimit"] == 7
    assert inputs["subnetGroupName"] == "scaleplane-prod-cache-subnets"


def test_exports_endpoints_including_every_read_replica_and_a_secret_kubeconfig(prod: planning.Plan) -> None:
    outputs = prod.outputs
    assert outputs["databaseReadEndpoints"] == [
        "scaleplane-prod-db-replica-1.mock.us-east-1.rds.amazonaws.com",
        "scaleplane-prod-db-replica-2.mock.us-east-1.rds.amazonaws.com",
    ]
    assert outputs["databaseWriterEndpoint"].startswith("scaleplane-prod-db-primary.")
    assert outputs["cacheReaderEndpoint"].startswith("replica.")
    assert "kubeconfig" in prod.secret_outputs
    kubeconfig = json.loads(outputs["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:2] == ["eks", "get-token"]


def test_components_parent_their_children_and_prefix_their_names(prod: planning.Plan) -> None:
    by_urn = {r.urn: r for r in prod.resources}
    components = {r.urn: r for r in prod.resources if r.type.startswith("scaleplane:")}
    assert {r.type for r in components.values()} >= {
        "scaleplane:platform:Platform",
        "scaleplane:cluster:Cluster",
        "scaleplane:database:Database",
        "scaleplane:cache:Cache",
        "scaleplane:monitoring:Monitoring",
        "scaleplane:operator:ScalingOperator",
    }
    for resource in prod.resources:
        if resource.type == "scaleplane:platform:Platform":
            continue
        parent = by_urn[resource.parent_urn]
        assert parent.type.startswith("scaleplane:"), resource.name
        assert resource.name.startswith(parent.name), (resource.name, parent.name)


def test_default_scaling_policies_point_at_the_workers_and_the_rds_replicas(prod: planning.Plan) -> None:
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in prod.by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
    }
    assert policies["read-replicas"]["targetRef"] == {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "RDSReadReplicas",
        "name": "scaleplane-prod-db-primary",
    }
    assert (policies["workers"]["minReplicas"], policies["workers"]["maxReplicas"]) == (3, 60)
    assert policies["workers"]["targetRef"]["kind"] == "Deployment"
