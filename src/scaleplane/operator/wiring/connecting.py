"""How the operator reaches the API server: one set of credentials for kopf and for our own client.

`kube.credentials.locate` finds them (the pod's service account, else the kubeconfig), unless
`scaleplane operator run --kubeconfig/--context` chose them: the command puts its choice in kopf's
memo (`MEMO_KEY`), the one place both the login handler and the start-up handler read, and `chosen`
is how they read it. Our client (`kube.clients.KubeClient`) keeps them fresh by itself. kopf gets
the same credentials through its login handler, with the token as of now: kopf calls the handler
again after a 401 (a rotated token file, an expired exec token), and at the `expiration` an exec
plugin announced.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

import kopf

from scaleplane.kube import credentials

MEMO_KEY = "scaleplane.credentials"


def chosen(memo: Any) -> credentials.Credentials:
    """The credentials the command chose, else those found now. Raises credentials.NoCredentials."""
    found: credentials.Credentials | None = memo.get(MEMO_KEY)
    return found if found is not None else credentials.locate()


def connection_info(found: credentials.Credentials) -> kopf.ConnectionInfo:
    cluster, user = found.config.cluster, found.user
    token = credentials.current_token(found)
    expiration = None
    if token is not None and token.expires:
        expiration = datetime.datetime.fromisoformat(token.expires.replace("Z", "+00:00"))
    abs_file = found.config.abs_file
    return kopf.ConnectionInfo(
        server=found.server,
        insecure=cluster.insecure or None,
        ca_path=str(abs_file(cluster.certificate_auth)) if cluster.certificate_auth else None,
        ca_data=_decoded(cluster.certificate_auth_data),
        token=token.value if token else None,
        username=user.username,
        password=user.password,
        certificate_path=str(abs_file(user.client_cert)) if user.client_cert else None,
        certificate_data=_decoded(user.client_cert_data),
        private_key_path=str(abs_file(user.client_key)) if user.client_key else None,
        private_key_data=_decoded(user.client_key_data),
        default_namespace=found.config.context.namespace,
        expiration=expiration,
    )


def _decoded(data: str | None) -> bytes | None:
    if not data:
        return None
    return data.encode() if "-----BEGIN" in data else base64.b64decode(data)
