"""What the stack runs on the cluster for itself: monitoring (`scaleplane:monitoring`) and the scaling
operator (`scaleplane:operator`): the default policies of what it scales (the Celery workers, the
database's read replicas) and the function gateway.

The limits that join two keys of different parts (a policy's `maxReplicas` under the operator's
`maxReplicasCeiling`) are checked on the whole config, in `platforms`, which names both keys.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from scaleplane import images
from scaleplane.infra.config import fields
from scaleplane.observability import objectives


class AlertmanagerConfig(fields.ConfigModel):
    """Where Alertmanager sends alerts: one webhook receiver (empty: alerts are kept, sent nowhere)."""

    webhook_url: Annotated[str, Field(pattern=r"^(https?://.+)?$")] = ""
    send_resolved: bool = True
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


class MonitoringConfig(fields.ConfigModel):
    enabled: bool = True
    chart_version: str = "65.1.0"  # kube-prometheus-stack
    retention: fields.PromDuration = "15d"
    grafana: bool = True
    # Globs, relative to the project root: the generated dashboards and alert rules (dashboards/).
    dashboard_files: tuple[str, ...] = ("dashboards/*.json",)
    rule_files: tuple[str, ...] = ("dashboards/rules/scaleplane.rules.yaml",)
    # The service level objectives whose burn-rate rules the stack deploys (generated at deploy time).
    slos: tuple[objectives.Objective, ...] = objectives.DEFAULTS
    alertmanager: AlertmanagerConfig = AlertmanagerConfig()
    # Set: each alert's runbook_url (runbooks/<alert>.md) becomes this URL + the path, a link that
    # opens from a page, e.g. https://github.com/ORG/REPO/blob/main/ (ends with a slash).
    runbook_base_url: Annotated[str, Field(pattern=r"^(https?://\S+/)?$")] = ""


class PolicyDefaults(fields.ConfigModel):
    """The default ScalingPolicy of one target: bounds and the one metric that drives it.

    `query` empty: the query the stack's own exporters answer (scaleplane.infra.exporter_catalogs), held
    at `targetValue` per replica (an AverageValue target, so the query sums over the replicas).
    """

    min_replicas: Annotated[int, Field(ge=0)] = 1
    max_replicas: Annotated[int, Field(ge=1)] = 10
    query: str = ""
    target_value: Annotated[float, Field(gt=0)]


class WorkersConfig(fields.ConfigModel):
    name: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9-]+$")] = "workers"
    namespace: str = "default"
    # set: the platform deploys the workers too; empty: they are deployed elsewhere
    image: fields.AppImage = ""
    cpu_request: fields.Quantity = "250m"
    memory_request: fields.Quantity = "256Mi"
    # The Celery queue the workers drain: a Redis list of that name in the broker's database `brokerDb`.
    queue: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")] = "celery"
    broker_db: Annotated[int, Field(ge=0, le=15)] = 0
    policy: PolicyDefaults = PolicyDefaults(min_replicas=1, max_replicas=20, target_value=20)


class FunctionsConfig(fields.ConfigModel):
    """`operator.functions`: deploy the function gateway (operator/gateway.yaml) for `namespaces`."""

    enabled: bool = False
    namespaces: Annotated[
        tuple[
            Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")],
            ...,
        ],
        Field(min_length=1),
    ] = ("default",)


class OperatorConfig(fields.ConfigModel):
    enabled: bool = True
    manifests_dir: str = "operator"  # relative to the project root
    # The image the operator, the function gateway and the queue exporter run (a private mirror's,
    # for a cluster that cannot reach ghcr.io); empty: scaleplane.images.OPERATOR.
    image: fields.OperatorImage = ""
    namespace: str = "scaleplane-system"
    max_replicas_ceiling: Annotated[int, Field(ge=1)] = 50
    workers: WorkersConfig = WorkersConfig()
    functions: FunctionsConfig = FunctionsConfig()
    read_replicas: PolicyDefaults = PolicyDefaults(min_replicas=1, max_replicas=5, target_value=500)

    @property
    def image_or_default(self) -> str:
        return self.image or images.OPERATOR
