"""`Workers`: the queue workers the default ScalingPolicy scales, when the stack deploys them too.

Deployed only when `operator.workers.image` is set; otherwise the workers belong to the application's
own deployment and the policy simply points at them by name. What the guardrails ask of a workload
under autoscaling is built in: resource requests (the scaler's and the scheduler's arithmetic need
them), a pinned image, and a PodDisruptionBudget so a node drain cannot take every worker at once.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from scaleplane.infra import backends, config


class Workers(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:workloads:Workers", name, None, opts)
        settings = platform.operator.workers
        selector = {"app.kubernetes.io/name": settings.name, "app.kubernetes.io/part-of": "scaleplane"}
        labels = {**selector, "environment": platform.environment}
        metadata = {"name": settings.name, "namespace": settings.namespace, "labels": labels}
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=metadata,
            spec={
                "replicas": settings.policy.min_replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "worker",
                                "image": settings.image,
                                "resources": {
                                    "requests": {
                                        "cpu": settings.cpu_request,
                                        "memory": settings.memory_request,
                                    }
                                },
                            }
                        ],
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": "topology.kubernetes.io/zone",
                                "whenUnsatisfiable": "ScheduleAnyway",
                                "labelSelector": {"matchLabels": selector},
                            }
                        ],
                    },
                },
            },
            # The operator owns spec.replicas once it runs; Pulumi must not fight it back on every up.
            opts=backends.child(self, provider=cluster.provider, ignore_changes=["spec.replicas"]),
        )
        self.budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": settings.name, "namespace": settings.namespace, "labels": labels},
            spec={"maxUnavailable": "25%", "selector": {"matchLabels": selector}},
            opts=backends.child(self, provider=cluster.provider),
        )
        self.register_outputs({"deployment": settings.name})
