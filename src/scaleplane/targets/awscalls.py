"""What the RDS and Aurora targets share: the boto3 clients, AWS errors as TargetErrors, replica lag.

Clients are built lazily, on the first call of a tick that needs them, from boto3's own credential
chain (in EKS: the IRSA web-identity token the pod identity webhook mounts, refreshed by the SDK
itself). Building them lazily keeps a missing region or credentials a per-tick error of the RDS
policies alone (the policy stays valid and recovers when the credentials arrive), never an
InvalidPolicy nor an operator that fails to start. boto3 honours `AWS_ENDPOINT_URL` (the tests point
it at moto_server).

Error table (`call`):

    throttling, 5xx, a transitional instance state, no connection   retryable: backoff, then next tick
    expired or missing credentials                                  not retryable this tick; the clients
                                                                    are dropped so the next tick builds
                                                                    them again from a fresh credential
                                                                    chain (a rotated token file, env)
    anything else AWS refuses (not found, quota, bad parameter)     not retryable: the policy's error

Replica lag (`lags`): CloudWatch `ReplicaLag` (RDS, seconds) or `AuroraReplicaLag` (Aurora,
milliseconds) per DB instance: the Maximum of the newest one-minute period that has data, within
the last LAG_WINDOW_SECONDS. The worst of a minute, not its last value, on purpose: a replica that
fell behind the bound in the last minute stays out of the read set for up to a minute after it
catches up, rather than flapping in and out. A replica with no datapoint in the window has no known
lag, and is not ready: RDS publishes a new replica's first datapoint a minute or so after it turns
`available` (so a slow create, or one stuck `creating`, counts as current, never as ready).
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import botocore.config
import botocore.exceptions

from scaleplane.targets import protocol

T = TypeVar("T")
LAG_WINDOW_SECONDS = 300
RETRYABLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "InvalidDBClusterStateFault",
    "DBInstanceAlreadyExists",  # a name collision: the next attempt draws a new suffix
    "InternalFailure",
    "ServiceUnavailable",
}
CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
}
# botocore's own retries first (standard mode: throttling and 5xx with jittered backoff), short
# timeouts so one stuck call cannot eat the operator's target timeout.
CLIENT_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=8
)


@dataclass(frozen=True)
class AwsSettings:
    """region: empty means boto3's own (AWS_REGION / AWS_DEFAULT_REGION); max_lag_seconds: the bound
    a replica's lag must be under to count as ready; instance_class: of new replicas (None: the
    source's, or the Aurora writer's); endpoint_url: an AWS API emulator (None: boto3's own, which
    honours AWS_ENDPOINT_URL)."""

    region: str = ""
    max_lag_seconds: float = 30.0
    instance_class: str | None = None
    endpoint_url: str | None = None


class AwsClients:
    """boto3 RDS and CloudWatch clients, built on first use and dropped after a credential error."""

    def __init__(self, settings: AwsSettings, *, session_factory: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self._session_factory = session_factory
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()  # calls run in worker threads (asyncio.to_thread)

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                import boto3  # imported here: an operator without RDS policies never pays for it

                session = self._session_factory() if self._session_factory else boto3.session.Session()
                region = self.settings.region or session.region_name
                if not region:
                    raise protocol.TargetError(
                        "AWS: no region (set SCALEPLANE_AWS_REGION or AWS_REGION)", retryable=False
                    )
                self._clients[service] = session.client(
                    service, region_name=region, endpoint_url=self.settings.endpoint_url, config=CLIENT_CONFIG
                )
            return self._clients[service]

    def forget(self) -> None:
        with self._lock:
            self._clients.clear()

    async def call(self, what: str, work: Callable[[], T]) -> T:
        """Run blocking boto3 `work` in a thread; AWS errors come out as TargetErrors about `what`."""
        try:
            return await asyncio.to_thread(work)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            message = exc.response.get("Error", {}).get("Message", "")
            if code in CREDENTIAL_CODES:
                self.forget()
                raise protocol.TargetError(
                    f"AWS credentials refused ({code}) on {what}: {message}; the next tick loads them again",
                    retryable=False,
                ) from exc
            raise protocol.TargetError(
                f"RDS {code} on {what}: {message}", retryable=code in RETRYABLE_CODES
            ) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            self.forget()
            raise protocol.TargetError(
                f"AWS: no credentials for {what} (IRSA: is the ServiceAccount annotated with the role?)",
                retryable=False,
            ) from exc
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectTimeoutError,
        ) as exc:
            raise protocol.TargetError(f"cannot reach the AWS API for {what}: {exc}", retryable=True) from exc

    def lags(self, metric: str, instance_ids: list[str]) -> dict[str, float]:
        """The newest `metric` datapoint per DB instance (blocking; call inside `call`). Missing: no lag
        known. One GetMetricData for all of them (it takes up to 500 queries)."""
        if not instance_ids:
            return {}
        end = datetime.datetime.now(datetime.UTC)
        queries = [
            {
                "Id": f"r{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for index, instance in enumerate(instance_ids[:500])
        ]
        answer = self.client("cloudwatch").get_metric_data(
            MetricDataQueries=queries,
            StartTime=end - datetime.timedelta(seconds=LAG_WINDOW_SECONDS),
            EndTime=end + datetime.timedelta(seconds=60),  # the current minute's bucket too
        )
        found: dict[str, float] = {}
        for result in answer.get("MetricDataResults", []):
            points = sorted(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
            if points:
                found[instance_ids[int(result["Id"][1:])]] = float(points[-1][1])
        return found
