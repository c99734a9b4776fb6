"""The client SDK: call a function through the gateway without touching HTTP.

    from scaleplane.functions import client
    client.call("demo/hello", name="Ada")                     # -> the function's result
    await client.call_async("demo/hello", name="Ada")
    client.Client("http://127.0.0.1:8080", token="...").call("demo/hello", name="Ada", timeout=5)

The gateway is `SCALEPLANE_GATEWAY_URL` (default http://127.0.0.1:8080) and the namespace's token
`SCALEPLANE_TOKEN`, unless the Client is given them. A failed call raises `CallError` with the
gateway's (or the function's) status, code and message.

`submit` stores an asynchronous call in the gateway's journal and returns its id; `result(id)` waits
for its answer (functions.gateway.journaling says what survives a gateway crash).

Retries (tenacity, exponential back-off with jitter, within the call's own `timeout`) happen only where
the function cannot have run: the connection was refused, or the gateway answered 429 QueueFull,
503 ShuttingDown or 504 NoInstance (no instance became ready for it). A call that may have run (a
connection broken after sending, 502 Unreachable, 504 TimedOut, any answer of the function itself) is
retried only when the caller says the function is idempotent (`idempotent=True`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import requests
import tenacity

DEFAULT_URL = "http://127.0.0.1:8080"
NEVER_RAN = {(429, "QueueFull"), (503, "ShuttingDown"), (503, "JournalUnavailable"), (504, "NoInstance")}
MAY_HAVE_RAN = {(502, "Unreachable"), (504, "TimedOut")}


class CallError(Exception):
    def __init__(self, status: int, code: str, message: str, *, function: str) -> None:
        super().__init__(f"{function}: {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.function = function


class NotSent(CallError):
    """The gateway refused the connection: it never had the call (status 0, code ConnectionRefused)."""

    def __init__(self, message: str, *, function: str) -> None:
        super().__init__(0, "ConnectionRefused", message, function=function)


@dataclass(frozen=True)
class Client:
    url: str = ""
    token: str | None = None
    timeout: float = 30.0
    attempts: int = 10

    def _base(self) -> str:
        return (self.url or os.environ.get("SCALEPLANE_GATEWAY_URL") or DEFAULT_URL).rstrip("/")

    def _headers(self) -> dict[str, str]:
        token = self.token if self.token is not None else os.environ.get("SCALEPLANE_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _endpoint(self, function: str) -> str:
        namespace, slash, name = function.partition("/")
        if not slash or not namespace or not name or "/" in name:
            raise ValueError(f"function must be 'namespace/name', was {function!r}")
        return f"{self._base()}/v1/functions/{namespace}/{name}"

    def _retrying(self, idempotent: bool, deadline: float) -> tenacity.Retrying:
        return tenacity.Retrying(**self._policy(idempotent, deadline))

    def _policy(self, idempotent: bool, deadline: float) -> dict[str, Any]:
        def retryable(error: BaseException) -> bool:
            if isinstance(error, NotSent):
                return True
            if isinstance(error, CallError):
                return (error.status, error.code) in NEVER_RAN or (
                    idempotent and (error.status, error.code) in MAY_HAVE_RAN
                )
            return idempotent and isinstance(
                error, requests.RequestException | aiohttp.ClientError | TimeoutError
            )

        return {
            "retry": tenacity.retry_if_exception(retryable),
            "stop": tenacity.stop_after_attempt(self.attempts)
            | tenacity.stop_before_delay(max(0.0, deadline - time.monotonic())),
            "wait": tenacity.wait_random_exponential(multiplier=0.1, max=2.0),
            "reraise": True,
        }

    def call(
        self, function: str, /, *, timeout: float | None = None, idempotent: bool = False, **params: Any
    ) -> Any:
        """Call `namespace/name` with `params`; its result, or CallError. Blocks up to `timeout` s."""
        url, limit = self._endpoint(function), timeout or self.timeout
        deadline = time.monotonic() + limit
        for attempt in self._retrying(idempotent, deadline):
            with attempt:
                left = max(0.001, deadline - time.monotonic())
                try:
                    answer = requests.post(url, json=params, headers=self._headers(), timeout=left)
                except requests.ConnectionError as exc:
                    if _refused(exc):
                        raise NotSent(str(exc), function=function) from exc
                    raise
                return _result(function, answer.status_code, _json(answer.text))
        raise AssertionError("unreachable: tenacity reraises")

    async def call_async(
        self, function: str, /, *, timeout: float | None = None, idempotent: bool = False, **params: Any
    ) -> Any:
        url, limit = self._endpoint(function), timeout or self.timeout
        deadline = time.monotonic() + limit
        async for attempt in tenacity.AsyncRetrying(**self._policy(idempotent, deadline)):
            with attempt:
                left = aiohttp.ClientTimeout(total=max(0.001, deadline - time.monotonic()))
                async with aiohttp.ClientSession(timeout=left, headers=self._headers()) as session:
                    try:
                        async with session.post(url, json=params) as answer:
                            return _result(function, answer.status, _json(await answer.text()))
                    except aiohttp.ClientConnectorError as exc:
                        raise NotSent(str(exc), function=function) from exc
        raise AssertionError("unreachable: tenacity reraises")

    def submit(self, function: str, /, *, timeout: float | None = None, **params: Any) -> str:
        """An asynchronous call: its id once the gateway has stored it (202), to pass to `result`."""
        url, deadline = self._endpoint(function), time.monotonic() + (timeout or self.timeout)
        headers = {**self._headers(), "Prefer": "respond-async"}
        for attempt in self._retrying(False, deadline):
            with attempt:
                try:
                    answer = requests.post(
                        url, json=params, headers=headers, timeout=max(0.001, deadline - time.monotonic())
                    )
                except requests.ConnectionError as exc:
                    if _refused(exc):
                        raise NotSent(str(exc), function=function) from exc
                    raise
                body = _json(answer.text)
                if answer.status_code == 202:
                    return str(body["id"])
                _result(function, answer.status_code, body)
        raise AssertionError("unreachable: tenacity reraises")

    def result(self, call_id: str, *, wait: float = 60.0, every: float = 0.2) -> Any:
        """The result of an asynchronous call (polling its status until done, up to `wait` seconds)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                answer = requests.get(
                    f"{self._base()}/v1/calls/{call_id}", headers=self._headers(), timeout=5
                )
                body = _json(answer.text)
                if answer.status_code != 200:
                    _result(call_id, answer.status_code, body)
                if body.get("status") == "done":
                    return _result(str(body.get("function")), int(body["statusCode"]), body)
            except requests.ConnectionError:
                pass  # the gateway restarting: the call is in the journal, ask again
            if time.monotonic() > deadline:
                raise CallError(
                    504, "NotDoneYet", f"call {call_id} not done within {wait:g} s", function=call_id
                )
            time.sleep(every)


def _refused(error: requests.ConnectionError) -> bool:
    # requests wraps urllib3's NewConnectionError (never connected) in ConnectionError, like a reset.
    text = repr(error)
    return "NewConnectionError" in text or "Connection refused" in text


def _json(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return {"error": {"code": "BadAnswer", "message": text[:200]}}


def _result(function: str, status: int, body: Any) -> Any:
    if status == 200 and isinstance(body, dict) and "result" in body:
        return body["result"]
    problem = body.get("error", {}) if isinstance(body, dict) else {}
    raise CallError(
        status, str(problem.get("code", "Error")), str(problem.get("message", body)), function=function
    )


def call(function: str, /, *, timeout: float | None = None, idempotent: bool = False, **params: Any) -> Any:
    """`call("namespace/name", **params)` through the gateway at SCALEPLANE_GATEWAY_URL."""
    return Client().call(function, timeout=timeout, idempotent=idempotent, **params)


async def call_async(
    function: str, /, *, timeout: float | None = None, idempotent: bool = False, **params: Any
) -> Any:
    return await Client().call_async(function, timeout=timeout, idempotent=idempotent, **params)
