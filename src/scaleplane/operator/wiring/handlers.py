"""The kopf handlers: start and stop the runtime, keep the policy registry, own each Function's children.

ScalingPolicy: an event handler (no kopf annotations, no finalizers) feeds the registry; a policy that
does not validate gets `Ready=False InvalidPolicy` in its status and a Warning event, and the loop
goes on without it. Deleting a policy removes it from the registry and its series from /metrics.

Function: create/update/resume handlers make (or bring up to date) a Deployment, a Service and a
ScalingPolicy named after the Function, owned by it (`kopf.adopt`), so Kubernetes' garbage collector
deletes them with it. An update never touches the Deployment's replicas: the policy owns those.
Registered only when Functions are enabled (SCALEPLANE_FUNCTIONS), so an operator without them never
watches Functions and needs no rights on them (operator.manifests.permissions).

`register(registry, functions=...)` puts them on a kopf registry (once per registry): importing
`scaleplane.operator` does it for kopf's default registry; tests pass registries of their own.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import kopf

from scaleplane.kube import clients
from scaleplane.operator.manifests import functions
from scaleplane.operator.records import recording, restoring, statuses
from scaleplane.operator.wiring import connecting, runtime, waking
from scaleplane.scaling import specs

POLICIES = ("scaleplane.io", "v1alpha1", "scalingpolicies")
FUNCTIONS = ("scaleplane.io", "v1alpha1", "functions")


def _runtime(memo: Any) -> runtime.Runtime:
    found: runtime.Runtime = memo["scaleplane"]
    return found


def login(memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
    """Called at start and again after a 401: the credentials as of now (see operator.wiring.connecting)."""
    from scaleplane.kube import credentials

    try:
        return connecting.connection_info(connecting.chosen(memo))
    except credentials.NoCredentials as exc:
        raise kopf.PermanentError(str(exc)) from None


async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: Any, **_: Any) -> None:
    from scaleplane.operator.wiring import settings as operator_settings

    config = operator_settings.from_env()
    settings.posting.reporting_component = "scaleplane-operator"
    settings.posting.event_name_prefix = "scaleplane-"
    settings.persistence.finalizer = "scaleplane.io/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="scaleplane.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="scaleplane.io", key="last-handled-configuration"
    )
    built = await runtime.build(config, connecting.chosen(memo))
    memo["scaleplane"] = built
    await runtime.start(built)
    logger.info(
        f"scaleplane operator started: tick {config.tick_seconds:g} s, Prometheus {config.prometheus_url}, "
        f"lease {'on as ' + config.identity if config.lease else 'off'}, {len(config.hooks)} hook(s)"
    )


async def stop(memo: kopf.Memo, **_: Any) -> None:
    if "scaleplane" in memo:
        await _runtime(memo).stop()


def _worth_handling(event: kopf.RawEvent, meta: kopf.Meta, memo: kopf.Memo, **_: Any) -> bool:
    """Skip the echo of our own status writes (same generation): no handler call, no log line."""
    if event.get("type") == "DELETED" or "scaleplane" not in memo:
        return True
    generation = meta.get("generation")
    return not _runtime(memo).registry.is_current(
        meta.get("namespace") or "default", meta["name"], generation
    )


async def policy_event(
    event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    rt = _runtime(memo)
    meta: dict[str, Any] = dict(body.get("metadata") or {})
    namespace, name = str(meta.get("namespace") or "default"), str(meta.get("name"))
    if event.get("type") == "DELETED":
        gone = rt.registry.forget(namespace, name)
        if gone is not None:
            rt.meters.forget(namespace, name, [m.name for m in gone.managed.spec.metrics])
        return
    raw_status = body.get("status")
    previous = restoring.restore(raw_status).status  # never trusted as it is: anyone may write it
    plain = {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "metadata": meta}
    plain.update(spec=body.get("spec"), status=raw_status)
    result, error = rt.registry.observe(plain)
    if result != "invalid" or error is None:
        return
    logger.warning(f"invalid ScalingPolicy: {error}")
    kopf.warn(body, reason="InvalidPolicy", message=error)
    status = statuses.invalid(error, previous, generation=meta.get("generation"), at=time.time())
    try:
        await recording.patch_status(rt.api, namespace, name, status)
    except clients.ApiError as exc:
        # Event handlers are not retried by kopf: forget the refusal, so the next event tries again.
        rt.registry.forget(namespace, name)
        rt.meters.errors.labels("status").inc()
        logger.warning(f"cannot write the status of an invalid policy: {exc}")


async def ensure_function(
    spec: kopf.Spec,
    name: str,
    namespace: str | None,
    body: kopf.Body,
    memo: kopf.Memo,
    patch: kopf.Patch,
    **_: Any,
) -> None:
    namespace = namespace or "default"
    try:
        fn = functions.parse_function(dict(spec))
    except specs.PolicyError as exc:
        kopf.warn(body, reason="InvalidFunction", message=str(exc))
        patch.status["conditions"] = [
            {"type": "Ready", "status": "False", "reason": "InvalidFunction", "message": str(exc)}
        ]
        raise kopf.PermanentError(str(exc)) from None
    rt = _runtime(memo)
    api, image = rt.api, rt.config.function_runtime_image
    children = [
        (
            clients.resource_path("apps/v1", "deployments", namespace),
            functions.deployment(name, namespace, fn, runtime_image=image),
            functions.template_patch(name, fn, runtime_image=image),
        ),
        (clients.resource_path("v1", "services", namespace), functions.service(name, namespace, fn), None),
        (
            clients.resource_path("scaleplane.io/v1alpha1", "scalingpolicies", namespace),
            functions.scaling_policy(name, namespace, fn),
            None,
        ),
    ]
    for collection, child, update in children:
        kopf.adopt(child, owner=body)
        await _apply(api, collection, child, update)
    patch.status["deployment"] = name
    patch.status["service"] = name
    patch.status["scalingPolicy"] = name
    patch.status["conditions"] = [
        {
            "type": "Ready",
            "status": "True",
            "reason": "ChildrenApplied",
            "message": "Deployment, Service, ScalingPolicy",
        }
    ]


async def _apply(
    api: clients.KubeClient, collection: str, child: dict[str, Any], update: dict[str, Any] | None
) -> None:
    """Create the child; if it exists, patch it to match (all but what `update` leaves out)."""
    try:
        await api.create(collection, child)
        return
    except clients.ApiError as exc:
        if exc.status != 409:
            raise kopf.TemporaryError(
                f"cannot create {child['kind']} {child['metadata']['name']}: {exc}", delay=2
            ) from exc
    body = update if update is not None else {k: v for k, v in child.items() if k in ("metadata", "spec")}
    body = {**body, "metadata": {**child["metadata"], **(body.get("metadata") or {})}}
    try:
        await api.patch(f"{collection}/{child['metadata']['name']}", body)
    except clients.ApiError as exc:
        raise kopf.TemporaryError(
            f"cannot update {child['kind']} {child['metadata']['name']}: {exc}", delay=2
        ) from exc


_registered: weakref.WeakSet[kopf.OperatorRegistry] = weakref.WeakSet()


def register(registry: kopf.OperatorRegistry, *, functions: bool) -> None:
    """Put the handlers on `registry` (a second call for the same registry does nothing)."""
    if registry in _registered:
        return
    _registered.add(registry)
    kopf.on.login(registry=registry)(login)
    kopf.on.startup(registry=registry)(start)
    kopf.on.cleanup(registry=registry)(stop)
    kopf.on.event(*POLICIES, when=_worth_handling, registry=registry)(policy_event)
    if functions:
        for on in (kopf.on.resume, kopf.on.create, kopf.on.update):
            on(*FUNCTIONS, registry=registry)(ensure_function)
        # The gateway's signal: a call waits for a Function at zero (docs/functions.md).
        kopf.on.event(*FUNCTIONS, when=waking.wake_requested, registry=registry)(waking.wake)
