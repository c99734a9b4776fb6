"""Where the API server is and who we are to it: the service account in a pod, else the kubeconfig.

Found once at start-up (`locate`), refreshed for as long as the process runs: the token is not copied
into a header once, the request's auth (lightkube's `httpx.Auth` flows, `kube.clients`) re-reads it.

    in a pod      KUBERNETES_SERVICE_HOST/PORT and the projected token file
                  /var/run/secrets/kubernetes.io/serviceaccount/token, which the kubelet rotates:
                  re-read on every 401, then the request is sent once more
    kubeconfig    $KUBECONFIG (the first file of the list that exists), else ~/.kube/config, its
                  current context: a static token, a `tokenFile` (re-read on 401 like the pod's), an
                  exec plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`: re-run on 401), basic
                  auth, client certificates

TLS material never touches the file system: the CA is handed to `ssl` as data, and a client
certificate and key, which `ssl` will only load from a path, are written to an anonymous in-memory
file (`memfd_create`) read through /proc/self/fd and closed at once. That keeps working under
`readOnlyRootFilesystem` and leaves no key in /tmp.

When nothing is found, `NoCredentials` says every place that was looked at, in one line.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lightkube.config import kubeconfig, models

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_KUBECONFIG = "~/.kube/config"


class NoCredentials(Exception):
    """No usable service account and no usable kubeconfig; the message names what was tried."""


@dataclass(frozen=True)
class Credentials:
    config: kubeconfig.SingleConfig
    source: str  # for logs and errors: "service account /var/run/...", "kubeconfig /home/x/.kube/config"

    @property
    def server(self) -> str:
        return self.config.cluster.server.rstrip("/")

    @property
    def user(self) -> models.User:
        return self.config.user or models.User()


def locate(
    environ: Mapping[str, str] | None = None, *, service_account: Path = SERVICE_ACCOUNT
) -> Credentials:
    """The service account when running in a pod, else the kubeconfig. Raises NoCredentials."""
    env = os.environ if environ is None else environ
    tried = []
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    token = service_account / "token"
    if host and port and token.is_file():
        return _in_cluster(host, port, service_account)
    tried.append(
        f"no service account (KUBERNETES_SERVICE_HOST {'set' if host else 'unset'}, {token} "
        f"{'present' if token.is_file() else 'missing'})"
    )
    paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p] or [DEFAULT_KUBECONFIG]
    for path in paths:
        file = Path(path).expanduser()
        if not file.is_file():
            continue
        try:
            config = kubeconfig.KubeConfig.from_file(file).get()
        except Exception as exc:  # lightkube raises ConfigError, yaml and msgspec their own
            raise NoCredentials(f"kubeconfig {file}: {exc}") from None
        if config is None:
            raise NoCredentials(f"kubeconfig {file}: no current context")
        return Credentials(config, f"kubeconfig {file} (context {config.context_name})")
    where = "$KUBECONFIG " + env["KUBECONFIG"] if env.get("KUBECONFIG") else DEFAULT_KUBECONFIG
    tried.append(f"no kubeconfig ({where} not found)")
    raise NoCredentials("no Kubernetes credentials: " + "; ".join(tried))


def _in_cluster(host: str, port: str, account: Path) -> Credentials:
    if ":" in host:  # IPv6
        host = f"[{host}]"
    namespace_file = account / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else None
    config = kubeconfig.KubeConfig.from_one(
        cluster=models.Cluster(server=f"https://{host}:{port}", certificate_auth=str(account / "ca.crt")),
        user=models.User(token_file=str(account / "token")),
        namespace=namespace,
    ).get()
    assert config is not None  # from_one always sets the current context
    return Credentials(config, f"service account {account}")


def tls_context(credentials: Credentials) -> ssl.SSLContext:
    """The TLS context for this server, built in memory (see the module's docstring)."""
    cluster, user = credentials.config.cluster, credentials.user
    if cluster.certificate_auth_data:
        context = ssl.create_default_context(cadata=_pem(cluster.certificate_auth_data))
    elif cluster.certificate_auth:
        context = ssl.create_default_context(
            cafile=str(credentials.config.abs_file(cluster.certificate_auth))
        )
    else:
        context = ssl.create_default_context()
    if cluster.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if user.client_cert_data and user.client_key_data:
        _load_chain_in_memory(context, _pem(user.client_cert_data), _pem(user.client_key_data))
    elif user.client_cert and user.client_key:
        abs_file = credentials.config.abs_file
        context.load_cert_chain(str(abs_file(user.client_cert)), str(abs_file(user.client_key)))
    return context


def _pem(data: str) -> str:
    """kubeconfig `*-data` fields are base64 of PEM; accept PEM itself too."""
    if "-----BEGIN" in data:
        return data
    return base64.b64decode(data).decode()


def _load_chain_in_memory(context: ssl.SSLContext, cert: str, key: str) -> None:
    fd = os.memfd_create("scaleplane-client-cert", os.MFD_CLOEXEC)
    try:
        os.write(fd, (cert.rstrip() + "\n" + key.rstrip() + "\n").encode())
        context.load_cert_chain(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Token:
    value: str
    expires: str | None = None  # RFC 3339, from an exec plugin's ExecCredential


def current_token(credentials: Credentials) -> Token | None:
    """The bearer token as of now (read from its file, or from running the exec plugin); for kopf's login."""
    user = credentials.user
    if user.token_file:
        return Token(Path(credentials.config.abs_file(user.token_file)).read_text().strip())
    if user.token:
        return Token(user.token)
    if user.exec is not None:
        return run_exec(user.exec)
    return None


def run_exec(plugin: models.UserExec) -> Token:
    """Run a client-go credential plugin and read its ExecCredential (token only)."""
    env = dict(os.environ)
    env.update({var.name: var.value for var in plugin.env or ()})
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": plugin.apiVersion, "kind": "ExecCredential", "spec": {"interactive": False}}
    )
    try:
        done = subprocess.run(
            [plugin.command, *(plugin.args or ())], env=env, capture_output=True, timeout=30, check=True
        )
        status = json.loads(done.stdout)["status"]
        return Token(str(status["token"]), status.get("expirationTimestamp"))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:
        raise NoCredentials(f"exec plugin {plugin.command}: {type(exc).__name__}: {exc}") from None
