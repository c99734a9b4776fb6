"""The operator's own small Kubernetes API client (aiohttp): status patches, children, the Lease.

kopf talks to the API for its handlers; the loop runs outside any handler, so it needs a client of its
own. It connects with the same `kopf.ConnectionInfo` the operator logged in with (`connecting.login`).
Every call has a timeout; a failure raises `ApiError` carrying the HTTP status, so callers can tell a
conflict (409) or a stale write (422) from a server error (5xx) and retry only what is worth retrying.
"""

from __future__ import annotations

import base64
import ssl
import tempfile
from typing import Any

import aiohttp
import kopf

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504})


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE or self.status == 0  # 0: no answer (timeout, refused)


def _ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext | bool:
    if info.insecure:
        return False
    if not (info.ca_path or info.ca_data or info.certificate_path or info.certificate_data):
        return True
    context = ssl.create_default_context(
        cafile=str(info.ca_path) if info.ca_path else None,
        cadata=info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data,
    )
    if info.certificate_path or info.certificate_data:
        cert, key = info.certificate_path, info.private_key_path
        if info.certificate_data:  # ssl wants files: write the in-memory cert and key to temp files
            cert = _to_file(info.certificate_data)
            key = _to_file(info.private_key_data) if info.private_key_data else None
        context.load_cert_chain(str(cert), str(key) if key else None)
    return context


def _to_file(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    with tempfile.NamedTemporaryFile(delete=False, suffix=".pem") as handle:
        handle.write(raw)
    return handle.name


def _headers(info: kopf.ConnectionInfo) -> dict[str, str]:
    if info.token:
        return {"Authorization": f"{info.scheme or 'Bearer'} {info.token}"}
    if info.username and info.password:
        pair = base64.b64encode(f"{info.username}:{info.password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {}


class KubeApi:
    """A session on one API server. Paths are absolute API paths (`/apis/apps/v1/namespaces/...`)."""

    def __init__(self, info: kopf.ConnectionInfo, *, timeout: float = 10.0, connections: int = 32) -> None:
        self.server = info.server.rstrip("/")
        self._session = aiohttp.ClientSession(
            headers=_headers(info),
            timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=connections, ssl=_ssl_context(info)),
        )

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ) -> Any:
        headers = {"Content-Type": content_type} if body is not None else {}
        try:
            async with self._session.request(method, self.server + path, json=body, headers=headers) as rsp:
                if rsp.status >= 400:
                    raise ApiError(rsp.status, await _message(rsp))
                return await rsp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(0, f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    async def get(self, path: str) -> Any:
        return await self.request("GET", path)

    async def create(self, path: str, body: Any) -> Any:
        return await self.request("POST", path, body)

    async def patch(self, path: str, body: Any, *, content_type: str = MERGE) -> Any:
        return await self.request("PATCH", path, body, content_type=content_type)

    async def delete(self, path: str) -> Any:
        return await self.request("DELETE", path)


async def _message(rsp: aiohttp.ClientResponse) -> str:
    try:
        data = await rsp.json(content_type=None)
        return str(data.get("message") or data.get("reason") or data)
    except (ValueError, aiohttp.ContentTypeError):
        return (await rsp.text())[:200]


def resource_path(api_version: str, plural: str, namespace: str, name: str | None = None) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    path = f"{base}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path
