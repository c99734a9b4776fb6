"""`kind: Function` documents in the policy files: parsed, checked, and turned into pools' policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaleplane.local import platform, policyfiles
from scaleplane.local.pools import functionhome

FUNCTION = """
apiVersion: scaleplane.io/v1alpha1
kind: Function
metadata: {name: hello, namespace: demo}
spec: {handler: hello.py:main, concurrency: 3, maxReplicas: 4, idleSeconds: 20}
"""


def test_a_function_file_gives_a_policy_on_the_gateway_series(tmp_path: Path) -> None:
    (tmp_path / "fn.yaml").write_text(FUNCTION)
    [policy] = platform.load_policies(tmp_path)
    assert policy.name == "fn-demo-hello"
    assert (policy.spec.target_ref.kind, policy.spec.target_ref.name) == ("FunctionPool", "demo.hello")
    [metric] = policy.spec.metrics
    # One selector over both series: `sum(a) + sum(b)` is empty when either side is missing.
    assert metric.query == (
        'sum({__name__=~"scaleplane_gateway_(inflight|queued)_requests",namespace="demo",function="hello"})'
    )
    assert (metric.target.type, metric.target.value, policy.spec.cooldown_seconds) == ("AverageValue", 3, 20)
    [definition] = functionhome.load(tmp_path)
    assert definition.handler_reference == f"{tmp_path.resolve()}/hello.py:main"


def test_a_policy_of_its_own_replaces_the_generated_one(tmp_path: Path) -> None:
    own = """
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {name: hello-by-rate}
spec:
  targetRef: {kind: FunctionPool, name: demo.hello}
  minReplicas: 0
  maxReplicas: 8
  metrics: [{name: rate, query: 'sum(rate(scaleplane_gateway_requests_total[1m]))', target: {value: 5}}]
"""
    (tmp_path / "fn.yaml").write_text(FUNCTION + "---" + own)
    assert [p.name for p in platform.load_policies(tmp_path)] == ["hello-by-rate"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("namespace: demo", "namespace: Demo_1"), "fn.yaml#1: metadata.namespace: must be a DNS label"),
        (("handler: hello.py:main, ", ""), "fn.yaml#1: spec.handler: is required"),
        (
            ("maxReplicas: 4", "maxReplicas: 4, minReplicas: 5"),
            "maxReplicas must be >= minReplicas, was 4 < 5",
        ),
        (
            ("concurrency: 3", "concurrency: 0"),
            "fn.yaml#1: spec.concurrency: Input should be greater than 0, was 0",
        ),
        (("concurrency: 3", "colour: red"), "fn.yaml#1: spec.colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_function_names_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    (tmp_path / "fn.yaml").write_text(FUNCTION.replace(*change))
    with pytest.raises(policyfiles.PolicyFileError) as caught:
        platform.load_policies(tmp_path)
    assert message in str(caught.value)


def test_a_function_pool_policy_must_name_a_declared_function(tmp_path: Path) -> None:
    (tmp_path / "fn.yaml").write_text(FUNCTION)
    (tmp_path / "p.yaml").write_text(
        "apiVersion: scaleplane.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: other}\n"
        "spec: {targetRef: {kind: FunctionPool, name: demo.nope}, maxReplicas: 2, "
        "metrics: [{name: m, query: up, target: {value: 1}}]}\n"
    )
    with pytest.raises(
        policyfiles.PolicyFileError, match=r"'demo.nope': no `kind: Function` .* declared: demo.hello"
    ):
        platform.load_policies(tmp_path)


def test_a_function_declared_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fn.yaml").write_text(FUNCTION + "---" + FUNCTION)
    with pytest.raises(policyfiles.PolicyFileError, match="declared twice: demo/hello"):
        platform.load_policies(tmp_path)


def test_the_example_functions_load() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "functions"
    assert [p.name for p in platform.load_policies(examples)] == ["fn-demo-greeter", "fn-demo-hello"]
