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
    ],
)
def test_counts(scale_answer, obj, expected):
    assert kubernetes.counts(scale_answer, obj) == protocol.ReplicaCount(*expected)


def test_an_answer_that_is_not_a_scale_is_an_error():
    obj = {"kind": "WorkerPool", "spec": {"replicas": 3}}
    with pytest.raises(
        protocol.TargetError, match=r"GET /scale answered a WorkerPool, not an autoscaling/v1 Scale"
    ):
        kubernetes.counts(obj, obj)


@pytest.mark.parametrize(
    ("obj", "fields", "expected"),
    [
        ({"spec": {"replicas": 3}, "status": {"readyReplicas": 2}}, ("replicas", "readyReplicas"), (3, 2)),
        ({"spec": {"replicas": 0}, "status": {}}, ("replicas", "readyReplicas"), (0, 0)),
        ({"spec": {}, "status": {}}, ("replicas", "readyReplicas"), (1, 0)),  # the API's default: 1
        (
            {"spec": {"instances": 3}, "status": {"readyInstances": 3}},
            ("instances", "readyInstances"),
            (3, 3),
        ),
    ],
)
def test_counts_of_a_listed_object(obj, fields, expected):
    assert kubernetes.counts_of(obj, fields) == protocol.ReplicaCount(*expected)
