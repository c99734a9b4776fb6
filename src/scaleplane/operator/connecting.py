"""How the operator reaches the API server: one login, used by kopf, our client and the scale targets.

In a cluster: the service account; outside: the current kubeconfig (what kubectl uses). Both through
the `kubernetes` client's loaders (exec plugins, certificates, tokens). `SCALEPLANE_KUBE_SERVER`
points everything at a plain URL with no credentials: that is how the tests aim at kmock.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from scaleplane.operator import settings


def connection_info(config: settings.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
    """kopf's login: the override URL, else whatever the kubernetes client would use."""
    if config.kube_server:
        return kopf.ConnectionInfo(server=config.kube_server, insecure=True)
    kwargs.setdefault("logger", logging.getLogger("scaleplane.operator"))
    return kopf.login_via_client(**kwargs)


def scale_api_client(config: settings.OperatorSettings) -> k8s_client.ApiClient:
    """The `kubernetes` ApiClient the /scale targets use (their calls run in threads)."""
    configuration = k8s_client.Configuration()
    if config.kube_server:
        configuration.host = config.kube_server.rstrip("/")
        configuration.verify_ssl = False
    else:
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except k8s_config.ConfigException:
            k8s_config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    configuration.retries = 0  # the controller retries, with backoff, on its own terms
    # Threads share this client: let as many connections stay open as targets may run at once.
    configuration.connection_pool_maxsize = 32
    return k8s_client.ApiClient(configuration)
