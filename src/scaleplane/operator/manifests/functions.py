"""The `Function` resource: its spec, and the Deployment, Service and ScalingPolicy built from it.

Pure: bodies in, bodies out. The kopf handlers (`operator.wiring.handlers`) adopt and apply them.

What a Function scales on. By default, concurrency as the function gateway sees it: every gateway
replica exports per function (labels namespace, function)

    scaleplane_gateway_inflight_requests    calls forwarded, not answered yet
    scaleplane_gateway_queued_requests      calls waiting for an instance (at zero too)

and the policy holds their sum over all gateway replicas (`functions.instruments.concurrency_query`)
at `concurrency` per replica, so with `concurrency: 10` and 35 calls in flight or queued it asks for 4
replicas. With `metric: rate` it is `sum(rate(scaleplane_function_requests_total{...}[1m]))`, the
runtime's own counter per pod (Prometheus attaches `namespace` and `function`), against `rateTarget`
requests per second per replica. `minReplicas: 0` lets an idle function go to zero `idleSeconds`
after its last request (the policy's cooldown). Calls reach a Function through the function gateway
(operator/gateway.yaml, scaleplane.functions): at zero it holds the call and annotates the Function,
and operator.wiring.waking scales the Deployment from zero at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from scaleplane import images
from scaleplane.functions import instruments
from scaleplane.inputs import problems as input_problems
from scaleplane.scaling import specs

GROUP_LABEL = "scaleplane.io/function-group"
FUNCTION_LABEL = "scaleplane.io/function"
INFLIGHT_METRIC = "scaleplane_gateway_inflight_requests"  # what the default query reads (with queued)
REQUESTS_METRIC = "scaleplane_function_requests_total"
SERVICE_PORT = 80
RUNTIME_IMAGE = images.OPERATOR  # has scaleplane, so functions.hosting; operator/Dockerfile
SOURCE_MOUNT = "/function"


class EnvVar(specs.SpecModel):
    name: Annotated[str, Field(min_length=1, pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")]
    value: str = ""


class FunctionSource(specs.SpecModel):
    """A handler's source in a ConfigMap: `key` of ConfigMap `configMap` is the handler file.

    `version` (any string) goes into the pods' template: change it with the ConfigMap to roll the
    instances onto the new code (a ConfigMap edit alone does not restart pods)."""

    config_map: Annotated[str, Field(min_length=1, max_length=253)]
    key: Annotated[str, Field(min_length=1, pattern=r"^[-._a-zA-Z0-9]+\.py$")] = "handler.py"
    function: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = "main"
    version: str = ""


class FunctionSpec(specs.SpecModel):
    """A container image that serves HTTP on `port`, scaled on requests in flight (or per second).

    With `source`, no image build is needed: the base runtime image (`image`, by default the
    operator's own image, which has scaleplane) runs `python -m scaleplane.functions.hosting` on the
    handler file mounted from the ConfigMap."""

    image: Annotated[str, Field(min_length=1)] | None = None
    source: FunctionSource | None = None
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    port: Annotated[int, specs.Range(1, 65535)] = 8080
    concurrency: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 10.0
    metric: Literal["concurrency", "rate"] = "concurrency"
    rate_target: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    min_replicas: Annotated[int, Field(ge=0)] = 0
    max_replicas: Annotated[int, Field(ge=1)] = 10
    idle_seconds: Annotated[int, specs.Range(0, 86400)] = 300
    scale_down_window_seconds: Annotated[int, specs.Range(0, specs.MAX_STABILIZATION_SECONDS)] = 60
    group: (
        Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")] | None
    ) = None

    @model_validator(mode="after")
    def _consistent(self) -> FunctionSpec:
        if self.image is None and self.source is None:
            raise ValueError("image is required unless source (a handler in a ConfigMap) is set")
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"maxReplicas must be >= minReplicas, was {self.max_replicas} < {self.min_replicas}"
            )
        if self.metric == "rate" and self.rate_target is None:
            raise ValueError("metric 'rate' needs rateTarget (requests per second per replica)")
        return self


def parse_function(data: Any) -> FunctionSpec:
    """Validate a Function's spec; errors name the field and the value, like `specs.parse_policy`."""
    if not isinstance(data, dict):
        raise specs.PolicyError([f"spec: must be a mapping, was {input_problems.describe_value(data)}"])
    try:
        spec: FunctionSpec = input_problems.strict_validate(FunctionSpec, data)
    except ValidationError as exc:
        causes = input_problems.root_causes(exc.errors())
        raise specs.PolicyError(
            [specs.describe_error("spec", err, FunctionSpec) for err in causes],
            [tuple(err["loc"]) for err in causes],
        ) from None
    return spec


def labels(name: str, spec: FunctionSpec) -> dict[str, str]:
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/managed-by": "scaleplane",
        FUNCTION_LABEL: name,
    }
    if spec.group:
        result[GROUP_LABEL] = spec.group
    return result


