"""The queue exporter against a real Redis: pushes and pops as kombu and a Celery worker make them."""

from __future__ import annotations

import subprocess
import sys
import time

import redis as redis_client
import requests
from prometheus_client import core

from scaleplane.infra import exporter_catalogs
from scaleplane.queues import __main__ as entry
from scaleplane.queues import watching
from tests.support import endpoints


def _values(watch: watching.QueueWatch) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in watch.collect():
        assert isinstance(family, core.Metric)
        for sample in family.samples:
            out[sample.name] = sample.value
    return out


def _until(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_age_and_throughput_follow_pushes_and_pops(redis_db: str) -> None:
    client = redis_client.Redis.from_url(redis_db)
    client.config_set("notify-keyspace-events", "")  # the watcher must turn them on itself
    client.lpush("jobs", b"before")  # waiting before the watcher subscribed: dated at subscription
    now = [1000.0]
    watch = watching.QueueWatch(redis_db, ["jobs"], clock=lambda: now[0]).start()
    try:
        assert watch.subscribed.wait(5)
        assert "K" in client.config_get("notify-keyspace-events")["notify-keyspace-events"]
        now[0] = 1010.0
        client.lpush("jobs", b"a")
        _until(lambda: watch.enqueued["jobs"] == 1)
        now[0] = 1030.0
        first = _values(watch)
        assert first["scaleplane_queue_watch_up"] == 1.0
        assert first["scaleplane_queue_depth"] == 2.0
        assert first["scaleplane_queue_oldest_age_seconds"] == 30.0  # the pre-existing one, a lower bound
        client.brpop(["jobs"], timeout=1)  # a worker takes "before"
        _until(lambda: watch.dequeued["jobs"] == 1)
        second = _values(watch)
        assert second["scaleplane_queue_oldest_age_seconds"] == 20.0  # "a", pushed at 1010
        assert second["scaleplane_queue_enqueued_total"] == 1.0
        assert second["scaleplane_queue_dequeued_total"] == 1.0
        # A pop the watcher did not see (a lost notification): LLEN wins after two scrapes that agree.
        with watch.lock:
            watch.waiting["jobs"].append(1025.0)
        assert _values(watch)["scaleplane_queue_oldest_age_seconds"] == 20.0
        assert _values(watch)["scaleplane_queue_oldest_age_seconds"] == 5.0
        client.brpop(["jobs"], timeout=1)
        _until(lambda: watch.dequeued["jobs"] == 2)
        assert _values(watch)["scaleplane_queue_oldest_age_seconds"] == 0.0
    finally:
        watch.stop()
        client.delete("jobs")
        client.close()


def test_a_broker_that_is_down_reports_watch_down() -> None:
    watch = watching.QueueWatch("redis://127.0.0.1:1/0", ["jobs"]).start()
    try:
        values = _values(watch)
        assert values["scaleplane_queue_watch_up"] == 0.0
        assert "scaleplane_queue_oldest_age_seconds" not in values
    finally:
        watch.stop()


def test_the_password_comes_from_the_environment() -> None:
    assert entry.broker_url("rediss://cache:6379/2", "p@ss") == "rediss://:p%40ss@cache:6379/2"
    assert entry.broker_url("redis://cache:6379/0", None) == "redis://cache:6379/0"


def test_the_process_publishes_its_catalog_series(redis_db: str) -> None:
    """`python -m scaleplane.queues` as the stacks run it: every series the stacks' catalog promises."""
    port = endpoints.free_port()
    argv = [sys.executable, "-m", "scaleplane.queues", "--redis-url", redis_db, "--queue", "celery"]
    process = subprocess.Popen([*argv, "--port", str(port), "--address", "127.0.0.1"])
    try:
        redis_client.Redis.from_url(redis_db).lpush("celery", b"job")

        def scrape() -> str:
            try:
                return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except requests.ConnectionError:
                return ""

        _until(lambda: 'scaleplane_queue_depth{queue="celery"} 1.0' in scrape(), timeout=20)
        published = {line.split("{")[0].split(" ")[0] for line in scrape().splitlines() if line[:1] != "#"}
        assert set(exporter_catalogs.QUEUE_EXPORTER.series) <= published
    finally:
        process.terminate()
        process.wait(timeout=10)
