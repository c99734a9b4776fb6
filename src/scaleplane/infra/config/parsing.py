"""Reading the stack config: Pulumi's `{key: value}` (or a stack file's) into one `PlatformConfig`, every
problem an error that names the key the way `pulumi config set --path` spells it, with the bad value:
`scaleplane:database.readReplicas: must be >= 0, was -1`.

All problems of one reading come back together (one per key, only its root cause), so a user fixes a
stack file in one round rather than one key per `pulumi up`.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pydantic import ValidationError

from scaleplane.infra.config import fields, platforms
from scaleplane.inputs import problems as input_problems

# The keys of `scaleplane:` the program reads, as Pulumi spells them (camelCase).
TOP_LEVEL_KEYS = tuple(field.alias or name for name, field in platforms.PlatformConfig.model_fields.items())
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
KNOWN_NAMESPACES = {fields.NAMESPACE: TOP_LEVEL_KEYS, "aws": AWS_KEYS}


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


def from_pulumi() -> platforms.PlatformConfig:
    """The running program's config (under `pulumi up`, or the offline plan's mocks), every key checked."""
    from pulumi.runtime import config as runtime_config

    given = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    unknown = unknown_keys(sorted(given))
    if unknown:
        raise fields.ConfigError([problem for _, problem in unknown])
    raw = {key: pulumi.Config(fields.NAMESPACE).get(key) for key in TOP_LEVEL_KEYS}
    return parse({key: value for key, value in raw.items() if value is not None})


def parse(raw: dict[str, Any]) -> platforms.PlatformConfig:
    """Validate `{key: value}` (keys without the namespace; object values as dicts or JSON text).

    Strict as the rest of scaleplane's inputs: `readReplicas: "2"` or `true` is refused, not coerced.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"{fields.NAMESPACE}:{key}: {input_problems.unknown_key(key, TOP_LEVEL_KEYS)}")
            continue
        values[key] = _decode(key, value, problems)
    if problems:
        raise fields.ConfigError(problems)
    too_big = input_problems.over_int32(values)
    if too_big is not None:
        path = input_problems.join("", too_big[0])
        raise fields.ConfigError(
            [f"{fields.NAMESPACE}:{path}: must be at most {input_problems.INT32_MAX}, was {too_big[1]}"]
        )
    try:
        parsed: platforms.PlatformConfig = input_problems.strict_validate(platforms.PlatformConfig, values)
    except ValidationError as exc:
        causes = input_problems.root_causes(exc.errors())
        raise fields.ConfigError([_describe(err) for err in causes]) from None
    return parsed


def _decode(key: str, value: Any, problems: list[str]) -> Any:
    """The CLI hands object values over as JSON text; a stack file or a test may give dicts."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            problems.append(f"{fields.NAMESPACE}:{key}: not valid JSON ({exc.msg}), was {value!r}")
    return value


def _describe(err: Any) -> str:
    loc = [part for part in err["loc"] if part != "function-after"]
    path = input_problems.join("", loc)
    message = input_problems.message(err, platforms.PlatformConfig)
    if err["type"] == "value_error" and ":" in message.split(" ")[0]:
        return f"{fields.NAMESPACE}:{message}"  # a cross-field rule that names its own key path
    if err["type"] == "value_error" and not loc:
        return f"{fields.NAMESPACE}: {message}"
    return f"{fields.NAMESPACE}:{path}: {message}"
