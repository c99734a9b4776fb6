"""Asynchronous calls, kept in Redis so that a gateway killed and restarted loses none it acknowledged.

    POST /v1/functions/{namespace}/{name}  with `Prefer: respond-async`  -> 202 {"id", "status": "accepted"}
    GET  /v1/calls/{id}   -> {"id", "status": accepted|running|done, "statusCode", "result" | "error"}

What "acknowledged" means: a call is acknowledged when the gateway answered 202, which it does only
after Redis stored the call (XADD to the stream `scaleplane:calls`). From then on it runs at least once:

- each gateway reads the stream in the consumer group `gateways` under its own consumer name
  (its listen address, so a restarted gateway is the same consumer); an entry is acknowledged in Redis
  (XACK) only after the function's answer is stored under `scaleplane:call:<id>` (kept a day);
- a restarted gateway first re-reads its own pending entries (those it was running when it died) and
  runs them again; every `CLAIM_SECONDS` it also claims entries another gateway left pending for longer
  than the calls' whole time limit (XAUTOCLAIM), so a gateway that never comes back loses nothing either.

So a function reached through async calls must tolerate running twice for the rare call cut off by a
crash (the same contract as a Celery task with acks_late, or OpenFaaS's queue worker). A synchronous
call is acknowledged only by its answer: a gateway killed mid-call breaks the connection, and the
client sees an error and decides (the client SDK retries it only when told the function is idempotent).
The journal is as durable as its Redis (the local platform's Redis keeps data in memory, so it survives
gateway restarts, not Redis restarts; in production use a Redis with appendonly).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from scaleplane.functions import routes

log = logging.getLogger("scaleplane.gateway.journal")
STREAM = "scaleplane:calls"
GROUP = "gateways"
RESULT_TTL = 86400
CLAIM_SECONDS = 5.0
BATCH = 32

Run = Callable[[routes.FunctionKey, bytes], Awaitable[tuple[int, bytes]]]


def result_key(call_id: str) -> str:
    return f"scaleplane:call:{call_id}"


class Journal:
    def __init__(self, url: str, consumer: str, *, claim_idle_seconds: float, concurrency: int = 256) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.consumer = consumer
        self.claim_idle_ms = int(claim_idle_seconds * 1000)
        self.slots = asyncio.Semaphore(concurrency)
        self.running: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    async def open(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
            await self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)

    async def accept(self, key: routes.FunctionKey, body: bytes) -> str:
        """Store the call; return its id once Redis has it (only then may the caller get a 202)."""
        call_id = uuid.uuid4().hex
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(result_key(call_id), mapping={"status": "accepted", "function": str(key)})
            pipe.expire(result_key(call_id), RESULT_TTL)
            pipe.xadd(STREAM, {"id": call_id, "namespace": key.namespace, "name": key.name, "body": body})
            await pipe.execute()
        return call_id

    async def status(self, call_id: str) -> dict[str, Any] | None:
        stored: Any = await self.redis.hgetall(result_key(call_id))
        if not stored:
            return None
        fields = {k.decode(): v.decode() for k, v in stored.items()}
        answer: dict[str, Any] = {
            "id": call_id,
            "status": fields["status"],
            "function": fields.get("function"),
        }
        if fields["status"] == "done":
            answer["statusCode"] = int(fields["code"])
            answer.update(json.loads(fields["body"]))
        return answer

    async def work(self, run: Run) -> None:
        """Run journaled calls until `stop()`: own pending entries first, then new ones and claimed ones."""
        await self.open()
        cursor = "0"  # first what this consumer had taken before a crash (its pending entries)
        while (cursor := await self._read(run, cursor)) != "":
            pass
        claimed_at = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            if loop.time() - claimed_at > CLAIM_SECONDS:
                claimed_at = loop.time()
                await self._claim(run)
            await self._read(run, ">", block_ms=200)

    async def _read(self, run: Run, start: str, block_ms: int | None = None) -> str:
        """Start the entries read after `start`; the last entry's id ('' when there was none)."""
        answer: Any = await self.redis.xreadgroup(
            GROUP, self.consumer, {STREAM: start}, count=BATCH, block=block_ms
        )
        last = ""
        for _, entries in answer or []:
            for entry_id, fields in entries:
                last = entry_id.decode()
                if fields:  # a pending entry deleted meanwhile comes back empty
                    await self._start(run, entry_id, fields)
        return last

    async def _claim(self, run: Run) -> None:
        claimed: Any = await self.redis.xautoclaim(
            STREAM, GROUP, self.consumer, min_idle_time=self.claim_idle_ms, count=BATCH
        )
        for entry_id, fields in claimed[1]:
            if fields:
                log.warning("claimed call %s left by another gateway", fields.get(b"id", b"?").decode())
                await self._start(run, entry_id, fields)

    async def _start(self, run: Run, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        await self.slots.acquire()
        task = asyncio.get_running_loop().create_task(self._one(run, entry_id, fields))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _one(self, run: Run, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            call_id = fields[b"id"].decode()
            key = routes.FunctionKey(fields[b"namespace"].decode(), fields[b"name"].decode())
            await self.redis.hset(result_key(call_id), "status", "running")
            code, body = await run(key, fields[b"body"])
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(result_key(call_id), mapping={"status": "done", "code": code, "body": body})
                pipe.expire(result_key(call_id), RESULT_TTL)
                pipe.xack(STREAM, GROUP, entry_id)
                pipe.xdel(STREAM, entry_id)
                await pipe.execute()
        except Exception:
            log.exception("journaled call %s failed in the gateway; it stays pending", entry_id)
        finally:
            self.slots.release()

    def stop(self) -> None:
        self._stopping.set()

    async def drain(self) -> None:
        """Wait for the calls this gateway is running (new entries stay in the stream for the others)."""
        if self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)

    async def close(self) -> None:
        await self.redis.aclose()
