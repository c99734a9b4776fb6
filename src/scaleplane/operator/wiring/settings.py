"""The operator's configuration: environment variables, validated once at start-up.

    SCALEPLANE_PROMETHEUS_URL    Prometheus to query                      http://prometheus:9090
    SCALEPLANE_TICK_SECONDS      seconds between two ticks of the loop    15
    SCALEPLANE_BATCH_QUERIES     "true": same-shaped queries go to         true
                                 Prometheus as one exact `sum by (label)` query (docs/control-loop.md);
                                 "false": one request per distinct query
    SCALEPLANE_TARGET_TIMEOUT    seconds one /scale call may take          10
    SCALEPLANE_CPU_RATE_SECONDS  window of the cAdvisor CPU rate that       60
                                 Resource cpu metrics read (metrics.pods)
    SCALEPLANE_METRICS_ADDR      host:port of the operator's /metrics     0.0.0.0:9108 ("" = off)
    SCALEPLANE_FUNCTIONS         "false": no Function resource (no         true
                                 handlers, no RBAC for them: operator.manifests.permissions)
    SCALEPLANE_FUNCTION_RUNTIME_IMAGE  the image a Function with a        scaleplane.images.OPERATOR
                                 `source` (no image of its own) runs; the stack sets it to
                                 `operator.image` (a registry mirror's). Pinned: a tag or a digest
    SCALEPLANE_HOOKS             JSON list of outbound hooks, each         []
                                 {"url": ..., "secret": ... | "secretEnv": NAME, "timeout": 2, "retries": 3}
                                 a hook whose secret is missing, empty, or whose secretEnv is unset
                                 is refused at start (an unsigned hook is never sent)
    SCALEPLANE_HOOK_QUEUE        events waiting per hook at most           1000
    SCALEPLANE_STATUS_HEARTBEAT_SECONDS                                    180
                                 a policy's status is written when something a user reads changed
                                 (counts, reason, conditions, error), else at most this often
    SCALEPLANE_LEASE             "true": only the Lease holder actuates     true
    SCALEPLANE_LEASE_NAME        the coordination.k8s.io Lease's name      scaleplane-operator
    SCALEPLANE_LEASE_NAMESPACE   its namespace (else POD_NAMESPACE)         scaleplane-system
    SCALEPLANE_LEASE_SECONDS     how long a holder's claim lasts           15
    SCALEPLANE_RENEW_DEADLINE_SECONDS  a holder that could not renew     2/3 of the lease (10)
                                 for this long stops actuating
    SCALEPLANE_RETRY_SECONDS     how often a replica tries to acquire or   2/15 of the lease (2)
                                 renew (operator.loop.leasing)
    SCALEPLANE_IDENTITY          this replica's name in the Lease          POD_NAME or host-pid
    SCALEPLANE_AWS_REGION        region of the RDS/Aurora targets          "" (boto3's: AWS_REGION)
    SCALEPLANE_RDS_MAX_LAG_SECONDS  a replica/reader whose CloudWatch       30
                                 replica lag is above this is not ready (not counted, not served)
    SCALEPLANE_RDS_INSTANCE_CLASS   class of new replicas/readers           "" (the source's / writer's)
                                 AWS credentials come from boto3's chain (IRSA in EKS: docs/operator.md)

A bad value stops the operator at start with a message naming the variable and the value.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scaleplane import images
from scaleplane.functions import announcing
from scaleplane.operator.loop import leasing
from scaleplane.operator.manifests import permissions


class SettingsError(ValueError):
    pass


class OperatorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prometheus_url: Annotated[str, Field(pattern=r"^https?://")] = "http://prometheus:9090"
    tick_seconds: Annotated[float, Field(gt=0, le=3600)] = 15.0
    # On by default: at 10,000 policies one request per query takes ~60 s of a 15 s tick on 2 cores
    # (docs/benchmarks.md, "Operator loop at scale"); batching only merges shapes whose answer is exact.
    batch_queries: bool = True
    target_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    cpu_rate_seconds: Annotated[int, Field(ge=2, le=3600)] = 60
    metrics_addr: str = "0.0.0.0:9108"
    functions: bool = True
    hooks: tuple[announcing.Hook, ...] = ()
    hook_queue: Annotated[int, Field(ge=1)] = 1000
    status_heartbeat_seconds: Annotated[float, Field(ge=0, le=3600)] = 180.0
    lease: bool = True
    # A source-only Function runs the operator's own image (it has scaleplane.functions.hosting): a
    # cluster that pulls the operator from a mirror must pull its functions from there too.
    function_runtime_image: str = images.OPERATOR
    lease_name: str = permissions.NAME  # the Lease operator/rbac.yaml lets the operator write
    # Outside a pod (no POD_NAMESPACE) the Lease is the installed operators' one, so that a replica
    # run from a laptop waits for it instead of electing itself leader in a namespace of its own.
    lease_namespace: str = permissions.INSTALL_NAMESPACE
    lease_seconds: Annotated[float, Field(gt=0, le=600)] = 15.0
    renew_deadline_seconds: Annotated[float, Field(gt=0, le=600)] | None = None
    retry_seconds: Annotated[float, Field(gt=0, le=600)] | None = None
    identity: Annotated[str, Field(min_length=1)] = Field(default_factory=lambda: default_identity())
    # One operator, one AWS account and region: these are the platform's, not a policy's (the public
    # TargetRef stays apiVersion/kind/name), so a team cannot point its policy at another region.
    aws_region: Annotated[str, Field(pattern=r"^([a-z]{2}(-[a-z]+)+-\d)?$")] = ""
    rds_max_lag_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    rds_instance_class: Annotated[str, Field(pattern=r"^(db\.[a-z0-9]+\.[a-z0-9]+)?$")] = ""

    @field_validator("function_runtime_image")
    @classmethod
    def _pullable(cls, value: str) -> str:
        return images.check(value)

    @field_validator("metrics_addr")
    @classmethod
    def _addr(cls, value: str) -> str:
        if value:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ValueError("must be host:port (port 0..65535) or empty")
        return value

    def lease_timing(self) -> leasing.Timing:
        """client-go's shape (15 s / 10 s / 2 s) scaled to the lease when the other two are not given."""
        return leasing.Timing(
            lease=self.lease_seconds,
            renew_deadline=self.renew_deadline_seconds or self.lease_seconds * 2 / 3,
            retry=self.retry_seconds or self.lease_seconds * 2 / 15,
        )

    def metrics_host_port(self) -> tuple[str, int] | None:
        if not self.metrics_addr:
            return None
        host, _, port = self.metrics_addr.rpartition(":")
        return host, int(port)

    def hook_keys(self, environ: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
        """Each hook's signing key, in order; SettingsError naming the first hook without one."""
        try:
            return announcing.signing_keys(self.hooks, environ)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None


def functions_enabled(environ: Mapping[str, str]) -> bool:
    """SCALEPLANE_FUNCTIONS as the handlers read it at import (the CLI validates the value first)."""
    return environ.get("SCALEPLANE_FUNCTIONS", "true").strip().lower() not in ("false", "0", "no", "off")


def default_identity() -> str:
    """Host, pid and a random tail: unique even for two operators in one process (the tests)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


ENV = {
    "function_runtime_image": "SCALEPLANE_FUNCTION_RUNTIME_IMAGE",
    "prometheus_url": "SCALEPLANE_PROMETHEUS_URL",
    "tick_seconds": "SCALEPLANE_TICK_SECONDS",
    "batch_queries": "SCALEPLANE_BATCH_QUERIES",
    "target_timeout": "SCALEPLANE_TARGET_TIMEOUT",
    "cpu_rate_seconds": "SCALEPLANE_CPU_RATE_SECONDS",
    "metrics_addr": "SCALEPLANE_METRICS_ADDR",
    "functions": "SCALEPLANE_FUNCTIONS",
    "hooks": "SCALEPLANE_HOOKS",
    "hook_queue": "SCALEPLANE_HOOK_QUEUE",
    "status_heartbeat_seconds": "SCALEPLANE_STATUS_HEARTBEAT_SECONDS",
    "lease": "SCALEPLANE_LEASE",
    "lease_name": "SCALEPLANE_LEASE_NAME",
    "lease_namespace": "SCALEPLANE_LEASE_NAMESPACE",
    "lease_seconds": "SCALEPLANE_LEASE_SECONDS",
    "renew_deadline_seconds": "SCALEPLANE_RENEW_DEADLINE_SECONDS",
    "retry_seconds": "SCALEPLANE_RETRY_SECONDS",
    "identity": "SCALEPLANE_IDENTITY",
    "aws_region": "SCALEPLANE_AWS_REGION",
    "rds_max_lag_seconds": "SCALEPLANE_RDS_MAX_LAG_SECONDS",
    "rds_instance_class": "SCALEPLANE_RDS_INSTANCE_CLASS",
}


def from_env(environ: Mapping[str, str] | None = None) -> OperatorSettings:
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field, var in ENV.items():
        if var in env:
            values[field] = env[var]
    if "lease_namespace" not in values and env.get("POD_NAMESPACE"):
        values["lease_namespace"] = env["POD_NAMESPACE"]
    if "identity" not in values and env.get("POD_NAME"):
        values["identity"] = env["POD_NAME"]
    if "hooks" in values:
        try:
            values["hooks"] = json.loads(str(values["hooks"]))
        except ValueError as exc:
            raise SettingsError(f"SCALEPLANE_HOOKS: not JSON ({exc}), was {values['hooks']!r}") from None
    try:
        config = OperatorSettings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            var = ENV.get(str(err["loc"][0]), str(err["loc"][0]))
            where = var + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"][1:])
            problems.append(f"{where}: {err['msg']}, was {err.get('input')!r}")
        raise SettingsError("; ".join(problems)) from None
    config.hook_keys(env)  # a hook without a key is refused here, at start, with the reason
    try:
        config.lease_timing()
    except ValueError as exc:
        names = "SCALEPLANE_LEASE_SECONDS, SCALEPLANE_RENEW_DEADLINE_SECONDS, SCALEPLANE_RETRY_SECONDS"
        raise SettingsError(f"{names}: {exc}") from None
    return config
