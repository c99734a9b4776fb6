"""targets.kubernetes.counts: replica counts from every shape a /scale read can take."""

from __future__ import annotations

import pytest

from scaleplane.targets import kubernetes, protocol


def scale(replicas=None, observed=None):
    spec = {} if replicas is None else {"replicas": replicas}
    status = {} if observed is None else {"replicas": observed}
    return {"kind": "Scale", "spec": spec, "status": status}


@pytest.mark.parametrize(
    ("scale_answer", "obj", "expected"),
    [
        (scale(3, 3), {"kind": "Deployment", "status": {"readyReplicas": 2}}, (3, 2)),
        (scale(3, 3), {"kind": "Deployment", "status": {}}, (3, 0)),  # zero fields are omitted
        (scale(None, 0), {"kind": "StatefulSet", "status": {}}, (0, 0)),  # a Scale omits replicas: 0
        (scale(4, 4), {"kind": "Cluster", "status": {"readyInstances": 3}}, (4, 3)),
        (
            scale(5, 4),
            {"kind": "WorkerPool", "status": {"phase": "Running"}},
            (5, 4),
        ),  # no readiness: observed
        (
            {"kind": "Deployment", "spec": {"replicas": 2}, "status": {"readyReplicas": 1}},
            {"kind": "Deployment", "spec": {"replicas": 2}, "status": {"readyReplicas": 1}},
            (2, 1),
        ),
        (
            {"kind": "Cluster", "spec": {"instances": 3}, "status": {}},
            {"kind": "Cluster", "spec": {"instances": 3}, "status": {}},
            (3, 0),
        ),
    ],
)
def test_counts(scale_answer, obj, expected):
    assert kubernetes.counts(scale_answer, obj) == protocol.ReplicaCount(*expected)


def test_a_whole_object_without_a_replica_field_is_an_error():
    obj = {"kind": "WorkerPool", "spec": {"size": 3}}
    with pytest.raises(
        protocol.TargetError, match=r"WorkerPool has neither spec\.replicas nor spec\.instances"
    ):
        kubernetes.counts(obj, obj)


def test_non_integer_counts_are_an_error():
    with pytest.raises(protocol.TargetError, match="not integers"):
        kubernetes.counts(scale("3", 3), {"kind": "Deployment", "status": {}})
