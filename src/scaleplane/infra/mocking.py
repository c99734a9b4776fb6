"""Pulumi mocks that record what a program would create: type, name, inputs, parent.

The engine hands inputs over with its own names (camelCase), integers as floats, secrets wrapped in a
signature dict and not-yet-known values as a sentinel string; `normalize` turns them into plain
JSON-able values, secrets masked as `SECRET` and unknowns as `COMPUTED`, so the plan and the
guardrails read them as written (a rule asks whether a secret is set, never what it is).

Outputs a cloud would compute (addresses, endpoints, ARNs) are faked from the resource's name so the
program's exports resolve; they are placeholders, never a promise of the real names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks, rpc

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
COMPUTED = "<computed>"
SECRET = "(secret)"  # no secret value, even a mock one, ever reaches a plan's output
ACCOUNT = "123456789012"


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent_urn: str
    custom: bool
    inputs: dict[str, Any]
    provider: str = ""
    secrets: list[str] = field(default_factory=list)  # top-level inputs that were secrets

    @property
    def parent_name(self) -> str:
        return self.parent_urn.rsplit("::", 1)[-1] if self.parent_urn else ""


def normalize(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == rpc._special_secret_sig:
            return SECRET
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return COMPUTED
    return value


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == rpc._special_secret_sig


def fake_outputs(type_: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Plausible values for what the cloud computes, so exports and dependent inputs resolve."""
    service = type_.split(":")[1].split("/")[0] if type_.startswith("aws:") else ""
    state: dict[str, Any] = {}
    if service:
        state["arn"] = f"arn:aws:{service}:{region}:{ACCOUNT}:{name}"
    if type_ == "aws:rds/instance:Instance":
        address = f"{inputs.get('identifier', name)}.mock.{region}.rds.amazonaws.com"
        state.update(address=address, endpoint=f"{address}:5432", port=5432)
    elif type_ == "aws:rds/cluster:Cluster":
        cluster_id = inputs.get("clusterIdentifier", name)
        state.update(
            endpoint=f"{cluster_id}.cluster-mock.{region}.rds.amazonaws.com",
            readerEndpoint=f"{cluster_id}.cluster-ro-mock.{region}.rds.amazonaws.com",
        )
    elif type_ == "aws:elasticache/replicationGroup:ReplicationGroup":
        state.update(
            primaryEndpointAddress=f"master.{name}.mock.cache.amazonaws.com",
            readerEndpointAddress=f"replica.{name}.mock.cache.amazonaws.com",
        )
    elif type_ == "aws:eks/cluster:Cluster":
        state.update(
            endpoint=f"https://{name.upper()}.mock.{region}.eks.amazonaws.com",
            certificateAuthority={"data": "bW9jay1jZXJ0aWZpY2F0ZQ=="},
        )
    elif type_ == "random:index/randomPassword:RandomPassword":
        state["result"] = "mock-password-" + name
    if service and "name" not in inputs:
        state["name"] = name  # auto-naming: the engine would add a random suffix
    return state


class RecordingMocks(mocks.Mocks):
    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = {**args.inputs, **fake_outputs(args.typ, args.name, args.inputs, self.region)}
        return f"{args.name}-id", state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{suffix}" for suffix in "abc"]
            return {"names": names, "zoneIds": [f"use1-az{i}" for i in range(1, 4)], "id": self.region}, []
        return {}, []


class RecordingMonitor(mocks.MockMonitor):
    """A monitor that also keeps each registration's parent and provider (Mocks alone never see them)."""

    def __init__(self, recorder: RecordingMocks) -> None:
        super().__init__(recorder)
        self.planned: list[PlannedResource] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
            self.planned.append(
                PlannedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent_urn=request.parent,
                    custom=bool(request.custom),
                    inputs=normalize(raw),
                    provider=request.provider.split("::")[-2] if request.provider else "",
                    secrets=sorted(key for key, value in raw.items() if _is_secret(value)),
                )
            )
        return response
