"""Detection time for a local drill: the project's alert rules on a real Prometheus, a real
Alertmanager, its webhook, and when each alert went pending, fired and was notified.

It reuses the demo's alerting (`servers.alerting.LocalAlerting`: the generated rules with every `for:`
scaled by `HOLD_SCALE`, 5 m holding 5 s, expressions and thresholds unchanged); the receiver runs in a
loop on a thread of its own because the drill backend is synchronous. A thread polls Prometheus'
`/api/v1/alerts` every `POLL_SECONDS` for pending and firing states; the webhook says when
Alertmanager notified. Marks on the drill's timeline (wall clock, as the drill's):

    "pending: NAME"   when Prometheus first saw the rule's expression true (its `activeAt`)
    "alert: NAME"     when Alertmanager's notification of the firing alert reached the webhook

An alert that never fired leaves no "alert:" mark, so the report says null: a failover shorter than the
rule's hold is not paged, which is what the hold is for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import requests

from scaleplane.local.servers import alerting
from scaleplane.local.servers import prometheus as local_prometheus

POLL_SECONDS = 0.25


def _parse(stamp: str) -> float:
    # Prometheus writes nanoseconds ("2026-12-02T01:00:00.123456789Z"): keep microseconds for Python.
    head, _, frac = stamp.rstrip("Z").partition(".")
    text = f"{head}.{(frac or '0')[:6]}+00:00"
    return dt.datetime.fromisoformat(text).timestamp()


class AlertWatch:
    """`start()` runs a Prometheus of its own (under `servers_dir/prometheus`) with all the rules, and
    Alertmanager; `watch(job, addresses)` adds what it scrapes; `marks` names only the alerts `names`
    (the others evaluate too, but e.g. "no operator" is true in a database drill and says nothing)."""

    def __init__(self, state_dir: Path, servers_dir: Path, names: tuple[str, ...]) -> None:
        self.names = names  # the alerts that match the scenario: only these go on its timeline
        self.servers_dir = servers_dir
        self.alerting = alerting.LocalAlerting(state_dir, servers_dir)
        self.pending: dict[str, float] = {}
        self.firing: dict[str, float] = {}
        self._loop = asyncio.new_event_loop()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._prometheus: local_prometheus.PrometheusServer | None = None

    @property
    def prometheus(self) -> local_prometheus.PrometheusServer:
        assert self._prometheus is not None, "AlertWatch.start did not run"
        return self._prometheus

    def watch(self, job: str, addresses: list[str]) -> None:
        self.prometheus.set_targets(job, addresses)

    def start(self) -> AlertWatch:
        prometheus = local_prometheus.PrometheusServer(self.servers_dir / "prometheus").start()
        self._prometheus = prometheus
        loop_thread = threading.Thread(target=self._loop.run_forever, name="alert-receiver", daemon=True)
        loop_thread.start()
        self._threads.append(loop_thread)
        asyncio.run_coroutine_threadsafe(self.alerting.start(prometheus), self._loop).result(timeout=60)
        poller = threading.Thread(target=self._poll, name="alert-poller", daemon=True)
        poller.start()
        self._threads.append(poller)
        return self

    def settled(self, job: str) -> bool:
        """True once Prometheus has scraped every target of `job` up and none of `names` is pending or
        firing. A drill injects its fault only then: an alert still active from start-up (the first
        scrape of a new target lands seconds after it is added, later on a loaded machine) would fire
        during the drill and be counted as detecting a fault it never saw."""
        prometheus = self.prometheus
        try:
            up = prometheus.query(f'count(up{{job="{job}"}} == 1)')
            active = {a.get("labels", {}).get("alertname") for a in prometheus._api("alerts")["alerts"]}
        except (requests.RequestException, local_prometheus.PrometheusQueryError):
            return False
        return up == len(prometheus.targets(job)) and not active & set(self.names)

    def _poll(self) -> None:
        assert self._prometheus is not None
        while not self._stop.wait(POLL_SECONDS):
            try:
                alerts = self._prometheus._api("alerts")["alerts"]
            except Exception:  # Prometheus busy or stopping: the next poll tries again
                continue
            for alert in alerts:
                self._seen(alert)

    def _seen(self, alert: dict[str, Any]) -> None:
        name = alert.get("labels", {}).get("alertname", "")
        if alert.get("activeAt"):
            self.pending.setdefault(name, _parse(alert["activeAt"]))
        if alert.get("state") == "firing":
            self.firing.setdefault(name, time.time())

    def notified(self) -> dict[str, float]:
        """First notification of each firing alert that reached the webhook."""
        found: dict[str, float] = {}
        for record in list(self.alerting.receiver.received):
            if record.get("status") == "firing" and record.get("alertname"):
                found.setdefault(record["alertname"], record["receivedAt"])
        return found

    def marks(self, since: float) -> dict[str, float]:
        pending, notified = self.pending.items(), self.notified().items()
        marks = {f"pending: {n}": at for n, at in pending if at >= since and n in self.names}
        marks.update({f"alert: {n}": at for n, at in notified if at >= since and n in self.names})
        return marks

    def stop(self) -> None:
        self._stop.set()
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self.alerting.stop(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._prometheus is not None:
            self._prometheus.stop()
