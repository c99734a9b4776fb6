"""The platform's stack config: one pydantic model per `scaleplane:<key>`, validated once at the edge.

Every key and default here is mirrored in Pulumi.yaml (tests/infra/test_config.py holds them equal).
Errors name the key the way `pulumi config set --path` spells it, with the bad value:
`scaleplane:database.readReplicas: must be >= 0, was -1`.

Rule: data and validation only; the one call out is `from_pulumi`, which reads the running program's
config. The models live in one module per role: `fields` (the namespace, `ConfigError`, the base model
and the checked field types), `resources` (what the stack stands up: `cluster`, `database`, `cache`),
`services` (what it runs for itself: `monitoring`, `operator` with its workers, read replicas and
functions), `platforms` (the whole `PlatformConfig`, `cost`, the rules across parts) and `parsing`
(the known keys, `parse`, `from_pulumi`). `resources` and `services` import only `fields`, only
`platforms` imports them, and only `parsing` imports `platforms` (checked by import-linter). Every
name is also here, so the rest of the project reads one vocabulary, `config.X`; the modules inside
this package import each other instead.
"""

from __future__ import annotations

from scaleplane.infra.config.fields import (
    NAMESPACE,
    AppImage,
    ConfigError,
    ConfigModel,
    OperatorImage,
    PromDuration,
    Quantity,
)
from scaleplane.infra.config.parsing import (
    AWS_KEYS,
    KNOWN_NAMESPACES,
    TOP_LEVEL_KEYS,
    from_pulumi,
    parse,
    unknown_keys,
)
from scaleplane.infra.config.platforms import (
    PRODUCTION_ENVIRONMENTS,
    CostConfig,
    NodePriceConfig,
    PlatformConfig,
)
from scaleplane.infra.config.resources import (
    CONTROL_PLANE_LOG_TYPES,
    CacheConfig,
    ClusterConfig,
    DatabaseConfig,
    LogType,
    NodeGroupConfig,
)
from scaleplane.infra.config.services import (
    AlertmanagerConfig,
    FunctionsConfig,
    MonitoringConfig,
    OperatorConfig,
    PolicyDefaults,
    WorkersConfig,
)

__all__ = [
    "AWS_KEYS",
    "CONTROL_PLANE_LOG_TYPES",
    "KNOWN_NAMESPACES",
    "NAMESPACE",
    "PRODUCTION_ENVIRONMENTS",
    "TOP_LEVEL_KEYS",
    "AlertmanagerConfig",
    "AppImage",
    "CacheConfig",
    "ClusterConfig",
    "ConfigError",
    "ConfigModel",
    "CostConfig",
    "DatabaseConfig",
    "FunctionsConfig",
    "LogType",
    "MonitoringConfig",
    "NodeGroupConfig",
    "NodePriceConfig",
    "OperatorConfig",
    "OperatorImage",
    "PlatformConfig",
    "PolicyDefaults",
    "PromDuration",
    "Quantity",
    "WorkersConfig",
    "from_pulumi",
    "parse",
    "unknown_keys",
]
