"""A call's edges in the gateway: who may call, the door of asynchronous calls, what every answer counts.

    authorized    `Authorization: Bearer TOKEN` against the namespace's tokens (settings `namespaces`); a
                  namespace not listed, or listed without tokens, takes calls without one
    accept        `Prefer: respond-async`: 202 only once the journal stored the call (journaling), 503
                  JournalUnavailable (Retry-After: 1) when it could not, 501 without a journal
    status        GET /v1/calls/{id}: another namespace's call answers 404, as if it did not exist
    Accounting    every answer counts in scaleplane_gateway_requests_total{code} and the duration
                  histogram; a 5xx or 429 is also announced (io.scaleplane.function.invocation.failed.v1)

What happens between the two ends, the balancer and the forwarding, is routing.
"""

from __future__ import annotations

import hmac
import json
import time

from aiohttp import web

from scaleplane.functions import announcing, instruments
from scaleplane.functions.gateway import journaling, routing, settings


def authorized(namespaces: dict[str, settings.Namespace], namespace: str, request: web.Request) -> bool:
    config = namespaces.get(namespace)
    if config is None or not config.tokens:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    # Compared in constant time: the time an answer takes must not tell how much of a token matched.
    return any(hmac.compare_digest(given.encode(), token.encode()) for token in config.tokens)


async def accept(journal: journaling.Journal | None, route: routing.Route, body: bytes) -> web.Response:
    if journal is None:
        return routing.error(
            501, "AsyncNotEnabled", "this gateway has no journal (settings: journal) for async calls"
        )
    try:
        call_id = await journal.accept(route.key, body)
    except Exception as exc:  # Redis down: the call was not stored, so it is not acknowledged
        return routing.error(
            503,
            "JournalUnavailable",
            f"the call could not be stored ({exc}); retry",
            **{"Retry-After": "1"},
        )
    location = f"/v1/calls/{call_id}"
    return web.json_response(
        {"id": call_id, "status": "accepted", "location": location},
        status=202,
        headers={"Location": location},
    )


async def status(
    journal: journaling.Journal | None, namespaces: dict[str, settings.Namespace], request: web.Request
) -> web.Response:
    if journal is None:
        return routing.error(501, "AsyncNotEnabled", "this gateway has no journal for async calls")
    found = await journal.status(request.match_info["id"])
    if found is not None and not authorized(
        namespaces, str(found.get("function") or "").partition("/")[0], request
    ):
        return routing.error(404, "NotFound", f"no call {request.match_info['id']} (results are kept a day)")
    return web.json_response(found)


class Accounting:
    """The series and the failure events of answered calls."""

    def __init__(self, meters: instruments.GatewayMeters, announcer: announcing.Announcer) -> None:
        self.meters = meters
        self.announcer = announcer

    def count(self, route: routing.Route, started: float, response: web.Response) -> web.Response:
        labels = (route.key.namespace, route.key.name)
        took = time.monotonic() - started
        self.meters.requests.labels(*labels, str(response.status)).inc()
        self.meters.duration.labels(*labels).observe(took)
        if response.status >= 500 or response.status == 429:
            self._announce_failure(route, response, took)
        return response

    def _announce_failure(self, route: routing.Route, response: web.Response, took: float) -> None:
        try:
            problem = json.loads(bytes(response.body or b"{}")).get("error") or {}  # type: ignore[arg-type]
        except ValueError:
            problem = {}
        self.announcer.offer(
            "invocation.failed",
            str(route.key),
            {
                "function": str(route.key),
                "status": response.status,
                "code": problem.get("code"),
                "message": str(problem.get("message", ""))[:500],
                "durationSeconds": round(took, 4),
            },
        )