def deployment(
    name: str, namespace: str, spec: FunctionSpec, *, runtime_image: str = RUNTIME_IMAGE
) -> dict[str, Any]:
    """The Deployment. Its `replicas` is only the starting count: the ScalingPolicy owns it after.

    `runtime_image` runs a Function without an image of its own (SCALEPLANE_FUNCTION_RUNTIME_IMAGE).
    """
    container: dict[str, Any] = {
        "name": "function",
        "image": spec.image or runtime_image,
        "ports": [{"name": "http", "containerPort": spec.port}],
        "env": [{"name": e.name, "value": e.value} for e in spec.env],
    }
    if spec.command:
        container["command"] = list(spec.command)
    if spec.args:
        container["args"] = list(spec.args)
    pod: dict[str, Any] = {"containers": [container]}
    template_meta: dict[str, Any] = {"labels": labels(name, spec)}
    if spec.source is not None:
        _run_source(container, pod, template_meta, name, namespace, spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name, spec)},
        "spec": {
            "replicas": spec.min_replicas,
            "selector": {"matchLabels": {FUNCTION_LABEL: name}},
            "template": {"metadata": template_meta, "spec": pod},
        },
    }


def _run_source(
    container: dict[str, Any],
    pod: dict[str, Any],
    meta: dict[str, Any],
    name: str,
    namespace: str,
    spec: FunctionSpec,
) -> None:
    """The base runtime around a handler from a ConfigMap: hosting's command, the mount, its probes."""
    source = spec.source
    assert source is not None
    container["command"] = ["python", "-m", "scaleplane.functions.hosting"]
    container["args"] = [
        "--handler", f"{SOURCE_MOUNT}/{source.key}:{source.function}", "--port", str(spec.port),
        "--host", "0.0.0.0", "--namespace", namespace, "--name", name, *spec.args,
    ]  # fmt: skip
    container["volumeMounts"] = [{"name": "source", "mountPath": SOURCE_MOUNT, "readOnly": True}]
    container["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1}
    container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    pod["volumes"] = [
        {
            "name": "source",
            "configMap": {"name": source.config_map, "items": [{"key": source.key, "path": source.key}]},
        }
    ]
    if source.version:
        meta["annotations"] = {"scaleplane.io/source-version": source.version}


def template_patch(name: str, spec: FunctionSpec, *, runtime_image: str = RUNTIME_IMAGE) -> dict[str, Any]:
    """What an update of the Function changes in its Deployment: everything but `replicas`."""
    body = deployment(name, "", spec, runtime_image=runtime_image)
    return {
        "metadata": {"labels": body["metadata"]["labels"]},
        "spec": {"template": body["spec"]["template"]},
    }


def service(name: str, namespace: str, spec: FunctionSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name, spec)},
        "spec": {
            "selector": {FUNCTION_LABEL: name},
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": spec.port, "protocol": "TCP"}],
        },
    }


def query(name: str, namespace: str, spec: FunctionSpec) -> str:
    selector = f'{{namespace="{namespace}",function="{name}"}}'
    if spec.metric == "rate":
        return f"sum(rate({REQUESTS_METRIC}{selector}[1m]))"
    # The gateway's series, summed over its replicas: calls queued at the gateway count too, so a
    # function scales past one replica (and out of zero) on demand its pods cannot see yet.
    return instruments.concurrency_query(namespace, name)


def policy_spec(name: str, namespace: str, spec: FunctionSpec) -> dict[str, Any]:
    """The ScalingPolicy's spec (camelCase, as stored); validated by `specs.parse_policy` in the tests."""
    target = spec.rate_target if spec.metric == "rate" else spec.concurrency
    return {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": spec.min_replicas,
        "maxReplicas": spec.max_replicas,
        "metrics": [
            {
                "name": spec.metric,
                "query": query(name, namespace, spec),
                "target": {"type": "AverageValue", "value": target},
                "activationThreshold": 0.0,
            }
        ],
        "cooldownSeconds": spec.idle_seconds,
        "behavior": {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "policies": [
                    {"type": "Percent", "value": 100, "periodSeconds": 15},
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                ],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": spec.scale_down_window_seconds,
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            },
        },
    }


def scaling_policy(name: str, namespace: str, spec: FunctionSpec) -> dict[str, Any]:
    return {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "ScalingPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name, spec)},
        "spec": policy_spec(name, namespace, spec),
    }
