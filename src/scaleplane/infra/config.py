"""The platform's stack config: one pydantic model per `scaleplane:<key>`, validated once at the edge.

Every key and default here is mirrored in Pulumi.yaml (tests/infra/test_config.py holds them equal).
Errors name the key the way `pulumi config set --path` spells it, with the bad value:
`scaleplane:database.readReplicas: must be >= 0, was -1`.

Settings left at `None` ("auto") follow the environment: production environments get Multi-AZ and
deletion protection, others do not, so a dev stack stays cheap and disposable without extra keys.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from scaleplane import images
from scaleplane.inputs import durations, quantities
from scaleplane.inputs import problems as input_problems
from scaleplane.observability import objectives

NAMESPACE = "scaleplane"
PRODUCTION_ENVIRONMENTS = frozenset({"prod", "production"})
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
CONTROL_PLANE_LOG_TYPES: tuple[LogType, ...] = (
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
)


class ConfigError(pulumi.RunError, ValueError):
    """Invalid stack config. `problems` holds one line per bad key: `scaleplane:key.path: what, was VALUE`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _duration(text: str) -> str:
    durations.seconds(text)  # a DurationError is a ValueError: pydantic reports it on the key
    return text


def _image(text: str) -> str:
    return images.check(text) if text else text  # empty: the default image


def _app_image(text: str) -> str:
    # The user's own image: a reference the kubelet can pull; a moving tag is their choice.
    return images.check(text, pinned=False, example="registry.example.com/team/app") if text else text


Quantity = Annotated[str, AfterValidator(quantities.check)]  # Kubernetes' `250m`, `256Mi`, `20Gi`
PromDuration = Annotated[str, AfterValidator(_duration)]  # Prometheus' `15d`, `2w`, `1h30m`


class ConfigModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class NodeGroupConfig(ConfigModel):
    name: Annotated[str, Field(min_length=1, max_length=38, pattern=r"^[a-z0-9-]+$")] = "general"
    instance_types: Annotated[tuple[str, ...], Field(min_length=1)] = ("m6i.large",)
    min_size: Annotated[int, Field(ge=1)] = 2
    desired_size: Annotated[int, Field(ge=1)] = 3
    max_size: Annotated[int, Field(ge=1)] = 6
    disk_size_gib: Annotated[int, Field(ge=20)] = 50

    @model_validator(mode="after")
    def _sizes_ordered(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"needs minSize <= desiredSize <= maxSize, was {self.min_size}, "
                f"{self.desired_size}, {self.max_size}"
            )
        return self


class ClusterConfig(ConfigModel):
    # AWS (EKS)
    version: str = "1.31"
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: tuple[str, ...] = ()  # empty: the region's first three available zones
    endpoint_public_access: bool = False
    public_access_cidrs: tuple[str, ...] = ()
    log_types: tuple[LogType, ...] = CONTROL_PLANE_LOG_TYPES
    log_retention_days: Annotated[int, Field(ge=1)] = 90
    node_groups: Annotated[tuple[NodeGroupConfig, ...], Field(min_length=1)] = (NodeGroupConfig(),)
    # Kubernetes (an existing cluster)
    kubeconfig: str = ""  # a path or the kubeconfig itself; empty: $KUBECONFIG or ~/.kube/config
    context: str = ""

    @model_validator(mode="after")
    def _public_endpoint_needs_cidrs(self) -> ClusterConfig:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError("endpointPublicAccess needs publicAccessCidrs (never 0.0.0.0/0 by default)")
        return self


class DatabaseConfig(ConfigModel):
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9-]*$")] = "app"
    engine_version: str = "16.4"
    # AWS: "postgres" (RDS, read replicas of a primary) or "aurora-postgresql" (a cluster and readers)
    engine: Literal["postgres", "aurora-postgresql"] = "postgres"
    read_replicas: Annotated[int, Field(ge=0, le=15)] = 1
    instance_class: str = "db.t4g.medium"
    allocated_storage_gib: Annotated[int, Field(ge=20)] = 50
    max_allocated_storage_gib: Annotated[int, Field(ge=20)] = 200
    storage_encrypted: bool = True
    publicly_accessible: bool = False
    backup_retention_days: Annotated[int, Field(ge=0, le=35)] = 7
    multi_az: bool | None = None  # None: on in production
    deletion_protection: bool | None = None  # None: on in production
    storage_size: Quantity = "20Gi"  # Kubernetes: each CloudNativePG instance's volume
    operator_chart_version: str = "0.23.0"  # Kubernetes: the cloudnative-pg Helm chart
    namespace: str = "data"  # Kubernetes


