"""kube.credentials and kube.clients: where credentials are found, what is said when none are, a 401
answered by re-reading the token, and client certificates held in memory (a real TLS server that
demands one, and an empty temp directory afterwards)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scaleplane.kube import clients, credentials
from tests.support import endpoints, operating
from tests.support.kmock_cluster import kube_client


def test_in_a_pod_the_service_account_is_used(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t\n")
    (tmp_path / "ca.crt").write_text("")
    (tmp_path / "namespace").write_text("scaleplane-system")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    found = credentials.locate(env, service_account=tmp_path)
    assert found.server == "https://10.0.0.1:443"
    assert found.user.token_file == str(tmp_path / "token")  # the file, re-read on a 401; not its text
    assert found.config.context.namespace == "scaleplane-system"
    assert found.source == f"service account {tmp_path}"


def test_the_first_kubeconfig_of_the_list_that_exists_is_used(tmp_path: Path) -> None:
    config = operating.write_kubeconfig(tmp_path / "b", "http://127.0.0.1:1")
    found = credentials.locate({"KUBECONFIG": f"{tmp_path / 'a'}:{config}"}, service_account=tmp_path)
    assert found.server == "http://127.0.0.1:1" and found.user.token == "tester-token"
    assert found.source == f"kubeconfig {config} (context kmock)"


def test_nothing_found_says_everything_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(credentials.NoCredentials) as caught:
        credentials.locate({"KUBECONFIG": str(tmp_path / "missing")}, service_account=tmp_path / "sa")
    assert str(caught.value) == (
        "no Kubernetes credentials: no service account (KUBERNETES_SERVICE_HOST unset, "
        f"{tmp_path / 'sa' / 'token'} missing); no kubeconfig ($KUBECONFIG {tmp_path / 'missing'} not found)"
    )


def test_a_broken_kubeconfig_is_named(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("clusters: [}")
    with pytest.raises(credentials.NoCredentials, match=f"kubeconfig {tmp_path / 'config'}: "):
        credentials.locate({"KUBECONFIG": str(tmp_path / "config")}, service_account=tmp_path)


async def test_a_401_re_reads_the_token_file_and_sends_the_request_once_more(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("old")
    async with operating.cluster_api() as (cluster, url):
        cluster.tokens = {"old"}
        api = kube_client(url, {"tokenFile": str(token)})
        try:
            assert "resources" in await api.get("/apis/apps/v1")
            token.write_text("new")
            cluster.tokens = {"new"}
            assert "resources" in await api.get("/apis/apps/v1")
            assert cluster.refused == 1  # one refusal, then the retried request went through
            cluster.tokens = {"neither"}
            with pytest.raises(clients.ApiError) as caught:
                await api.get("/apis/apps/v1")
            assert caught.value.status == 401 and not caught.value.retryable
        finally:
            await api.close()


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(tz=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(thing: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(thing, x509.Certificate):
        return thing.public_bytes(serialization.Encoding.PEM)
    return thing.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def empty_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setenv("TMPDIR", str(where))
    monkeypatch.setattr(tempfile, "tempdir", None)
    yield where
    tempfile.tempdir = None


async def test_client_certificates_stay_in_memory(tmp_path: Path, empty_tmp: Path) -> None:
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("test-ca", ca_key, None, ca=True)
    server_cert = _cert("127.0.0.1", server_key, (ca.subject, ca_key))
    client_cert = _cert("scaleplane-operator", client_key, (ca.subject, ca_key))
    (tmp_path / "server.pem").write_bytes(_pem(server_cert) + _pem(server_key))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=_pem(ca).decode())
    server_tls.load_cert_chain(tmp_path / "server.pem")
    server_tls.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no handshake
    seen: list[str] = []

    async def discovery(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        seen.append(dict(x[0] for x in peer["subject"])["commonName"] if peer else "")
        return web.json_response({"kind": "APIResourceList", "resources": []})

    app = web.Application()
    app.router.add_get("/apis/apps/v1", discovery)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = endpoints.free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=server_tls).start()
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    api = kube_client(
        f"https://127.0.0.1:{port}",
        {"client-certificate-data": b64(_pem(client_cert)), "client-key-data": b64(_pem(client_key))},
        {"certificate-authority-data": b64(_pem(ca))},
    )
    try:
        assert await api.get("/apis/apps/v1") == {"kind": "APIResourceList", "resources": []}
        assert seen == ["scaleplane-operator"]
        assert os.listdir(empty_tmp) == []  # no key (nor CA) was written to a temp file
    finally:
        await api.close()
        await runner.cleanup()
