"""A pod's share of a node's price by its requests, the way OpenCost allocates it.

OpenCost prices a node's CPU and memory separately. When it knows only the node's hourly price, it
splits that price between the node's vCPUs and GiB in the ratio of its default unit prices
(0.031611 USD per vCPU-hour and 0.004237 USD per GiB-hour, OpenCost's `default.json`), then charges each
workload its requested cores and GiB at those rates. A pod requesting a quarter of a node's CPU and
nothing else is charged a quarter of the node's CPU part, not a quarter of the node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_CPU_HOURLY = 0.031611  # OpenCost default, USD per vCPU-hour
DEFAULT_RAM_HOURLY = 0.004237  # OpenCost default, USD per GiB-hour
QUANTITY = re.compile(r"^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
SCALE = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


@dataclass(frozen=True)
class NodePrice:
    """One node: its hourly price and its allocatable vCPUs and memory."""

    hourly_usd: float
    vcpu: float
    memory_gib: float

    @property
    def cpu_hourly(self) -> float:
        """USD per requested vCPU-hour."""
        weight = DEFAULT_CPU_HOURLY * self.vcpu + DEFAULT_RAM_HOURLY * self.memory_gib
        return self.hourly_usd * DEFAULT_CPU_HOURLY / weight

    @property
    def ram_hourly(self) -> float:
        """USD per requested GiB-hour."""
        weight = DEFAULT_CPU_HOURLY * self.vcpu + DEFAULT_RAM_HOURLY * self.memory_gib
        return self.hourly_usd * DEFAULT_RAM_HOURLY / weight

    def pod_hourly(self, cpu: float, memory_gib: float) -> float:
        return cpu * self.cpu_hourly + memory_gib * self.ram_hourly


def quantity(text: str | int | float | None) -> float | None:
    """A Kubernetes quantity (`250m`, `256Mi`, `2`) as a number (cores, bytes); None when not one."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    found = QUANTITY.match(text.strip())
    if found is None:
        return None
    return float(found.group(1)) * SCALE[found.group(2)]


def requests_of(pod_spec: dict[str, object]) -> tuple[float, float] | None:
    """(cores, GiB) the containers of a pod spec request; None when a container requests nothing."""
    containers = pod_spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return None
    cores = gib = 0.0
    for container in containers:
        resources = container.get("resources") if isinstance(container, dict) else None
        requests = resources.get("requests") if isinstance(resources, dict) else None
        if not isinstance(requests, dict):
            return None
        cpu, memory = quantity(requests.get("cpu")), quantity(requests.get("memory"))
        if cpu is None or memory is None:
            return None
        cores += cpu
        gib += memory / 2.0**30
    return cores, gib
