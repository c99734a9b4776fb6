"""The gateway's configuration file (YAML), validated once; errors name the file, the field and the value.

listen: 127.0.0.1:8080           where the gateway serves (host:port)
routes: .scaleplane/routes       the route directory (functions.routes)
wakeUrl: http://127.0.0.1:9000   the local platform's wake endpoint; leave out where a policy wakes
namespaces:                      per-namespace API tokens (`Authorization: Bearer TOKEN`); a namespace
  demo: {tokens: [s3cret]}       not listed here, or listed without tokens, takes calls without one
limits:
  maxBodyBytes: 1048576          larger request bodies answer 413
  timeoutSeconds: 30             a call's whole time in the gateway, queueing included -> 504
  queueWaitSeconds: 30           the longest a call waits for an instance (at zero: for the wake) -> 504
  maxQueue: 100                  calls waiting per function; one more answers 429
  concurrencyLimit: 0            calls per instance at once (0: no limit, calls go to the least loaded)
  drainSeconds: 30               on SIGTERM, how long calls in flight and queued may take to finish
journal: redis://127.0.0.1:6379/0   where asynchronous calls are kept (journaling); optional
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from scaleplane.functions import announcing


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Namespace(Model):
    tokens: tuple[Annotated[str, Field(min_length=8)], ...] = ()


class Limits(Model):
    max_body_bytes: Annotated[int, Field(ge=1)] = 1024 * 1024
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    queue_wait_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    max_queue: Annotated[int, Field(ge=0)] = 100
    concurrency_limit: Annotated[int, Field(ge=0)] = 0
    drain_seconds: Annotated[float, Field(ge=0, le=3600)] = 30.0


class Kubernetes(Model):
    namespaces: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
    server: str | None = None
    poll_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5


class GatewaySettings(Model):
    listen: Annotated[str, Field(pattern=r"^[^:\s]+:\d{1,5}$")] = "127.0.0.1:8080"
    routes: Path | None = None
    kubernetes: Kubernetes | None = None
    wake_url: str | None = None
    namespaces: dict[str, Namespace] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    journal: str | None = None
    hooks: tuple[announcing.Hook, ...] = ()  # CloudEvents of failed calls (functions.announcing)

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class SettingsError(ValueError):
    pass


def load(path: Path) -> GatewaySettings:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    try:
        settings = GatewaySettings.model_validate(data or {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            what = "is required" if err["type"] == "missing" else f"{err['msg']}, was {err.get('input')!r}"
            problems.append(f"{path}: {where}: {what}")
        raise SettingsError("; ".join(problems)) from None
    try:  # refused here, at start: an unsigned hook is never sent
        announcing.signing_keys(settings.hooks, named=lambda index: f"{path}: hooks.{index}")
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if settings.routes is None and settings.kubernetes is None:
        raise SettingsError(f"{path}: routes: is required (or kubernetes, in a cluster)")
    if settings.routes is not None and not settings.routes.is_absolute():
        settings = settings.model_copy(update={"routes": (path.parent / settings.routes).resolve()})
    return settings