class CacheConfig(ConfigModel):
    node_type: str = "cache.t4g.small"
    engine_version: str = "7.1"
    replicas: Annotated[int, Field(ge=0, le=5)] = 1
    at_rest_encryption: bool = True
    transit_encryption: bool = True
    auth: bool = True
    automatic_failover: bool = True
    auto_minor_version_upgrade: bool = True
    snapshot_retention_days: Annotated[int, Field(ge=0, le=35)] = 7
    chart_version: str = "20.6.0"  # Kubernetes: the bitnami redis Helm chart
    namespace: str = "data"  # Kubernetes

    @model_validator(mode="after")
    def _failover_needs_a_replica(self) -> CacheConfig:
        if self.automatic_failover and self.replicas < 1:
            raise ValueError("automaticFailover needs replicas >= 1 (nothing to fail over to)")
        return self


class AlertmanagerConfig(ConfigModel):
    """Where Alertmanager sends alerts: one webhook receiver (empty: alerts are kept, sent nowhere)."""

    webhook_url: Annotated[str, Field(pattern=r"^(https?://.+)?$")] = ""
    send_resolved: bool = True
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


class MonitoringConfig(ConfigModel):
    enabled: bool = True
    chart_version: str = "65.1.0"  # kube-prometheus-stack
    retention: PromDuration = "15d"
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


class PolicyDefaults(ConfigModel):
    """The default ScalingPolicy of one target: bounds and the one metric that drives it.

    `query` empty: the query the stack's own exporters answer (scaleplane.infra.exporter_catalogs), held
    at `targetValue` per replica (an AverageValue target, so the query sums over the replicas).
    """

    min_replicas: Annotated[int, Field(ge=0)] = 1
    max_replicas: Annotated[int, Field(ge=1)] = 10
    query: str = ""
    target_value: Annotated[float, Field(gt=0)]


class WorkersConfig(ConfigModel):
    name: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9-]+$")] = "workers"
    namespace: str = "default"
    # set: the platform deploys the workers too; empty: they are deployed elsewhere
    image: Annotated[str, AfterValidator(_app_image)] = ""
    cpu_request: Quantity = "250m"
    memory_request: Quantity = "256Mi"
    # The Celery queue the workers drain: a Redis list of that name in the broker's database `brokerDb`.
    queue: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")] = "celery"
    broker_db: Annotated[int, Field(ge=0, le=15)] = 0
    policy: PolicyDefaults = PolicyDefaults(min_replicas=1, max_replicas=20, target_value=20)


class FunctionsConfig(ConfigModel):
    """`operator.functions`: deploy the function gateway (operator/gateway.yaml) for `namespaces`."""

    enabled: bool = False
    namespaces: Annotated[
        tuple[
            Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")],
            ...,
        ],
        Field(min_length=1),
    ] = ("default",)


class OperatorConfig(ConfigModel):
    enabled: bool = True
    manifests_dir: str = "operator"  # relative to the project root
    # The image the operator, the function gateway and the queue exporter run (a private mirror's,
    # for a cluster that cannot reach ghcr.io); empty: scaleplane.images.OPERATOR.
    image: Annotated[str, AfterValidator(_image)] = ""
    namespace: str = "scaleplane-system"
    max_replicas_ceiling: Annotated[int, Field(ge=1)] = 50
    workers: WorkersConfig = WorkersConfig()
    functions: FunctionsConfig = FunctionsConfig()
    read_replicas: PolicyDefaults = PolicyDefaults(min_replicas=1, max_replicas=5, target_value=500)

    @property
    def image_or_default(self) -> str:
        return self.image or images.OPERATOR


class NodePriceConfig(ConfigModel):
    """What one node of a cluster you already run costs: prices Kubernetes stacks by their requests."""

    hourly_usd: Annotated[float, Field(gt=0)]
    vcpu: Annotated[float, Field(gt=0)]
    memory_gib: Annotated[float, Field(gt=0)]


class CostConfig(ConfigModel):
    """Read by `scaleplane cost` and the budget guardrail, not by the Pulumi program."""

    monthly_budget_usd: Annotated[float, Field(gt=0)] | None = None  # None: no budget rule
    node_price: NodePriceConfig | None = None  # Kubernetes stacks: None leaves their pods unpriced


