"""What one replica of a policy's target costs per hour, for `cost report`.

From the first that applies:

    --unit-price POLICY=USD                         given on the command line
    scaleplane.io/hourly-price-usd: "0.225"         an annotation on the ScalingPolicy
    scaleplane.io/instance-class: db.r6g.large      an annotation naming what a replica runs on: an RDS
                                                    class (PostgreSQL, Single-AZ, as read replicas run),
                                                    an ElastiCache node type or an EC2 instance type,
                                                    priced from the catalog in the report's region
    scaleplane.io/pod-requests: "250m,256Mi"        an annotation with a pod's CPU and memory requests,
                                                    priced as their share of --node-price (OpenCost's split)

else the policy is unpriced: its replica-hours are reported without a cost.
"""

from __future__ import annotations

from collections.abc import Mapping

from scaleplane.cost import catalogs, shares

HOURLY = "scaleplane.io/hourly-price-usd"
INSTANCE_CLASS = "scaleplane.io/instance-class"
POD_REQUESTS = "scaleplane.io/pod-requests"


class UnitPriceError(ValueError):
    """A price annotation that cannot be read; the message names the policy, the annotation and the value."""


def unit_price(
    policy: str,
    annotations: Mapping[str, str],
    given: Mapping[str, float],
    catalog: catalogs.Catalog,
    region: str,
    node: shares.NodePrice | None,
) -> tuple[float | None, str]:
    """(USD per replica-hour or None, where it comes from)."""
    if policy in given:
        return given[policy], "--unit-price"
    if HOURLY in annotations:
        try:
            value = float(annotations[HOURLY])
        except ValueError:
            raise UnitPriceError(
                f"{policy}: annotation {HOURLY}: not a number, was {annotations[HOURLY]!r}"
            ) from None
        return value, f"annotation {HOURLY}"
    if INSTANCE_CLASS in annotations:
        name = annotations[INSTANCE_CLASS]
        service, product = (
            ("AmazonRDS", f"postgres:{name}:single-az")
            if name.startswith("db.")
            else ("AmazonElastiCache", f"node:{name}")
            if name.startswith("cache.")
            else ("AmazonEC2", f"instance:{name}")
        )
        price = catalog.get(region, service, product)
        if price is None:
            return None, f"no catalog price for {name} in {region}"
        return price.usd, f"{name} on-demand in {region} ({price.source}, {price.date})"
    if POD_REQUESTS in annotations:
        text = annotations[POD_REQUESTS]
        cpu, _, memory = text.partition(",")
        cores, size = shares.quantity(cpu.strip()), shares.quantity(memory.strip())
        if cores is None or size is None:
            raise UnitPriceError(
                f"{policy}: annotation {POD_REQUESTS}: expected 'CPU,MEMORY' like '250m,256Mi', was {text!r}"
            )
        if node is None:
            return None, f"{POD_REQUESTS} needs --node-price"
        return node.pod_hourly(
            cores, size / 2.0**30
        ), f"node share of {text} (OpenCost split of --node-price)"
    return None, "no price: give --unit-price or a price annotation"
