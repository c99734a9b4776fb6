"""One async session on one API server, for every request outside kopf's handlers.

Built on lightkube's credential layer: lightkube reads the kubeconfig and supplies the request auth
that keeps credentials fresh (a `tokenFile` or the pod's projected token re-read on a 401, an exec
plugin re-run on a 401, then the request sent once more), as an `httpx.Auth` flow that this client
drives; the requests themselves go over aiohttp (what kopf uses already), which costs about half the
CPU per request of lightkube's httpx2 transport (docs/benchmarks.md, "Operator end to end").
`kube.credentials` adds TLS built in memory. Requests go by API path with plain dicts in and out
(`/apis/apps/v1/namespaces/NS/deployments/NAME/scale`): the loop scales any kind that has a /scale
subresource and merge-patches status, and plain dicts take every shape an API server may answer
without a typed model refusing it (lightkube's typed resources would register each kind in a
process-wide registry).

Every failure raises `ApiError` with the HTTP status (0 when no answer came: timeout, refused), so
callers can tell a conflict (409) or a stale write (422) from a server error and retry only what is
worth it (`control.retrying`). Resource plurals come from API discovery, cached per group/version.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2
from lightkube.config import client_adapter

from scaleplane.kube import credentials as kube_credentials

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


class KubeClient:
    """A session on one API server. Paths are absolute API paths (`/apis/apps/v1/namespaces/...`)."""

    def __init__(
        self,
        found: kube_credentials.Credentials,
        *,
        timeout: float = 10.0,
        connections: int = 32,
    ) -> None:
        self.credentials = found
        self.server = found.server
        tls: ssl.SSLContext | bool = (
            kube_credentials.tls_context(found) if self.server.startswith("https") else False
        )
        self._auth = client_adapter.user_auth(found.user)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=connections, ssl=tls),
            json_serialize=json.dumps,
        )
        self._plurals: dict[tuple[str, str], str] = {}
        self._discovering: dict[str, asyncio.Lock] = {}
        self.requests = 0  # how many requests this client sent (benchmarks count them)

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
        text: bool = False,
    ) -> Any:
        """The decoded JSON answer (or the whole body as text with `text=True`: a pod's log)."""
        headers = {"Content-Type": content_type} if body is not None else {}
        url = self.server + path
        try:
            if self._auth is None:
                status, data = await self._send(method, url, body, headers, params, text)
            else:
                status, data = await self._authenticated(method, url, body, headers, params, text)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ApiError(0, f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        except ApiError:
            raise
        except Exception as exc:  # lightkube's auth raises ConfigError when a token file or plugin fails
            raise ApiError(401, f"{method} {path}: cannot authenticate: {exc}") from exc
        if status >= 400:
            raise ApiError(status, _message(data))
        return data if data is not None else {}

    async def _authenticated(
        self,
        method: str,
        url: str,
        body: Any,
        headers: dict[str, str],
        params: dict[str, str] | None,
        text: bool = False,
    ) -> tuple[int, Any]:
        """Drive lightkube's auth flow: it sets Authorization, sees each answer's status, and on a 401
        re-reads the token (or re-runs the plugin) and hands back the request to send once more."""
        flow = self._auth.async_auth_flow(httpx2.Request(method, url))  # type: ignore[union-attr]
        prepared = await flow.__anext__()
        while True:
            auth = prepared.headers.get("Authorization")
            sent = {**headers, "Authorization": auth} if auth else headers
            status, data = await self._send(method, url, body, sent, params, text)
            try:
                prepared = await flow.asend(httpx2.Response(status, request=prepared))
            except StopAsyncIteration:
                return status, data

    async def _send(
        self,
        method: str,
        url: str,
        body: Any,
        headers: dict[str, str],
        params: dict[str, str] | None,
        text: bool = False,
    ) -> tuple[int, Any]:
        self.requests += 1
        async with self._session.request(method, url, json=body, headers=headers, params=params) as rsp:
            raw = await rsp.read()
            if text and rsp.status < 400:
                return rsp.status, raw.decode(errors="replace")
            if not raw:
                return rsp.status, None
            try:
                return rsp.status, json.loads(raw)
            except ValueError:
                return rsp.status, raw[:200].decode(errors="replace")

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def get_text(self, path: str, params: dict[str, str] | None = None) -> str:
        """A plain-text answer, whole (`/api/v1/namespaces/NS/pods/NAME/log`)."""
        found: str = await self.request("GET", path, params=params, text=True)
        return found

    async def stream_lines(self, path: str, params: dict[str, str] | None = None) -> AsyncIterator[str]:
        """The lines of a streamed answer as they arrive (`.../log?follow=true`), with no total timeout.
        Credentials are taken once: a 401 mid-stream is an ApiError, not a silent re-login."""
        headers: dict[str, str] = {}
        if self._auth is not None:
            flow = self._auth.async_auth_flow(httpx2.Request("GET", self.server + path))
            prepared = await flow.__anext__()
            if auth := prepared.headers.get("Authorization"):
                headers["Authorization"] = auth
        self.requests += 1
        endless = aiohttp.ClientTimeout(total=None, sock_connect=10)
        try:
            async with self._session.get(
                self.server + path, headers=headers, params=params, timeout=endless
            ) as rsp:
                if rsp.status >= 400:
                    raw = await rsp.read()
                    try:
                        raise ApiError(rsp.status, _message(json.loads(raw)))
                    except ValueError:
                        raise ApiError(rsp.status, raw[:200].decode(errors="replace")) from None
                async for line in rsp.content:
                    yield line.decode(errors="replace").rstrip("\r\n")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ApiError(0, f"GET {path}: {type(exc).__name__}: {exc}") from exc

    async def create(self, path: str, body: Any) -> Any:
        return await self.request("POST", path, body)

    async def replace(self, path: str, body: Any) -> Any:
        return await self.request("PUT", path, body)

    async def patch(self, path: str, body: Any, *, content_type: str = MERGE) -> Any:
        return await self.request("PATCH", path, body, content_type=content_type)

    async def delete(self, path: str) -> Any:
        return await self.request("DELETE", path)

    async def plural(self, api_version: str, kind: str) -> str:
        """The resource name of `kind` in `api_version`, from discovery (cached). ApiError 404 if none."""
        key = (api_version, kind)
        if key not in self._plurals:
            async with self._discovering.setdefault(api_version, asyncio.Lock()):
                if key not in self._plurals:
                    await self._discover(api_version)
        if key not in self._plurals:
            raise ApiError(404, f"the API server serves no kind {kind!r} in {api_version!r}")
        return self._plurals[key]

    async def _discover(self, api_version: str) -> None:
        listing = await self.get(api_base(api_version))
        for resource in listing.get("resources") or ():
            name = str(resource.get("name", ""))
            if "/" not in name and resource.get("kind"):  # "deployments/scale" is a subresource
                self._plurals.setdefault((api_version, str(resource["kind"])), name)


def _message(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("message") or data.get("reason") or data)
    return str(data)[:200]


def api_base(api_version: str) -> str:
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


def resource_path(api_version: str, plural: str, namespace: str, name: str | None = None) -> str:
    path = f"{api_base(api_version)}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path
