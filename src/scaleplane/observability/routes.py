"""Alertmanager's routing as a value: every alert to one webhook receiver, grouped per alert and policy.

The stacks put it in kube-prometheus-stack's `alertmanager.config`; the local platform writes it as its
Alertmanager's config file. Without a webhook URL alerts go to the `null` receiver (Alertmanager still
shows them in its UI and API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUP_BY = ("alertname", "namespace", "policy", "slo_service", "slo_name")


@dataclass(frozen=True)
class Route:
    webhook_url: str = ""
    send_resolved: bool = True
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


def config(route: Route) -> dict[str, Any]:
    """An Alertmanager configuration (the YAML file's content)."""
    receivers: list[dict[str, Any]] = [{"name": "null"}]
    receiver = "null"
    if route.webhook_url:
        receiver = "webhook"
        receivers.append(
            {
                "name": "webhook",
                "webhook_configs": [{"url": route.webhook_url, "send_resolved": route.send_resolved}],
            }
        )
    return {
        "route": {
            "receiver": receiver,
            "group_by": list(GROUP_BY),
            "group_wait": route.group_wait,
            "group_interval": route.group_interval,
            "repeat_interval": route.repeat_interval,
        },
        "receivers": receivers,
    }
