"""Watching a Celery queue through Redis keyspace notifications: the oldest job's age and the throughput.

Why notifications: Celery's message protocol (v2) carries no send time (its headers are id, task, eta,
expires, retries, root/parent id, origin...; the task id is a random uuid4), and a Redis list keeps no
time per element, so the age of the job at the head of a queue cannot be read from the broker at
scrape time. What Redis can do is tell who pushed and who popped: with `notify-keyspace-events` holding
`K` and `l`, every `LPUSH jobs` (kombu's publish) sends `lpush` and every `BRPOP jobs` (a worker taking a
job) sends `rpop` on the channel `__keyspace@<db>__:jobs`. The watcher counts both and keeps the time of
every push still in the list (a deque, oldest first), so:

    scaleplane_queue_enqueued_total{queue}         jobs published (counter)
    scaleplane_queue_dequeued_total{queue}         jobs taken by a worker (counter): the throughput
    scaleplane_queue_oldest_age_seconds{queue}     now minus the push time of the oldest job waiting
    scaleplane_queue_depth{queue}                  LLEN, read at scrape time
    scaleplane_queue_watch_up                      1 while subscribed with notifications on

What it cannot see it does not invent: jobs already waiting when the watcher subscribes (or while it was
disconnected) are dated at the subscription, so the age is then a lower bound until they are gone; a
deque that disagrees with LLEN at two scrapes in a row is trimmed (oldest dropped) or padded (with that
lower bound). One scrape's disagreement is left alone: a push's notification arrives just after the
command, and a scrape in between would otherwise date a fresh job at the subscription.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

import redis as redis_client
from prometheus_client import core, registry

log = logging.getLogger(__name__)
P = "scaleplane_queue_"
REQUIRED_FLAGS = "Kl"  # keyspace channel (K), list commands (l)


class QueueWatch(registry.Collector):
    """Subscribes to the queues' keyspace channels in a thread of its own and serves as a Collector."""

    def __init__(
        self,
        redis_url: str,
        queues: list[str],
        *,
        clock: Callable[[], float] = time.time,
        ca_file: str | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.tls = {"ssl_ca_certs": ca_file} if ca_file else {}  # a self-signed CA (the bitnami chart)
        self.queues = list(queues)
        self.clock = clock
        self.enqueued = dict.fromkeys(self.queues, 0)
        self.dequeued = dict.fromkeys(self.queues, 0)
        self.waiting: dict[str, deque[float]] = {q: deque() for q in self.queues}
        self.mismatch: dict[str, int | None] = dict.fromkeys(self.queues)
        self.up = False
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self.thread = threading.Thread(target=self._run, name="queue-watch", daemon=True)

    def start(self) -> QueueWatch:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _client(self) -> redis_client.Redis:
        return redis_client.Redis.from_url(
            self.redis_url, socket_timeout=5, health_check_interval=10, **self.tls
        )

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._watch()
            except redis_client.RedisError as error:
                log.warning("queue watch lost the broker (%s); resubscribing", error)
            except Exception:  # the thread must outlive a surprise, or the series would go stale as "up"
                log.exception("queue watch failed; resubscribing")
            with self.lock:
                self.up = False
            self.subscribed.clear()
            self.stopping.wait(1.0)

    def _watch(self) -> None:
        with self._client() as client:
            db = int(client.connection_pool.connection_kwargs.get("db", 0))
            enable_notifications(client)
            channels = {f"__keyspace@{db}__:{q}".encode(): q for q in self.queues}
            with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                pubsub.subscribe(*channels)
                since = self.clock()
                with self.lock:  # what waits now was pushed before we listened: dated `since`
                    for queue in self.queues:
                        self.waiting[queue] = deque([since] * int(client.llen(queue)))
                        self.mismatch[queue] = None
                    self.up = True
                self.subscribed.set()
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message and message["type"] == "message":
                        self._event(channels[message["channel"]], message["data"])

    def _event(self, queue: str, event: bytes) -> None:
        with self.lock:
            if event in (b"lpush", b"rpush"):
                self.enqueued[queue] += 1
                self.waiting[queue].append(self.clock())
            elif event in (b"rpop", b"lpop"):
                self.dequeued[queue] += 1
                if self.waiting[queue]:
                    self.waiting[queue].popleft()
            elif event == b"del":
                self.waiting[queue].clear()

    def _reconcile(self, queue: str, depth: int) -> None:
        """Two scrapes in a row with the same disagreement: believe LLEN (called under the lock)."""
        waiting = self.waiting[queue]
        gap = depth - len(waiting)
        previous, self.mismatch[queue] = self.mismatch[queue], gap or None
        if not gap or previous != gap:
            return
        if gap < 0:
            for _ in range(-gap):
                waiting.popleft()
        else:
            waiting.extendleft([waiting[0] if waiting else self.clock()] * gap)
        self.mismatch[queue] = None

    def collect(self) -> Iterator[core.Metric]:
        labels = ["queue"]
        enqueued = core.CounterMetricFamily(P + "enqueued", "Jobs published to the queue", labels=labels)
        dequeued = core.CounterMetricFamily(P + "dequeued", "Jobs taken by a worker", labels=labels)
        age = core.GaugeMetricFamily(
            P + "oldest_age_seconds", "Seconds the oldest waiting job has waited", labels=labels
        )
        depth = core.GaugeMetricFamily(P + "depth", "Jobs waiting (LLEN)", labels=labels)
        depths: dict[str, int] = {}
        try:
            with self._client() as client:
                depths = {q: int(client.llen(q)) for q in self.queues}
        except redis_client.RedisError:
            pass
        now = self.clock()
        with self.lock:
            up = self.up and len(depths) == len(self.queues)
            for queue in self.queues:
                enqueued.add_metric([queue], float(self.enqueued[queue]))
                dequeued.add_metric([queue], float(self.dequeued[queue]))
                if not up:
                    continue
                self._reconcile(queue, depths[queue])
                waiting = self.waiting[queue]
                age.add_metric([queue], max(0.0, now - waiting[0]) if waiting and depths[queue] else 0.0)
                depth.add_metric([queue], float(depths[queue]))
        watch_up = core.GaugeMetricFamily(
            P + "watch_up", "1 while subscribed to the queues' keyspace notifications"
        )
        watch_up.add_metric([], 1.0 if up else 0.0)
        yield from (enqueued, dequeued, age, depth, watch_up)


def enable_notifications(client: redis_client.Redis) -> None:
    """Adds `K` and `l` to notify-keyspace-events when missing. ElastiCache refuses CONFIG: there the
    stack's parameter group sets it, and a refusal here is only logged."""
    try:
        current = str(client.config_get("notify-keyspace-events").get("notify-keyspace-events", ""))
    except redis_client.ResponseError as error:
        log.info("cannot read notify-keyspace-events (%s); assuming the server's configuration", error)
        return
    has = set(current) | ({"l"} if "A" in current else set())  # A is an alias of g$lshzxe
    missing = "".join(flag for flag in REQUIRED_FLAGS if flag not in has)
    if missing:
        try:
            client.config_set("notify-keyspace-events", current + missing)
        except redis_client.ResponseError as error:
            log.warning("notify-keyspace-events is %r and cannot be set (%s)", current, error)
