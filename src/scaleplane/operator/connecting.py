"""How the operator reaches the API server: one login for kopf and for the operator's own client.

In a cluster: the service account; outside: the current kubeconfig (what kubectl uses), both through
the `kubernetes` client's loaders (exec plugins, certificates, tokens); the scale targets load the same
way (`targets.kubernetes.new_api_client`). `SCALEPLANE_KUBE_SERVER` points all of them at a plain URL
with no credentials: that is how the tests aim at kmock.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from scaleplane.operator import settings


def connection_info(config: settings.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
    """kopf's login: the override URL, else whatever the kubernetes client would use."""
    if config.kube_server:
        return kopf.ConnectionInfo(server=config.kube_server, insecure=True)
    kwargs.setdefault("logger", logging.getLogger("scaleplane.operator"))
    return kopf.login_via_client(**kwargs)