class PlatformConfig(ConfigModel):
    target: Literal["aws", "kubernetes"] = "kubernetes"
    environment: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9-]+$")] = "dev"
    tags: dict[str, str] = {}
    cluster: ClusterConfig = ClusterConfig()
    database: DatabaseConfig = DatabaseConfig()
    cache: CacheConfig = CacheConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    operator: OperatorConfig = OperatorConfig()
    cost: CostConfig = CostConfig()

    @property
    def production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    @property
    def resource_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries; `environment` always comes from the environment key."""
        return {**self.tags, "environment": self.environment, "managed-by": "scaleplane"}

    @model_validator(mode="after")
    def _policy_bounds(self) -> PlatformConfig:
        ceiling = self.operator.max_replicas_ceiling
        for path, policy in (
            ("operator.workers.policy", self.operator.workers.policy),
            ("operator.readReplicas", self.operator.read_replicas),
        ):
            if policy.max_replicas < policy.min_replicas:
                raise ValueError(
                    f"{path}: maxReplicas must be >= minReplicas, "
                    f"was {policy.max_replicas} < {policy.min_replicas}"
                )
            if policy.max_replicas > ceiling:
                raise ValueError(
                    f"{path}: maxReplicas must be <= operator.maxReplicasCeiling ({ceiling}), "
                    f"was {policy.max_replicas}"
                )
        return self


TOP_LEVEL_KEYS = tuple(field.alias or name for name, field in PlatformConfig.model_fields.items())
# The AWS provider's own config keys (`aws:region`...), as pulumi_aws/config/vars.py reads them
# (tests/infra/test_config.py holds this list equal to the installed provider's).
AWS_KEYS = (
    "accessKey", "allowedAccountIds", "assumeRoleWithWebIdentity", "assumeRoles", "customCaBundle",
    "defaultTags", "ec2MetadataServiceEndpoint", "ec2MetadataServiceEndpointMode", "endpoints",
    "forbiddenAccountIds", "httpProxy", "httpsProxy", "ignoreTags", "insecure", "maxRetries", "noProxy",
    "profile", "region", "retryMode", "s3UsEast1RegionalEndpoint", "s3UsePathStyle", "secretKey",
    "sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation", "skipMetadataApiCheck",
    "skipRegionValidation", "skipRequestingAccountId", "stsRegion", "tagPolicyCompliance", "token",
    "tokenBucketRateLimiterCapacity", "useDualstackEndpoint", "useFipsEndpoint", "userAgents",
)  # fmt: skip
KNOWN_NAMESPACES = {NAMESPACE: TOP_LEVEL_KEYS, "aws": AWS_KEYS}


def unknown_keys(keys: list[str]) -> list[tuple[str, str]]:
    """(key, problem) for each stack-config key no one reads: `scaleplane:databse`, `aws:regoin`.

    Pulumi hands a program only the keys it asks for, so a typo would otherwise plan the default.
    Namespaces of other providers (`kubernetes:`...) are theirs to check.
    """
    found = []
    for key in keys:
        namespace, _, name = key.partition(":")
        known = KNOWN_NAMESPACES.get(namespace)
        if known is not None and name not in known:
            found.append((key, f"{key}: {input_problems.unknown_key(name, known)}"))
    return found


def from_pulumi() -> PlatformConfig:
    """The running program's config (under `pulumi up`, or the offline plan's mocks), every key checked."""
    from pulumi.runtime import config as runtime_config

    given = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    unknown = unknown_keys(sorted(given))
    if unknown:
        raise ConfigError([problem for _, problem in unknown])
    raw = {key: pulumi.Config(NAMESPACE).get(key) for key in TOP_LEVEL_KEYS}
    return parse({key: value for key, value in raw.items() if value is not None})


def parse(raw: dict[str, Any]) -> PlatformConfig:
    """Validate `{key: value}` (keys without the namespace; object values as dicts or JSON text).

    Strict as the rest of scaleplane's inputs: `readReplicas: "2"` or `true` is refused, not coerced.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"{NAMESPACE}:{key}: {input_problems.unknown_key(key, TOP_LEVEL_KEYS)}")
            continue
        values[key] = _decode(key, value, problems)
    if problems:
        raise ConfigError(problems)
    too_big = input_problems.over_int32(values)
    if too_big is not None:
        raise ConfigError([f"{NAMESPACE}:{input_problems.join('', too_big[0])}: must be at most "
                           f"{input_problems.INT32_MAX}, was {too_big[1]}"])  # fmt: skip
    try:
        parsed: PlatformConfig = input_problems.strict_validate(PlatformConfig, values)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in input_problems.root_causes(exc.errors())]) from None
    return parsed


def _decode(key: str, value: Any, problems: list[str]) -> Any:
    """The CLI hands object values over as JSON text; a stack file or a test may give dicts."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            problems.append(f"{NAMESPACE}:{key}: not valid JSON ({exc.msg}), was {value!r}")
    return value


def _describe(err: Any) -> str:
    loc = [part for part in err["loc"] if part != "function-after"]
    path = input_problems.join("", loc)
    message = input_problems.message(err, PlatformConfig)
    if err["type"] == "value_error" and ":" in message.split(" ")[0]:
        return f"{NAMESPACE}:{message}"  # a cross-field rule that names its own key path
    if err["type"] == "value_error" and not loc:
        return f"{NAMESPACE}: {message}"
    return f"{NAMESPACE}:{path}: {message}"
